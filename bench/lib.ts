// Shared helpers for benchmarks. A benchmark always compares against a baseline measured in the same process.
import { performance } from 'node:perf_hooks';

/** Runs fn `runs` times after `warmup` runs and returns the median time in milliseconds. */
export function median(fn: () => unknown, runs = 7, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Async variant of median(). */
export async function medianAsync(fn: () => Promise<unknown>, runs = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Prints one result line: `bench NAME: subject X ms, baseline Y ms, ratio R (goal …)`. */
export function report(name: string, subjectMs: number, baselineMs: number, extra = ''): void {
  const ratio = subjectMs / baselineMs;
  console.log(
    `bench ${name}: ${subjectMs.toFixed(2)} ms vs baseline ${baselineMs.toFixed(2)} ms, ratio ${ratio.toFixed(2)}${extra ? ` ${extra}` : ''}`,
  );
}
