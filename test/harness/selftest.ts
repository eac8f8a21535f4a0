// The harness must never report success for a run that did not pass: a failing suite, an extension host that exits,
// a tests entry that throws, and a suite that ran nothing all give a non-zero exit code.
import { join } from 'node:path';
import { runTests } from './runner';
import { copyFixture, repoRoot } from '../support/nix';

const CASES: [entry: string, expected: number][] = [
  ['failing-entry.js', 1],
  ['exit-entry.js', 1],
  ['throwing-entry.js', 1],
  ['empty-entry.js', 1],
];

async function main() {
  const root = repoRoot();
  const ws = copyFixture('basic');
  let passed = 0;
  let failed = 0;
  for (const [entry, expected] of CASES) {
    const lines: string[] = [];
    const r = await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'test', 'fixtures', 'harness', entry),
      workspace: ws,
      timeoutSeconds: 60,
      keep: false,
      out: (l) => lines.push(l),
    });
    const ok = r.exitCode === expected;
    ok ? passed++ : failed++;
    console.log(`  ${ok ? '✔' : '✖'} ${entry}: exit code ${r.exitCode} (expected ${expected})${ok ? '' : `\n${lines.join('\n')}`}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

void main();
