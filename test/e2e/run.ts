// UI end-to-end tests: each scenario opens the real workbench with the packaged extension and clicks through it.
// Prints `N passed, N failed`. Screenshots go to test-results/screenshots.
import { copyFixture, copyPlain, processesWith, runMarker } from '../support/nix';
import { activated, fixtureWorkspace, openNixView, openWorkbench, runCommand, treeRow, waitUntil } from './workbench';
import { prepareWorkspace } from '../harness/workspace';
import { deployScenarios } from './deploy';
import { airgapScenarios } from './airgap';
import { checksScenarios } from './checks';
import { devShellScenarios } from './devshell';
import { resultsScenarios } from './results';
import { marketplaceScenarios } from './marketplace';

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
        assert(
          await wb.page.locator('.sidebar .welcome-view-content a:has-text("Manage Workspace Trust")').isVisible(),
          'a way out is offered',
        );
        // The view is contributed statically, so the text alone proves nothing: the extension must have activated.
        await waitUntil(wb.page, 'the extension to activate', () => activated(wb.server));
        // Then watch for three seconds: no nix process for this folder, no call through the recorder.
        const seen: string[] = [];
        const end = Date.now() + 3000;
        while (Date.now() < end) {
          seen.push(
            ...processesWith(folder)
              .filter((p) => /\bnix\b/.test(p.cmd))
              .map((p) => p.cmd),
          );
          await wb.page.waitForTimeout(100);
        }
        await wb.shot('restricted-mode');
        assert(seen.length === 0, `a nix process ran in Restricted Mode: ${seen.join(' | ')}`);
        const calls = wb.nixCalls();
        assert(calls.length === 0, `nix ran in Restricted Mode: ${calls.join(' | ')}`);
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'A folder without a flake: opening the Nix view says so',
    async run() {
      const folder = copyPlain('no-flake');
      const wb = await openWorkbench({ target: folder });
      try {
        await openNixView(wb.page);
        const welcome = wb.page.locator('.sidebar .welcome-view-content', { hasText: 'No flake.nix was found' }).first();
        await welcome.waitFor({ timeout: 30_000 });
        assert(activated(wb.server), 'opening the view activated the extension');
        await wb.shot('no-flake');
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Trusted flake: the Nix view lists its outputs',
    async run() {
      const folder = copyFixture('basic');
      const wb = await openWorkbench({ target: folder });
      try {
        await openNixView(wb.page);
        // A single flake shows its outputs directly.
        await treeRow(wb.page, 'Packages').waitFor({ timeout: 30_000 });
        await treeRow(wb.page, 'hello', { exact: true }).waitFor();
        await wb.shot('outputs-view');
        assert(
          wb.nixCalls().some((c) => c.includes('--version')),
          'nix was detected',
        );
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Outputs tree: categories and items, Build in progress with cancel, a failed build squiggled in the editor',
    async run() {
      const ws = fixtureWorkspace('e2e-outputs', ['hello', 'builds']);
      const wb = await openWorkbench({ target: ws });
      const page = wb.page;
      try {
        await openNixView(page);
        // Collapse Flake Inputs: the outputs of two flakes need the room.
        await page.locator('.pane-header', { hasText: 'Flake Inputs' }).click();
        await treeRow(page, 'NixOS Configurations').waitFor({ timeout: 60_000 });
        await treeRow(page, 'hello', { exact: true }).waitFor();
        await treeRow(page, 'web').waitFor();
        await wb.shot('outputs-tree');

        // Build in progress: the inline Build action of a long build, then Cancel in its notification.
        const slow = treeRow(page, 'slow');
        const toast = page.locator('.notification-toast', { hasText: 'Building .#slow' });
        // An inline action shows on hover; a click that lands while the row re-renders is lost, so click until the
        // build has started (a second click on a running build only says it is running).
        for (let i = 0; i < 3 && !(await toast.isVisible()); i++) {
          await slow.hover();
          await slow.locator('.action-label[aria-label="Build"]').click();
          await toast.waitFor({ timeout: 15_000 }).catch(() => undefined);
        }
        await toast.waitFor({ timeout: 30_000 });
        await page.locator('.statusbar-item', { hasText: 'slow' }).first().waitFor({ timeout: 30_000 });
        await waitUntil(page, 'the slow builders to run', () => processesWith(runMarker()).length >= 2, 60_000);
        // The notification shows the running build's phase once progress has been read.
        await toast
          .locator('.notification-list-item-message', { hasText: /buildPhase|running|building/ })
          .first()
          .waitFor({ timeout: 30_000 })
          .catch(() => undefined);
        await wb.shot('build-in-progress');
        await toast.hover();
        await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
        await page.locator('.notification-toast', { hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
        await waitUntil(page, 'every builder to be gone after Cancel', () => processesWith(runMarker()).length === 0, 15_000);

        // A failing build: its error in Problems and a squiggle where the derivation is defined.
        const fails = treeRow(page, 'fails');
        await fails.hover();
        await fails.locator('.action-label[aria-label="Build"]').click();
        await page.locator('.notification-toast', { hasText: 'Build of .#fails failed' }).waitFor({ timeout: 60_000 });
        await page.locator('.notification-toast .monaco-button', { hasText: 'Show Problems' }).first().click();
        const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'exit code 3' }).first();
        await problem.waitFor({ timeout: 30_000 });
        await problem.dblclick();
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
        await wb.shot('build-failed');
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Dry-build panel: pick a host, run, see what would be built; a failing host shows its error and a squiggle; a hostile host name stays text',
    async run() {
      const folder = copyFixture('hosts');
      const wb = await openWorkbench({ target: folder });
      const page = wb.page;
      let alerted = false;
      page.on('dialog', (d) => {
        alerted = true;
        void d.dismiss();
      });
      try {
        await openNixView(page);
        await treeRow(page, 'NixOS Configurations').waitFor({ timeout: 60_000 });
        await runCommand(page, 'Nix Flakes: NixOS Dry Build');
        const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        const pick = async (host: string) => {
          await view.locator('vscode-single-select.picker').click();
          await view
            .locator('vscode-single-select.picker li.option')
            .filter({ hasText: new RegExp(`^\\s*${host.replace(/[.*+?^${}()|[\]\\<>=]/g, '\\$&')}\\s*$`) })
            .first()
            .click();
        };
        const card = (host: string) =>
          view
            .locator('vscode-collapsible.card')
            .filter({ has: view.locator('.installable', { hasText: host }) })
            .first();

        await view.locator('vscode-single-select.picker').waitFor({ timeout: 60_000 });
        await pick('good');
        await view.locator('vscode-button.run').click();
        await card('good')
          .locator('.status', { hasText: /Done|done/ })
          .waitFor({ timeout: 60_000 });
        await wb.shot('dry-build-panel');

        await pick('unknownOption');
        await view.locator('vscode-button.run').click();
        const failed = card('unknownOption');
        await failed.locator('.error-message', { hasText: "services.openssh.enabel' does not exist" }).waitFor({ timeout: 60_000 });
        await failed.locator('a.location').first().click();
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
        await page.locator('.tab.active', { hasText: 'unknown-option.nix' }).waitFor();
        // The cursor is on the error (the link opened it there): show its hover as a user would.
        await runCommand(page, 'Show or Focus Hover');
        await page
          .locator('.monaco-hover', { hasText: 'does not exist' })
          .first()
          .waitFor({ timeout: 15_000 })
          .catch(() => undefined);
        await wb.shot('dry-build-inline-error');

        await runCommand(page, 'Nix Flakes: NixOS Dry Build');
        await pick('<img src=x onerror=alert(1)>');
        await view.locator('vscode-button.run').click();
        await card('<img src=x onerror=alert(1)>')
          .locator('.status', { hasText: /Done|done/ })
          .waitFor({ timeout: 60_000 });
        const images = await view.locator('img').count();
        assert(images === 0 && !alerted, `the hostile host name stayed text (img elements: ${images}, alert: ${alerted})`);
        await wb.shot('dry-build-hostile-name');
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Build lens: above a derivation in the editor; clicking it builds the package',
    async run() {
      const folder = copyFixture('hello');
      const wb = await openWorkbench({ target: folder });
      const page = wb.page;
      try {
        await openNixView(page);
        await treeRow(page, 'Packages').waitFor({ timeout: 60_000 });
        await runCommand(page, 'Go to File');
        await page.keyboard.type('pkgs/greeting.nix');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'greeting.nix' }).first().waitFor();
        await page.keyboard.press('Enter');
        const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Build .#greeting' }).first();
        await lens.waitFor({ timeout: 60_000 });
        await wb.shot('codelens');
        await lens.click();
        await page.locator('.notification-toast', { hasText: /Built \.#greeting/ }).waitFor({ timeout: 60_000 });
      } finally {
        await wb.close();
      }
    },
  },
  {
    name: 'Flake Inputs: inputs with revisions and ages, a nixpkgs locked twice flagged, with its warning in flake.nix',
    async run() {
      const ws = prepareWorkspace(['multi']);
      const wb = await openWorkbench({ target: ws.fixtures.multi });
      const page = wb.page;
      try {
        await openNixView(page);
        const dup = page.locator('.sidebar .monaco-list-row', { hasText: 'Locked more than once' }).first();
        await dup.waitFor({ timeout: 60_000 });
        await page.locator('.sidebar .monaco-list-row', { hasText: 'tools/nixpkgs' }).first().waitFor();
        // Each input shows its revision and age.
        // (the input's row, not its occurrence under "Locked more than once", which shows the date)
        const nixpkgsRow = page
          .locator('.sidebar .monaco-list-row', { has: page.locator('.label-name', { hasText: /^nixpkgs$/ }) })
          .filter({ has: page.locator('.label-description', { hasText: 'git+file://' }) })
          .first();
        const description = await nixpkgsRow.locator('.label-description').innerText();
        assert(/^[0-9a-f]{7} · (just now|\d+ (seconds?|minutes?) ago)/.test(description), `nixpkgs row: ${description}`);
        // Click tools (its entry opens in flake.lock) and expand it to show its own nixpkgs, then open flake.nix where
        // the warning sits.
        const toolsRow = page.locator('.sidebar .monaco-list-row', { hasText: /^tools/ }).last();
        await toolsRow.click();
        await page.locator('.tabs-container .tab.active', { hasText: 'flake.lock' }).waitFor({ timeout: 30_000 });
        await toolsRow.locator('.monaco-tl-twistie').click();
        await page
          .locator('.sidebar .monaco-list-row[aria-level="2"]', { hasText: /^nixpkgs/ })
          .last()
          .waitFor();
        await page.locator('.pane-header', { hasText: 'Flake Outputs' }).click(); // collapse Outputs to give Inputs room
        await runCommand(page, 'Go to File');
        await page.keyboard.type('flake.nix');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'flake.nix' }).first().waitFor();
        await page.keyboard.press('Enter');
        await page.locator('.monaco-editor .squiggly-warning').first().waitFor({ timeout: 30_000 });
        await wb.shot('inputs-duplicate');
        // The warning is the duplicate nixpkgs, with the follows that fixes it.
        await runCommand(page, 'View: Focus Problems');
        await page
          .locator('.markers-panel .monaco-list-row', { hasText: 'inputs.tools.inputs.nixpkgs.follows = "nixpkgs"' })
          .first()
          .waitFor({ timeout: 30_000 });
      } finally {
        await wb.close();
      }
    },
  },
  ...deployScenarios,
  ...airgapScenarios,
  ...checksScenarios,
  ...devShellScenarios,
  ...resultsScenarios,
  ...marketplaceScenarios,
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
