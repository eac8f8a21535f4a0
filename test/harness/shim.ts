// The shim behind test/harness/bin/code. Accepts what @vscode/test-electron passes to VS Code
// (--extensionDevelopmentPath=…, --extensionTestsPath=…, --user-data-dir=…, --extensions-dir=…, a workspace path,
// Electron-only flags) and runs the tests in code-server. Exit code: 0 pass, 1 failures, 2 harness error.
import { runTests } from './runner';

const IGNORED = new Set([
  'no-sandbox',
  'disable-updates',
  'skip-welcome',
  'skip-release-notes',
  'disable-workspace-trust',
  'disable-gpu',
  'disable-gpu-sandbox',
  'disable-chromium-sandbox',
  'use-inmemory-secretstorage',
  'new-window',
  'user-data-dir',
  'extensions-dir',
  'crash-reporter-directory',
  'logsPath',
  'locale',
  'no-cached-data',
]);

async function main() {
  let ext: string | undefined;
  let tests: string | undefined;
  let workspace: string | undefined;
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      workspace ??= a;
      continue;
    }
    const [k, inline] = a.slice(2).split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    if (k === 'extensionDevelopmentPath') ext = value();
    else if (k === 'extensionTestsPath') tests = value();
    else if (k === 'folder-uri' || k === 'file-uri') workspace = new URL(value()).pathname;
    else if (k === 'disable-extensions')
      process.stderr.write('[shim] --disable-extensions is ignored: code-server loads its built-in extensions\n');
    else if (IGNORED.has(k)) {
      if (
        inline === undefined &&
        (k === 'user-data-dir' || k === 'extensions-dir' || k === 'crash-reporter-directory' || k === 'logsPath' || k === 'locale')
      )
        i++;
    } else process.stderr.write(`[shim] ignoring ${a}\n`);
  }
  if (!ext || !tests || !workspace) {
    process.stderr.write('[shim] needs --extensionDevelopmentPath, --extensionTestsPath and a workspace\n');
    process.exit(2);
  }
  const r = await runTests({ extensionDevelopmentPath: ext, extensionTestsPath: tests, workspace, env: process.env });
  console.log(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  process.exit(r.exitCode);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
