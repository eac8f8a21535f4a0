// Build progress, computed from internal-json events (nix-cli.md §6.5, §6.6). No `vscode` import.
// Fed one event at a time; `snapshot()` gives a plain object for the UI. Everything kept is bounded.

import { formatBytes } from '../format';
import { storePathName } from '../nix/store';
import { stripAnsi, truncate } from '../text';
import { matchBuilderFailure } from '../errors/classify';
import { explainBuildLog } from '../errors/explain';
import { type DryRunPlan, DryRunPlanParser } from './dryRun';
import { ActivityType, type LogEvent, type StartEvent } from './types';

/** A build that is running now. */
export interface RunningBuild {
  /** The activity id (exact decimal). */
  id: string;
  drvPath: string;
  /** The derivation name, e.g. `hello-2.12` for `/nix/store/<hash>-hello-2.12.drv`. */
  name: string;
  /** The current phase (`buildPhase`, …) when the builder reports phases. */
  phase?: string;
  /** The remote machine, when not built locally. */
  machine?: string;
}

/** A build that failed, with the end of its log. */
export interface FailedBuild {
  drvPath: string;
  name: string;
  exitCode?: number;
  /** The phase it was in when it failed. */
  phase?: string;
  /**
   * The last log lines of the build (at most `logLines`), without ANSI escapes or other control characters (2.8's
   * serialised builder errors decoded). When they show a known cause, a last line says what it means (`hint`), so
   * that whatever shows the tail of the log shows it.
   */
  lastLines: string[];
  /** What the log says in plain words, when it shows a known cause (also the last of `lastLines`). */
  hint?: string;
}

/** A build that ended without succeeding or failing, e.g. when the run was interrupted. */
export interface StoppedBuild {
  drvPath: string;
  name: string;
  phase?: string;
}

/** Store paths being fetched (substituted or copied) and their bytes. */
export interface DownloadProgress {
  /** Paths fetched so far. */
  done: number;
  /** Paths to fetch in all. */
  expected: number;
  /** Paths being fetched now. */
  running: number;
  bytesDone: number;
  bytesExpected: number;
}

/** Everything the UI shows about a running `nix build`. */
export interface ProgressSnapshot {
  /** Derivations built so far. */
  built: number;
  /**
   * Derivations to build in all, failed ones included (grows while Nix discovers work; shrinks when a
   * substitute replaces a build or a dependency failure makes one impossible).
   */
  total: number;
  running: RunningBuild[];
  downloads: DownloadProgress;
  failed: FailedBuild[];
  /** Builds that ended without a result (interrupted, killed, or cut off). */
  stopped: StoppedBuild[];
  /** The dry-run plan, when Nix printed one. */
  plan?: DryRunPlan;
  /** Error messages seen (level 0, `error:` …). */
  errors: number;
  /** Nix reported `interrupted by the user`. */
  interrupted: boolean;
  /** Activities started and not yet stopped. */
  activeActivities: number;
  /** What was left out because a limit was reached (`BuildProgressOptions`); absent when nothing was. */
  omitted?: OmittedCounts;
}

/** Counts of what a run's state left out to stay bounded. */
export interface OmittedCounts {
  /** Failed builds not listed in `failed` (beyond `maxListed`). */
  failed: number;
  /** Stopped builds not listed in `stopped` (beyond `maxListed`). */
  stopped: number;
  /** Activities not tracked (started while `maxActivities` were open), with everything they reported. */
  activities: number;
}

export interface BuildProgressOptions {
  /** Log lines kept per build (default 25). */
  logLines?: number;
  /** Longest log line kept, in characters (default 2000). */
  maxLineLength?: number;
  /** Most activities tracked at once (default 10000); further starts are ignored. */
  maxActivities?: number;
  /** Most failed or stopped builds listed (default 200). */
  maxListed?: number;
}

interface Counts {
  done: number;
  expected: number;
  running: number;
  failed: number;
}

