// UI end-to-end: the packaged VSIX as a user meets it. Installed into a clean code-server, it shows its icon and
// display name in the Extensions view; its walkthrough opens from the palette, and its steps complete themselves as
// the user goes: Nix found, a flake open, the outputs seen, an output built, a host dry-built.
import type { Locator, Page } from 'playwright-core';
import { copyFixture } from '../support/nix';
import { fixtureWorkspace, openNixView, openWorkbench, runCommand, treeRow, waitUntil } from './workbench';

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** A step of the walkthrough on its page, by the end of its id. */
function stepButton(page: Page, id: string) {
  return page.locator(`button.getting-started-step[data-step-id$="#nixFlakes.getStarted.${id}"]`);
}

/** The natural width of an image once it has loaded (0 before, or when it failed). */
function loadedWidth(img: Locator): Promise<number> {
  return img.evaluate((el) => {
    const i = el as unknown as { complete: boolean; naturalWidth: number };
    return i.complete ? i.naturalWidth : 0;
  });
}

async function stepDone(page: Page, id: string): Promise<boolean> {
  return (
    (await stepButton(page, id)
      .getAttribute('aria-checked')
      .catch(() => null)) === 'true'
  );
}

export const marketplaceScenarios = [
  {
    name: 'Extensions view: the installed VSIX shows its icon and display name',
    async run(): Promise<void> {
      const folder = copyFixture('basic');
      const wb = await openWorkbench({ target: folder });
      const page = wb.page;
      try {
        // The Extensions view from the activity bar; its Installed list.
        await page
          .locator(
            '.part.activitybar .action-item a[aria-label^="Extensions"], .part.activitybar .action-item .action-label[aria-label^="Extensions"]',
          )
          .first()
          .click();
        await page.locator('.extensions-viewlet').waitFor({ timeout: 30_000 });
        const item = page
          .locator('.extensions-viewlet .extension-list-item', { has: page.locator('.name', { hasText: /^Nix Flakes$/ }) })
          .first();
        await item.waitFor({ timeout: 30_000 });
        // The icon is the VSIX's media/icon.png, loaded (not the default placeholder).
        const icon = item.locator('img.icon');
        await waitUntil(page, 'the icon to load', async () => (await loadedWidth(icon)) === 128);
        const src = (await icon.getAttribute('src')) ?? '';
        assert(/icon\.png/.test(src), `icon src: ${src}`);
        const description = await item.locator('.description').innerText();
        assert(/Nix flakes in the editor/.test(description), `description: ${description}`);
        await wb.shot('extensions-view');
        // Its page: the icon, name and the README.
        await item.click();
        const header = page.locator('.extension-editor .header');
        await header.locator('.name', { hasText: 'Nix Flakes' }).waitFor({ timeout: 30_000 });
        await waitUntil(page, 'the page icon to load', async () => (await loadedWidth(header.locator('img.icon'))) === 128);
        // The README as its Details tab (a webview).
        const details = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        await details.locator('h1', { hasText: 'Nix Flakes for VS Code' }).waitFor({ timeout: 30_000 });
        await wb.shot('extension-page');
      } catch (e) {
        await wb.shot('extensions-view-failed').catch(() => undefined);
        throw e;
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Walkthrough: Get started with Nix Flakes opens, and its steps complete as the user builds and dry-builds',
    async run(): Promise<void> {
      const ws = fixtureWorkspace('e2e-walkthrough', ['builds', 'hosts']);
      const wb = await openWorkbench({ target: ws });
      const page = wb.page;
      try {
        await openNixView(page);
        await page.locator('.pane-header', { hasText: 'Flake Inputs' }).click();
        await treeRow(page, 'NixOS Configurations').waitFor({ timeout: 60_000 });

        await runCommand(page, 'Welcome: Open Walkthrough');
        await page.locator('.quick-input-widget input').fill('Get started with Nix Flakes');
        await page
          .locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Nix Flakes' })
          .first()
          .waitFor({ timeout: 15_000 });
        await page.keyboard.press('Enter');
        await page.locator('.gettingStartedContainer h2', { hasText: 'Get started with Nix Flakes' }).waitFor({ timeout: 30_000 });
        await stepButton(page, 'build').waitFor();
        // Done already: a Nix was found, a flake is open, the outputs were seen.
        for (const id of ['nix', 'flake', 'outputs']) await waitUntil(page, `the step ${id} to be done`, () => stepDone(page, id), 15_000);
        assert(!(await stepDone(page, 'build')), 'nothing was built yet');
        assert(!(await stepDone(page, 'dryBuild')), 'nothing was dry-built yet');
        await stepButton(page, 'nix').click();
        await wb.shot('walkthrough');

        // Build an output from the Outputs tree, as the step says (its inline Build action shows on hover; a click that
        // lands while the row re-renders is lost, so click until the build has started).
        const ok = treeRow(page, 'ok', { exact: true });
        const building = page.locator('.notification-toast', { hasText: /Build(ing|t) \.#ok/ }).first();
        for (let i = 0; i < 3 && !(await building.isVisible()); i++) {
          await ok.hover();
          await ok.locator('.action-label[aria-label="Build"]').click();
          await building.waitFor({ timeout: 15_000 }).catch(() => undefined);
        }
        await page
          .locator('.notification-toast', { hasText: /Built \.#ok/ })
          .first()
          .waitFor({ timeout: 120_000 });
        await waitUntil(page, 'the build step to be done', () => stepDone(page, 'build'), 15_000);

        // Dry-build a host from its step.
        await stepButton(page, 'dryBuild').click();
        await page
          .locator('.getting-started-step.expanded .button-link, .getting-started-step.expanded a', { hasText: 'NixOS Dry Build…' })
          .first()
          .click();
        const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        await view.locator('vscode-single-select.picker').waitFor({ timeout: 60_000 });
        await view.locator('vscode-single-select.picker').click();
        await view
          .locator('vscode-single-select.picker li.option')
          .filter({ hasText: /^\s*good\s*$/ })
          .first()
          .click();
        await view.locator('vscode-button.run').click();
        await view
          .locator('vscode-collapsible.card .status', { hasText: /Done|done/ })
          .first()
          .waitFor({ timeout: 120_000 });
        // Back to the walkthrough: every step done.
        await page.locator('.tab', { hasText: 'Walkthrough' }).first().click();
        await waitUntil(page, 'the dry-build step to be done', () => stepDone(page, 'dryBuild'), 15_000);
        for (const id of ['nix', 'flake', 'outputs', 'build', 'dryBuild']) assert(await stepDone(page, id), `${id} done`);
        await stepButton(page, 'dryBuild').click();
        await wb.shot('walkthrough-done');
      } catch (e) {
        await wb.shot('walkthrough-failed').catch(() => undefined);
        throw e;
      } finally {
        await wb.close();
      }
    },
  },
];
