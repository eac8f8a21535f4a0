// What a deployment changes: the closure diff between the system a target runs and the new one. No `vscode` import.
//
// Two sources, one model:
//  - `nix store diff-closures <old> <new>` (both closures in one store): its text is parsed (parseDiffClosures).
//  - the closures of two stores (`nix path-info -r -S --json`, here and `--store ssh-ng://target`), compared here
//    with the rules of Nix's diff-closures.cc (diffClosures), so a preview needs nothing copied to either side.
// Nix output is untrusted input: escapes stripped, lines and entries bounded.
import { stripAnsi, truncate } from '../text';

/** One package of the closure whose versions or size changed. */
export interface ClosureChange {
  /** The package name (`foo` of `foo-1.0`). */
  name: string;
  /** Versions only in the old closure (`''` is a path without a version, Nix's `ε`). */
  before: string[];
  /** Versions only in the new closure. */
  after: string[];
  /** The change of its NAR size, in bytes (from diff-closures' text: as precise as the figure it prints). */
  sizeDelta?: number;
  /** added: only new versions; removed: only old ones; changed: both; size: same versions, other size. */
  kind: 'added' | 'removed' | 'changed' | 'size';
}

export interface ClosureDiff {
  changes: ClosureChange[];
  /** The sum of the changes' size deltas; with closure sizes known, their difference. */
  sizeDelta: number;
  /** Closure sizes in bytes, when they were read (path-info). */
  sizeBefore?: number;
  sizeAfter?: number;
  /** Lines or entries left out to stay within bounds. */
  omitted: number;
}

export const MAX_CHANGES = 10_000;
const MAX_NAME = 200;
const MAX_VERSION = 100;

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, PiB: 1024 ** 5, EiB: 1024 ** 6 };
const SIZE = /^([+-]?)([0-9]+(?:\.[0-9]+)?) (B|KiB|MiB|GiB|TiB|PiB|EiB)$/;

/** `+36.0 KiB`, `-20.3 KiB`, `16.3 KiB` (2.34 prints growth without `+`) → bytes. */
export function parseDiffSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Math.round(Number(m[2]) * (UNITS[m[3] ?? 'B'] ?? 1));
  return m[1] === '-' ? -n : n;
}

function kindOf(before: string[], after: string[]): ClosureChange['kind'] {
  if (before.length === 0 && after.length === 0) return 'size';
  if (before.length === 0) return 'added';
  if (after.length === 0) return 'removed';
  return 'changed';
}

function versions(text: string): string[] {
  const t = text.trim();
  if (t === '∅') return [];
  return t.split(', ').map((v) => (v === 'ε' ? '' : truncate(v, MAX_VERSION)));
}

/**
 * Reads `nix store diff-closures` output (2.8 … 2.34; also the indented lines of `nix profile diff-closures`):
 * `name: 1.0 → 1.1, +36.0 KiB`, `name: ∅ → 0.5, 16.3 KiB`, `name: +29.0 KiB`, `name: 1 → 2`. Lines that are none of
 * these are left out (counted in `omitted`).
 */
export function parseDiffClosures(text: string): ClosureDiff {
  const changes: ClosureChange[] = [];
  let omitted = 0;
  let sizeDelta = 0;
  for (const raw of stripAnsi(text).split('\n')) {
    const line = raw.trim();
    if (line === '' || /^Version \d+ -> \d+:$/.test(line)) continue;
    if (changes.length >= MAX_CHANGES || line.length > 4 * MAX_NAME + 4 * MAX_VERSION) {
      omitted++;
      continue;
    }
    const colon = line.indexOf(': ');
    if (colon <= 0) {
      omitted++;
      continue;
    }
    const name = truncate(line.slice(0, colon), MAX_NAME);
    let rest = line.slice(colon + 2);
    let size: number | undefined;
    const comma = rest.lastIndexOf(', ');
    const tail = comma >= 0 ? rest.slice(comma + 2) : rest;
    const parsedTail = parseDiffSize(tail);
    if (parsedTail !== undefined) {
      size = parsedTail;
      rest = comma >= 0 ? rest.slice(0, comma) : '';
    }
    let before: string[] = [];
    let after: string[] = [];
    if (rest !== '') {
      const arrow = rest.indexOf(' → ');
      if (arrow < 0) {
        omitted++;
        continue;
      }
      before = versions(rest.slice(0, arrow));
      after = versions(rest.slice(arrow + 3));
    } else if (size === undefined) {
      omitted++;
      continue;
    }
    if (size !== undefined) sizeDelta += size;
    changes.push({ name, before, after, ...(size !== undefined ? { sizeDelta: size } : {}), kind: kindOf(before, after) });
  }
  return { changes, sizeDelta, omitted };
}

/** One store path of a closure, as path-info reports it. */
export interface PathInfo {
  path: string;
  narSize: number;
  closureSize?: number;
}

export const MAX_PATHS = 500_000;

/**
 * Reads `nix path-info --json` in every shape (nix-cli.md §5.6): 2.8–2.18 an array of objects with `path`; 2.19+
 * an object keyed by path (invalid paths `null`); `--json-format 2` `{info: {"<hash>-<name>": …}, storeDir}`.
 * Entries without a path or a numeric narSize are left out.
 */