interface BuildRecord {
  id: string;
  drvPath: string;
  name: string;
  phase?: string;
  machine?: string;
  log: string[];
  failed: boolean;
}

interface Transfer {
  type: number;
  done: number;
  expected: number;
}

/** The activity types whose `setExpected` totals are read (builds, and bytes of transfers). */
const COUNTED_TYPES: ReadonlySet<number> = new Set([ActivityType.Build, ActivityType.CopyPath, ActivityType.FileTransfer]);

/** A control character a builder's log line may carry (tab and newline are kept). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Build progress state. Feed it every event of one `nix` run, in order. */
export class BuildProgress {
  private readonly logLines: number;
  private readonly maxLineLength: number;
  private readonly maxActivities: number;
  private readonly maxListed: number;

  /** Open activities: id → type. */
  private readonly open = new Map<string, number>();
  /** Running builds by activity id. */
  private readonly builds = new Map<string, BuildRecord>();
  /** Last progress of each open actBuilds / actCopyPaths activity; folded into the totals when it stops. */
  private readonly buildCounts = new Map<string, Counts>();
  private readonly copyCounts = new Map<string, Counts>();
  private readonly stoppedBuildCounts: Counts = { done: 0, expected: 0, running: 0, failed: 0 };
  private readonly stoppedCopyCounts: Counts = { done: 0, expected: 0, running: 0, failed: 0 };
  /** setExpected of each open reporting activity (activity type → expected); folded in when it stops. */
  private readonly expected = new Map<string, Map<number, number>>();
  private readonly stoppedExpected = new Map<number, number>();
  /** Open transfers (actCopyPath / actFileTransfer) and bytes of finished ones. */
  private readonly transfers = new Map<string, Transfer>();
  private readonly finishedBytes = new Map<number, { done: number; expected: number }>();
  private sawFileTransfer = false;

  /** Builds finished (done or failed per actBuilds progress) but not yet attributed to a stopped build. */
  private pendingDone = 0;
  private pendingFailed = 0;
  /** Failures known from error messages before actBuilds progress reported them. */
  private creditedFailed = 0;

  private readonly failedBuilds = new Map<string, FailedBuild>();
  private readonly stoppedBuilds: StoppedBuild[] = [];
  private readonly planParser = new DryRunPlanParser();
  private errorCount = 0;
  private wasInterrupted = false;
  private readonly omitted: OmittedCounts = { failed: 0, stopped: 0, activities: 0 };

  constructor(options: BuildProgressOptions = {}) {
    this.logLines = Math.max(0, options.logLines ?? 25);
    this.maxLineLength = Math.max(1, options.maxLineLength ?? 2000);
    this.maxActivities = Math.max(1, options.maxActivities ?? 10_000);
    this.maxListed = Math.max(1, options.maxListed ?? 200);
  }

  /** Updates the state with one event. Unknown or inconsistent events are ignored. */
  feed(ev: LogEvent): void {
    switch (ev.kind) {
      case 'start':
        this.onStart(ev);
        break;
      case 'stop':
        this.onStop(ev.id);
        break;
      case 'result':
        this.onResult(ev.id, ev);
        break;
      case 'msg':
        this.onMessage(ev.msg, ev.level, ev.rawMsg !== undefined);
        break;
      case 'plain':
        this.onMessage(ev.text, undefined, false);
        break;
    }
  }

  /** Feeds several events. */
  feedAll(events: Iterable<LogEvent>): void {
    for (const ev of events) this.feed(ev);
  }

  /** The log lines kept for a running or failed build, by drv path. */
  logTail(drvPath: string): string[] {
    for (const b of this.builds.values()) if (b.drvPath === drvPath) return [...b.log];
    return [...(this.failedBuilds.get(drvPath)?.lastLines ?? [])];
  }

