// Render check of the "NixOS Dry Build" webview UI in headless Chromium, without VS Code: the `webview` layer of
// `npm test` (scripts/test.mjs), after the build. Alone: `node scripts/build.mjs --tests && node out/test/webview/preview.js`.
//
// Serves a page shaped like the extension's HTML (same CSP, nonce, dist/webview.js + dist/webview.css) with a stub
// acquireVsCodeApi that records posted messages and keeps setState() in sessionStorage, sets VS Code theme
// variables, posts a sequence of messages (hostile host names and error texts, malformed messages, a run that left
// things out), clicks through the UI, and writes screenshots to test-results/webview/. What the workbench scenario
// (test/e2e) does not reach is checked here: every button's message, malformed messages ignored, no prototype
// pollution, no CSP violation or console error, state restored after a reload. Ends with `N passed, N failed`.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { chromiumPath } from '../harness/codeserver';

/** The work tree: the nearest folder above this script (bundled anywhere) with the project's package.json. */
function findRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'nix-flakes') return dir;
    } catch {
      // not here
    }
    if (dirname(dir) === dir) return process.cwd();
  }
}
const ROOT = findRoot();
const SHOTS = join(ROOT, 'test-results/webview');
const HOSTILE_HOST = '<img src=x onerror=alert(1)>';
const HOSTILE_MESSAGE = "undefined variable 'pkgs'\n<script>alert(1)</script>\n<img src=x onerror=alert(2)>";

const DARK: Record<string, string> = {
  'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  'editor-font-size': '13px',
  foreground: '#cccccc',
  descriptionForeground: '#9d9d9d',
  errorForeground: '#f85149',
  focusBorder: '#0078d4',
  'editor-background': '#1f1f1f',
  'editor-foreground': '#cccccc',
  'editorWidget-background': '#202020',
  'widget-border': '#313131',
  'widget-shadow': 'rgba(0, 0, 0, 0.36)',
  'panel-border': '#2b2b2b',
  'sideBar-background': '#181818',
  'sideBarSectionHeader-background': '#181818',
  'sideBarTitle-foreground': '#cccccc',
  'icon-foreground': '#cccccc',
  'toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)',
  'toolbar-activeBackground': 'rgba(99, 102, 103, 0.31)',
  'button-background': '#0078d4',
  'button-foreground': '#ffffff',
  'button-hoverBackground': '#026ec1',
  'button-border': 'rgba(255, 255, 255, 0.07)',
  'button-secondaryBackground': '#313131',
  'button-secondaryForeground': '#cccccc',
  'button-secondaryHoverBackground': '#3c3c3c',
  'dropdown-background': '#313131',
  'dropdown-border': '#3c3c3c',
  'dropdown-foreground': '#cccccc',
  'settings-dropdownBackground': '#313131',
  'settings-dropdownBorder': '#3c3c3c',
  'settings-dropdownForeground': '#cccccc',
  'settings-dropdownListBorder': '#454545',
  'settings-textInputBackground': '#313131',
  'settings-textInputForeground': '#cccccc',
  'settings-textInputBorder': '#3c3c3c',
  'input-background': '#313131',
  'input-border': '#3c3c3c',
  'input-foreground': '#cccccc',
  'input-placeholderForeground': '#989898',
  'inputValidation-errorBackground': '#5a1d1d',
  'inputValidation-errorBorder': '#be1100',
  'badge-background': '#616161',
  'badge-foreground': '#f8f8f8',
  'list-hoverBackground': '#2a2d2e',
  'list-activeSelectionBackground': '#04395e',
  'list-activeSelectionForeground': '#ffffff',
  'list-focusOutline': '#0078d4',
  'list-highlightForeground': '#2aaaff',
  'list-focusHighlightForeground': '#2aaaff',
  'textLink-foreground': '#4daafc',
  'textLink-activeForeground': '#4daafc',
  'textCodeBlock-background': '#2b2b2b',
  'progressBar-background': '#0078d4',
  'testing-iconPassed': '#73c991',
  'testing-iconFailed': '#f14c4c',
  'testing-iconSkipped': '#848484',
  'charts-green': '#89d185',
  'editorWarning-foreground': '#cca700',
  'notifications-background': '#1f1f1f',
  'notifications-foreground': '#cccccc',
  'notificationCenter-border': '#313131',
  'notificationsErrorIcon-foreground': '#f14c4c',
  'notificationsWarningIcon-foreground': '#cca700',
  'notificationsInfoIcon-foreground': '#3794ff',
};

