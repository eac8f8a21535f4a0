// Installables (`flakeRef#attrPath`), attribute-path quoting, and flake references for folders.
// No `vscode` import.
//
// How Nix reads an installable (checked in the Nix source, 2.8 … master):
//  - `^outputs` is split off at the last `^` (2.13+), then the flake reference ends at the first `#`;
//  - the fragment after `#` is percent-decoded;
//  - the decoded fragment is split by `parseAttrPath`: `.` separates names and `"…"` quotes a run of characters.
//    There is NO escape character: a `"` always opens or closes a quote, so a name that contains `"` cannot be
//    written at all, and backslashes are literal. A trailing empty name is dropped and an empty name elsewhere
//    is an error ("empty attribute name").
// So names are quoted the way nixos-rebuild does (`nixosConfigurations."my.host"`), `%`, `#`, `^` and characters
// that URL fragments do not allow are percent-encoded, and names containing `"` (or empty names) are reported as
// not expressible instead of being mangled.

/** Why an attribute path or installable cannot be built or read. */
export type InstallableErrorKind =
  | 'empty-name'
  | 'unquotable-name'
  | 'missing-quote'
  | 'missing-flake-ref'
  | 'bad-outputs'
  | 'bad-percent-encoding'
  | 'not-absolute'
  | 'outside-git-root';

export interface InstallableError {
  kind: InstallableErrorKind;
  message: string;
}

export type InstallableResult<T = string> = { ok: true; value: T } | { ok: false; error: InstallableError };

