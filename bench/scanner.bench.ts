// Benchmark of the Nix source scanner on a generated 20,000-line package set, against splitting the text into
// lines in the same process. Goal: `findDerivationCalls` (what the Build CodeLens needs) within 20 ms.
//   node scripts/build.mjs --tests --out out-source --only 'bench/(scanner|lib)' && node out-source/bench/scanner.bench.js
import { median, report } from './lib';
import { packageSet } from './nixgen';
import { findDerivationCalls, scanNix } from '../src/core/source';

const TARGET_LINES = 20_000;

const text = packageSet(TARGET_LINES);
const lineCount = text.split('\n').length;
const calls = findDerivationCalls(text).length;
console.log(`scanner bench: ${lineCount} lines, ${text.length} characters, ${calls} derivation calls`);

const baseline = median(() => text.split('\n'), 15, 3);
const scan = median(() => scanNix(text), 15, 3);
const lens = median(() => findDerivationCalls(text), 15, 3);
report('scanner full scan (tokens + structure)', scan, baseline);
report('scanner findDerivationCalls (CodeLens ranges)', lens, baseline, `(goal ≤ 20 ms: ${lens <= 20 ? 'met' : 'MISSED'})`);
