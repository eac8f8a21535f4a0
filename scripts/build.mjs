// Builds every bundle with esbuild.
//   node scripts/build.mjs               extension + webview (development)
//   node scripts/build.mjs --production  minified, no source maps (what the VSIX holds)
//   node scripts/build.mjs --tests       also unit tests, in-host suite, harness, benchmarks
//   node scripts/build.mjs --watch       rebuild on change
import * as esbuild from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const tests = args.has('--tests');
const watch = args.has('--watch');
// --out DIR puts the test bundles elsewhere (default out/), so that separate builds do not clobber each other.
const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const outDir = outIdx >= 0 ? argv[outIdx + 1] : 'out';
// --only REGEX builds only the test/bench entries whose path matches.
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? new RegExp(argv[onlyIdx + 1]) : undefined;

function files(dir, re) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, re));
    else if (re.test(name)) out.push(p);
  }
  return out;
}

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  external: ['vscode'],
  // Prefer ES module builds: some packages' "main" is a UMD bundle whose dynamic require()s esbuild cannot follow.
  mainFields: ['module', 'main'],
};

const builds = [
  { ...node, entryPoints: { extension: 'src/extension.ts', 'deploy-terminal': 'src/features/deploy/terminalChild.ts' }, outdir: 'dist' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    // The dry-build panel and the Deploy view: one bundle (and stylesheet) each.
    entryPoints: { webview: 'webview/main.ts', deploy: 'webview/deploy/main.ts' },
    outdir: 'dist',
  },
];

// --no-webview: only the extension bundle (and tests).
if (args.has('--no-webview')) builds.splice(1, 1);

if (tests) {
  rmSync(outDir, { recursive: true, force: true });
  const entry = (f) => [relative('.', f).replace(/\.ts$/, ''), f];
  const keep = ([, f]) => !only || only.test(f);
  builds.push({
    ...node,
    sourcemap: 'inline',
    entryPoints: Object.fromEntries(
      [
        ...files('test/unit', /\.test\.ts$/).map(entry),
        ...files('test/integration', /\.ts$/).map(entry),
        ...files('test/e2e', /\.ts$/).map(entry),
        ...files('test/webview', /\.ts$/).map(entry),
        ...files('test/harness', /\.ts$/).map(entry),
        ...files('bench', /\.ts$/).map(entry),
      ].filter(keep),
    ),
    outdir: outDir,
    // Loaded from node_modules at run time: mocha by the in-host suite, playwright-core by the harness.
    external: ['vscode', 'mocha', 'playwright-core', '@vscode/test-electron'],
  });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
