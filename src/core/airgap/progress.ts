// Progress of `nix copy` (and `nix flake archive --to`) read from its `--log-format internal-json -v` records: paths
// and bytes copied so far, of how many, and what was written. Nix 2.8 reports a path's start and stop and, with -v,
// "copying path '…' (N bytes, compressed P% in T ms) to binary cache"; newer versions add the expected bytes
// (setExpected on the copyPaths activity) and per-path byte progress. The sizes from `nix path-info` fill in what an
// older Nix leaves out. No `vscode` import.
import { parseLogLine } from '../log/internalJson';
import { ActivityType, ResultType } from '../log/types';

export interface CopyProgress {
  pathsDone: number;
  /** Paths to copy (those the destination lacks), when known; else the closure's size. */
  pathsTotal: number;
  /** NAR bytes copied so far (finished paths, and the progress of running ones). */
  bytesDone: number;
  /** NAR bytes to copy, when known. */
  bytesTotal: number;
  /** Compressed bytes written to a binary cache (from Nix's per-path messages; 0 when it gave none). */
  bytesWritten: number;
  /** The path being copied now. */
  current?: string;
}

/** At most this many copied paths are listed (the count goes on). */
const MAX_LISTED = 100_000;
const COPIED_TO_CACHE = /^copying path '(\/[^']+)' \((\d+) bytes, compressed -?[\d.]+% in \d+ ms\) to binary cache$/;
const COPYING_N = /^copying (\d+) paths?/;

/** Reads the stderr lines of one `nix copy` run; `sizes` are NAR sizes by path (`nix path-info -r --json`). */
export class CopyProgressReader {
  private readonly copyPaths = new Set<string>();
  private readonly running = new Map<string, { path: string; done: number; expected: number }>();
  private readonly sizes: ReadonlyMap<string, number>;
  private finishedBytes = 0;
  private stops = 0;
  private reportedDone = 0;
  private expectedPaths?: number;
  private expectedBytes?: number;
  private written = 0;
  private current?: string;
  /** The paths copied (those the destination did not have), in the order they finished. */
  readonly copied: string[] = [];

  constructor(sizes: ReadonlyMap<string, number> = new Map()) {
    this.sizes = sizes;
  }

  /** Feeds one stderr line; returns true when the progress changed. */
  feed(line: string): boolean {
    if (!line.startsWith('@nix ')) return false;
    const ev = parseLogLine(line);
    switch (ev.kind) {
      case 'start':
        if (ev.type === ActivityType.CopyPaths) {
          this.copyPaths.add(ev.id);
          const m = COPYING_N.exec(ev.text);
          if (m && this.expectedPaths === undefined) this.expectedPaths = Number(m[1]);
          return !!m;
        }
        if (ev.type === ActivityType.CopyPath && typeof ev.fields[0] === 'string') {
          this.running.set(ev.id, { path: ev.fields[0], done: 0, expected: 0 });
          this.current = ev.fields[0];
          return true;
        }
        return false;
      case 'stop': {
        const r = this.running.get(ev.id);
        if (!r) return false;
        this.running.delete(ev.id);
        this.stops++;
        // A finished path counts whole: its size as the copy announced it, or as path-info gave it.
        this.finishedBytes += Math.max(r.done, r.expected, this.sizes.get(r.path) ?? 0);
        if (this.copied.length < MAX_LISTED) this.copied.push(r.path);
        if (this.current === r.path) this.current = [...this.running.values()].at(-1)?.path;
        return true;
      }
      case 'result': {
        const res = ev.result;
        if (this.copyPaths.has(ev.id)) {
          if (res.type === 'setExpected' && res.activityType === ActivityType.CopyPath) {
            this.expectedBytes = res.expected;
            return true;
          }
          if (res.type === 'progress' && ev.type === ResultType.Progress) {
            this.reportedDone = Math.max(this.reportedDone, res.done);
            if (res.expected > 0) this.expectedPaths = res.expected;
            return true;
          }
          return false;
        }
        const r = this.running.get(ev.id);
        if (r && res.type === 'progress') {
          r.done = Math.max(r.done, res.done);
          r.expected = Math.max(r.expected, res.expected);
          return true;
        }
        return false;
      }
      case 'msg': {
        const m = COPIED_TO_CACHE.exec(ev.msg);
        if (!m) return false;
        // Nix prints the saving: compressed = NAR size × (1 − saving).
        const pct = /compressed (-?[\d.]+)%/.exec(ev.msg);
        const nar = Number(m[2]);
        this.written += pct ? Math.max(0, Math.round(nar * (1 - Number(pct[1]) / 100))) : nar;
        return true;
      }
      default:
        return false;
    }
  }

  get progress(): CopyProgress {
    let running = 0;
    for (const r of this.running.values()) running += r.done;
    let closureBytes = 0;
    for (const s of this.sizes.values()) closureBytes += s;
    const pathsDone = Math.max(this.stops, this.reportedDone);
    return {
      pathsDone,
      pathsTotal: Math.max(this.expectedPaths ?? this.sizes.size, pathsDone),
      bytesDone: this.finishedBytes + running,
      bytesTotal: this.expectedBytes ?? closureBytes,
      bytesWritten: this.written,
      ...(this.current ? { current: this.current } : {}),
    };
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A byte count for people: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}
