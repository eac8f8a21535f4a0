// The plan that `nix build --dry-run` prints on stderr (nix-cli.md §5.1). No `vscode` import.

import { stripAnsi } from '../text';
import { splitLines } from './lines';

/** What a build would do, as announced by Nix before building (or instead, with `--dry-run`). */
export interface DryRunPlan {
  /** Derivations to build, in Nix's order (dependencies first). */
  builds: string[];
  /** Store paths to fetch from substituters. */
  fetches: string[];
  /** Paths Nix does not know how to build ("don't know how to build these paths"). */
  unbuildable: string[];
  /** The download size announced for the fetches, in bytes (approximate: Nix rounds it). */
  downloadBytes?: number;
  /** The unpacked size announced for the fetches, in bytes (approximate). */
  unpackedBytes?: number;
  /** Paths left out of the lists because one was full (the parser's `maxItems`); absent when none was. */
  omitted?: number;
}

type Section = 'builds' | 'fetches' | 'unbuildable';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
const SIZE = String.raw`([\d.]+) ([KMGTPEZY]?i?B)`;
const BUILD_HEADER = /^(?:this derivation|these (?:(\d+) )?derivations) will be built:$/;
const FETCH_HEADER = new RegExp(String.raw`^(?:this path|these (?:(\d+) )?paths) will be fetched \(${SIZE} download, ${SIZE} unpacked\):$`);
const UNBUILDABLE_HEADER = /^don't know how to build these paths(?: \(may be caused by read-only store access\))?:$/;
const ITEM = /^ {2}(\/\S+)$/;

/**
 * Converts a printed size to bytes: `3.34 MiB` (2.8 `%.2f MiB`) or 2.33+ `renderSize` values such as
 * `12.3 MiB`, `1.1 GiB`, `0.1 KiB`. Returns undefined for an unknown unit or a bad number.
 */
export function parseSize(value: string, unit: string): number | undefined {
  const n = Number(value);
  const k = UNITS.indexOf(unit === 'KB' ? 'KiB' : unit);
  if (!Number.isFinite(n) || n < 0 || k < 0) return undefined;
  return Math.round(n * 1024 ** k);
}

/**
 * Reads dry-run plan lines one at a time (plain stderr lines, or level-0 `msg` texts in internal-json mode).
 * Lines that are not part of a plan are ignored.
 */
export class DryRunPlanParser {
  private readonly result: DryRunPlan = { builds: [], fetches: [], unbuildable: [] };
  private section: Section | undefined;
  private seen = false;

  /** At most this many paths are kept per list. */
  constructor(private readonly maxItems = 100_000) {}

  /** Feeds one line (ANSI escapes allowed); returns true when the line belonged to a plan. */
  feed(line: string): boolean {
    const text = line.includes('\x1b') || line.includes('\r') ? stripAnsi(line) : line;
    const item = this.section && ITEM.exec(text);
    if (item && this.section) {
      const list = this.result[this.section];
      if (list.length < this.maxItems) list.push(item[1]!);
      else this.result.omitted = (this.result.omitted ?? 0) + 1;
      return true;
    }
    this.section = undefined;
    if (BUILD_HEADER.test(text)) {
      this.section = 'builds';
    } else if (UNBUILDABLE_HEADER.test(text)) {
      this.section = 'unbuildable';
    } else {
      const m = FETCH_HEADER.exec(text);
      if (!m) return false;
      this.section = 'fetches';
      this.result.downloadBytes = parseSize(m[2]!, m[3]!);
      this.result.unpackedBytes = parseSize(m[4]!, m[5]!);
    }
    this.seen = true;
    return true;
  }

  /** The plan read so far, or undefined when no plan header was seen. */
  get plan(): DryRunPlan | undefined {
    return this.seen ? this.result : undefined;
  }
}

/** Parses the dry-run plan out of a whole stderr text (or its lines). Undefined when there is none. */
export function parseDryRun(stderr: string | readonly string[]): DryRunPlan | undefined {
  const parser = new DryRunPlanParser();
  for (const line of typeof stderr === 'string' ? splitLines(stderr) : stderr) parser.feed(line);
  return parser.plan;
}
