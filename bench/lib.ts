// Shared helpers for benchmarks. Every benchmark measures its subject and a baseline interleaved in the same process
// (A B, B A, A B, …) and takes the median of the per-pair ratios, so that the machine getting slower or faster while
// it runs (other processes, frequency scaling) moves both sides of a pair alike and not the figure. Each benchmark
// then states its goal and judges itself: `<name>: <figure> (goal <goal>) met|MISSED`.
// A goal in milliseconds is judged on the subject's median time, which no method can shield from a machine that is
// slower as a whole; its ratio to the baseline, printed beside it, is the figure to compare between runs.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface PairOptions {
  /**
   * `wall`: elapsed time (for subjects that wait on child processes). `cpu`: the CPU time of this process
   * (process.cpuUsage, all its threads), which does not count the time other processes held the CPU: for code that
   * runs synchronously in this process. Default `wall`.
   */
  clock?: 'wall' | 'cpu';
  /** Pairs run and thrown away first (JIT, caches, the eval cache). Default 3. */
  warmup?: number;
  /** At least this many measured pairs. Default 15. */
  minPairs?: number;
  /** At most this many measured pairs. Default 61. */
  maxPairs?: number;
  /**
   * Stop once the 95% confidence interval of the median ratio lies within ± this fraction of it (after `minPairs`).
   * Default 0.02.
   */
  tolerance?: number;
  /** Stop adding pairs after this many milliseconds of measuring (after `minPairs`). Default 20,000. */
  budgetMs?: number;
  /**
   * Awaited after each run of the subject, untimed: work the subject leaves running in the background (a cache
   * written after the result is in use), finished before the next run so that it slows neither side.
   */
  afterSubject?: () => unknown;
}

export interface Paired {
  /** The clock the times were taken with. */
  readonly clock: 'wall' | 'cpu';
  /** Measured pairs. */
  readonly pairs: number;
  /** Median of the per-pair ratios subject / baseline. */
  readonly ratio: number;
  /** 95% confidence interval of that median (order statistics: no assumption about the distribution). */
  readonly ratioLow: number;
  readonly ratioHigh: number;
  /** Median time of the subject, and of the baseline, in milliseconds. */
  readonly subjectMs: number;
  readonly baselineMs: number;
  /** 95% confidence interval of the subject's median time. */
  readonly subjectLow: number;
  readonly subjectHigh: number;
}

type Fn = () => unknown;

