// UI end-to-end: Diff with HEAD on a package of rendered Kubernetes manifests, the way a user does it: a value changed
// in the working tree (not committed), right-click the package in the Outputs tree, Diff with HEAD; the diff editor
// opens on exactly the resource that changed (the Deployment), with the new value on the right.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture } from '../support/nix';
import { contextMenuItem, openNixView, openWorkbench, treeRow, waitUntil } from './workbench';

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export const resultsScenarios = [
  {
    name: 'Build results: right-click a manifests package, Diff with HEAD, the changed resource in the diff editor',
    async run(): Promise<void> {
      const folder = copyFixture('results');
      const values = join(folder, 'values.nix');
      writeFileSync(values, readFileSync(values, 'utf8').replace('replicas = 2;', 'replicas = 3;'));
      const wb = await openWorkbench({ target: folder });
      const page = wb.page;
      try {
        await openNixView(page);
        const row = treeRow(page, 'manifests', { exact: true });
        await row.waitFor({ timeout: 60_000 });
        const item = await contextMenuItem(page, row, ['Diff with HEAD']);
        await wb.shot('results-context-menu');
        await item.click();
        const tab = page.locator('.tabs-container .tab', { hasText: 'Deployment shop/app' });
        await tab.waitFor({ timeout: 90_000 });
        await wb.shot('results-diff-opened');
        const modified = page.locator('.monaco-diff-editor .editor.modified .view-lines').first();
        await waitUntil(
          page,
          'the new value on the right',
          async () => /replicas:\s3/.test((await modified.innerText().catch(() => '')) ?? ''),
          30_000,
        ).catch(async (e: unknown) => {
          const html = await page
            .locator('.monaco-diff-editor')
            .first()
            .evaluate((el) => el.className)
            .catch(() => 'no diff editor');
          throw new Error(`${(e as Error).message}; diff editor: ${html}; modified text: ${await modified.innerText().catch(() => '?')}`);
        });
        const original = page.locator('.monaco-diff-editor .editor.original .view-lines').first();
        assert(/replicas:\s2/.test(await original.innerText()), 'the committed value on the left');
        await page.locator('.monaco-diff-editor .line-insert, .monaco-diff-editor .char-insert').first().waitFor({ timeout: 10_000 });
        const calls = wb.nixCalls().filter((c) => /\bbuild\b/.test(c));
        assert(
          calls.some((c) => /\?rev=[0-9a-f]{40}#/.test(c)) && calls.every((c) => c.includes('--no-write-lock-file')),
          `the two builds: ${calls.join(' | ')}`,
        );
        await wb.shot('results-diff-with-head');
      } finally {
        await wb.close();
      }
    },
  },
];
