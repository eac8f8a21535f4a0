// Starts a real VS Code (code-server 4.100.3: the VS Code 1.100 server, web workbench and Node extension host) and
// a headless Debian Chromium driven by playwright-core. Used by the in-host test runner, the UI tests and `npm start`.
import { spawn, ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.100.3';

/** Where scripts/install-code-server.sh puts code-server. */
export function codeServerDir(): string {
  if (process.env.CODE_SERVER_DIR) return process.env.CODE_SERVER_DIR;
  const cache = process.env.NIX_FLAKES_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nix-flakes-dev');
  return join(cache, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server');
}

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface CodeServerOptions {
  /** A fresh folder for this run's data (user data, extensions, logs). */
  runDir?: string;
  /** Workspace Trust on (Restricted Mode possible). Default off, as VS Code's own extension tests run. */
  trust?: boolean;
  /** Extra environment for the server and so for the extension host (e.g. NIX_CONFIG). */
  env?: NodeJS.ProcessEnv;
  /** User settings merged over the defaults. */
  settings?: Record<string, unknown>;
  /** Fixed port (default: a free one). */
  port?: number;
  /** Called with every line code-server prints. */
  onLog?: (line: string) => void;
}

export interface CodeServer {
  url: string;
  port: number;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  process: ChildProcess;
  /** Extension host exits seen in the server log: `Extension Host Process exited with code: N, signal: S`. */
  extensionHostExits: { code: number; signal: string }[];
  /** Installs a VSIX into this server's extensions folder (before the workbench is opened). */
  installVsix(vsix: string): Promise<void>;
  /** The workbench URL for a folder or .code-workspace, with an optional test payload. */
  workbenchUrl(target: string, payload?: [string, string][]): string;
  /** A vscode-remote URI for a path on this machine, as the payload needs. */
  remoteUri(path: string): string;
  stop(): Promise<void>;
}

const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'always',
  'window.commandCenter': false,
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

function isolatedEnv(runDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EXTENSIONS_GALLERY: '{}',
    XDG_DATA_HOME: join(runDir, 'xdg-data'),
    XDG_CONFIG_HOME: join(runDir, 'xdg-config'),
    XDG_CACHE_HOME: join(runDir, 'xdg-cache'),
    ...extra,
  };
}

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  const dir = codeServerDir();
  const entry = join(dir, 'out', 'node', 'entry.js');
  if (!existsSync(entry)) {
    throw new Error(
      `code-server ${CODE_SERVER_VERSION} is not installed at ${dir}: run scripts/install-code-server.sh (or set CODE_SERVER_DIR)`,
    );
  }
  const runDir = opts.runDir ?? mkdtempSync(join(tmpdir(), 'nix-flakes-vscode-'));
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = join(runDir, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });
  // The extension host is "remote": machine-scoped settings are read from Machine/, the rest from User/.
  // A test run pointed at one nix (NIX_FLAKES_TEST_NIX) gives it to the extension, which does not see the PATH.
  const testNix = opts.env?.NIX_FLAKES_TEST_NIX ?? process.env.NIX_FLAKES_TEST_NIX;
  const settings = { ...DEFAULT_SETTINGS, ...(testNix ? { 'nixFlakes.nixPath': testNix } : {}), ...opts.settings };
  for (const scope of ['User', 'Machine']) {
    mkdirSync(join(userDataDir, scope), { recursive: true });
    writeFileSync(join(userDataDir, scope, 'settings.json'), JSON.stringify(settings, null, 2));
  }
  const config = join(runDir, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const port = opts.port ?? (await freePort());
  const env = isolatedEnv(runDir, opts.env);
  const base = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const args = [
    entry,
    ...base,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--ignore-last-opened',
    ...(opts.trust ? [] : ['--disable-workspace-trust']),
  ];
  const logFile = join(runDir, 'code-server.log');
  const log = createWriteStream(logFile);
  const proc = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exits: { code: number; signal: string }[] = [];
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      const m = /Extension Host Process exited with code: (\S+), signal: (\S+)/.exec(line);
      if (m) exits.push({ code: Number(m[1]), signal: m[2].replace(/\.$/, '') });
      opts.onLog?.(line);
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exited = false;
  proc.once('exit', () => (exited = true));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited during start-up; see ${logFile}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not become healthy in 60 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 150));
  }

  const remoteUri = (p: string) => `vscode-remote://127.0.0.1:${port}${encodeURI(p)}`;
  return {
    url,
    port,
    runDir,
    userDataDir,
    extensionsDir,
    logFile,
    process: proc,
    extensionHostExits: exits,
    remoteUri,
    async installVsix(vsix: string) {
      await new Promise<void>((resolve, reject) => {
        const p = spawn(process.execPath, [entry, ...base, '--install-extension', vsix, '--force'], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (out += d));
        p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`installing ${vsix} failed (${code}):\n${out}`))));
      });
    },
    workbenchUrl(target: string, payload?: [string, string][]) {
      const q = new URLSearchParams();
      q.set(target.endsWith('.code-workspace') ? 'workspace' : 'folder', target);
      if (payload) q.set('payload', JSON.stringify(payload));
      return `${url}/?${q.toString()}`;
    },
    async stop() {
      if (exited || proc.pid === undefined) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await gone;
      clearTimeout(t);
      log.end();
    },
  };
}

const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--no-pings',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Launches headless Debian Chromium with a fresh profile. */
export async function launchBrowser(runDir: string, viewport = { width: 1400, height: 860 }): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  if (!existsSync(chromiumPath())) {
    throw new Error(`Chromium not found at ${chromiumPath()}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  const profile = join(runDir, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: BROWSER_ARGS,
    viewport,
    env: { ...process.env, XDG_CONFIG_HOME: join(profile, 'xdg-config'), XDG_CACHE_HOME: join(profile, 'xdg-cache') } as Record<
      string,
      string
    >,
  });
  // As a user who allowed the page the clipboard (Copy commands read and write it; headless, a prompt would hang).
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close: () => context.close() };
}
