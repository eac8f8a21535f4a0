// UI end-to-end tests: each scenario opens the real workbench with the packaged extension and clicks through it.
// Prints `N passed, N failed`. Screenshots go to test-results/screenshots.
import { copyFixture } from '../support/nix';
import { openNixView, openWorkbench } from './workbench';

interface Scenario {
  name: string;
  run(): Promise<void>;
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

const scenarios: Scenario[] = [
  {
    name: 'Restricted Mode: the view says why nothing is evaluated, and no nix process runs',
    async run() {
      const folder = copyFixture('basic');
      const wb = await openWorkbench({ target: folder, trust: true });
      try {
        await openNixView(wb.page);
        const welcome = wb.page.locator('.sidebar .welcome-view-content', { hasText: 'Restricted Mode' });
        await welcome.waitFor({ timeout: 30_000 });
        const text = await welcome.innerText();
        assert(/nothing in this folder is evaluated/.test(text), `welcome text: ${text}`);
        assert(await wb.page.locator('.sidebar .welcome-view-content a:has-text("Manage Workspace Trust")').isVisible(), 'a way out is offered');
        // Give the (activated) extension time to do anything it would do.
        await wb.page.waitForTimeout(3000);
        await wb.shot('restricted-mode');
        const calls = wb.nixCalls();
        assert(calls.length === 0, `nix ran in Restricted Mode: ${calls.join(' | ')}`);
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Trusted flake: the Nix view lists the flake',
    async run() {
      const folder = copyFixture('basic');
      const wb = await openWorkbench({ target: folder });
      try {
        await openNixView(wb.page);
        const row = wb.page.locator('.sidebar .monaco-list-row', { hasText: 'basic' }).first();
        await row.waitFor({ timeout: 30_000 });
        await wb.shot('outputs-view');
        assert(wb.nixCalls().some((c) => c.includes('--version')), 'nix was detected');
      } finally {
        await wb.close();
      }
    },
  },
];

async function main() {
  const filter = process.argv[2] ? new RegExp(process.argv[2], 'i') : undefined;
  let passed = 0;
  let failed = 0;
  for (const s of scenarios) {
    if (filter && !filter.test(s.name)) continue;
    const t0 = Date.now();
    try {
      await s.run();
      passed++;
      console.log(`  ✔ ${s.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`  ✖ ${s.name}\n    ${((e as Error).stack ?? String(e)).split('\n').join('\n    ')}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

void main();
