// Runs an extension's test suite inside a real VS Code extension host (code-server + headless Chromium), through
// VS Code's own web test mechanism: the workbench URL carries `extensionDevelopmentPath` and `extensionTestsPath`;
// the workbench reports log lines and the exit code through window.codeAutomationLog / codeAutomationExit.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { format } from 'node:util';
import { launchBrowser, startCodeServer } from './codeserver';
import { BEGIN_MARK, END_MARK } from './marks';

export interface RunTestsOptions {
  extensionDevelopmentPath: string;
  extensionTestsPath: string;
  /** A folder or a .code-workspace file to open. */
  workspace: string;
  timeoutSeconds?: number;
  screenshot?: string;
  env?: NodeJS.ProcessEnv;
  verbose?: boolean;
  /** Keep the run's data folder: true always, false never, undefined only when the run failed. */
  keep?: boolean;
  /** Workspace Trust on: the workspace opens in Restricted Mode (default off, as VS Code's own tests run). */
  trust?: boolean;
  /** Where each line of test output goes (default: stdout). */
  out?: (line: string) => void;
}

export interface RunTestsResult {
  /** 0 pass, 1 test failures or an extension-host crash, 2 harness error or timeout. */
  exitCode: number;
  passed: number;
  failed: number;
  skipped: number;
}

export async function runTests(o: RunTestsOptions): Promise<RunTestsResult> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const t0 = Date.now();
  const runDir = mkdtempSync(join(process.env.NIX_FLAKES_TEST_TMP ?? tmpdir(), 'nix-flakes-vscode-'));
  const timings: string[] = [];
  const mark = (what: string) => timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  let server: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let exitCode = 2;
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const countLine = (line: string) => {
    const m = /^\s*(\d+) (passing|failing|pending)\b/.exec(line);
    if (m) counts[m[2] === 'passing' ? 'passed' : m[2] === 'failing' ? 'failed' : 'skipped'] = Number(m[1]);
  };
  try {
    server = await startCodeServer({
      runDir,
      env: o.env,
      trust: o.trust,
      onLog: (l) => o.verbose && process.stderr.write(`[code-server] ${l}\n`),
    });
    mark('server');
    browser = await launchBrowser(runDir);
    mark('browser');
    const page = browser.page;
    let done: (code: number) => void = () => {};
    const finished = new Promise<number>((r) => (done = r));
    let inSuite = false;
    await browser.context.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      for (const line of text.split('\n')) {
        if (line.includes(BEGIN_MARK)) inSuite = true;
        else if (line.includes(END_MARK)) inSuite = false;
        else if (inSuite) {
          countLine(line);
          out(line);
        } else if (o.verbose) out(`[workbench] ${line}`);
      }
    });
    await browser.context.exposeFunction('codeAutomationExit', (code: number) => done(code));
    if (o.verbose) page.on('console', (m) => process.stderr.write(`[browser] ${m.text()}\n`));
    await page.goto(
      server.workbenchUrl(resolve(o.workspace), [
        ['extensionDevelopmentPath', server.remoteUri(resolve(o.extensionDevelopmentPath))],
        ['extensionTestsPath', server.remoteUri(resolve(o.extensionTestsPath))],
        ['skipWelcome', 'true'],
      ]),
    );
    mark('workbench');
    const timeout = new Promise<number>((r) => setTimeout(() => r(-1), (o.timeoutSeconds ?? 300) * 1000).unref());
    const code = await Promise.race([finished, timeout]);
    mark('tests');
    if (code === -1) {
      out(`[harness] timed out after ${o.timeoutSeconds ?? 300} s`);
      exitCode = 2;
    } else {
      exitCode = code === 0 ? 0 : 1;
    }
    // A tests entry that calls process.exit() makes the workbench report 0: trust the server's log instead, once the
    // extension host's exit is in it (it is logged as the host goes down; bounded, in case it never is).
    if (!extensionHostRunning(server.process.pid)) {
      for (const end = Date.now() + 5000; server.extensionHostExits.length === 0 && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 50));
    }
    const crash = server.extensionHostExits.find((e) => e.code !== 0 || (e.signal !== 'null' && e.signal !== 'undefined'));
    if (crash) {
      out(`[harness] the extension host exited with code ${crash.code}, signal ${crash.signal}`);
      exitCode = Math.max(exitCode, 1);
    }
    if (exitCode === 0 && counts.passed === 0) {
      out('[harness] no test passed: the suite did not run');
      exitCode = 1;
    }
    if (exitCode !== 0 && counts.failed === 0) counts.failed = 1;
    if (o.screenshot) {
      mkdirSync(dirname(o.screenshot), { recursive: true });
      await page.screenshot({ path: o.screenshot });
    }
  } catch (e) {
    out(`[harness] ${(e as Error).stack ?? e}`);
    exitCode = 2;
    counts.failed = Math.max(counts.failed, 1);
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    process.stderr.write(`[harness] exit code ${exitCode} (${timings.join(', ')})\n`);
    if (o.keep === false || (!o.keep && exitCode === 0)) rmSync(runDir, { recursive: true, force: true });
    else process.stderr.write(`[harness] run data kept in ${runDir}\n`);
  }
  return { exitCode, ...counts };
}

/** Whether an extension host process runs below the server `root` (the process ids' parent chain in /proc). */
function extensionHostRunning(root: number | undefined): boolean {
  if (root === undefined) return false;
  const parent = (pid: number): number | undefined => {
    try {
      // The command name in parentheses may hold spaces: the fields after the last ')' are state, then ppid.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return undefined;
    }
  };
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes('extensionHost')) continue;
    for (let p: number | undefined = Number(name), i = 0; p && p > 1 && i < 20; p = parent(p), i++) if (p === root) return true;
  }
  return false;
}