export function parsePathInfo(json: string): PathInfo[] {
  const value: unknown = JSON.parse(json);
  const out: PathInfo[] = [];
  const add = (path: unknown, v: unknown): void => {
    if (out.length >= MAX_PATHS || typeof path !== 'string' || v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.valid === false || typeof o.narSize !== 'number') return;
    out.push({ path, narSize: o.narSize, ...(typeof o.closureSize === 'number' ? { closureSize: o.closureSize } : {}) });
  };
  if (Array.isArray(value)) {
    for (const v of value) add(v && typeof v === 'object' ? (v as { path?: unknown }).path : undefined, v);
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.info && typeof o.info === 'object' && typeof o.storeDir === 'string') {
      for (const [k, v] of Object.entries(o.info as Record<string, unknown>)) add(`${o.storeDir}/${k}`, v);
    } else {
      for (const [k, v] of Object.entries(o)) add(k, v);
    }
  }
  return out;
}

/** The name of a store path without its hash: `/nix/store/<32>-foo-1.0` → `foo-1.0`. */
export function storePathName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return /^[0-9a-z]{32}-/.test(base) ? base.slice(33) : base;
}

/**
 * Splits a store path name as Nix does for diff-closures: an output suffix (`-bin`, `-dev`, any run of lower-case
 * letters, `-lib32`, `-lib64`) is dropped, then the version starts after the first `-` followed by a non-letter
 * (DrvName).
 */
export function splitName(name: string): { name: string; version: string } {
  const m = /^(.*)-([a-z]+|lib32|lib64)$/.exec(name);
  const n = m?.[1] ?? name;
  for (let i = 0; i < n.length - 1; i++) {
    if (n[i] === '-' && !/[A-Za-z]/.test(n[i + 1] ?? '')) return { name: n.slice(0, i), version: n.slice(i + 1) };
  }
  return { name: n, version: '' };
}

/** Changes of at least this many bytes are shown without a version change (diff-closures.cc). */
export const SIZE_THRESHOLD = 8 * 1024;

function group(closure: readonly PathInfo[]): Map<string, { versions: Set<string>; size: number }> {
  const m = new Map<string, { versions: Set<string>; size: number }>();
  for (const p of closure) {
    const { name, version } = splitName(storePathName(p.path));
    let g = m.get(name);
    if (!g) m.set(name, (g = { versions: new Set(), size: 0 }));
    g.versions.add(version);
    g.size += p.narSize;
  }
  return m;
}

/**
 * The diff of two closures read by path-info, by the rules of `nix store diff-closures`: per package name, the
 * versions only on one side, and the size change when it is at least 8 KiB; sorted by name.
 */
export function diffClosures(before: readonly PathInfo[], after: readonly PathInfo[]): ClosureDiff {
  const a = group(before);
  const b = group(after);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: ClosureChange[] = [];
  let omitted = 0;
  for (const name of names) {
    const va = a.get(name)?.versions ?? new Set<string>();
    const vb = b.get(name)?.versions ?? new Set<string>();
    const removed = [...va].filter((v) => !vb.has(v)).sort();
    const added = [...vb].filter((v) => !va.has(v)).sort();
    const delta = (b.get(name)?.size ?? 0) - (a.get(name)?.size ?? 0);
    const showSize = Math.abs(delta) >= SIZE_THRESHOLD;
    if (removed.length === 0 && added.length === 0 && !showSize) continue;
    if (changes.length >= MAX_CHANGES) {
      omitted++;
      continue;
    }
    changes.push({
      name: truncate(name, MAX_NAME),
      before: removed.map((v) => truncate(v, MAX_VERSION)),
      after: added.map((v) => truncate(v, MAX_VERSION)),
      ...(showSize ? { sizeDelta: delta } : {}),
      kind: kindOf(removed, added),
    });
  }
  const sum = (c: readonly PathInfo[]): number => c.reduce((s, p) => s + p.narSize, 0);
  const sizeBefore = sum(before);
  const sizeAfter = sum(after);
  return { changes, sizeDelta: sizeAfter - sizeBefore, sizeBefore, sizeAfter, omitted };
}

/** Counts for a confirmation: "3 changed, 1 added, 1 removed, +36.0 KiB". */
export interface DiffSummary {
  changed: number;
  added: number;
  removed: number;
  sizeDelta: number;
  text: string;
}

/** Sizes as Nix prints them in a diff: `+36.0 KiB`, `-1.2 MiB`. */
export function formatSizeDelta(bytes: number): string {
  const sign = bytes < 0 ? '-' : '+';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = Math.abs(bytes);
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  const unit = units[i];
  return `${sign}${unit === 'B' ? n : n.toFixed(1)} ${unit}`;
}

export function summarizeDiff(d: ClosureDiff): DiffSummary {
  const count = (k: ClosureChange['kind']): number => d.changes.filter((c) => c.kind === k).length;
  const changed = count('changed');
  const added = count('added');
  const removed = count('removed');
  const parts = [
    ...(changed ? [`${changed} changed`] : []),
    ...(added ? [`${added} added`] : []),
    ...(removed ? [`${removed} removed`] : []),
  ];
  const text = `${parts.length ? parts.join(', ') : 'no version changes'}, ${formatSizeDelta(d.sizeDelta)}`;
  return { changed, added, removed, sizeDelta: d.sizeDelta, text };
}
