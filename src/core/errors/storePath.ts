// Maps Nix store paths in error positions back to workspace files (nix-cli.md §3.1, §3.2, §7.3).
// Pure: the only file-system question is asked through an injected `exists`. No `vscode` import.

import { posix } from 'node:path';
import { parseSourceTreePath, type SourceTreePath } from '../log/position';
import { DEFAULT_STORE_DIR, parseStorePath } from '../nix/store';

/** A source tree Nix fetched (a flake or one of its inputs), and where it lives on disk when that is known. */
export interface KnownSource {
  /** `/nix/store/<hash>-source`, as `nix flake metadata --json` `.path` or `nix flake archive --json` reports it. */
  storePath?: string;
  /** The local directory it was copied from: the git root for a flake, the directory of a `path:` input. */
  localPath?: string;
  /** For messages: `flake`, `input nixpkgs`, `input home-manager/nixpkgs`. */
  label: string;
  /**
   * The `locked` attributes of its flake.lock node (`{type: 'github', owner, repo, rev, …}`): newer Nix names the files
   * of a fetched tree by its reference, `«github:NixOS/nixpkgs/<rev>»/lib/x.nix`, and this finds the input again.
   */
  locked?: Readonly<Record<string, unknown>>;
}

/** Where a file named in an error is, for the editor. */
export type MappedFile =
  /**
   * A workspace file. `match`: how it was found (`hash` exact, `fallback` by relative path, `local` path, `ref` the
   * local directory of a `«git+file:///…»/x.nix` source tree).
   */
  | { kind: 'workspace'; path: string; match: 'hash' | 'fallback' | 'local' | 'ref'; label?: string }
  /**
   * A file of a known source that is not in the workspace (e.g. a nixpkgs input): its store path, or for
   * `«ref»/x.nix` the reference as printed.
   */
  | { kind: 'input'; label: string; storePath?: string; ref?: string; rel: string }
  /** A path that cannot be mapped (an unknown store path, a file outside the workspace). */
  | { kind: 'external'; path: string }
  /** Not a file at all (`«string»`, `«none»`, an empty name). */
  | { kind: 'none' };

export interface StoreMapperOptions {
  sources: readonly KnownSource[];
  /**
   * Absolute workspace folder paths. A known source's file outside all of them is labelled, not mapped;
   * with no roots at all, every known local source is mapped.
   */
  workspaceRoots: readonly string[];
  /** Used only for the fallback: an unknown `…-source/<rel>` maps to `<root>/<rel>` when that exists. */
  exists?: (path: string) => boolean;
  storeDir?: string;
}

/** Builds the mapping function for one set of known sources. Exact hash matches always win over the fallback. */
export function createStoreMapper(options: StoreMapperOptions): (file: string) => MappedFile {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const roots = options.workspaceRoots.map(normaliseDir);
  const byHash = new Map<string, KnownSource>();
  for (const s of options.sources) {
    const parts = s.storePath !== undefined ? parseStorePath(s.storePath, storeDir) : undefined;
    // The first source given for a hash wins, so the root flake beats an input with the same tree.
    if (parts && !byHash.has(parts.hash)) byHash.set(parts.hash, s);
  }
  const inWorkspace = (p: string) => roots.length === 0 || roots.some((r) => isInside(r, p));

  /** `«ref»/rel`: a local tree in the workspace is a workspace file; a known input is named; the rest is external. */
  const mapTree = (file: string, tree: SourceTreePath): MappedFile => {
    const rel = safeRelative(tree.rel);
    if (rel === undefined) return { kind: 'external', path: file };
    const ref = parseFlakeRef(tree.ref);
    const known = findSource(options.sources, ref);
    const local = ref.local ?? known?.localPath;
    if (local !== undefined) {
      const dir = normaliseDir(local);
      const path = rel ? posix.join(dir, rel) : dir;
      if (known ? inWorkspace(path) : roots.some((r) => isInside(r, path))) {
        return { kind: 'workspace', path, match: 'ref', ...(known ? { label: known.label } : {}) };
      }
    }
    if (known) return { kind: 'input', label: known.label, ref: tree.ref, rel };
    return { kind: 'external', path: file };
  };

  return (file: string): MappedFile => {
    const tree = parseSourceTreePath(file);
    if (tree) return mapTree(file, tree);
    if (!file.startsWith('/')) return { kind: 'none' };
    const parts = parseStorePath(file, storeDir);
    if (!parts) {
      const local = posix.normalize(file);
      return roots.some((r) => isInside(r, local)) ? { kind: 'workspace', path: local, match: 'local' } : { kind: 'external', path: file };
    }
    const rel = safeRelative(parts.rel);
    if (rel === undefined) return { kind: 'external', path: file };
    const known = byHash.get(parts.hash);
    if (known) {
      if (known.localPath !== undefined) {
        const local = normaliseDir(known.localPath);
        const path = rel ? posix.join(local, rel) : local;
        if (inWorkspace(path)) return { kind: 'workspace', path, match: 'hash', label: known.label };
      }
      return { kind: 'input', label: known.label, storePath: parts.root, rel };
    }
    if (parts.name === 'source' && rel && options.exists) {
      for (const r of roots) {
        const candidate = posix.join(r, rel);
        if (options.exists(candidate)) return { kind: 'workspace', path: candidate, match: 'fallback' };
      }
    }
    return { kind: 'external', path: file };
  };
}