async function time(fn: Fn, clock: 'wall' | 'cpu'): Promise<number> {
  if (clock === 'cpu') {
    const c0 = process.cpuUsage();
    if (fn() instanceof Promise) throw new Error('the cpu clock is for code that runs synchronously in this process');
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  }
  const t0 = performance.now();
  const r = fn();
  if (r instanceof Promise) await r;
  return performance.now() - t0;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The 95% confidence interval of the median of `xs`, from order statistics (n/2 ± 0.98·√n). */
export function medianInterval(xs: readonly number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const half = 0.98 * Math.sqrt(n);
  const lo = Math.max(0, Math.floor(n / 2 - half));
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  return [s[lo], s[hi]];
}

/**
 * Runs `subject` and `baseline` in pairs, alternating which goes first (so neither always pays for the other's
 * garbage), until the median ratio is known well enough or the budget is spent.
 */
export async function interleave(subject: Fn, baseline: Fn, opts: PairOptions = {}): Promise<Paired> {
  const warmup = opts.warmup ?? 3;
  const minPairs = opts.minPairs ?? 15;
  const maxPairs = Math.max(minPairs, opts.maxPairs ?? 61);
  const tolerance = opts.tolerance ?? 0.02;
  const budgetMs = opts.budgetMs ?? 20_000;
  const clock = opts.clock ?? 'wall';
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  let started = performance.now();
  for (let i = 0; i < warmup + maxPairs; i++) {
    let ta: number;
    let tb: number;
    if (i % 2 === 0) {
      ta = await time(subject, clock);
      await opts.afterSubject?.();
      tb = await time(baseline, clock);
    } else {
      tb = await time(baseline, clock);
      ta = await time(subject, clock);
      await opts.afterSubject?.();
    }
    if (i < warmup) {
      if (i === warmup - 1) started = performance.now();
      continue;
    }
    a.push(ta);
    b.push(tb);
    ratios.push(ta / tb);
    if (ratios.length < minPairs) continue;
    const m = median(ratios);
    const [lo, hi] = medianInterval(ratios);
    if ((hi - m) / m <= tolerance && (m - lo) / m <= tolerance) break;
    if (performance.now() - started > budgetMs) break;
  }
  const [ratioLow, ratioHigh] = medianInterval(ratios);
  const [subjectLow, subjectHigh] = medianInterval(a);
  return {
    clock,
    pairs: ratios.length,
    ratio: median(ratios),
    ratioLow,
    ratioHigh,
    subjectMs: median(a),
    baselineMs: median(b),
    subjectLow,
    subjectHigh,
  };
}

/** A goal: the figure must be at most (`≤`) or below (`<`) `bound`. */
export interface Goal {
  readonly bound: number;
  readonly strict?: boolean;
  /** `ms` for times; a ratio has no unit. */
  readonly unit?: 'ms';
  /** Said after the goal, e.g. `≥ 0.8× the throughput of JSON.parse`. */
  readonly note?: string;
}

/** A time to a tenth of a millisecond; a ratio to three decimals, so that the printed figure shows why it missed. */
export function formatFigure(x: number, unit?: 'ms'): string {
  return unit === 'ms' ? `${x.toFixed(1)} ms` : x.toFixed(3);
}

export function formatGoal(goal: Goal): string {
  return `${goal.strict ? '<' : '≤'} ${goal.bound}${goal.unit === 'ms' ? ' ms' : ''}${goal.note ? `, ${goal.note}` : ''}`;
}

/** One judged result, as the runner (scripts/bench.mjs) collects it. */
export interface Verdict {
  readonly name: string;
  readonly figure: number;
  readonly unit?: 'ms';
  readonly goal: string;
  readonly met: boolean;
  /** The goal lies within the figure's 95% confidence interval. */
  readonly close?: boolean;
}

/**
 * Judges a figure against its goal and prints `<name>: <figure> (goal <goal>) met|MISSED`, then the detail lines
 * indented. Given the figure's 95% confidence interval, says when the goal lies inside it (the verdict may then
 * differ from one run to the next). The verdict is also appended (one JSON object a line) to the file named by
 * `BENCH_RESULTS`, for the summary of `npm run bench`.
 */
export function judge(
  name: string,
  figure: number,
  goal: Goal,
  details: readonly string[] = [],
  interval?: readonly [number, number],
): boolean {
  const met = goal.strict ? figure < goal.bound : figure <= goal.bound;
  const close = interval !== undefined && interval[0] <= goal.bound && goal.bound <= interval[1];
  const verdict: Verdict = {
    name,
    figure,
    ...(goal.unit ? { unit: goal.unit } : {}),
    goal: formatGoal(goal),
    met,
    ...(close ? { close } : {}),
  };
  console.log(`${name}: ${formatFigure(figure, goal.unit)} (goal ${verdict.goal}) ${met ? 'met' : 'MISSED'}`);
  for (const d of details) console.log(`    ${d}`);
  if (close)
    console.log(
      `    the goal lies within the 95% confidence interval (${formatFigure(interval[0], goal.unit)}–${formatFigure(interval[1], goal.unit)}): another run may judge otherwise`,
    );
  if (process.env.BENCH_RESULTS) appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify(verdict)}\n`);
  if (!met && !process.exitCode) process.exitCode = 1;
  return met;
}

/** The detail line of an interleaved measurement. */
export function pairedDetail(p: Paired, subject: string, baseline: string): string {
  return (
    `${subject} ${p.subjectMs.toFixed(2)} ms, ${baseline} ${p.baselineMs.toFixed(2)} ms (medians, ${p.clock === 'cpu' ? 'CPU time' : 'elapsed time'}); ` +
    `ratio ${p.ratio.toFixed(3)} (95% CI ${p.ratioLow.toFixed(3)}–${p.ratioHigh.toFixed(3)}, ${p.pairs} interleaved pairs)`
  );
}

/**
 * The bare baseline of a process: spawned in a session of its own, as run() starts every program (with autogroup
 * scheduling a new session is a scheduling group of its own, which alone moves a ratio under load: both sides pay
 * for it alike), stdout collected, stderr read and dropped. Rejects on a non-zero exit.
 */
export function bareRun(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.resume();
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out).toString('utf8')) : reject(new Error(`${file} exited with ${code}`)),
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a benchmark's main function; a crash is reported and fails the run. */
export function main(fn: () => Promise<void> | void): void {
  Promise.resolve()
    .then(fn)
    .catch((e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 2;
    });
}
