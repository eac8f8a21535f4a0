// UI end-to-end: a dev shell applied to the editor. The user clicks the dev shell item in the status bar, picks the
// flake's default shell, opens a new terminal and finds the shell's tool on PATH (its store path) and its variable.
import { copyFixture } from '../support/nix';
import { openWorkbench, runCommand, waitUntil } from './workbench';

export const devShellScenarios = [
  {
    name: 'Dev shell: picked from the status bar, a new terminal finds its tool and variable',
    async run(): Promise<void> {
      const folder = copyFixture('devshell');
      // The DOM renderer, so that the terminal's text can be read.
      const wb = await openWorkbench({ target: folder, settings: { 'terminal.integrated.gpuAcceleration': 'off' } });
      const page = wb.page;
      try {
        const item = page.locator('.statusbar-item', { hasText: 'No dev shell' }).first();
        await item.waitFor({ timeout: 60_000 });
        await item.click();
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'default' }).first();
        await row.waitFor({ timeout: 60_000 });
        await wb.shot('devshell-pick');
        await row.click();
        const active = page.locator('.statusbar-item', { hasText: /^\s*default\s*$/ }).first();
        await active.waitFor({ timeout: 120_000 });
        await runCommand(page, 'Terminal: Create New Terminal');
        const terminal = page.locator('.terminal-wrapper.active .xterm-rows, .terminal .xterm-rows').first();
        await terminal.waitFor({ timeout: 30_000 });
        await page.waitForTimeout(1500);
        await page.keyboard.type('command -v shell-tool; echo "PROBE_VAR=$PROBE_VAR"; shell-tool\n');
        await waitUntil(
          page,
          'the terminal to show the shell tool and the variable',
          async () => {
            const text = await terminal.innerText().catch(() => '');
            return (
              /\/nix\/store\/[a-z0-9]{32}-shell-tool\/bin\/shell-tool/.test(text) &&
              /PROBE_VAR=set by the default shell/.test(text) &&
              /shell-tool ran/.test(text)
            );
          },
          60_000,
        );
        await item.hover().catch(() => undefined);
        await active.hover();
        await page
          .locator('.monaco-hover, .workbench-hover')
          .first()
          .waitFor({ timeout: 10_000 })
          .catch(() => undefined);
        await wb.shot('devshell-terminal');
      } finally {
        await wb.close();
      }
    },
  },
];
