// UI end-to-end: deploying a NixOS host the way a user does. A test host (sshd on 127.0.0.1 with its own /nix) runs
// an older generation of the host; the user right-clicks the host in the Outputs tree, chooses Deploy → Switch, sees
// the closure diff in the Deploy view and the confirmation, confirms, and gets the message with the generation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHostSettings } from '../../src/core/deploy/host';
import { deploySteps } from '../../src/core/deploy/plan';
import { deploy } from '../../src/core/deploy/runner';
import { nixTestEnv, testNix } from '../support/nix';
import { copyDeployFixture, editFixture, makeSigningKey, removeTestHost, startTestHost, testHostUnavailable } from '../support/testHost';
import { contextMenuItem, openNixView, openWorkbench, treeRow, waitUntil } from './workbench';

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export const deployScenarios = [
  {
    name: 'Deploy: right-click a host, Switch, the closure diff in the Deploy view, confirm, the success message with the generation number',
    async run(): Promise<void> {
      const why = testHostUnavailable();
      if (why) {
        console.log(`    (skipped: no test host here: ${why})`);
        return;
      }
      const host = await startTestHost();
      const folder = copyDeployFixture('deploy-host');
      try {
        const key = makeSigningKey(`deploy-e2e-${process.pid}`);
        host.trustKey(key.publicKey);
        // The host runs generation 1 of the flake; then the flake changes (foo 1.0 → 1.1, bar replaced by baz).
        const settings = checkHostSettings({ targetHost: host.address, signingKeyFile: key.secretFile });
        assert(settings.ok, 'settings');
        const first = await deploy(
          deploySteps({
            nix: testNix(),
            flakeRef: folder,
            hostName: 'web',
            action: 'switch',
            host: settings.value,
            sshOptions: host.sshOptions,
          }),
          () => true,
          { env: nixTestEnv() },
        );
        assert(first?.generation === 1, `a first generation on the test host: ${first?.generation}`);
        editFixture(
          folder,
          'host.nix',
          readFileSync(join(folder, 'host.nix'), 'utf8')
            .replace('release = "1"', 'release = "2"')
            .replace('foo = { version = "1.0"; size = 4096; };', 'foo = { version = "1.1"; size = 40960; };')
            .replace('bar = { version = "2.0"; size = 20480; };', 'baz = { version = "0.5"; size = 16384; };'),
        );
        const wb = await openWorkbench({
          target: folder,
          settings: {
            'nixFlakes.hosts': { web: { targetHost: host.address } },
            'nixFlakes.deploy.sshOptions': host.sshOptions,
            'nixFlakes.deploy.signingKeyFile': key.secretFile,
          },
        });
        const page = wb.page;
        try {
          await openNixView(page);
          const row = treeRow(page, 'web', { exact: true });
          await row.waitFor({ timeout: 60_000 });
          const item = await contextMenuItem(page, row, [/^Deploy$/, 'Switch (Deploy and Activate)']);
          await wb.shot('deploy-context-menu');
          await item.click();

          // The Deploy view shows the diff; the modal confirmation names the host, the action and the changes.
          const dialog = page.locator('.monaco-dialog-box');
          await dialog.waitFor({ timeout: 120_000 });
          const text = await dialog.innerText();
          assert(text.includes(`Switch web on ${host.address}?`), `the confirmation: ${text}`);
          assert(/2 changed, 1 added, 1 removed/.test(text), `the confirmation names the changes: ${text}`);
          const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
          const foo = view.locator('tr.change[data-name="foo"]');
          await foo.waitFor({ timeout: 30_000 });
          const fooText = await foo.innerText();
          assert(/1\.0[\s\S]*1\.1[\s\S]*\+36\.0 KiB/.test(fooText), `foo's row: ${fooText}`);
          assert((await view.locator('tr.change.added[data-name="baz"]').count()) === 1, 'baz added');
          assert((await view.locator('tr.change.removed[data-name="bar"]').count()) === 1, 'bar removed');
          await wb.shot('deploy-confirm');

          await dialog.locator('.monaco-button', { hasText: /^Switch$/ }).click();
          const toast = page.locator('.notification-toast', { hasText: `Switched web on ${host.address} to generation 2.` });
          await toast.waitFor({ timeout: 120_000 });
          await view.locator('.generation', { hasText: 'Generation 2' }).waitFor({ timeout: 30_000 });
          await wb.shot('deploy-done');
          await waitUntil(page, 'generation 2 on the test host', () => host.currentGeneration() === 'system-2-link', 10_000);
          const last = host.activations().at(-1);
          assert(
            last?.action === 'switch' && last.script === `${host.generations().at(-1)?.toplevel}/bin/switch-to-configuration`,
            `activated: ${JSON.stringify(last)}`,
          );
        } finally {
          await wb.close();
        }
      } finally {
        host.stop();
        removeTestHost(host);
      }
    },
  },
];
