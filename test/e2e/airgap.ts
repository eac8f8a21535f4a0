// UI end-to-end: exporting a NixOS host for offline use the way a user does: right-click the host in the Outputs
// tree, Export for Offline Use…, choose an empty folder in the folder dialog, sign with the configured key; the
// notification shows the progress in paths and bytes; at the end the instructions (OFFLINE.txt) open, and the
// folder holds the cache and the manifest.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../../src/core/airgap/medium';
import { scratchDir } from '../support/nix';
import { copyDeployFixture, editFixture, makeSigningKey } from '../support/testHost';
import { contextMenuItem, openNixView, openWorkbench, SHOTS, treeRow, waitUntil } from './workbench';

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export const airgapScenarios = [
  {
    name: 'Offline: right-click a host, Export for Offline Use…, a folder, the progress in paths and bytes, the manifest and the instructions',
    async run(): Promise<void> {
      const folder = copyDeployFixture('deploy-host');
      // Packages of some size, so the copy takes long enough to be seen.
      editFixture(
        folder,
        'host.nix',
        readFileSync(join(folder, 'host.nix'), 'utf8')
          .replace('size = 4096;', 'size = 96000000;')
          .replace('size = 20480;', 'size = 160000000;'),
      );
      const key = makeSigningKey(`airgap-e2e-${process.pid}`);
      const medium = join(mkdtempSync(join(scratchDir(), 'usb-')), 'export');
      mkdirSync(medium);
      const wb = await openWorkbench({ target: folder, settings: { 'nixFlakes.airgap.signingKeyFile': key.secretFile } });
      const page = wb.page;
      try {
        await openNixView(page);
        const row = treeRow(page, 'web', { exact: true });
        await row.waitFor({ timeout: 60_000 });
        const item = await contextMenuItem(page, row, ['Export for Offline Use…']);
        await wb.shot('airgap-context-menu');
        await item.click();

        // The folder dialog (code-server's own: a path typed into the quick input).
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        // The dialog starts, then sets its own value to the workspace folder (its list: `..`, `.git`): a path typed
        // before that is overwritten, and one accepted while the dialog still navigates to it gives the folder it
        // showed first. So: type once it has started, and go on once it shows the typed (empty) folder.
        const rows = page.locator('.quick-input-list .monaco-list-row');
        const texts = () => rows.allInnerTexts().catch(() => [] as string[]);
        await waitUntil(page, 'the folder dialog to start', async () => (await texts()).includes('.git'), 15_000).catch(() => undefined);
        for (let attempt = 1; ; attempt++) {
          await input.fill(`${medium}/`);
          const opened = await waitUntil(
            page,
            'the folder dialog to open the typed folder',
            async () => (await input.inputValue().catch(() => '')) === `${medium}/` && !(await texts()).includes('.git'),
            5_000,
          ).then(
            () => true,
            () => false,
          );
          if (opened) break;
          if (attempt >= 4) {
            await wb.shot('airgap-folder-dialog-stuck');
            throw new Error(`the folder dialog did not open ${medium}/ (its value: ${await input.inputValue().catch(() => '?')})`);
          }
        }
        await page.waitForTimeout(300);
        // Signing: the configured key is the first choice.
        const signRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sign with the configured key' });
        // The dialog's OK button ("Export Here") accepts the folder typed.
        const ok = page.locator('.quick-input-widget .monaco-button', { hasText: 'Export Here' });
        for (let i = 0; i < 10 && !(await signRow.isVisible().catch(() => false)); i++) {
          // "Export into this folder?" means a folder that is not empty was chosen: not the one typed.
          if (
            await page
              .locator('.monaco-dialog-box')
              .isVisible()
              .catch(() => false)
          ) {
            await wb.shot('airgap-folder-dialog-wrong');
            throw new Error('the folder dialog chose a folder that is not empty, not the one typed');
          }
          if (await ok.isVisible().catch(() => false)) await ok.click();
          else await page.keyboard.press('Enter');
          await signRow.waitFor({ timeout: 2_000 }).catch(() => undefined);
        }
        await signRow.waitFor({ timeout: 5_000 }).catch(async (e: unknown) => {
          await wb.shot('airgap-folder-dialog-stuck');
          throw e;
        });
        await page.keyboard.press('Enter');

        // The progress, as the notification shows it while the export runs.
        const seen = new Set<string>();
        let shotTaken = false;
        const done = page.locator('.notification-toast', { hasText: /^Exported|Exported \.#/ });
        const end = Date.now() + 180_000;
        while (!(await done.isVisible().catch(() => false)) && Date.now() < end) {
          const texts = await page
            .locator('.notification-toast .notification-list-item-message')
            .allInnerTexts()
            .catch(() => [] as string[]);
          for (const t of texts) {
            seen.add(t);
            if (!shotTaken && /\d+\/\d+ paths, [\d.]+ \w*B of [\d.]+ \w*B/.test(t)) {
              shotTaken = true;
              // Taken at once (not after animations settle): the export may be over by then.
              mkdirSync(SHOTS, { recursive: true });
              await page.screenshot({ path: join(SHOTS, 'airgap-progress.png') }).catch(() => undefined);
            }
          }
          await page.waitForTimeout(30);
        }
        await done.waitFor({ timeout: 5_000 });
        const progress = [...seen].filter((t) => /paths, /.test(t));
        assert(progress.length > 0, `the progress in paths and bytes was shown: ${[...seen].join(' | ')}`);
        const text = await done.innerText();
        assert(text.replace(/\n/g, ' ').includes(` to ${medium}: `), `exported to the folder typed: ${text}`);
        assert(/store paths .* signed with airgap-e2e-/.test(text.replace(/\n/g, ' ')), `the message: ${text}`);
        await done.locator('.monaco-button', { hasText: 'Open Instructions' }).click();
        await page.locator('.tab', { hasText: 'OFFLINE.txt' }).waitFor({ timeout: 15_000 });
        await waitUntil(page, 'the manifest', () => existsSync(join(medium, 'nix-offline.json')), 10_000);
        const m = parseManifest(readFileSync(join(medium, 'nix-offline.json'), 'utf8'));
        assert(m.ok, 'the manifest reads back');
        assert(
          m.manifest.items[0]?.kind === 'host' && /-nixos-system-web-1$/.test(m.manifest.items[0].paths[0] ?? ''),
          `the host's toplevel: ${JSON.stringify(m.manifest.items)}`,
        );
        assert(m.manifest.publicKey === key.publicKey, 'signed with the configured key');
        assert(existsSync(join(medium, 'nix-cache-info')), 'a binary cache');
        await row.click();
        await wb.shot('airgap-exported');
      } finally {
        await wb.close();
      }
    },
  },
];
