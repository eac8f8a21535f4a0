// Maps Nix store paths in error positions back to workspace files (nix-cli.md §3.1, §3.2, §7.3).
// Pure: the only file-system question is asked through an injected `exists`. No `vscode` import.

import { posix } from 'node:path';

/** The default store directory. Another one can be passed where it matters (`NIX_STORE_DIR`). */
export const DEFAULT_STORE_DIR = '/nix/store';

/** Nix's base-32 alphabet (no e, o, t, u); a store hash is 32 of these. */
const HASH = '[0-9a-df-np-sv-z]{32}';

/** The parts of `/nix/store/<hash>-<name>[/<rel>]`. */
export interface StorePathParts {
  storeDir: string;
  hash: string;
  name: string;
  /** `/nix/store/<hash>-<name>` */
  root: string;
  /** The path inside the store object, without a leading slash; `''` for the object itself. */
  rel: string;
}

/** Splits a store path; undefined when `path` is not inside `storeDir` or has no valid hash. */
export function parseStorePath(path: string, storeDir = DEFAULT_STORE_DIR): StorePathParts | undefined {
  const dir = storeDir.replace(/\/+$/, '');
  if (!path.startsWith(`${dir}/`)) return undefined;
  const m = new RegExp(`^(${HASH})-([^/]+)(?:/(.*))?$`).exec(path.slice(dir.length + 1));
  if (!m) return undefined;
  return { storeDir: dir, hash: m[1], name: m[2], root: `${dir}/${m[1]}-${m[2]}`, rel: (m[3] ?? '').replace(/\/+$/, '') };
}

/** A source tree Nix copied into the store, and where it lives on disk when that is known. */
export interface KnownSource {
  /** `/nix/store/<hash>-source`, as `nix flake metadata --json` `.path` or `nix flake archive --json` reports it. */
  storePath: string;
  /** The local directory it was copied from: the git root for a flake, the directory of a `path:` input. */
  localPath?: string;
  /** For messages: `flake`, `input nixpkgs`, `input home-manager/nixpkgs`. */
  label: string;
}

/** Where a file named in an error is, for the editor. */
export type MappedFile =
  /** A workspace file. `match`: how it was found (`hash` exact, `fallback` by relative path, `local` path). */
  | { kind: 'workspace'; path: string; match: 'hash' | 'fallback' | 'local'; label?: string }
  /** A file of a known source that is not in the workspace (e.g. a nixpkgs input). */
  | { kind: 'input'; label: string; storePath: string; rel: string }
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
    const parts = parseStorePath(s.storePath, storeDir);
    // The first source given for a hash wins, so the root flake beats an input with the same tree.
    if (parts && !byHash.has(parts.hash)) byHash.set(parts.hash, s);
  }
  const inWorkspace = (p: string) => roots.length === 0 || roots.some((r) => isInside(r, p));

  return (file: string): MappedFile => {
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

/**
 * Known sources of one flake: its own tree (mapped to `gitRoot`; for `?dir=sub` the store path is the
 * repository root, so positions like `…-source/sub/flake.nix` land in the right place), and, given the output
 * of `nix flake archive --json --dry-run`, every input, labelled `input <name>`. Inputs locked as `path:` or
 * `git+file:` get the local directory from the lock in `metadata.locks`; the rest are labelled only.
 */
export function sourcesFromFlake(args: { gitRoot: string; metadata?: unknown; archive?: unknown; label?: string }): KnownSource[] {
  const out: KnownSource[] = [];
  const label = args.label ?? 'flake';
  const meta = asRecord(args.metadata);
  const archive = asRecord(args.archive);
  for (const p of [meta?.path, archive?.path]) {
    if (typeof p === 'string' && !out.some((s) => s.storePath === p)) out.push({ storePath: p, localPath: args.gitRoot, label });
  }
  const locks = asRecord(meta?.locks);
  const walk = (inputs: unknown, chain: string[], depth: number) => {
    const rec = asRecord(inputs);
    if (!rec || depth > 32) return;
    for (const [name, value] of Object.entries(rec)) {
      const input = asRecord(value);
      const path = input?.path;
      const next = [...chain, name];
      if (typeof path === 'string') {
        const local = localPathOfInput(locks, next, args.gitRoot);
        out.push({ storePath: path, ...(local !== undefined ? { localPath: local } : {}), label: `input ${next.join('/')}` });
      }
      walk(input?.inputs, next, depth + 1);
    }
  };
  walk(archive?.inputs, [], 0);
  return out;
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