/** Store paths (`/nix/store/<hash>-name/…`) and source-tree paths (`«git+file:///r?rev=…»/x.nix`) in a message. */
const PATHS_IN_TEXT = /\/nix\/store\/[0-9a-df-np-sv-z]{32}-[^\s'"`:]+|«[a-z][a-z0-9+.-]*:[^»\s]*»(?:\/[^\s'"`:]*)?/g;

/**
 * Rewrites the paths Nix names in a message (store paths, and the `«reference»/path` form of newer Nix) with
 * `show`, e.g. as workspace-relative paths or `«input nixpkgs»/lib/x.nix`; a path `show` returns undefined for is
 * kept as printed. Only the store directory `/nix/store` is recognised in text.
 */
export function localizePaths(message: string, map: (file: string) => MappedFile, show: (m: MappedFile) => string | undefined): string {
  return message.replace(PATHS_IN_TEXT, (p) => show(map(p)) ?? p);
}

/**
 * Known sources of one flake: its own tree (mapped to `gitRoot`; for `?dir=sub` the store path is the
 * repository root, so positions like `…-source/sub/flake.nix` land in the right place), and its inputs, labelled
 * `input <name>` (`input home-manager/nixpkgs` for an input of an input): with their store paths from the output of
 * `nix flake archive --json --dry-run`, and with what their lock file nodes say (`metadata.locks`, or `lock`, the
 * parsed flake.lock): the `locked` reference (newer Nix names files `«<reference>»/<path>`) and, for `path:` and
 * `git+file:` inputs, the local directory.
 */
export function sourcesFromFlake(args: {
  gitRoot: string;
  metadata?: unknown;
  archive?: unknown;
  lock?: unknown;
  label?: string;
}): KnownSource[] {
  const out: KnownSource[] = [];
  const label = args.label ?? 'flake';
  const meta = asRecord(args.metadata);
  const archive = asRecord(args.archive);
  const rootLocked = asRecord(meta?.locked);
  for (const p of [meta?.path, archive?.path]) {
    if (typeof p === 'string' && !out.some((s) => s.storePath === p)) {
      out.push({ storePath: p, localPath: args.gitRoot, label, ...(rootLocked ? { locked: rootLocked } : {}) });
    }
  }
  const locks = asRecord(meta?.locks) ?? asRecord(args.lock);
  const byLabel = new Map<string, KnownSource>();
  const walk = (inputs: unknown, chain: string[], depth: number) => {
    const rec = asRecord(inputs);
    if (!rec || depth > 32) return;
    for (const [name, value] of Object.entries(rec)) {
      const input = asRecord(value);
      const path = input?.path;
      const next = [...chain, name];
      if (typeof path === 'string') {
        const local = localPathOfInput(locks, next, args.gitRoot);
        const source: KnownSource = {
          storePath: path,
          ...(local !== undefined ? { localPath: local } : {}),
          label: `input ${next.join('/')}`,
        };
        out.push(source);
        byLabel.set(source.label, source);
      }
      walk(input?.inputs, next, depth + 1);
    }
  };
  walk(archive?.inputs, [], 0);
  // Every input of the lock file, also without `archive`: its locked reference.
  for (const { chain, locked } of lockedInputs(locks)) {
    const inputLabel = `input ${chain.join('/')}`;
    const known = byLabel.get(inputLabel);
    if (known) {
      known.locked = locked;
      continue;
    }
    const local = localPathOfInput(locks, chain, args.gitRoot);
    const source: KnownSource = { ...(local !== undefined ? { localPath: local } : {}), label: inputLabel, locked };
    out.push(source);
    byLabel.set(inputLabel, source);
  }
  return out;
}

/** Every input reachable from the root of a lock file by its own names (not through `follows`), with its `locked`. */
function lockedInputs(locks: Record<string, unknown> | undefined): { chain: string[]; locked: Record<string, unknown> }[] {
  const nodes = asRecord(locks?.nodes);
  if (!nodes) return [];
  const out: { chain: string[]; locked: Record<string, unknown> }[] = [];
  const seen = new Set<string>();
  const visit = (key: string, chain: string[]) => {
    if (seen.has(key) || chain.length > 32 || out.length > 10_000) return;
    seen.add(key);
    const node = asRecord(nodes[key]);
    const locked = asRecord(node?.locked);
    if (chain.length > 0 && locked) out.push({ chain, locked });
    for (const [name, ref] of Object.entries(asRecord(node?.inputs) ?? {})) {
      if (typeof ref === 'string') visit(ref, [...chain, name]);
    }
  };
  visit(typeof locks?.root === 'string' ? locks.root : 'root', []);
  return out;
}

/** What a printed flake reference says about where its tree is: a local directory, a revision, a location key. */
interface RefIdentity {
  /** The directory of a `git+file://`, `file://` or `path:` reference. */
  local?: string;
  /** A git revision (`rev=` or the third segment of `github:o/r/<rev>`). */
  rev?: string;
  /** Where it comes from, without revision or query: `github:nixos/nixpkgs`, `git+https://host/repo`. */
  key: string;
}

const REV = /^[0-9a-f]{40}$/;

function parseFlakeRef(ref: string): RefIdentity {
  const q = ref.indexOf('?');
  const base = q >= 0 ? ref.slice(0, q) : ref;
  const params = new URLSearchParams(q >= 0 ? ref.slice(q + 1) : '');
  const rev = params.get('rev') ?? undefined;
  const colon = base.indexOf(':');
  const scheme = base.slice(0, colon).toLowerCase();
  const rest = base.slice(colon + 1);
  if (scheme === 'path')
    return { local: decodeURIComponentSafe(rest), key: `path:${decodeURIComponentSafe(rest)}`, ...(rev ? { rev } : {}) };
  if (scheme === 'git+file' || scheme === 'file') {
    const path = decodeURIComponentSafe(rest.replace(/^\/\/(?:localhost)?/, ''));
    return { local: path, key: `git+file://${path}`, ...(rev ? { rev } : {}) };
  }
  if (scheme === 'github' || scheme === 'gitlab' || scheme === 'sourcehut') {
    const [owner = '', repo = '', third] = rest.split('/');
    const r = rev ?? (third && REV.test(third) ? third : undefined);
    return { key: `${scheme}:${owner}/${repo}`.toLowerCase(), ...(r ? { rev: r } : {}) };
  }
  return { key: base.replace(/\.git$/, ''), ...(rev ? { rev } : {}) };
}

/** The key `parseFlakeRef` gives the same tree, from a lock file's `locked` attributes. */
function lockedKey(locked: Readonly<Record<string, unknown>>): string | undefined {
  const str = (k: string) => (typeof locked[k] === 'string' ? (locked[k] as string) : undefined);
  const type = str('type');
  if (type === 'github' || type === 'gitlab' || type === 'sourcehut') return `${type}:${str('owner')}/${str('repo')}`.toLowerCase();
  if (type === 'path') return str('path') !== undefined ? `path:${str('path')}` : undefined;
  const url = str('url');
  if (type === 'git' && url)
    return url.startsWith('file://') ? `git+file://${decodeURIComponentSafe(url.slice(7))}` : `git+${url}`.replace(/\.git$/, '');
  return url;
}

/** The known source a printed reference names: by revision first, then by location. */
function findSource(sources: readonly KnownSource[], ref: RefIdentity): KnownSource | undefined {
  const withLock = sources.filter((s) => s.locked);
  if (ref.rev) {
    const byRev = withLock.find((s) => s.locked?.rev === ref.rev);
    if (byRev) return byRev;
  }
  const byKey = withLock.find((s) => lockedKey(s.locked!) === ref.key);
  if (byKey) return byKey;
  if (ref.local !== undefined) {
    const local = normaliseDir(ref.local);
    return sources.find((s) => s.localPath !== undefined && normaliseDir(s.localPath) === local);
  }
  return undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The local directory of an input reached by `chain` from the root, when it is locked as `path:` or `git+file:`. */
function localPathOfInput(locks: Record<string, unknown> | undefined, chain: readonly string[], gitRoot: string): string | undefined {
  const nodes = asRecord(locks?.nodes);
  const rootKey = typeof locks?.root === 'string' ? locks.root : 'root';
  if (!nodes) return undefined;
  const resolve = (path: readonly string[], depth: number): string | undefined => {
    let key: string | undefined = rootKey;
    for (const name of path) {
      if (key === undefined || depth > 32) return undefined;
      const ref: unknown = asRecord(asRecord(nodes[key])?.inputs)?.[name];
      if (typeof ref === 'string') key = ref;
      else if (Array.isArray(ref) && ref.every((x) => typeof x === 'string')) key = resolve(ref as string[], depth + 1);
      else return undefined;
    }
    return key;
  };
  const key = resolve(chain, 0);
  const locked = key !== undefined ? asRecord(asRecord(nodes[key])?.locked) : undefined;
  if (!locked) return undefined;
  if (locked.type === 'path' && typeof locked.path === 'string') return posix.resolve(gitRoot, locked.path);
  if (locked.type === 'git' && typeof locked.url === 'string' && locked.url.startsWith('file://')) {
    try {
      return decodeURIComponent(new URL(locked.url).pathname);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function normaliseDir(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root === '/' ? '/' : `${root}/`);
}

/** The relative path normalised, or undefined when it would leave its tree (`..`). */
function safeRelative(rel: string): string | undefined {
  if (!rel) return '';
  const n = posix.normalize(rel);
  if (n === '..' || n.startsWith('../') || n.startsWith('/')) return undefined;
  return n === '.' ? '' : n;
}
