// Driving the real workbench (code-server + Chromium) the way a user does: clicks, the palette, screenshots.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { Browser, CodeServer, launchBrowser, startCodeServer } from '../harness/codeserver';
import { copyFixture, nixConfig, repoRoot, scratchDir } from '../support/nix';

export const SHOTS = join(repoRoot(), 'test-results', 'screenshots');

export interface Workbench {
  server: CodeServer;
  browser: Browser;
  page: Page;
  /** Every nix command line the extension ran (through a recording wrapper first on PATH). */
  nixCalls(): string[];
  shot(name: string, target?: Locator): Promise<string>;
  close(): Promise<void>;
}

/** A `nix` first on PATH that records its arguments, then runs the real one. */
function nixRecorder(): { dir: string; log: string } {
  const dir = mkdtempSync(join(scratchDir(), 'nix-recorder-'));
  const log = join(dir, 'calls.log');
  const real =
    process.env.NIX_FLAKES_TEST_NIX ||
    (['/usr/bin/nix', '/usr/local/bin/nix', '/nix/var/nix/profiles/default/bin/nix'].find((p) => existsSync(p)) ?? 'nix');
  writeFileSync(join(dir, 'nix'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, 'nix'), 0o755);
  return { dir, log };
}

export interface OpenOptions {
  /** Folder or .code-workspace to open. */
  target: string;
  /** Workspace Trust on: an untrusted folder opens in Restricted Mode. */
  trust?: boolean;
  /** Load the extension from its packaged VSIX (default) or as a development extension. */
  vsix?: string;
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/** Whether the extension host has activated the extension (from the extension host's log). */
export function activated(server: CodeServer): boolean {
  const logs = join(server.userDataDir, 'logs');
  const walk = (d: string): string[] =>
    existsSync(d)
      ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]))
      : [];
  return walk(logs)
    .filter((f) => /exthost/i.test(f) && f.endsWith('.log'))
    .some((f) => /_doActivateExtension nix-flakes\.nix-flakes\b/.test(readFileSync(f, 'utf8')));
}

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
export async function waitUntil(page: Page, what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(100);
  }
}

/** Waits until no CSS animation or transition runs (a notification has slid in, a view has expanded). */
export async function settledAnimations(page: Page): Promise<void> {
  // A string: it runs in the page, where `document` exists.
  await page
    .waitForFunction("document.getAnimations().every((a) => a.playState !== 'running')", undefined, { timeout: 10_000 })
    .catch(() => undefined);
}

export async function openWorkbench(o: OpenOptions): Promise<Workbench> {
  const rec = nixRecorder();
  const runDir = mkdtempSync(join(scratchDir(), 'e2e-'));
  const server = await startCodeServer({
    runDir,
    trust: o.trust,
    // The extension host's PATH comes from the user's login shell, so point the extension at the recorder directly.
    settings: { 'nixFlakes.nixPath': join(rec.dir, 'nix'), ...o.settings },
    env: { NIX_CONFIG: nixConfig(), ...o.env },
  });
  let browser: Browser | undefined;
  try {
    const vsix = o.vsix ?? join(repoRoot(), 'dist', 'nix-flakes.vsix');
    await server.installVsix(vsix);
    browser = await launchBrowser(runDir);
    const page = browser.page;
    await page.goto(server.workbenchUrl(o.target));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.part.activitybar').waitFor({ timeout: 60_000 });
    const b = browser;
    return {
      server,
      browser: b,
      page,
      nixCalls: () => (existsSync(rec.log) ? readFileSync(rec.log, 'utf8').split('\n').filter(Boolean) : []),
      async shot(name: string, target?: Locator) {
        mkdirSync(SHOTS, { recursive: true });
        const path = join(SHOTS, `${name}.png`);
        await settledAnimations(page); // notifications slide in
        await (target ?? page).screenshot({ path });
        return path;
      },
      async close() {
        await b.close().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await server.stop();
    throw e;
  }
}

/** Opens the Nix container in the activity bar. */
export async function openNixView(page: Page): Promise<void> {
  const item = page
    .locator('.part.activitybar .action-item a[aria-label^="Nix"], .part.activitybar .action-item .action-label[aria-label^="Nix"]')
    .first();
  await item.waitFor({ timeout: 60_000 });
  const pane = page.locator('.pane-header[aria-label*="Flake Outputs"], .split-view-view .pane-header:has-text("Flake Outputs")').first();
  if (!(await pane.isVisible().catch(() => false))) await item.click();
  await page.locator('.sidebar').waitFor();
}

/** Runs a command from the palette by its title, as a user types it. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const deadline = Date.now() + 30_000;
  for (;;) {
    // F1 toggles the palette: press it only while the palette is closed.
    if (!(await input.isVisible())) await page.keyboard.press('F1');
    const open = await input.waitFor({ state: 'visible', timeout: 5_000 }).then(
      () => true,
      () => false,
    );
    if (open) {
      await input.fill(`>${title}`).catch(() => undefined);
      const listed = await page
        .locator('.quick-input-list .monaco-list-row')
        .first()
        .waitFor({ timeout: 5_000 })
        .then(
          () => true,
          () => false,
        );
      // An editor that opens late takes the focus and closes the palette: then start again.
      if (listed && (await input.isVisible()) && (await input.inputValue().catch(() => '')) === `>${title}`) {
        await page.keyboard.press('Enter');
        return;
      }
    }
    if (Date.now() > deadline) throw new Error(`the command palette did not stay open to run "${title}"`);
  }
}

/** A row of the Nix view's tree, by its label. */
export function treeRow(page: Page, label: string, opts: { exact?: boolean } = {}): Locator {
  const rows = page.locator('.sidebar .monaco-list-row');
  return opts.exact
    ? rows
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
        .first()
    : rows.filter({ hasText: label }).first();
}

/**
 * Right-clicks `row` and hovers the menu path to its last item (`['Deploy', 'Switch …']`: a submenu, then its item),
 * which is returned hovered, for a screenshot and a click.
 */
export async function contextMenuItem(page: Page, row: Locator, path: readonly (string | RegExp)[]): Promise<Locator> {
  await row.click({ button: 'right' });
  const menu = page.locator('.context-view');
  let item: Locator | undefined;
  for (const label of path) {
    item = menu.locator('.action-label', { hasText: label }).last();
    await item.waitFor({ timeout: 10_000 });
    await item.hover();
  }
  if (!item) throw new Error('an empty menu path');
  return item;
}

/** A multi-root .code-workspace of fixture flakes, each copied into a fresh git repository (named after the fixture). */
export function fixtureWorkspace(name: string, fixtures: readonly string[]): string {
  const copies = new Map<string, string>();
  const folders = fixtures.map((f) => ({ path: copyFixture(f, copies), name: f }));
  const ws = join(scratchDir(), `${name}.code-workspace`);
  writeFileSync(ws, JSON.stringify({ folders }));
  return ws;
}
