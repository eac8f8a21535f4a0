// Which flake holds a file: the flakes whose folder contains it, innermost first. No `vscode` import.

/** Whether `path` is `dir` itself or inside it (by path segments: `/a/bc` is not inside `/a/b`). */
export function isInside(dir: string, path: string): boolean {
  const d = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  return path === d || path.startsWith(d === '/' ? '/' : `${d}/`);
}

/** The items whose folder (`dirOf`) holds `path`, innermost (longest folder) first. */
export function holding<T>(items: readonly T[], dirOf: (item: T) => string, path: string): T[] {
  return items.filter((item) => isInside(dirOf(item), path)).sort((a, b) => dirOf(b).length - dirOf(a).length);
}