  /** A copy of the current state for the UI. */
  snapshot(): ProgressSnapshot {
    const builds = sumCounts([this.stoppedBuildCounts, ...this.buildCounts.values()]);
    const copies = sumCounts([this.stoppedCopyCounts, ...this.copyCounts.values()]);
    const setExpectedBuilds = this.expectedOf(ActivityType.Build);
    const plan = this.planParser.plan;
    return {
      built: builds.done,
      // Nix drops a failed build from `expected` and counts it in `failed` instead.
      total: Math.max(builds.expected, setExpectedBuilds, builds.done) + builds.failed,
      running: [...this.builds.values()]
        .filter((b) => !b.failed)
        .map((b) => ({
          id: b.id,
          drvPath: b.drvPath,
          name: b.name,
          ...(b.phase !== undefined ? { phase: b.phase } : {}),
          ...(b.machine !== undefined ? { machine: b.machine } : {}),
        })),
      downloads: { done: copies.done, expected: copies.expected, running: copies.running, ...this.bytes() },
      failed: [...this.failedBuilds.values()].map((f) => ({ ...f, lastLines: [...f.lastLines] })),
      stopped: this.stoppedBuilds.map((s) => ({ ...s })),
      ...(plan ? { plan: { ...plan, builds: [...plan.builds], fetches: [...plan.fetches], unbuildable: [...plan.unbuildable] } } : {}),
      errors: this.errorCount,
      interrupted: this.wasInterrupted,
      activeActivities: this.open.size,
      ...(this.omitted.failed + this.omitted.stopped + this.omitted.activities > 0 ? { omitted: { ...this.omitted } } : {}),
    };
  }

  /** A one-line status, e.g. `2/5 built · hello (buildPhase) · 1/3 downloads 1.2 MiB · 1 failed`. */
  statusText(): string {
    return statusText(this.snapshot());
  }

