// Runs every benchmark (bench/*.bench.ts), each in its own process, one after another. Each prints its results as
// `<name>: <figure> (goal <goal>) met|MISSED` and records them (bench/lib.ts `judge`); at the end a summary table.
// Exits non-zero when a goal is missed or a benchmark fails.
//   node scripts/bench.mjs [NAME…]   only the benchmarks whose file name contains one of the NAMEs (e.g. `lens`)
// The benchmarks are bundled here, into a private folder: `build.mjs --tests`, which other runs (tests) start at any
// time, empties out/, and would remove them mid-run.
import * as esbuild from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const only = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark in bench/ matches ${only.join(', ')}`);
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'nix-flakes-bench-'));
await esbuild.build({
  entryPoints: files.map((f) => join('bench', f)),
  outdir: tmp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'warning',
  external: ['vscode'],
  mainFields: ['module', 'main'],
});
const started = Date.now();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`load average before: ${load()}`);
const rows = [];
const failures = [];
for (const f of files) {
  const results = join(tmp, `${f}.jsonl`);
  const r = spawnSync(process.execPath, [join(tmp, f.replace(/\.ts$/, '.js'))], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULTS: results },
  });
  let verdicts = [];
  try {
    verdicts = readFileSync(results, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    // none recorded
  }
  rows.push(...verdicts);
  // A missed goal exits 1 and is in the table; anything else (a crash, no verdict at all) is a failure of its own.
  if (verdicts.length === 0 || (r.status !== 0 && !(r.status === 1 && verdicts.some((v) => !v.met)))) {
    failures.push(`${f}: ${r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}${verdicts.length ? '' : ', no result'}`);
  }
}
rmSync(tmp, { recursive: true, force: true });

const fmt = (v) => (v.unit === 'ms' ? `${v.figure.toFixed(1)} ms` : v.figure.toFixed(3));
const table = [
  ['benchmark', 'figure', 'goal', 'verdict'],
  ...rows.map((v) => [v.name, fmt(v), v.goal, `${v.met ? 'met' : 'MISSED'}${v.close ? ' (close: goal within the 95% CI)' : ''}`]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
console.log(`\nsummary (${((Date.now() - started) / 1000).toFixed(0)} s; load average after: ${load()}):`);
for (const [i, r] of table.entries()) {
  console.log(
    `  ${r
      .map((c, j) => c.padEnd(widths[j]))
      .join('  ')
      .trimEnd()}`,
  );
  if (i === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
}
for (const f of failures) console.log(`  FAILED ${f}`);
const missed = rows.filter((v) => !v.met).length;
console.log(`  ${rows.length - missed} met, ${missed} missed${failures.length ? `, ${failures.length} failed` : ''}`);
process.exit(missed || failures.length ? 1 : 0);