const LIGHT: Record<string, string> = {
  ...DARK,
  foreground: '#3b3b3b',
  descriptionForeground: '#3b3b3b',
  errorForeground: '#f85149',
  focusBorder: '#005fb8',
  'editor-background': '#ffffff',
  'editor-foreground': '#3b3b3b',
  'editorWidget-background': '#f8f8f8',
  'widget-border': '#e5e5e5',
  'panel-border': '#e5e5e5',
  'sideBar-background': '#f8f8f8',
  'sideBarSectionHeader-background': '#f8f8f8',
  'sideBarTitle-foreground': '#3b3b3b',
  'icon-foreground': '#3b3b3b',
  'toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)',
  'button-background': '#005fb8',
  'button-hoverBackground': '#0258a8',
  'button-border': 'rgba(0, 0, 0, 0.1)',
  'button-secondaryBackground': '#e5e5e5',
  'button-secondaryForeground': '#3b3b3b',
  'button-secondaryHoverBackground': '#cccccc',
  'settings-dropdownBackground': '#ffffff',
  'settings-dropdownBorder': '#cecece',
  'settings-dropdownForeground': '#3b3b3b',
  'settings-dropdownListBorder': '#c8c8c8',
  'settings-textInputBackground': '#ffffff',
  'settings-textInputForeground': '#3b3b3b',
  'settings-textInputBorder': '#cecece',
  'input-background': '#ffffff',
  'input-border': '#cecece',
  'input-foreground': '#3b3b3b',
  'input-placeholderForeground': '#767676',
  'inputValidation-errorBackground': '#f2dede',
  'inputValidation-errorBorder': '#be1100',
  'badge-background': '#cccccc',
  'badge-foreground': '#3b3b3b',
  'list-hoverBackground': '#f2f2f2',
  'list-activeSelectionBackground': '#e8e8e8',
  'list-activeSelectionForeground': '#000000',
  'textLink-foreground': '#005fb8',
  'textLink-activeForeground': '#005fb8',
  'textCodeBlock-background': '#f8f8f8',
  'testing-iconPassed': '#388a34',
  'testing-iconFailed': '#f14c4c',
  'editorWarning-foreground': '#bf8803',
  'notifications-background': '#ffffff',
  'notifications-foreground': '#3b3b3b',
  'notificationCenter-border': '#e5e5e5',
};

function themeCss(vars: Record<string, string>): string {
  return `html { ${Object.entries(vars)
    .map(([k, v]) => `--vscode-${k}: ${v};`)
    .join(' ')} }`;
}

