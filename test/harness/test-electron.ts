// The in-host suite through @vscode/test-electron's runTests, as an extension's existing test setup would run it,
// with the shim test/harness/bin/code as the VS Code executable. What this layer proves is the shim: that runTests
// starts the real host, runs a suite in it and reports its outcome. The whole suite runs in the integration layer
// on every Nix version; here a part of it does (NIX_FLAKES_TEST_ELECTRON_GREP, by default activation and the
// Outputs view; `.` for all).
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { prepareWorkspace } from './workspace';
import { repoRoot } from '../support/nix';

async function main() {
  const root = repoRoot();
  const ws = prepareWorkspace();
  try {
    await runTests({
      vscodeExecutablePath: join(root, 'test', 'harness', 'bin', 'code'),
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out', 'test', 'integration', 'index.js'),
      launchArgs: [ws.workspaceFile],
      extensionTestsEnv: { ...ws.env, NIX_FLAKES_TEST_GREP: process.env.NIX_FLAKES_TEST_ELECTRON_GREP ?? '^(activation|Flake Outputs) ' },
    });
  } catch (e) {
    console.error(`runTests failed: ${(e as Error).message ?? e}`);
    process.exit(1);
  }
}

void main();
