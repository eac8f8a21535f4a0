import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, lineOf, nixDiagnostics, until, withStandInNix } from './helpers';
import type { DevShellState } from '../../../src/features/devShell';

const STORE_TOOL = (tool: string) => new RegExp(`^/nix/store/[a-z0-9]{32}-${tool}/bin/${tool}$`);

function folder(): vscode.WorkspaceFolder {
  const dir = fixture('devshell');
  const f = vscode.workspace.workspaceFolders?.find((w) => w.uri.fsPath === dir);
  if (!f) throw new Error('the devshell fixture is not a workspace folder');
  return f;
}

async function select(shell: string | null): Promise<DevShellState> {
  const s = await vscode.commands.executeCommand<DevShellState | undefined>('nixFlakes.devShell.select', { folder: folder().uri, shell });
  assert.ok(s, 'select returns the state');
  return s;
}

async function reload(): Promise<DevShellState> {
  const s = await vscode.commands.executeCommand<DevShellState | undefined>('nixFlakes.devShell.reload', { folder: folder().uri });
  assert.ok(s, 'reload returns the state');
  return s;
}

/**
 * The nix runs for the fixture's dev shells started at or after `t0` (the Outputs view may list the flake meanwhile,
 * after a test restored flake.nix; that is not the shell's doing).
 */
async function shellRunsSince(t0: number): Promise<string[]> {
  const api = await extension();
  const nix = await api.nix();
  const path = nix.ok ? nix.nix.path : 'nix';
  return api
    .recentRuns()
    .filter(
      (r) =>
        r.startedAt >= t0 &&
        r.command.startsWith(path) &&
        !/ flake (show|metadata) /.test(r.command) &&
        r.command.includes(fixture('devshell')),
    )
    .map((r) => r.command);
}

const SCRIPT = (out: string) =>
  `{ command -v shell-tool || echo none; command -v other-tool || echo none; echo "probe=$PROBE_VAR"; echo "other=$OTHER_VAR"; echo "path=$PATH"; } > '${out}.tmp' 2>&1; mv '${out}.tmp' '${out}'`;

interface Seen {
  shellTool: string;
  otherTool: string;
  probe: string;
  other: string;
  path: string;
}

