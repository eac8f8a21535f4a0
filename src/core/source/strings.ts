// String literals of the Nix source scanner: the value of a string token group, and Nix's escapes.
// No `vscode` import.

import { TokenKind, type TokenStream } from './tokens';

/**
 * The value of the string opened at token `open` when it has no `${…}`: escapes are decoded and, for `''` strings,
 * the common indentation is removed. Undefined when the string is interpolated or `open` is not a string.
 */
export function staticString(tokens: TokenStream, open: number): string | undefined {
  const k = tokens.kinds[open];
  if (k !== TokenKind.StrOpen && k !== TokenKind.IndStrOpen) return undefined;
  let raw = '';
  let j = open + 1;
  for (; j < tokens.count; j++) {
    const kj = tokens.kinds[j];
    if (kj === TokenKind.StrPart || kj === TokenKind.IndStrPart) raw += tokens.text.slice(tokens.starts[j], tokens.ends[j]);
    else break;
  }
  const kj = j < tokens.count ? tokens.kinds[j] : TokenKind.Unknown;
  if (kj === TokenKind.InterpOpen) return undefined;
  return k === TokenKind.StrOpen ? unescapeString(raw) : unescapeIndString(raw);
}

/** Decodes the escapes of a `"` string body: `\n \r \t`, and `\x` for any other x. */
export function unescapeString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\([\s\S])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
}

/**
 * Decodes an indented string body, near enough for names and short values: the smallest indentation (spaces) of
 * the non-blank lines is removed, a blank first line is dropped, then the escapes `'''`, `''$` and `''\x` are decoded.
 */
export function unescapeIndString(raw: string): string {
  const lines = raw.split('\n');
  let min = Infinity;
  for (const line of lines) {
    let indent = 0;
    while (indent < line.length && line.charCodeAt(indent) === 32) indent++;
    if (indent < line.length) min = Math.min(min, indent);
  }
  if (!Number.isFinite(min)) min = 0;
  const out = lines
    .map((l) => l.slice(min))
    .join('\n')
    .replace(/^[ \t]*\n/, '');
  return out.replace(/''(['$])|''\\([\s\S])/g, (_m, q: string | undefined, c: string | undefined) => {
    if (q !== undefined) return q === "'" ? "''" : '$';
    return c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : (c ?? '');
  });
}
