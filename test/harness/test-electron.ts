// The in-host suite through @vscode/test-electron's runTests, as an extension's existing test setup would run it,
// with the shim test/harness/bin/code as the VS Code executable.
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
      extensionTestsEnv: ws.env,
    });
  } catch (e) {
    console.error(`runTests failed: ${(e as Error).message ?? e}`);
    process.exit(1);
  }
}

void main();
