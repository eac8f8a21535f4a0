// Runs every test layer and ends with one line: `N passed, N failed[, N skipped]`.
//   unit               plain Node (node --test) on the core, with real nix where a test needs it
//   harness            the in-host runner reports every kind of failure (failing suite, crash, bad entry, no test)
//   integration        the in-host suite in a real VS Code (code-server + Chromium), real nix
//   restricted         Workspace Trust on, folder not trusted: every command starts no process (in-host)
//   test-electron      the same suite through @vscode/test-electron's runTests and the shim executable
//   webview            the dry-build panel's UI in headless Chromium (no workbench), screenshots in test-results/webview
//   e2e                clicks in the real workbench, screenshots in test-results/screenshots
// The unit and integration layers run on every Nix of the matrix (scripts/nix-versions.sh: Debian's 2.8, 2.26 and
// the current release, side by side); test-electron and e2e on the newest. The summary names each layer's Nix.
// Usage: node scripts/test.mjs [--only unit,harness,integration,restricted,test-electron,webview,e2e] [--nix all|newest|system|SUITE,…|/path/to/nix]
//   --nix (or NIX_FLAKES_TEST_NIX_VERSIONS): which Nix; default all. `system`: the nix on PATH only.
import { spawn, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? new Set(argv[argv.indexOf('--only') + 1].split(',')) : undefined;

const nixChoice = argv.includes('--nix') ? argv[argv.indexOf('--nix') + 1] : process.env.NIX_FLAKES_TEST_NIX_VERSIONS || 'all';

function sh(cmd, args, { echo = true, env = process.env } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
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

/** The Nix versions to run on: [{ label: '2.8.0', path }], oldest first. */
function nixMatrix() {
  const version = (nix) => {
    const r = spawnSync(nix, ['--version'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim().split(/\s+/).pop() : undefined;
  };
  if (nixChoice === 'system' || nixChoice.includes('/')) {
    const path = nixChoice === 'system' ? 'nix' : nixChoice;
    const v = version(path);
    if (!v) {
      console.log(`no working nix at ${path}`);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
    return [{ label: v, path: nixChoice === 'system' ? undefined : path }];
  }
  const suites = nixChoice === 'all' || nixChoice === 'newest' ? [] : nixChoice.split(',');
  const r = spawnSync('bash', ['scripts/nix-versions.sh', ...suites], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const found = r.stdout
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length === 3)
    .map(([suite, label, path]) => ({ suite, label, path }));
  if (r.status !== 0 || found.length === 0) {
    console.log('\nthe Nix versions of the test matrix could not be installed (see above)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const order = (l) =>
    l
      .split('.')
      .map((n) => parseInt(n, 10) || 0)
      .reduce((a, n) => a * 1000 + n, 0);
  found.sort((a, b) => order(a.label) - order(b.label));
  return nixChoice === 'newest' ? found.slice(-1) : found;
}

/** The environment that points a layer at one nix: first on PATH for plain Node, and NIX_FLAKES_TEST_NIX for the
 * extension (the harness gives it to the extension as `nixFlakes.nixPath`). */
function envFor(nix) {
  if (!nix.path) return process.env;
  return { ...process.env, NIX_FLAKES_TEST_NIX: nix.path, PATH: `${dirname(nix.path)}:${process.env.PATH}` };
}

const matrix = nixMatrix();
const newest = matrix[matrix.length - 1];
const layer = (name, args, counts, nix) => ({ name, cmd: process.execPath, args, counts, nix });
const layers = [
  ...matrix.map((n) => layer('unit', ['--test', '--test-reporter=spec', '--test-concurrency=2', 'out/test/unit/'], countsFromNodeTest, n)),
  layer('harness', ['out/test/harness/selftest.js'], countsFromClosingLine, newest),
  ...matrix.map((n) => layer('integration', ['out/test/harness/integration.js'], countsFromClosingLine, n)),
  layer('restricted', ['out/test/harness/restricted.js'], countsFromClosingLine, newest),
  layer('test-electron', ['out/test/harness/test-electron.js'], countsFromClosingLine, newest),
  layer('webview', ['out/test/webview/preview.js'], countsFromClosingLine, newest),
  layer('e2e', ['out/test/e2e/run.js'], countsFromClosingLine, newest),
];
console.log(`Nix versions: ${matrix.map((n) => `${n.label}${n.path ? ` (${n.path})` : ' (PATH)'}`).join(', ')}`);

const t0 = Date.now();
const total = { passed: 0, failed: 0, skipped: 0 };
const summary = [];

for (const step of [
  ['typecheck', 'npm', ['run', '--silent', 'typecheck']],
  // ESLint (the layering rules among them) and Prettier's check, before any test.
  ['lint', 'npm', ['run', '--silent', 'lint']],
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
  console.log(`\n=== ${layer.name} on Nix ${layer.nix.label}`);
  const r = await sh(layer.cmd, layer.args, { env: envFor(layer.nix) });
  const c = layer.counts(r.out) ?? { passed: 0, failed: 0, skipped: 0 };
  // A layer that exits non-zero without a failure counted still failed (a crash, a harness error).
  if (r.code !== 0 && c.failed === 0) c.failed = 1;
  if (r.code === 0 && c.passed === 0) c.failed += 1;
  for (const k of Object.keys(total)) total[k] += c[k];
  summary.push(
    `${layer.name} (Nix ${layer.nix.label}): ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
}

console.log(`\n${summary.join('\n')}\ntotal time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed ? 1 : 0);
