// `node out/test/harness/restricted.js`: the Restricted Mode suite in a real VS Code with Workspace Trust on and the
// fixture workspace not trusted. The fixture repository's git runs a marker program as its core.fsmonitor, so a
// git process the extension started would leave a file behind. Prints `N passed, N failed`.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runTests } from './runner';
import { prepareWorkspace } from './workspace';
import { repoRoot } from '../support/nix';

async function main() {
  const root = repoRoot();
  const ws = prepareWorkspace(['hello']);
  const hello = ws.fixtures.hello;
  execFileSync('git', ['config', 'core.fsmonitor', `echo ran >> '${join(hello, '.fsmonitor-ran')}'; false`], { cwd: hello });
  const r = await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'integration', 'restricted', 'index.js'),
    workspace: ws.workspaceFile,
    env: ws.env,
    trust: true,
    screenshot: join(root, 'test-results', 'restricted-end.png'),
  });
  console.log(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  process.exit(r.exitCode);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
