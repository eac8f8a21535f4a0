// Source positions as Nix reports them, normalised over versions (nix-cli.md §6.8, §7.3). No `vscode` import.

/**
 * Where a position's origin lives:
 * - `path`: a file: a store path such as `/nix/store/…-source/a.nix`, a local path (2.2x+ print the files of a local
 *   flake so), or a file of a fetched source tree as newer Nix prints it, `«<flake reference>»/<path inside it>`
 *   (`«git+file:///repo?ref=…&rev=…»/lib/modules.nix`; see `parseSourceTreePath`);
 * - `string`: `--expr`/`--apply` code (`«string»`, or the source text itself in Nix ≤ 2.12);
 * - `stdin`: `«stdin»`;
 * - `none`: `«none»`, no origin;
 * - `other`: Nix's own code: corepkgs (`<nix/fetchurl.nix>`), `«nix-internal»/…`, `«flakes-internal»/…`.
 */
export type PositionOrigin = 'path' | 'string' | 'stdin' | 'none' | 'other';

/** A position as Nix gives it: line and column are 1-based. */
export interface SourcePosition {
  /** The file path for `path` origins; the printed origin (`«string»`, `«stdin»`, …) otherwise. */
  file: string;
  line: number;
  /** 1 when Nix gave no column. */
  column: number;
  origin: PositionOrigin;
}

/** A file of a fetched source tree as newer Nix prints it: `«<flake reference>»/<path inside the tree>`. */
export interface SourceTreePath {
  /** The flake reference, as printed: `git+file:///repo?ref=refs/heads/main&rev=…`, `github:NixOS/nixpkgs/<rev>`. */
  ref: string;
  /** The path inside the tree, without a leading slash (`''` for the tree itself). */
  rel: string;
}

/** `«ref»/rel` (or `«ref»`) with a flake reference (`scheme:…`) inside; undefined for `«nix-internal»/…` and the rest. */
export function parseSourceTreePath(file: string): SourceTreePath | undefined {
  const m = /^«([a-z][a-z0-9+.-]*:[^»]*)»(?:\/(.*))?$/.exec(file);
  return m ? { ref: m[1]!, rel: (m[2] ?? '').replace(/^\/+/, '') } : undefined;
}

/** Classifies a printed origin and returns the name to keep for it. */
export function classifyOrigin(file: string): { file: string; origin: PositionOrigin } {
  if (file.includes('\n')) return { file: '«string»', origin: 'string' }; // Nix ≤ 2.12: the source text itself
  if (file === '«string»') return { file, origin: 'string' };
  if (file === '«stdin»') return { file, origin: 'stdin' };
  if (file === '«none»' || file === '') return { file: '«none»', origin: 'none' };
  if (parseSourceTreePath(file)) return { file, origin: 'path' };
  if (file.startsWith('«') || file.startsWith('<')) return { file, origin: 'other' };
  if (file.startsWith('/')) return { file, origin: 'path' };
  // Nix ≤ 2.12 also puts one-line `--expr` source text here.
  return { file: '«string»', origin: 'string' };
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

const POSITION_SUFFIX = /^([\s\S]*?):(\d+)(?::(\d+))?$/;

/**
 * Normalises the `file`/`line`/`column` of a `msg` record or trace entry.
 * Handles 2.8 (path, or the source text for `--expr`), 2.13–2.19 (`«string»`) and 2.20+ (`origin:line:col`).
 * Returns undefined when there is no position (`null`s, missing keys, line 0).
 */
export function positionFromJson(file: unknown, line: unknown, column: unknown): SourcePosition | undefined {
  if (typeof file !== 'string') return undefined;
  let l = positiveInt(line);
  let c = positiveInt(column);
  let f = file;
  if (l !== undefined) {
    for (const suffix of c !== undefined ? [`:${l}:${c}`, `:${l}`] : [`:${l}`]) {
      if (f.endsWith(suffix) && !f.includes('\n')) {
        f = f.slice(0, -suffix.length);
        break;
      }
    }
  } else if (!f.includes('\n')) {
    // 2.20+ may carry the position only in `file`.
    const m = POSITION_SUFFIX.exec(f);
    if (!m) return undefined;
    f = m[1]!;
    l = positiveInt(Number(m[2]));
    c = m[3] === undefined ? undefined : positiveInt(Number(m[3]));
    if (l === undefined) return undefined;
  } else {
    return undefined;
  }
  return { ...classifyOrigin(f), line: l, column: c ?? 1 };
}

/** Builds a position from the parts of a text `at <origin>:<line>[:<col>]:` line. */
export function positionFromText(origin: string, line: string, column: string | undefined): SourcePosition | undefined {
  const l = positiveInt(Number(line));
  if (l === undefined) return undefined;
  return { ...classifyOrigin(origin), line: l, column: positiveInt(Number(column)) ?? 1 };
}