/** What a process started by `start` in the fixture's folder sees: which tools PATH resolves, and the variables. */
async function seen(start: (script: string) => Promise<unknown>): Promise<Seen> {
  // New terminals and tasks get the shell of the folder the user works in: the last active editor's (VS Code scopes
  // the collection by it, not by the terminal's cwd).
  await vscode.window.showTextDocument(vscode.Uri.file(join(fixture('devshell'), 'flake.nix')), { preview: true, preserveFocus: false });
  const dir = mkdtempSync(join(tmpdir(), 'nix-flakes-devshell-'));
  const out = join(dir, 'seen');
  try {
    await start(SCRIPT(out));
    await until(`${out} to be written`, () => existsSync(out), 30_000);
    const [shellTool = '', otherTool = '', probe = '', other = '', path = ''] = readFileSync(out, 'utf8').split('\n');
    return {
      shellTool,
      otherTool,
      probe: probe.replace(/^probe=/, ''),
      other: other.replace(/^other=/, ''),
      path: path.replace(/^path=/, ''),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A new terminal of the folder (its environment is the collection's, scoped to the folder). */
function inTerminal(): Promise<Seen> {
  return seen(async (script) => {
    const t = vscode.window.createTerminal({ name: 'dev shell probe', cwd: folder().uri, shellPath: '/bin/sh', shellArgs: ['-c', script] });
    setTimeout(() => t.dispose(), 20_000);
  });
}

/** A shell task of the folder. */
function inTask(): Promise<Seen> {
  return seen(async (script) => {
    const task = new vscode.Task(
      { type: 'shell', probe: Date.now() },
      folder(),
      'dev shell probe',
      'devshell-test',
      new vscode.ShellExecution(script, { cwd: folder().uri.fsPath }),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Never };
    await vscode.tasks.executeTask(task);
  });
}

/**
 * Waits until a new terminal sees what `want` says: the collection reaches the terminal service a moment after it
 * changed, and only terminals created after that get it.
 */
async function terminalSees(want: (s: Seen) => boolean, what: string): Promise<Seen> {
  let last: Seen | undefined;
  for (let i = 0; i < 5; i++) {
    last = await inTerminal();
    if (want(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`a new terminal does not see ${what}: ${JSON.stringify(last)}`);
}

describe('Dev shells in the editor', () => {
  const flakeNix = () => join(fixture('devshell'), 'flake.nix');
  let original = '';
  before(() => {
    original = readFileSync(flakeNix(), 'utf8');
  });
  afterEach(() => {
    if (readFileSync(flakeNix(), 'utf8') !== original) writeFileSync(flakeNix(), original);
  });
  after(async () => {
    await vscode.commands.executeCommand('nixFlakes.devShell.select', { folder: folder().uri, shell: null });
  });

  it('the default shell: a new terminal and a task resolve its tool to the store path and see its variable', async () => {
    const api = await extension();
    const t0 = Date.now();
    const s = await select('default');
    assert.equal(s.shell, 'default');
    assert.equal(s.error, undefined, s.error);
    assert.equal(s.variables?.PROBE_VAR, 'set by the default shell');
    for (const v of ['HOME', 'TMPDIR', 'NIX_BUILD_TOP', 'TERM', 'out']) assert.ok(!(v in (s.variables ?? {})), `${v} is not applied`);
    const runs = await shellRunsSince(t0);
    assert.ok(
      runs.some((c) =>
        / print-dev-env .*--json --profile \S+\/devshells\/devshell-[0-9a-f]{32} \S+#devShells\.x86_64-linux\.default$/.test(c),
      ),
      `print-dev-env with a profile in the extension's storage: ${runs.join(' | ')}`,
    );
    assert.ok(api.devShells.loads >= 1);

    const t = await terminalSees((x) => STORE_TOOL('shell-tool').test(x.shellTool), 'the shell tool');
    assert.equal(t.probe, 'set by the default shell');
    assert.equal(t.otherTool, 'none');
    const k = await inTask();
    assert.match(k.shellTool, STORE_TOOL('shell-tool'), JSON.stringify(k));
    assert.equal(k.probe, 'set by the default shell');
    // PATH is prepended, not replaced: the user's PATH follows the shell's.
    assert.ok(t.path.startsWith(`${s.variables?.PATH}:`) && t.path.length > `${s.variables?.PATH}:`.length, t.path);
  });

  it('switching to the other shell, back (from its cache: no nix), and to none', async () => {
    await select('default');
    const o = await select('other');
    assert.equal(o.error, undefined, o.error);
    assert.equal(o.variables?.OTHER_VAR, 'set by the other shell');
    assert.ok(!('PROBE_VAR' in (o.variables ?? {})));
    const t = await terminalSees((x) => STORE_TOOL('other-tool').test(x.otherTool), 'the other tool');
    assert.equal(t.shellTool, 'none', 'the first shell is gone');
    assert.equal(t.probe, '');
    assert.equal(t.other, 'set by the other shell');

    const t0 = Date.now();
    const back = await select('default');
    assert.equal(back.fromCache, true, 'applied from its cache');
    assert.deepEqual(await shellRunsSince(t0), [], 'no nix to switch back');
    await terminalSees((x) => STORE_TOOL('shell-tool').test(x.shellTool) && x.other === '', 'the default shell again');

    const none = await select(null);
    assert.equal(none.shell, undefined);
    assert.equal(none.variables, undefined);
    const n = await terminalSees((x) => x.shellTool === 'none' && x.otherTool === 'none', 'no shell');
    assert.equal(n.probe, '');
    assert.equal(n.other, '');
  });

  it('a change to flake.nix marks it stale; a reload with nothing changed runs no nix', async () => {
    const api = await extension();
    await select('default');
    let s = await api.devShells.whenIdle(folder());
    await until('the shell to be current', () => !api.devShells.state(folder()).stale, 10_000);
    const loads = api.devShells.loads;
    const t0 = Date.now();
    s = await reload();
    assert.equal(s.stale, false);
    assert.deepEqual(await shellRunsSince(t0), [], 'no nix for a reload with nothing changed');
    assert.equal(api.devShells.loads, loads);

    writeFileSync(flakeNix(), `${original}\n# an edit\n`);
    await until('the shell to be marked stale', () => api.devShells.state(folder()).stale, 15_000);
    const item = api.devShells.state(folder());
    assert.equal(item.variables?.PROBE_VAR, 'set by the default shell', 'the environment stays until it is reloaded');
    // The edit undone: current again.
    writeFileSync(flakeNix(), original);
    await until('the shell to be current again', () => !api.devShells.state(folder()).stale, 15_000);
  });

  it("a file edited while the shell evaluates: the environment is not kept as that state's (it stays stale)", async () => {
    const api = await extension();
    await select('default');
    await api.devShells.whenIdle(folder());
    // A nix that, once print-dev-env has read the flake, edits flake.nix: an edit made while the shell evaluated.
    const arms = (real: string) =>
      `  *" print-dev-env "*) '${real}' "$@"; s=$?; printf '\\n# edited while nix ran\\n' >> '${flakeNix()}'; exit $s ;;`;
    await withStandInNix(arms, async () => {
      writeFileSync(flakeNix(), `${original}\n# an edit\n`);
      await until('the shell to be marked stale', () => api.devShells.state(folder()).stale, 15_000);
      const loads = api.devShells.loads;
      await reload();
      assert.equal(api.devShells.loads, loads + 1, 'nix evaluated the shell');
      assert.match(readFileSync(flakeNix(), 'utf8'), /# edited while nix ran/);
      // However late the watcher reports the edit, the state nix saw is not the one on disk now.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(api.devShells.state(folder()).stale, true, 'stale: made from the files before the edit');
    });
  });

  it('a broken shell keeps the previous environment and shows its error at its definition', async () => {
    const api = await extension();
    await select('default');
    const broken = original.replace('PROBE_VAR = "set by the default shell";', 'PROBE_VAR = throw "the dev shell is broken";');
    assert.notEqual(broken, original);
    writeFileSync(flakeNix(), broken);
    await until('the shell to be marked stale', () => api.devShells.state(folder()).stale, 15_000);
    const s = await reload();
    assert.match(s.error ?? '', /the dev shell is broken/);
    assert.equal(s.variables?.PROBE_VAR, 'set by the default shell', 'the previous environment stays');
    const d = await until(
      'the error in Problems',
      () => nixDiagnostics(flakeNix())?.filter((x) => /the dev shell is broken/.test(x.message)),
      30_000,
    );
    const lines = [lineOf(flakeNix(), 'PROBE_VAR = throw'), lineOf(flakeNix(), 'devShells.x86_64-linux.default')];
    assert.ok(
      d.some((x) => lines.includes(x.range.start.line)),
      `at ${d.map((x) => x.range.start.line).join(', ')}, expected one of ${lines.join(', ')}`,
    );
    const t = await inTerminal();
    assert.equal(t.probe, 'set by the default shell', 'new terminals still get the previous environment');

    writeFileSync(flakeNix(), original);
    const fixed = await reload();
    assert.equal(fixed.error, undefined);
    assert.equal(fixed.variables?.PROBE_VAR, 'set by the default shell');
    await until('the error to be gone', () => !nixDiagnostics(flakeNix())?.some((x) => /the dev shell is broken/.test(x.message)), 10_000);
  });

  it('applied to the extension host when asked (what other extensions start inherits it), and taken back', async () => {
    const config = vscode.workspace.getConfiguration('nixFlakes');
    const before = { PATH: process.env.PATH, PROBE_VAR: process.env.PROBE_VAR };
    assert.equal(before.PROBE_VAR, undefined);
    const s = await select('default');
    assert.equal(process.env.PROBE_VAR, undefined, 'not applied to the extension host by default');
    try {
      await config.update('devShell.applyToExtensionHost', true, vscode.ConfigurationTarget.Global);
      await until('the extension host to get the shell', () => process.env.PROBE_VAR === 'set by the default shell', 10_000);
      assert.equal(process.env.PATH, `${s.variables?.PATH}:${before.PATH}`, 'PATH prepended');
      await select(null);
      assert.equal(process.env.PROBE_VAR, undefined, 'none restores it');
      assert.equal(process.env.PATH, before.PATH);
      await select('default');
      assert.equal(process.env.PROBE_VAR, 'set by the default shell');
    } finally {
      await config.update('devShell.applyToExtensionHost', undefined, vscode.ConfigurationTarget.Global);
    }
    await until('the setting off to restore the extension host', () => process.env.PROBE_VAR === undefined, 10_000);
    assert.equal(process.env.PATH, before.PATH);
  });
});
