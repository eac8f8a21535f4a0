// CLI: node out/test/harness/run-vscode-tests.js <extensionDir> <testsEntry> <workspace> [options]
//   or with --extensionDevelopmentPath / --extensionTestsPath / --workspace.
// Options: --timeout SECONDS, --screenshot FILE, --env KEY=VAL (repeatable), --verbose, --keep.
// Prints the suite's output, then `N passed, N failed[, N skipped]`. Exit code: 0 pass, 1 failures, 2 harness error.
import { runTests } from './runner';

function parse(argv: string[]) {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  const env: NodeJS.ProcessEnv = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [k, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (k === 'verbose' || k === 'keep') {
      flags.add(k);
      continue;
    }
    const v = inline ?? argv[++i];
    if (k === 'env') {
      const [ek, ev] = v.split(/=(.*)/s, 2);
      env[ek] = ev ?? '';
    } else named[k] = v;
  }
  return { positional, named, env, flags };
}

async function main() {
  const { positional, named, env, flags } = parse(process.argv.slice(2));
  const ext = named.extensionDevelopmentPath ?? positional[0];
  const tests = named.extensionTestsPath ?? positional[1];
  const ws = named.workspace ?? positional[2];
  if (!ext || !tests || !ws) {
    console.error(
      'usage: run-vscode-tests <extensionDir> <testsEntry> <workspace> [--timeout S] [--screenshot F] [--env K=V] [--verbose] [--keep]',
    );
    process.exit(2);
  }
  const r = await runTests({
    extensionDevelopmentPath: ext,
    extensionTestsPath: tests,
    workspace: ws,
    timeoutSeconds: named.timeout ? Number(named.timeout) : undefined,
    screenshot: named.screenshot,
    env,
    verbose: flags.has('verbose'),
    keep: flags.has('keep'),
  });
  console.log(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  process.exit(r.exitCode);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
