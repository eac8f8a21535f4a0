// Option paths as the module system prints them (nixpkgs `lib.showOption`): parts joined by `.`, a part that is not
// a plain identifier written as a Nix string — `services.nginx.virtualHosts."example.org".root`,
// `users.users."alice.smith".uid`. Split at the dots outside quotes, and written back the same way. No `vscode` import.

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_'-]*$/;
const KEYWORDS = new Set(['assert', 'else', 'if', 'in', 'inherit', 'let', 'or', 'rec', 'then', 'with']);

/** The parts of a printed option path; a quoted part without its quotes and escapes. */
export function parseOptionPath(shown: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const n = shown.length;
  while (i <= n) {
    if (shown[i] === '"') {
      let part = '';
      i++;
      while (i < n && shown[i] !== '"') {
        if (shown[i] === '\\' && i + 1 < n) {
          const c = shown[i + 1]!;
          part += c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c;
          i += 2;
        } else part += shown[i++];
      }
      i++; // the closing quote
      parts.push(part);
      // Up to the next dot (nothing else belongs there).
      const dot = shown.indexOf('.', i);
      if (dot < 0) break;
      i = dot + 1;
    } else {
      const dot = shown.indexOf('.', i);
      parts.push(dot < 0 ? shown.slice(i) : shown.slice(i, dot));
      if (dot < 0) break;
      i = dot + 1;
    }
  }
  return parts;
}

/** Writes parts as the module system prints them (identifiers bare, anything else as a Nix string). */
export function showOptionPath(parts: readonly string[]): string {
  return parts
    .map((p) =>
      (IDENTIFIER.test(p) && !KEYWORDS.has(p)) || p === '*' || /^<.*>$/.test(p)
        ? p
        : `"${p.replace(/[\\"]/g, '\\$&').replace(/\$\{/g, '\\${').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`,
    )
    .join('.');
}
