// Benchmark of the Build CodeLens ranges (`lensRanges`, what `provideCodeLenses` calls) on a generated 20,000-line
// flake.nix, against splitting the text into lines in the same process. Goal: ≤ 20 ms from the text.
//   node scripts/build.mjs --tests --out out-lens --only 'bench/(lens|lib)' && node out-lens/bench/lens.bench.js
import { median, report } from './lib';
import { packageFlake } from './nixgen';
import { lensRanges } from '../src/core/lens';
import { findDerivationCalls, scanNix } from '../src/core/source';

const TARGET_LINES = 20_000;
const RUNS = 11;

const text = packageFlake(TARGET_LINES);
const lineCount = text.split('\n').length;
const plain = lensRanges(text);
const flake = lensRanges(text, { isFlakeNix: true });
console.log(
  `lens bench: ${lineCount} lines, ${text.length} characters, ${plain.length} lenses (${flake.length} as flake.nix, with package bindings)`,
);

// Interleaved rounds, so that load from other processes hits every subject alike; the medians of the rounds.
const src = scanNix(text);
const subjects: Record<string, () => unknown> = {
  baseline: () => text.split('\n'),
  ranges: () => lensRanges(text),
  flake: () => lensRanges(text, { isFlakeNix: true }),
  cached: () => lensRanges(src),
  scan: () => scanNix(text),
  calls: () => findDerivationCalls(text),
};
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, fn] of Object.entries(subjects)) (rounds[name] ??= []).push(median(fn, RUNS, 3));
}
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [baseline, ranges, flake2, cached, scan, calls] = ['baseline', 'ranges', 'flake', 'cached', 'scan', 'calls'].map((n) => mid(rounds[n]));
report('lens lensRanges (from the text)', ranges, baseline, `(goal ≤ 20 ms: ${ranges <= 20 ? 'met' : 'MISSED'})`);
// What the scanner costs by itself, for reference: most of the above is the scan.
report('lens   of which scanNix', scan, baseline);
report('lens   scanner floor: findDerivationCalls (from the text)', calls, baseline);
report('lens lensRanges (from the text, as flake.nix)', flake2, baseline);
report('lens lensRanges (from a cached scan)', cached, baseline);
