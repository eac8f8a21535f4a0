// The Nix source scanner on a generated 20,000-line package set (a nixpkgs-style file, not a flake.nix), measured
// interleaved with splitting the text into lines. Goal: `findDerivationCalls` (what the Build CodeLens needs in a
// .nix file other than flake.nix) < 20 ms.
import { interleave, judge, main, pairedDetail } from './lib';
import { packageSet } from './nixgen';
import { findDerivationCalls, scanNix } from '../src/core/source';

const TARGET_LINES = 20_000;

main(async () => {
  const text = packageSet(TARGET_LINES);
  const lineCount = text.split('\n').length;
  console.log(`scanner bench: ${lineCount} lines, ${text.length} characters, ${findDerivationCalls(text).length} derivation calls`);
  const split = () => text.split('\n');
  const calls = await interleave(() => findDerivationCalls(text), split, {
    clock: 'cpu',
    warmup: 10,
    minPairs: 61,
    maxPairs: 301,
    tolerance: 0.01,
    budgetMs: 8_000,
  });
  judge(
    'scanner-calls',
    calls.subjectMs,
    { bound: 20, strict: true, unit: 'ms' },
    ['findDerivationCalls from the text of a 20,000-line package set', pairedDetail(calls, 'findDerivationCalls', 'text.split')],
    [calls.subjectLow, calls.subjectHigh],
  );
  const scan = await interleave(() => scanNix(text), split, {
    clock: 'cpu',
    warmup: 5,
    minPairs: 31,
    maxPairs: 301,
    tolerance: 0.01,
    budgetMs: 4_000,
  });
  console.log(
    `    of which the full scan (tokens + structure): ${scan.subjectMs.toFixed(1)} ms (ratio ${scan.ratio.toFixed(1)} to text.split)`,
  );
});
