// Store paths: `/nix/store/<hash>-<name>[/<rel>]`. No `vscode` import.

/** The default store directory. Another one can be passed where it matters (`NIX_STORE_DIR`). */
export const DEFAULT_STORE_DIR = '/nix/store';

/** Nix's base-32 alphabet (no e, o, t, u); a store hash is 32 of these. */
export const STORE_HASH = '[0-9a-df-np-sv-z]{32}';

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

const PARTS = new RegExp(`^(${STORE_HASH})-([^/]+)(?:/(.*))?$`);

/** Splits a store path; undefined when `path` is not inside `storeDir` or has no valid hash. */
export function parseStorePath(path: string, storeDir = DEFAULT_STORE_DIR): StorePathParts | undefined {
  const dir = storeDir.replace(/\/+$/, '');
  if (!path.startsWith(`${dir}/`)) return undefined;
  const m = PARTS.exec(path.slice(dir.length + 1));
  if (!m) return undefined;
  const hash = m[1]!;
  const name = m[2]!;
  return { storeDir: dir, hash, name, root: `${dir}/${hash}-${name}`, rel: (m[3] ?? '').replace(/\/+$/, '') };
}

const HASHED_NAME = new RegExp(`^${STORE_HASH}-(.+)$`);

/**
 * The name part of a store object, in any store directory, without `.drv`:
 * `/nix/store/<hash>-hello-2.12.drv` → `hello-2.12`. A path without a store hash gives its last segment.
 */
export function storePathName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const m = HASHED_NAME.exec(base);
  const name = m?.[1] ?? base;
  return (name.endsWith('.drv') && name.length > 4 ? name.slice(0, -4) : name) || path;
}

/** The name of a hashed store path, or undefined when it is not one (`<hash>-<name>` as its last segment). */
export function hashedName(path: string): string | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return HASHED_NAME.test(base) ? storePathName(path) : undefined;
}
