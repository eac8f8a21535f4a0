// Generations of a system profile (`/nix/var/nix/profiles/system-N-link`), read without NixOS tools: one `find`
// lists every link with its target and time, here or over ssh. No `vscode` import.

export const SYSTEM_PROFILE = '/nix/var/nix/profiles/system';

export interface Generation {
  number: number;
  /** The toplevel the generation points at. */
  toplevel: string;
  /** When it was made (the link's modification time, as `nix-env --list-generations` shows it), ms since 1970. */
  time: number;
  current: boolean;
}

/** Checks a profile path: absolute, no `..`, characters a remote shell and find's -name take as they are. */
export function checkProfilePath(profile: string): string | undefined {
  if (!/^\/[A-Za-z0-9._/+-]+$/.test(profile) || profile.split('/').includes('..') || profile.endsWith('/')) {
    return `The profile ${JSON.stringify(profile)} is not an absolute path of letters, digits, ".", "_", "+", "-".`;
  }
  return undefined;
}

function split(profile: string): { dir: string; base: string } {
  const i = profile.lastIndexOf('/');
  return { dir: profile.slice(0, i) || '/', base: profile.slice(i + 1) };
}

/**
 * `find <dir> -maxdepth 1 ( -name <base> -o -name '<base>-*-link' ) -printf '%f\t%l\t%T@\n'`: the profile link
 * (`system -> system-7-link`) and every generation link with its target and time, in one command.
 */
export function listGenerationsArgs(profile = SYSTEM_PROFILE): string[] {
  const { dir, base } = split(profile);
  return ['find', dir, '-maxdepth', '1', '(', '-name', base, '-o', '-name', `${base}-*-link`, ')', '-printf', '%f\\t%l\\t%T@\\n'];
}

export const MAX_GENERATIONS = 100_000;

/** Reads the output of listGenerationsArgs: generations sorted by number, the one the profile points at current. */
export function parseGenerations(text: string, profile = SYSTEM_PROFILE): Generation[] {
  const { base } = split(profile);
  const link = new RegExp(`^${base.replace(/[.+]/g, '\\$&')}-([0-9]{1,9})-link$`);
  let currentLink: string | undefined;
  const gens: Generation[] = [];
  for (const line of text.split('\n')) {
    const [name, target, time] = line.split('\t');
    if (name === undefined || target === undefined) continue;
    if (name === base) {
      currentLink = target.slice(target.lastIndexOf('/') + 1);
      continue;
    }
    const m = link.exec(name);
    if (!m || !target.startsWith('/') || gens.length >= MAX_GENERATIONS) continue;
    const seconds = Number(time);
    gens.push({ number: Number(m[1]), toplevel: target, time: Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0, current: false });
  }
  gens.sort((a, b) => a.number - b.number);
  for (const g of gens) g.current = `${base}-${g.number}-link` === currentLink;
  return gens;
}

/** The path of a generation's link: `/nix/var/nix/profiles/system-7-link`. */
export function generationLink(profile: string, n: number): string {
  return `${profile}-${n}-link`;
}