/** The page: the extension's HTML contract, plus a stub of the VS Code webview API and theme variables. */
function page(cspSource: string, nonce: string, theme: Record<string, string>): string {
  const stub = `
    window.__posted = [];
    window.__alerts = [];
    window.alert = (m) => { window.__alerts.push(String(m)); };
    let acquired = false;
    window.acquireVsCodeApi = () => {
      if (acquired) throw new Error('acquireVsCodeApi called twice');
      acquired = true;
      return {
        postMessage: (m) => { window.__posted.push(JSON.parse(JSON.stringify(m))); },
        getState: () => { const s = sessionStorage.getItem('state'); return s ? JSON.parse(s) : undefined; },
        setState: (s) => { sessionStorage.setItem('state', JSON.stringify(s)); return s; },
      };
    };
    window.__deliver = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
  `;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; font-src ${cspSource}; img-src ${cspSource} data:; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${themeCss(theme)}</style>
<link rel="stylesheet" href="${cspSource}/dist/webview.css" nonce="${nonce}">
<title>NixOS Dry Build</title>
<script nonce="${nonce}">${stub}</script></head>
<body><div id="app"></div><script type="module" nonce="${nonce}" src="${cspSource}/dist/webview.js"></script></body></html>`;
}

// ---------------------------------------------------------------------------------------------------------
// Messages

const INFRA = '/home/alice/src/infra';
const LAB = '/home/alice/src/lab';
const hosts = [
  { flake: INFRA, flakeLabel: 'infra', host: 'web' },
  { flake: INFRA, flakeLabel: 'infra', host: 'db' },
  { flake: INFRA, flakeLabel: 'infra', host: HOSTILE_HOST },
  { flake: INFRA, flakeLabel: 'infra', host: 'alice@laptop', kind: 'home' },
  { flake: INFRA, flakeLabel: 'infra', host: 'alice@work', kind: 'home' },
  { flake: LAB, flakeLabel: 'lab', host: 'pi' },
];
const drv = (hash: string, name: string) => `/nix/store/${hash}-${name}.drv`;
const H = (c: string) => c.repeat(32).slice(0, 32);
const builds = [
  drv('0c5w7fd2xqkhcc6zgp0vi4hx0bp9x7lz', 'etc-hosts'),
  drv('1ajmdmx6pvqpk40ha4wg57mzfq2wlz8n', 'unit-nginx.service'),
  drv('2q7x1q1dq3jv1ylwqy2f4m9r3w2b0k9c', 'nginx.conf'),
  drv('3ghv8m9xg0hy2kd53nb4y2qk9jg3r1xs', 'etc'),
  drv('4fmz0q6a8xv3lq3d0y5dpq4bk2x7s9hn', 'nixos-system-web-24.11.20250101.abcdef0'),
];
const fetches = [`/nix/store/${H('5')}-glibc-2.40-36`, `/nix/store/${H('6')}-nginx-1.26.2`, `/nix/store/${H('7')}-openssl-3.3.2`];
const loc = (label: string, line: number, column: number) => ({ file: `${INFRA}/${label}`, label, line, column });

const messages = {
  init: { type: 'init', protocolVersion: 2, hosts, selected: { flake: INFRA, host: 'db' }, runs: [] },
  started1: { type: 'runStarted', runId: 'r1', flake: INFRA, host: 'web', startedAt: Date.now() - 4200 },
  finished1: {
    type: 'runFinished',
    runId: 'r1',
    state: 'done',
    builds,
    fetches,
    downloadBytes: 12_897_484,
    unpackedBytes: 58_720_256,
    errors: [],
    log: [
      "evaluating derivation 'path:/home/alice/src/infra#nixosConfigurations.web.config.system.build.toplevel'",
      'these 5 derivations will be built:',
    ],
    elapsedMs: 4213,
  },
  started2: { type: 'runStarted', runId: 'r2', flake: INFRA, host: 'db', startedAt: Date.now() - 2100 },
  progress2: { type: 'progress', runId: 'r2', text: 'evaluating nixosConfigurations.db.config.system.build.toplevel' },
  finished2: {
    type: 'runFinished',
    runId: 'r2',
    state: 'failed',
    builds: [],
    fetches: [],
    errors: [
      {
        message: HOSTILE_MESSAGE,
        kind: 'undefined-variable',
        location: loc('hosts/db.nix', 4, 3),
        trace: [
          { message: "while evaluating the attribute 'environment.systemPackages'", location: loc('hosts/db.nix', 3, 1) },
          { message: "while evaluating definitions from `/home/alice/src/infra/hosts/db.nix'", where: 'nixpkgs: lib/modules.nix:809:28' },
          { message: "while calling the 'head' builtin\n<script>alert(3)</script>" },
        ],
      },
      {
        message:
          "The option `services.postgresql.enabel' does not exist. Definition values:\n- In `/home/alice/src/infra/modules/postgres.nix': true",
        kind: 'option-does-not-exist',
        location: loc('modules/postgres.nix', 12, 5),
        trace: [],
      },
    ],
    log: [
      "error: undefined variable 'pkgs'",
      '       at /nix/store/xxx-source/hosts/db.nix:4:3:',
      '<img src=x onerror=alert(4)>',
      "(use '--show-trace' to show detailed location information)",
    ],
    // What the run left out: said on the card.
    omitted: {
      messages: 2400,
      errorMessages: 12,
      logLines: 996,
      locations: 'timeout',
      lookupMs: 30_000,
      unreadLines: 1,
      unreadReason: '<img src=x onerror=alert(5)>',
    },
    elapsedMs: 2104,
  },
  started3: { type: 'runStarted', runId: 'r3', flake: INFRA, host: HOSTILE_HOST, startedAt: Date.now() - 800 },
  progress3: { type: 'progress', runId: 'r3', text: "copying '/home/alice/src/infra' to the store <b>bold?</b>" },
  // A home-manager configuration: its own group in the picker, its own card.
  startedHome: { type: 'runStarted', runId: 'r4', flake: INFRA, host: 'alice@laptop', kind: 'home', startedAt: Date.now() - 1500 },
  finishedHome: {
    type: 'runFinished',
    runId: 'r4',
    state: 'failed',
    builds: [],
    fetches: [],
    errors: [
      {
        message:
          "The option `programs.git.userNmae' does not exist. Definition values:\n- In `/home/alice/src/infra/home/alice.nix': \"Alice\"\n\nDid you mean `programs.git.userName', `programs.git.userEmail' or `programs.git.enable'?",
        kind: 'option-does-not-exist',
        location: loc('home/alice.nix', 7, 3),
        trace: [],
      },
    ],
    log: ["error: The option `programs.git.userNmae' does not exist."],
    elapsedMs: 1502,
  },
  notice: {
    type: 'notice',
    level: 'warning',
    text: 'Nix 2.8 does not report evaluation progress; the status line shows only the last message.',
  },
  // Malformed: must be ignored.
  bad: [
    { type: 'runStarted', runId: 'x<y', flake: INFRA, host: 'web', startedAt: 1 },
    { type: 'progress', runId: 'r3', text: 'x'.repeat(501) },
    { type: 'runFinished', runId: 'r1', state: 'done', builds: ['relative'], fetches: [], errors: [], log: [], elapsedMs: 1 },
    { type: 'runFinished', runId: 'r1', state: 'done', builds: [], fetches: [], errors: [], log: [], elapsedMs: Number.NaN },
    JSON.parse('{"type":"notice","level":"info","text":"x","__proto__":{"polluted":true}}'),
    { type: 'init', protocolVersion: 3, hosts: [], runs: [] },
    { type: 'runStarted', runId: 'x', flake: INFRA, host: 'web', kind: 'nixos', startedAt: 1 },
    'not an object',
    null,
  ],
};