  private onStart(ev: StartEvent): void {
    if (this.open.size >= this.maxActivities) {
      this.omitted.activities++;
      return;
    }
    this.open.set(ev.id, ev.type);
    if (ev.type === ActivityType.Build) {
      const drvPath = typeof ev.fields[0] === 'string' && ev.fields[0] ? ev.fields[0] : (/'([^']+\.drv)'/.exec(ev.text)?.[1] ?? ev.text);
      const machine = typeof ev.fields[1] === 'string' && ev.fields[1] ? ev.fields[1] : undefined;
      this.builds.set(ev.id, { id: ev.id, drvPath, name: storePathName(drvPath), machine, log: [], failed: false });
    } else if (ev.type === ActivityType.CopyPath || ev.type === ActivityType.FileTransfer) {
      if (ev.type === ActivityType.FileTransfer) this.sawFileTransfer = true;
      this.transfers.set(ev.id, { type: ev.type, done: 0, expected: 0 });
    }
  }

  private onStop(id: string): void {
    if (!this.open.delete(id)) return;
    foldCounts(this.buildCounts, id, this.stoppedBuildCounts);
    foldCounts(this.copyCounts, id, this.stoppedCopyCounts);
    const expected = this.expected.get(id);
    if (expected) {
      this.expected.delete(id);
      for (const [type, n] of expected) this.stoppedExpected.set(type, (this.stoppedExpected.get(type) ?? 0) + n);
    }
    const build = this.builds.get(id);
    if (build) {
      this.builds.delete(id);
      this.settleBuild(build);
    }
    const t = this.transfers.get(id);
    if (t) {
      this.transfers.delete(id);
      const f = this.finishedBytes.get(t.type) ?? { done: 0, expected: 0 };
      // A stopped transfer is complete (its last progress record often stops just short of the end).
      f.done += Math.max(t.done, t.expected);
      f.expected += t.expected;
      this.finishedBytes.set(t.type, f);
    }
  }

  /** Decides how a stopped build ended, from the actBuilds counters or an earlier error message. */
  private settleBuild(b: BuildRecord): void {
    if (b.failed) return;
    if (this.pendingFailed > 0 && this.pendingDone === 0) {
      this.pendingFailed--;
      this.recordFailure(b, undefined);
    } else if (this.pendingDone > 0) {
      this.pendingDone--;
    } else if (this.pendingFailed > 0) {
      this.pendingFailed--;
      this.recordFailure(b, undefined);
    } else if (this.stoppedBuilds.length < this.maxListed) {
      this.stoppedBuilds.push({ drvPath: b.drvPath, name: b.name, ...(b.phase !== undefined ? { phase: b.phase } : {}) });
    } else {
      this.omitted.stopped++;
    }
  }

  private onResult(id: string, ev: Extract<LogEvent, { kind: 'result' }>): void {
    const type = this.open.get(id);
    if (type === undefined) return;
    const r = ev.result;
    switch (r.type) {
      case 'buildLogLine':
      case 'postBuildLogLine': {
        const b = this.builds.get(id);
        if (!b || this.logLines === 0) return;
        // Builders' bytes as they are: no control character is kept (a line of only those is dropped).
        const text = CONTROL.test(r.line) ? stripAnsi(r.line) : r.line;
        if (text === '' && r.line !== '') return;
        if (!text.includes('\n')) this.keepLine(b, text);
        else for (const line of text.split('\n')) this.keepLine(b, line);
        return;
      }
      case 'setPhase': {
        const b = this.builds.get(id);
        if (b) b.phase = truncate(r.phase, 200);
        return;
      }
      case 'progress': {
        const counts: Counts = { done: r.done, expected: r.expected, running: r.running, failed: r.failed };
        if (type === ActivityType.Builds) {
          const prev = this.buildCounts.get(id) ?? { done: 0, expected: 0, running: 0, failed: 0 };
          this.pendingDone += Math.max(0, counts.done - prev.done);
          let newlyFailed = Math.max(0, counts.failed - prev.failed);
          const credited = Math.min(newlyFailed, this.creditedFailed);
          this.creditedFailed -= credited;
          newlyFailed -= credited;
          this.pendingFailed += newlyFailed;
          // Only open builds can be the ones that just finished: stale counts must not linger.
          let open = 0;
          for (const b of this.builds.values()) if (!b.failed) open++;
          this.pendingFailed = Math.min(this.pendingFailed, open);
          this.pendingDone = Math.min(this.pendingDone, open - this.pendingFailed);
          this.buildCounts.set(id, counts);
        } else if (type === ActivityType.CopyPaths) {
          this.copyCounts.set(id, counts);
        } else {
          const t = this.transfers.get(id);
          if (t) {
            t.done = counts.done;
            t.expected = counts.expected;
          }
        }
        return;
      }
      case 'setExpected': {
        // Only the types the totals read are kept: any other number Nix (or garbage) sends would be a key more.
        if (!COUNTED_TYPES.has(r.activityType)) return;
        let m = this.expected.get(id);
        if (!m) this.expected.set(id, (m = new Map()));
        m.set(r.activityType, r.expected);
        return;
      }
    }
  }

  /** Adds a line to a build's log tail. */
  private keepLine(b: BuildRecord, line: string): void {
    b.log.push(line.length > this.maxLineLength ? truncate(line, this.maxLineLength) : line);
    if (b.log.length > this.logLines) b.log.shift();
  }

  private onMessage(msg: string, level: number | undefined, fromErrorInfo: boolean): void {
    if (!fromErrorInfo && (level === undefined || level <= 3) && this.planParser.feed(msg)) return;
    if (level !== undefined && level > 0) return;
    const text = stripAnsi(msg);
    if (!fromErrorInfo && !/^error:/.test(text)) return;
    this.errorCount++;
    if (/^(?:error: )?interrupted by the user/.test(text)) this.wasInterrupted = true;
    const failure = matchBuilderFailure(text);
    if (!failure) return;
    for (const b of this.builds.values()) {
      if (b.drvPath !== failure.drvPath || b.failed) continue;
      b.failed = true;
      if (this.pendingFailed > 0) this.pendingFailed--;
      else this.creditedFailed++;
    }
    const known = this.failedBuilds.get(failure.drvPath);
    if (known) {
      if (failure.exitCode !== undefined) known.exitCode = failure.exitCode;
      return;
    }
    const running = [...this.builds.values()].find((b) => b.drvPath === failure.drvPath);
    this.recordFailure(
      running ?? { id: '', drvPath: failure.drvPath, name: storePathName(failure.drvPath), log: [], failed: true },
      failure.exitCode,
    );
  }

  private recordFailure(b: BuildRecord, exitCode: number | undefined): void {
    const known = this.failedBuilds.get(b.drvPath);
    if (known) {
      if (exitCode !== undefined) known.exitCode = exitCode;
      return;
    }
    if (this.failedBuilds.size >= this.maxListed) {
      this.omitted.failed++;
      return;
    }
    const hint = explainBuildLog(b.log);
    this.failedBuilds.set(b.drvPath, {
      drvPath: b.drvPath,
      name: b.name,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(b.phase !== undefined ? { phase: b.phase } : {}),
      lastLines: hint ? [...b.log, hint] : [...b.log],
      ...(hint ? { hint } : {}),
    });
  }

  private expectedOf(activityType: number): number {
    let sum = this.stoppedExpected.get(activityType) ?? 0;
    for (const m of this.expected.values()) sum += m.get(activityType) ?? 0;
    return sum;
  }

  /** Bytes of file transfers when there are any (HTTP caches), else of path copies (e.g. file:// caches). */
  private bytes(): { bytesDone: number; bytesExpected: number } {
    const type = this.sawFileTransfer ? ActivityType.FileTransfer : ActivityType.CopyPath;
    const fin = this.finishedBytes.get(type) ?? { done: 0, expected: 0 };
    let done = fin.done;
    let expected = fin.expected;
    for (const t of this.transfers.values()) {
      if (t.type !== type) continue;
      done += t.done;
      expected += t.expected;
    }
    return { bytesDone: done, bytesExpected: Math.max(expected, this.expectedOf(type), done) };
  }
}

