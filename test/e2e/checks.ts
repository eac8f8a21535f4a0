// UI end-to-end: the flake's checks in the Testing view. The user opens the Testing view, runs every test, and sees
// the failing check with its message at the check in flake.nix.
import { copyFixture } from '../support/nix';
import { openWorkbench, runCommand } from './workbench';

export const checksScenarios = [
  {
    name: 'Testing view: the flake checks run, a failing check shows its builder output at the check',
    async run(): Promise<void> {
      const folder = copyFixture('checks');
      const wb = await openWorkbench({ target: folder });
      const page = wb.page;
      try {
        const testing = page
          .locator(
            '.part.activitybar .action-item a[aria-label^="Testing"], .part.activitybar .action-item .action-label[aria-label^="Testing"]',
          )
          .first();
        await testing.waitFor({ timeout: 60_000 });
        await testing.click();
        const row = (label: string) => page.locator('.sidebar .monaco-list-row', { hasText: label }).first();
        await row('checks')
          .waitFor({ timeout: 60_000 })
          .catch(async (e: unknown) => {
            await wb.shot('checks-testing-view-missing');
            throw e;
          });
        // Expand the flake's test until its checks show.
        for (let i = 0; i < 20 && !(await row('fails').isVisible()); i++) {
          if (i % 5 === 0) await row('checks').click();
          await page.waitForTimeout(500);
        }
        await row('fails').waitFor({ timeout: 60_000 });
        await runCommand(page, 'Test: Run All Tests');
        await page.locator('.sidebar .monaco-list-row .codicon-testing-failed-icon').first().waitFor({ timeout: 120_000 });
        await page.locator('.sidebar .monaco-list-row .codicon-testing-passed-icon').first().waitFor({ timeout: 60_000 });
        // The failure in the editor: the message at the check's line.
        await row('fails').dblclick();
        await page
          .locator('.monaco-editor .test-message-inline-content, .monaco-editor .test-output-peek, .monaco-editor .zone-widget')
          .first()
          .waitFor({ timeout: 30_000 })
          .catch(() => undefined);
        await runCommand(page, 'Test: Peek Output');
        await page
          .locator('.monaco-editor .zone-widget')
          .first()
          .waitFor({ timeout: 15_000 })
          .catch(() => undefined);
        await wb.shot('checks-testing-view');
      } finally {
        await wb.close();
      }
    },
  },
];
