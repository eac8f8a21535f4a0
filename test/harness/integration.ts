// `node out/test/harness/integration.js [--verbose] [--grep RE]`: runs the in-host suite in a real VS Code on the
// prepared fixture workspace. Prints the suite's output and `N passed, N failed[, N skipped]`.
import { join } from 'node:path';
import { runTests } from './runner';
import { prepareWorkspace } from './workspace';
import { repoRoot } from '../support/nix';

async function main() {
  const argv = process.argv.slice(2);
  const root = repoRoot();
  const ws = prepareWorkspace();
  const grep = argv.includes('--grep') ? argv[argv.indexOf('--grep') + 1] : undefined;
  const r = await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'integration', 'index.js'),
    workspace: ws.workspaceFile,
    env: { ...ws.env, ...(grep ? { NIX_FLAKES_TEST_GREP: grep } : {}) },
    verbose: argv.includes('--verbose'),
    keep: argv.includes('--keep'),
    screenshot: join(root, 'test-results', 'integration-end.png'),
  });
  console.log(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  process.exit(r.exitCode);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
