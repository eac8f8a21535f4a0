// The harness reports a passing suite as passed, with its counts, and never reports success for a run that did not
// pass: a failing suite, an extension host that exits, a tests entry that throws, a suite that ran nothing and one
// that never ends all give a non-zero exit code.
import { join } from 'node:path';
import { runTests } from './runner';
import { copyFixture, repoRoot } from '../support/nix';

interface Case {
  entry: string;
  exitCode: number;
  counts?: { passed: number; failed: number; skipped: number };
  timeoutSeconds?: number;
}

const CASES: Case[] = [
  { entry: 'passing-entry.js', exitCode: 0, counts: { passed: 2, failed: 0, skipped: 1 } },
  { entry: 'failing-entry.js', exitCode: 1, counts: { passed: 1, failed: 1, skipped: 0 } },
  { entry: 'exit-entry.js', exitCode: 1 },
  { entry: 'throwing-entry.js', exitCode: 1 },
  { entry: 'empty-entry.js', exitCode: 1 },
  { entry: 'hanging-entry.js', exitCode: 2, timeoutSeconds: 20 },
];

async function main() {
  const root = repoRoot();
  const ws = copyFixture('basic');
  let passed = 0;
  let failed = 0;
  for (const c of CASES) {
    const lines: string[] = [];
    const r = await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'test', 'fixtures', 'harness', c.entry),
      workspace: ws,
      timeoutSeconds: c.timeoutSeconds ?? 60,
      keep: false,
      out: (l) => lines.push(l),
    });
    const counts = { passed: r.passed, failed: r.failed, skipped: r.skipped };
    const ok = r.exitCode === c.exitCode && (!c.counts || JSON.stringify(counts) === JSON.stringify(c.counts));
    if (ok) passed++;
    else failed++;
    const want = `exit code ${c.exitCode}${c.counts ? `, ${JSON.stringify(c.counts)}` : ''}`;
    console.log(
      `  ${ok ? '✔' : '✖'} ${c.entry}: exit code ${r.exitCode}, ${JSON.stringify(counts)} (expected ${want})${ok ? '' : `\n${lines.join('\n')}`}`,
    );
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

void main();
