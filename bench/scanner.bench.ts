// Benchmark of the Nix source scanner on a generated 20,000-line package set, against splitting the text into
// lines in the same process. Goal: `findDerivationCalls` (what the Build CodeLens needs) within 20 ms.
//   node scripts/build.mjs --tests --out out-source --only 'bench/(scanner|lib)' && node out-source/bench/scanner.bench.js
import { median, report } from './lib';
import { packageSet } from './nixgen';
import { findDerivationCalls, scanNix } from '../src/core/source';

const TARGET_LINES = 20_000;
const RUNS = 15;

const text = packageSet(TARGET_LINES);
const lineCount = text.split('\n').length;
const calls = findDerivationCalls(text).length;
console.log(`scanner bench: ${lineCount} lines, ${text.length} characters, ${calls} derivation calls`);

// Interleaved rounds, so that load from other processes (and the speed of the machine, which varies) hits every
// subject alike; the medians of the rounds.
const subjects: Record<string, () => unknown> = {
  baseline: () => text.split('\n'),
  scan: () => scanNix(text),
  lens: () => findDerivationCalls(text),
};
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, fn] of Object.entries(subjects)) (rounds[name] ??= []).push(median(fn, RUNS, 3));
}
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [baseline, scan, lens] = ['baseline', 'scan', 'lens'].map((n) => mid(rounds[n]));
report('scanner full scan (tokens + structure)', scan, baseline);
report('scanner findDerivationCalls (CodeLens ranges)', lens, baseline, `(goal ≤ 20 ms: ${lens <= 20 ? 'met' : 'MISSED'})`);
