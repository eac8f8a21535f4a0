// Runs every test layer and ends with one line: `N passed, N failed[, N skipped]`.
//   unit               plain Node (node --test) on the core, with real nix where a test needs it
//   harness            the in-host runner reports every kind of failure (failing suite, crash, bad entry, no test)
//   integration        the in-host suite in a real VS Code (code-server + Chromium), real nix
//   test-electron      the same suite through @vscode/test-electron's runTests and the shim executable
//   e2e                clicks in the real workbench, screenshots in test-results/screenshots
// Usage: node scripts/test.mjs [--only unit,harness,integration,test-electron,e2e]
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? new Set(argv[argv.indexOf('--only') + 1].split(',')) : undefined;

function sh(cmd, args, { echo = true } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (stream) => (d) => {
      out += d;
      if (echo) stream.write(d);
    };
    p.stdout.on('data', take(process.stdout));
    p.stderr.on('data', take(process.stderr));
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

function countsFromClosingLine(out) {
  const m = [...out.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)].pop();
  return m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : undefined;
}

function countsFromNodeTest(out) {
  const n = (k) => +([...out.matchAll(new RegExp(`^ℹ ${k} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
  return { passed: n('pass'), failed: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo') };
}

const layers = [
  { name: 'unit', cmd: process.execPath, args: ['--test', '--test-reporter=spec', '--test-concurrency=2', 'out/test/unit/'], counts: countsFromNodeTest },
  { name: 'harness', cmd: process.execPath, args: ['out/test/harness/selftest.js'], counts: countsFromClosingLine },
  { name: 'integration', cmd: process.execPath, args: ['out/test/harness/integration.js'], counts: countsFromClosingLine },
  { name: 'test-electron', cmd: process.execPath, args: ['out/test/harness/test-electron.js'], counts: countsFromClosingLine },
  { name: 'e2e', cmd: process.execPath, args: ['out/test/e2e/run.js'], counts: countsFromClosingLine },
];

const t0 = Date.now();
const total = { passed: 0, failed: 0, skipped: 0 };
const summary = [];

for (const step of [
  ['typecheck', 'npm', ['run', '--silent', 'typecheck']],
  ['build', process.execPath, ['scripts/build.mjs', '--tests']],
  // The VSIX: the UI tests install it, as a user would.
  ['package', 'npm', ['run', '--silent', 'package']],
]) {
  const r = await sh(step[1], step[2]);
  if (r.code !== 0) {
    console.log(`\n${step[0]} failed`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

for (const layer of layers) {
  if (only && !only.has(layer.name)) continue;
  const started = Date.now();
  console.log(`\n=== ${layer.name}`);
  const r = await sh(layer.cmd, layer.args);
  const c = layer.counts(r.out) ?? { passed: 0, failed: 0, skipped: 0 };
  // A layer that exits non-zero without a failure counted still failed (a crash, a harness error).
  if (r.code !== 0 && c.failed === 0) c.failed = 1;
  if (r.code === 0 && c.passed === 0) c.failed += 1;
  for (const k of Object.keys(total)) total[k] += c[k];
  summary.push(`${layer.name}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

console.log(`\n${summary.join('\n')}\ntotal time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed ? 1 : 0);