// ---------------------------------------------------------------------------------------------------------

const failures: string[] = [];
let passes = 0;
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? '✔' : '✖'} ${what}`);
  if (ok) passes++;
  else failures.push(what);
}

async function deliver(p: Page, msg: unknown): Promise<void> {
  await p.evaluate(`window.__deliver(${JSON.stringify(msg)})`);
}

async function posted(p: Page): Promise<{ type: string; [k: string]: unknown }[]> {
  return (await p.evaluate('window.__posted')) as { type: string; [k: string]: unknown }[];
}

/** Counts elements by tag in the document and every open shadow root. */
const COUNT_TAGS = `(() => {
  const out = { img: 0, script: 0, iframe: 0, object: 0 };
  const walk = (root) => {
    for (const t of Object.keys(out)) out[t] += root.querySelectorAll(t).length;
    for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot);
  };
  walk(document);
  return out;
})()`;

function serve(files: Map<string, { type: string; body: string | Buffer }>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const f = files.get(path) ?? (path.startsWith('/dist/') ? readDist(path) : undefined);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' }).end(f.body);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
function readDist(path: string): { type: string; body: Buffer } | undefined {
  const name = path.slice('/dist/'.length);
  if (!/^webview\.(js|css)(\.map)?$/.test(name)) return undefined;
  try {
    return { type: TYPES[extname(name)] ?? 'application/octet-stream', body: readFileSync(join(ROOT, 'dist', name)) };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  for (const f of ['webview.js', 'webview.css'])
    if (!existsSync(join(ROOT, 'dist', f))) throw new Error(`dist/${f} is missing: run node scripts/build.mjs first`);
  mkdirSync(SHOTS, { recursive: true });

  const nonce = randomBytes(16).toString('base64url');
  const files = new Map<string, { type: string; body: string }>();
  const server = await serve(files);
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  files.set('/dark.html', { type: 'text/html', body: page(origin, nonce, DARK) });
  files.set('/light.html', { type: 'text/html', body: page(origin, nonce, LIGHT) });

  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 900, height: 1100 }, deviceScaleFactor: 1 });
    const p = await ctx.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
    });
    const blocked: string[] = [];
    p.on('requestfailed', (r) => blocked.push(r.url()));
    p.on('request', (r) => {
      if (!r.url().startsWith(origin)) blocked.push(`outside: ${r.url()}`);
    });

    await p.goto(`${origin}/dark.html`);
    await p.waitForFunction('window.__posted.length > 0');
    check((await posted(p))[0]?.type === 'ready', 'posts ready after rendering');
    check(
      JSON.stringify((await posted(p))[0]) === JSON.stringify({ type: 'ready', protocolVersion: 2 }),
      'ready carries the protocol version',
    );
    await p.screenshot({ path: join(SHOTS, 'empty-loading.png') });

    await deliver(p, messages.init);
    await p.waitForTimeout(100);
    await p.screenshot({ path: join(SHOTS, 'empty-with-hosts.png') });

    // Run: the selected host (db) is asked for.
    await p.locator('vscode-button.run').click();
    let last = (await posted(p)).at(-1);
    check(last?.type === 'run' && last.host === 'db' && last.flake === INFRA, `Run posts run {flake, host} (${JSON.stringify(last)})`);

    await deliver(p, messages.started1);
    await deliver(p, messages.finished1);
    await deliver(p, messages.started2);
    await deliver(p, messages.progress2);
    await p.waitForTimeout(150);
    await p.screenshot({ path: join(SHOTS, 'running-progress.png') });
    await deliver(p, messages.finished2);
    await deliver(p, messages.started3);
    await deliver(p, messages.progress3);
    await deliver(p, messages.notice);
    for (const m of messages.bad) await deliver(p, m);
    await p.waitForTimeout(1300);

    check((await p.locator('vscode-collapsible.card').count()) === 3, 'three result cards');
    const order = await p.evaluate(`[...document.querySelectorAll('vscode-collapsible.card')].map((c) => c.dataset.runId).join(',')`);
    check(order === 'r3,r2,r1', `newest first (${order})`);
    check(!(await p.evaluate(`({}).polluted === true`)), 'no prototype pollution');
    const headings = (await p.evaluate(`[...document.querySelectorAll('vscode-collapsible.card')].map((c) => c.heading)`)) as string[];
    check(headings[0] === HOSTILE_HOST, 'hostile host name is the heading text');
    const shadowText = (await p.evaluate(
      `document.querySelector('vscode-collapsible.card').shadowRoot.querySelector('.title').textContent`,
    )) as string;
    check(shadowText.includes(HOSTILE_HOST), 'hostile host name rendered as text in the header');
    const msgText = await p.locator('.error-message').first().textContent();
    check(msgText === HOSTILE_MESSAGE, 'error message with <script> shown verbatim as text');
    const liveTime = await p.locator('vscode-collapsible.card[data-run-id="r3"] .status-time').textContent();
    check(/^\d+\.\ds$/.test(liveTime ?? ''), `live elapsed time while evaluating (${liveTime})`);
    check((await p.locator('vscode-collapsible.card[data-run-id="r1"] .path-row').count()) === 8, '5 builds + 3 fetches listed');
    check(!(await p.locator('vscode-button.cancel').isHidden()), 'Cancel shown while running');
    check(
      await p.locator('vscode-button.run').evaluate((b) => (b as unknown as { disabled: boolean }).disabled),
      'Run disabled while running',
    );
    await p.screenshot({ path: join(SHOTS, 'dark-overview.png'), fullPage: true });

    // Cancel.
    await p.locator('vscode-button.cancel').click();
    last = (await posted(p)).at(-1);
    check(last?.type === 'cancel' && last.runId === 'r3', 'Cancel posts cancel {runId}');

    // Failed card: open the trace and the log, follow a location.
    const done = p.locator('vscode-collapsible.card[data-run-id="r1"]');
    const failed = p.locator('vscode-collapsible.card[data-run-id="r2"]');
    await failed.locator('details.trace > summary').first().click();
    await failed.locator('details.log > summary').click();
    await failed.locator('a.location').first().click();
    last = (await posted(p)).at(-1);
    check(
      JSON.stringify(last) === JSON.stringify({ type: 'open', file: `${INFRA}/hosts/db.nix`, line: 4, column: 3 }),
      `location link posts open (${JSON.stringify(last)})`,
    );
    await failed.locator('.frame a.location').first().click();
    last = (await posted(p)).at(-1);
    check(last?.type === 'open' && last.line === 3, 'trace frame link posts open');
    check((await failed.locator('.raw-log').textContent())?.includes('<img src=x onerror=alert(4)>') === true, 'raw log shown as text');
    await failed.locator('details.log > summary').hover();
    await failed.locator('details.log > summary .icon-button').click();
    last = (await posted(p)).at(-1);
    check(last?.type === 'copy' && String(last.text).split('\n').length === 4, 'copy log posts the log');
    check(
      await failed.locator('details.log').evaluate((d) => (d as unknown as { open: boolean }).open),
      'copying the log does not fold it',
    );
    const note = (await failed.locator('.omitted').textContent()) ?? '';
    check(
      /2,400 messages were left out \(12 errors among them/.test(note) && /not looked up: that took longer than 30s/.test(note),
      `the card says what the run left out (${note})`,
    );
    check(note.includes('<img src=x onerror=alert(5)>'), 'a reason from Nix in that note is text');
    check(
      (await failed.locator('details.log .section-extra').textContent()) === 'last 4 of 1,000 lines',
      'the raw log counts the lines before it',
    );
    check(await done.locator('.omitted').isHidden(), 'a card that left nothing out has no note');
    await failed.screenshot({ path: join(SHOTS, 'dark-failed.png') });

    // Done card: filter, copy.
    await done.locator('vscode-textfield.filter input').fill('nginx');
    await p.waitForTimeout(50);
    const rows = await done.locator('.path-row').count();
    check(rows === 3, `filter narrows both lists (nginx: ${rows} rows)`);
    await done.locator('.path-row').first().hover();
    await done.locator('.path-row').first().locator('.icon-button').click();
    last = (await posted(p)).at(-1);
    check(last?.type === 'copy' && last.text === builds[1], `copy button posts copy {text} (${JSON.stringify(last)})`);
    await done.screenshot({ path: join(SHOTS, 'dark-done-filtered.png') });

    // Collapse the done card.
    await done.locator('.collapsible-header').click();
    check(!(await done.evaluate((c) => (c as unknown as { open: boolean }).open)), 'card collapses on header click');

    // Picker: choose another host.
    await p.locator('vscode-single-select.picker').click();
    await p.waitForTimeout(150);
    await p.screenshot({ path: join(SHOTS, 'dark-picker-open.png') });
    await p.locator('vscode-single-select.picker li.option', { hasText: 'pi' }).click();
    last = (await posted(p)).at(-1);
    check(
      JSON.stringify(last) === JSON.stringify({ type: 'select', flake: LAB, host: 'pi' }),
      `picker posts select (${JSON.stringify(last)})`,
    );

    // State survives a reload: cards come back from getState() before the extension answers.
    await p.reload();
    await p.waitForFunction('window.__posted.length > 0');
    check((await p.locator('vscode-collapsible.card').count()) === 3, 'cards restored from getState after reload');
    check(!(await done.evaluate((c) => (c as unknown as { open: boolean }).open)), 'collapsed card stays collapsed after reload');
    check(
      (await done.locator('vscode-textfield.filter').evaluate((t) => (t as unknown as { value: string }).value)) === 'nginx',
      'filter restored',
    );
    check((await p.locator('.host-info').textContent())?.includes('lab') === true, 'selected host restored');
    // The extension re-sends state after ready: init replaces the cards.
    await deliver(p, { ...messages.init, selected: { flake: LAB, host: 'pi' }, runs: [] });
    await p.waitForTimeout(50);
    check((await p.locator('vscode-collapsible.card').count()) === 0, 'init replaces the cards');

    // home-manager configurations: grouped apart in the picker, run and shown with their kind.
    check((await p.locator('.picker-label').textContent()) === 'Configuration', 'the picker is labelled Configuration');
    await p.locator('vscode-single-select.picker').click();
    await p.waitForTimeout(150);
    const groups = (await p.evaluate(
      `[...document.querySelectorAll('vscode-single-select.picker vscode-option[disabled]')].map((o) => o.textContent)`,
    )) as string[];
    check(
      JSON.stringify(groups) === JSON.stringify(['INFRA · NIXOS', 'INFRA · HOME-MANAGER', 'LAB · NIXOS']),
      `hosts and home configurations in groups of their own (${JSON.stringify(groups)})`,
    );
    await p.screenshot({ path: join(SHOTS, 'dark-picker-home.png') });
    await p.locator('vscode-single-select.picker li.option', { hasText: 'alice@laptop' }).click();
    last = (await posted(p)).at(-1);
    check(
      JSON.stringify(last) === JSON.stringify({ type: 'select', flake: INFRA, host: 'alice@laptop', kind: 'home' }),
      `picking a home configuration posts select with its kind (${JSON.stringify(last)})`,
    );
    check((await p.locator('.host-info .host-kind').textContent()) === 'home-manager', 'the chosen configuration says home-manager');
    await p.locator('vscode-button.run').click();
    last = (await posted(p)).at(-1);
    check(
      JSON.stringify(last) === JSON.stringify({ type: 'run', flake: INFRA, host: 'alice@laptop', kind: 'home' }),
      `Run posts run with the kind (${JSON.stringify(last)})`,
    );
    await deliver(p, messages.startedHome);
    await deliver(p, messages.finishedHome);
    await p.waitForTimeout(100);
    const homeCard = p.locator('vscode-collapsible.card[data-run-id="r4"]');
    check(
      (await homeCard.locator('.installable').textContent()) === 'homeConfigurations."alice@laptop"',
      'the home card names homeConfigurations',
    );
    check(
      ((await homeCard.evaluate((c) => (c as unknown as { description: string }).description)) ?? '').includes('home-manager'),
      'the home card says home-manager',
    );
    await homeCard.locator('.collapsible-header').hover();
    await homeCard.locator('.card-actions .icon-button').first().click();
    last = (await posted(p)).at(-1);
    check(last?.type === 'run' && last.kind === 'home', `Dry Build Again on the home card keeps its kind (${JSON.stringify(last)})`);
    await p.screenshot({ path: join(SHOTS, 'dark-home.png'), fullPage: true });

    const tags = (await p.evaluate(COUNT_TAGS)) as Record<string, number>;
    check(tags.img === 0 && tags.iframe === 0 && tags.object === 0, `no <img>/<iframe>/<object> created (${JSON.stringify(tags)})`);
    check(tags.script === 2, `no <script> created from data (${tags.script} scripts: the stub and the bundle)`);
    const alerts = (await p.evaluate('window.__alerts')) as string[];
    check(alerts.length === 0 && dialogs.length === 0, 'no alert fired');
    check(errors.length === 0, `no page errors or console errors/warnings (${errors.join(' | ')})`);
    check(blocked.length === 0, `no failed or outside requests (${blocked.join(', ')})`);

    // Light theme and a narrow panel, for the eye.
    for (const [name, width] of [
      ['light', 900],
      ['dark-narrow', 420],
    ] as const) {
      const q = await ctx.newPage();
      await q.setViewportSize({ width, height: 1100 });
      await q.goto(`${origin}/${name.startsWith('light') ? 'light' : 'dark'}.html`);
      await q.evaluate('sessionStorage.clear()');
      await q.reload();
      await q.waitForFunction('window.__posted.length > 0');
      for (const m of [
        messages.init,
        messages.started1,
        messages.finished1,
        messages.started2,
        messages.finished2,
        messages.started3,
        messages.progress3,
      ])
        await deliver(q, m);
      await q.locator('vscode-collapsible.card[data-run-id="r2"] details.trace > summary').first().click();
      await q.waitForTimeout(300);
      await q.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
      await q.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`screenshots in ${SHOTS}`);
  console.log(`${passes} passed, ${failures.length} failed`);
  if (failures.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  console.log(`${passes} passed, ${failures.length + 1} failed`);
  process.exitCode = 1;
});