/** What can be written without quotes: a Nix identifier (`x86_64-linux`, `hello`, `default`). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** Characters that 2.8's URL fragment grammar accepts as they are (pchar plus `/ ? "`); everything else is %-encoded. */
const FRAGMENT_SAFE = /[A-Za-z0-9\-._~!$&'"()*+,;=:@/?]/;

/** Characters left as they are in URL paths and query values. */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** `[0-9a-zA-Z_+\-.?=]`: an output name as `OutputsSpec` accepts it. */
const OUTPUTS_SPEC = /^(?:\*|[A-Za-z0-9_+\-.?=]+(?:,[A-Za-z0-9_+\-.?=]+)*)$/;

/** `a/b` of the NixOS toplevel derivation below `nixosConfigurations.<host>`. */
export const NIXOS_TOPLEVEL: readonly string[] = ['config', 'system', 'build', 'toplevel'];

/**
 * Quotes one attribute name for an attribute path: identifiers stay bare, anything else gets `"…"`.
 * Returns undefined when the name cannot be written (it is empty or contains `"`; Nix has no escape for it).
 */
export function quoteAttrName(name: string): string | undefined {
  if (name === '' || name.includes('"')) return undefined;
  return IDENTIFIER.test(name) ? name : `"${name}"`;
}

/** Formats an attribute path in Nix's selection syntax: `nixosConfigurations."my.host".config`. */
export function formatAttrPath(path: readonly string[]): InstallableResult {
  const parts: string[] = [];
  for (const name of path) {
    const quoted = quoteAttrName(name);
    if (quoted === undefined) {
      return name === ''
        ? fail('empty-name', 'An attribute path cannot contain an empty attribute name.')
        : fail('unquotable-name', `The attribute name ${JSON.stringify(name)} contains '"', which Nix attribute paths cannot express.`);
    }
    parts.push(quoted);
  }
  return { ok: true, value: parts.join('.') };
}

/** Percent-encodes an installable fragment so that Nix decodes it back to exactly this text. */
export function encodeFragment(fragment: string): string {
  return percentEncode(fragment, FRAGMENT_SAFE);
}

/**
 * Builds the installable `flakeRef#attrPath` that Nix resolves to exactly this attribute path,
 * e.g. `/src/f#nixosConfigurations."my.host"`. An empty path gives the flake reference alone (its default).
 */
export function installable(flakeRef: string, attrPath: readonly string[]): InstallableResult {
  if (flakeRef === '') return fail('missing-flake-ref', 'The flake reference is empty.');
  if (attrPath.length === 0) return { ok: true, value: flakeRef };
  const formatted = formatAttrPath(attrPath);
  if (!formatted.ok) return formatted;
  return { ok: true, value: `${flakeRef}#${encodeFragment(formatted.value)}` };
}

/** `['nixosConfigurations', host, 'config', 'system', 'build', 'toplevel']`. */
export function nixosToplevelAttrPath(host: string): string[] {
  return ['nixosConfigurations', host, ...NIXOS_TOPLEVEL];
}

/**
 * The installable that builds a NixOS configuration, as nixos-rebuild writes it:
 * `flakeRef#nixosConfigurations."host".config.system.build.toplevel` (the host name is always quoted).
 */
export function nixosToplevelInstallable(flakeRef: string, host: string): InstallableResult {
  if (host === '' || host.includes('"')) {
    return fail(
      host === '' ? 'empty-name' : 'unquotable-name',
      `The host name ${JSON.stringify(host)} cannot be written in an attribute path.`,
    );
  }
  if (flakeRef === '') return fail('missing-flake-ref', 'The flake reference is empty.');
  return { ok: true, value: `${flakeRef}#${encodeFragment(`nixosConfigurations."${host}".${NIXOS_TOPLEVEL.join('.')}`)}` };
}

/** The command an installable is shown for; Nix tries a different attribute prefix for each. */
export type InstallableCommand = 'build' | 'run' | 'develop';

const SHORT_PREFIX: Record<InstallableCommand, string> = { build: 'packages', run: 'apps', develop: 'devShells' };

/**
 * A short form for display, e.g. `.#hello` for `packages.<system>.hello` when building, `.#default` for
 * `devShells.<system>.default` when developing. Only the first prefix Nix tries is shortened (it always wins);
 * anything else is shown in full. Not percent-encoded: for people, not for `nix`.
 */
export function shortInstallable(
  flakeRef: string,
  attrPath: readonly string[],
  opts: { system?: string; command?: InstallableCommand } = {},
): string {
  const prefix = SHORT_PREFIX[opts.command ?? 'build'];
  const shortened =
    opts.system !== undefined && attrPath.length === 3 && attrPath[0] === prefix && attrPath[1] === opts.system
      ? attrPath.slice(2)
      : attrPath;
  if (shortened.length === 0) return flakeRef;
  const formatted = formatAttrPath(shortened);
  const text = formatted.ok ? formatted.value : shortened.map((n) => (n === '' ? '""' : n)).join('.');
  return `${flakeRef}#${text}`;
}

/** How to refer to a folder. */
export interface FolderRefOptions {
  /**
   * `plain` (default): the absolute path; Nix finds the enclosing Git repository itself (`git+file:` with `?dir=`)
   * or uses `path:`. `git`: `git+file://<gitRoot>?dir=<sub>` (only files known to Git are visible).
   * `path`: `path:<folder>` (every file is visible, no Git metadata).
   */
  scheme?: 'plain' | 'git' | 'path';
  /** The Git work tree root containing the folder; needed for `git`, and used when a plain path is unusable. */
  gitRoot?: string;
}

/**
 * A flake reference for a folder on disk. A plain path containing `?` or `#` (which Nix would read as a query
 * or fragment) falls back to `git+file:` (with `gitRoot`) or `path:`, percent-encoded.
 */
export function flakeRefForFolder(folder: string, opts: FolderRefOptions = {}): InstallableResult {
  if (!folder.startsWith('/')) return fail('not-absolute', `The folder '${folder}' is not an absolute path.`);
  const dir = trimSlashes(folder);
  const scheme = opts.scheme ?? 'plain';
  if (scheme === 'plain' && !/[?#]/.test(dir)) return { ok: true, value: dir };
  if (scheme === 'path' || opts.gitRoot === undefined) {
    if (scheme === 'git') return fail('outside-git-root', 'A git+file flake reference needs the Git root of the folder.');
    return { ok: true, value: `path:${percentEncode(dir, PATH_SAFE)}` };
  }
  const root = trimSlashes(opts.gitRoot);
  if (!root.startsWith('/')) return fail('not-absolute', `The Git root '${opts.gitRoot}' is not an absolute path.`);
  const sub = dir === root ? '' : root === '/' ? dir.slice(1) : dir.startsWith(`${root}/`) ? dir.slice(root.length + 1) : undefined;
  if (sub === undefined) return fail('outside-git-root', `The folder '${folder}' is not inside the Git work tree '${opts.gitRoot}'.`);
  const query = sub === '' ? '' : `?dir=${percentEncode(sub, PATH_SAFE)}`;
  return { ok: true, value: `git+file://${percentEncode(root, PATH_SAFE)}${query}` };
}

/** Characters a plain path may hold for every Nix to read it as that path (no space, `%`, `#`, `?`…). */
const PLAIN_SAFE = /^[A-Za-z0-9\-._~+,=:@/]+$/;

/**
 * The flake reference of a folder, for every command: the plain path when any Nix reads it as that path, else
 * `git+file://<root>?dir=<sub>` (in a Git work tree) or `path:<folder>`, percent-encoded, so that a folder named
 * `my flake #1 ?x=%41` is that folder and not a URL with a query and a fragment. `needsEncoding` tells the caller
 * that an old Nix, which does not decode these references, cannot be given this folder.
 */
export function folderFlakeRef(folder: string, gitRoot: string | undefined): InstallableResult & { needsEncoding?: boolean } {
  if (!folder.startsWith('/')) return fail('not-absolute', `The folder '${folder}' is not an absolute path.`);
  const dir = trimSlashes(folder);
  if (PLAIN_SAFE.test(dir)) return { ok: true, value: dir };
  const r = flakeRefForFolder(dir, gitRoot === undefined ? { scheme: 'path' } : { scheme: 'git', gitRoot });
  return r.ok ? { ...r, needsEncoding: true } : r;
}

/** Appends `?dir=sub` (or `&dir=sub`) to a flake reference, for a flake in a subdirectory. */
export function withDir(flakeRef: string, dir: string): string {
  const sub = trimSlashes(dir).replace(/^\/+/, '');
  if (sub === '' || sub === '.') return flakeRef;
  return `${flakeRef}${flakeRef.includes('?') ? '&' : '?'}dir=${percentEncode(sub, PATH_SAFE)}`;
}

/** An installable as typed by a user, taken apart the way Nix does it. */
export interface ParsedInstallable {
  /** Everything before the first `#` (not validated further: Nix decides what it means). */
  flakeRef: string;
  /** The decoded attribute path; empty when there is no fragment (the flake's default output). */
  attrPath: string[];
  /** The decoded fragment text, e.g. `nixosConfigurations."my.host"`. */
  fragment: string;
  /** `^out,dev` → `['out', 'dev']`; `^*` → `'all'`; absent → undefined (the default outputs). */
  outputs?: string[] | 'all';
}

/** Reads an installable such as `.#hello`, `github:NixOS/nixpkgs#legacyPackages.x86_64-linux."hello"^out`. */
export function parseInstallable(text: string): InstallableResult<ParsedInstallable> {
  let rest = text.trim();
  let outputs: ParsedInstallable['outputs'];
  const caret = rest.lastIndexOf('^');
  if (caret !== -1) {
    const spec = rest.slice(caret + 1);
    if (!OUTPUTS_SPEC.test(spec)) return fail('bad-outputs', `'^${spec}' is not a valid output selection (use e.g. '^out,dev' or '^*').`);
    outputs = spec === '*' ? 'all' : spec.split(',');
    rest = rest.slice(0, caret);
  }
  const hash = rest.indexOf('#');
  const flakeRef = hash === -1 ? rest : rest.slice(0, hash);
  if (flakeRef === '') return fail('missing-flake-ref', `'${text}' has no flake reference before '#' (use e.g. '.#name').`);
  let fragment = '';
  if (hash !== -1) {
    try {
      fragment = decodeURIComponent(rest.slice(hash + 1));
    } catch {
      return fail('bad-percent-encoding', `The attribute path in '${text}' has an invalid %-escape.`);
    }
  }
  const attrPath = parseAttrPath(fragment);
  if (!attrPath.ok) return attrPath;
  return { ok: true, value: { flakeRef, attrPath: attrPath.value, fragment, ...(outputs ? { outputs } : {}) } };
}

/** Splits an attribute path exactly like Nix's `parseAttrPath` (no escapes; `"` toggles quoting). */
export function parseAttrPath(text: string): InstallableResult<string[]> {
  const names: string[] = [];
  let cur = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      names.push(cur);
      cur = '';
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      if (close === -1) return fail('missing-quote', `Missing closing quote in the attribute path '${text}'.`);
      cur += text.slice(i + 1, close);
      i = close;
    } else {
      cur += c;
    }
    i++;
  }
  if (cur !== '') names.push(cur);
  if (names.some((n) => n === '')) return fail('empty-name', `The attribute path '${text}' contains an empty attribute name.`);
  return { ok: true, value: names };
}

function fail(kind: InstallableErrorKind, message: string): { ok: false; error: InstallableError } {
  return { ok: false, error: { kind, message } };
}

function trimSlashes(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t;
}

const UTF8 = new TextEncoder();

/** Percent-encodes (as UTF-8) every character not matched by `safe`. */
function percentEncode(s: string, safe: RegExp): string {
  let out = '';
  for (const ch of s) {
    if (safe.test(ch)) out += ch;
    else for (const b of UTF8.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