/** Moves the counts of a stopped activity into `into`. A stopped activity runs nothing. */
function foldCounts(open: Map<string, Counts>, id: string, into: Counts): void {
  const c = open.get(id);
  if (!c) return;
  open.delete(id);
  into.done += c.done;
  into.expected += c.expected;
  into.failed += c.failed;
}

function sumCounts(all: Iterable<Counts>): Counts {
  const s: Counts = { done: 0, expected: 0, running: 0, failed: 0 };
  for (const c of all) {
    s.done += c.done;
    s.expected += c.expected;
    s.running += c.running;
    s.failed += c.failed;
  }
  return s;
}

/** The one-line status of a snapshot: `2/5 built · hello (buildPhase) +1 · 1/3 downloads 1.2 MiB · 1 failed`. */
export function statusText(s: ProgressSnapshot): string {
  const parts: string[] = [];
  if (s.total > 0) parts.push(`${s.built}/${s.total} built`);
  const first = s.running[0];
  if (first !== undefined) {
    const more = s.running.length > 1 ? ` +${s.running.length - 1}` : '';
    parts.push(`${first.name}${first.phase ? ` (${first.phase})` : ''}${more}`);
  }
  if (s.downloads.expected > 0 || s.downloads.bytesExpected > 0) {
    const count = s.downloads.expected > 0 ? `${s.downloads.done}/${s.downloads.expected} downloads` : 'downloading';
    parts.push(`${count} ${formatBytes(s.downloads.bytesDone)}`);
  }
  if (s.failed.length > 0) parts.push(`${s.failed.length} failed`);
  if (s.interrupted) parts.push('interrupted');
  if (parts.length === 0 && s.plan) {
    const p = s.plan;
    const fetch =
      p.fetches.length > 0
        ? `${p.fetches.length} to fetch${p.downloadBytes !== undefined ? ` (${formatBytes(p.downloadBytes)})` : ''}`
        : '';
    parts.push([`${p.builds.length} to build`, fetch].filter(Boolean).join(', '));
  }
  return parts.join(' · ');
}
