import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, label, lineOf, nixDiagnostics, settled, until } from './helpers';
import { commitAll, copyFixture, processesWith, runMarker, scratchDir } from '../../support/nix';
import type { Node } from '../../../src/features/outputs/view';

const scratch = () => mkdtempSync(join(tmpdir(), 'nix-flakes-probe-'));

async function children(node?: Node): Promise<Node[]> {
  const api = await extension();
  return api.outputs.provider.getChildren(node);
}

describe('Flake Outputs', () => {
  it('lists every output type of the example flake, with icons and descriptions', async () => {
    const api = await extension();
    const flake = await flakeOf('hello');
    const s = await api.outputs.service.ensure(flake);
    assert.deepEqual(s.errors, []);
    const names = s.model!.categories.map((c) => c.name);
    for (const c of [
      'apps',
      'checks',
      'devShells',
      'formatter',
      'nixosConfigurations',
      'nixosModules',
      'overlays',
      'packages',
      'templates',
    ]) {
      assert.ok(names.includes(c), `${c} in ${names.join(', ')}`);
    }
    const roots = await children();
    const root = roots.find((n) => n.kind === 'flake' && n.flake.uri.fsPath === flake.uri.fsPath)!;
    assert.ok(root, 'one root per flake in a multi-root workspace');
    const cats = await children(root);
    const items = cats.map((c) => api.outputs.provider.getTreeItem(c));
    const packages = cats[items.findIndex((i) => label(i) === 'Packages')];
    assert.ok(packages, `categories: ${items.map(label).join(', ')}`);
    const leaves = await children(packages);
    const hello = leaves.map((l) => api.outputs.provider.getTreeItem(l)).find((i) => label(i) === 'hello')!;
    assert.match(String(hello.description), /hello-2\.12 — A program that greets the world/);
    assert.match(String(hello.contextValue), /^nix:output:derivation:build:run:develop/);
    const hosts = await children(cats[items.findIndex((i) => label(i) === 'NixOS Configurations')]);
    const hostItems = hosts.map((h) => api.outputs.provider.getTreeItem(h));
    assert.deepEqual(hostItems.map(label).sort(), ['db', 'web']);
    assert.match(String(hostItems[0].contextValue), /:build.*:host/);
  });

  it('builds a package and reports its output path', async () => {
    const flake = await flakeOf('builds');
    const outcome = await vscode.commands.executeCommand<{
      status: string;
      outputs: Record<string, string>;
      errors: { kind: string; message: string }[];
      lastLines: string[];
    }>('nixFlakes.build', {
      flake,
      attrPath: ['packages', 'x86_64-linux', 'ok'],
      display: '.#ok',
    });
    assert.equal(
      outcome.status,
      'built',
      `errors: ${JSON.stringify(outcome.errors.map((e) => `${e.kind}: ${e.message}`))}; last lines: ${outcome.lastLines.join(' | ')}`,
    );
    assert.match(outcome.outputs.out, /^\/nix\/store\/[0-9a-z]{32}-ok$/);
    assert.ok(existsSync(outcome.outputs.out));
    assert.ok(!existsSync(join(flake.uri.fsPath, 'result')), 'no result link by default');
  });

  it('puts a failing build in Problems at the derivation, with its last log lines', async () => {
    const flake = await flakeOf('builds');
    const outcome = await vscode.commands.executeCommand<{ status: string; lastLines: string[]; errors: { kind: string }[] }>(
      'nixFlakes.build',
      {
        flake,
        attrPath: ['packages', 'x86_64-linux', 'fails'],
        display: '.#fails',
      },
    );
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.errors[0]?.kind, 'builder-failed');
    assert.ok(outcome.lastLines.includes('the second line'), outcome.lastLines.join('|'));
    const file = join(flake.uri.fsPath, 'flake.nix');
    const line = lineOf(file, 'meta.description = "A package whose build fails"');
    const diag = await until('the builder-failed diagnostic of .#fails', () =>
      nixDiagnostics(file)?.find((d) => d.code === 'builder-failed' && /exit code 3/.test(d.message) && d.range.start.line === line),
    );
    assert.match(diag.message, /the second line/, "the diagnostic carries the builder's last lines");
  });

  it('a builder that cannot start in the sandbox: no control character reaches the user, and the message says what it means', async () => {
    const dir = copyFixture('errors');
    // A tree no earlier run has built (binSh's output depends on it).
    writeFileSync(join(dir, 'nonce'), `${process.pid} ${Date.now()}\n`);
    commitAll(dir, 'nonce');
    const flake = { uri: vscode.Uri.file(dir), folder: vscode.workspace.workspaceFolders![0], label: 'errors' };
    const config = process.env.NIX_CONFIG ?? '';
    process.env.NIX_CONFIG = `${config}\nsandbox = true\nsandbox-paths =`;
    try {
      const outcome = await vscode.commands.executeCommand<{ status: string; errors: { message: string }[]; lastLines: string[] }>(
        'nixFlakes.build',
        {
          flake,
          attrPath: ['packages', 'x86_64-linux', 'binSh'],
          display: '.#binSh',
        },
      );
      assert.equal(outcome.status, 'failed');
      const texts = [...outcome.errors.map((e) => e.message), ...outcome.lastLines];
      for (const t of texts) assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(t), `a control character in ${JSON.stringify(t)}`);
      assert.match(texts.join('\n'), /executing '\/bin\/sh'/);
      assert.match(texts.join('\n'), /sandbox has no \/bin\/sh/);
      const diags = vscode.languages
        .getDiagnostics()
        .flatMap(([, d]) => d)
        .filter((d) => d.source === 'nix');
      for (const d of diags)
        assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(d.message), `a control character in Problems: ${JSON.stringify(d.message)}`);
    } finally {
      process.env.NIX_CONFIG = config;
    }
  });

  it('builds of different outputs run together; a second build of the same output is the running one; cancel leaves no process', async () => {
    const api = await extension();
    const flake = await flakeOf('builds');
    const slow = { flake, attrPath: ['packages', 'x86_64-linux', 'slow'], display: '.#slow' };
    const nixBuilds = () => processesWith(flake.uri.fsPath).filter((p) => / build .*#packages\.x86_64-linux\.slow\b/.test(p.cmd));
    const pending = vscode.commands.executeCommand<{ status: string }>('nixFlakes.build', slow);
    await until('the slow builder to run', () => processesWith(runMarker()).length >= 2, 60_000);
    const again = vscode.commands.executeCommand<{ status: string }>('nixFlakes.build', slow);
    assert.ok(api.outputs.builds.isRunning(slow));
    // Another output builds to its end meanwhile.
    const other = await vscode.commands.executeCommand<{ status: string }>('nixFlakes.build', {
      flake,
      attrPath: ['packages', 'x86_64-linux', 'ok'],
      display: '.#ok',
    });
    assert.equal(other.status, 'built');
    assert.ok(processesWith(runMarker()).length >= 2, 'the slow build is still running');
    assert.equal(
      nixBuilds().length,
      1,
      `one nix build of .#slow for both requests: ${nixBuilds()
        .map((p) => p.cmd)
        .join(' ; ')}`,
    );
    api.outputs.builds.cancelAll();
    const outcome = await pending;
    assert.equal(outcome.status, 'cancelled');
    assert.equal((await again).status, 'cancelled', 'the second request was the same build');
    await until('every builder to be gone', () => processesWith(runMarker()).length === 0 && nixBuilds().length === 0, 15_000);
  });

  it('lists what still evaluates when one output is broken, and marks the broken ones', async () => {
    const api = await extension();
    const flake = await flakeOf('broken');
    await api.outputs.service.evaluate(flake, { force: true });
    const s = api.outputs.service.get(flake);
    assert.ok(s.errors.length > 0, 'nix flake show failed');
    assert.ok(s.partial);
    const key = (...p: string[]) => p.join('\0');
    assert.ok(s.broken.has(key('packages', 'x86_64-linux', 'missing')), [...s.broken.keys()].join(', '));
    assert.ok(s.broken.has(key('packages', 'x86_64-linux', 'thrown')));
    assert.ok(!s.broken.has(key('packages', 'x86_64-linux', 'good')));
    const leaves = s.model!.categories.flatMap((c) => c.leaves.map((l) => l.attrPath.join('.')));
    assert.ok(
      leaves.includes('packages.x86_64-linux.good') &&
        leaves.includes('packages.x86_64-linux.zzz') &&
        leaves.includes('checks.x86_64-linux.fine'),
      leaves.join(', '),
    );
    // A refresh of this flake started in the background (a setting another test changed) may still run: its
    // guarded listing is slow on older Nix, and Problems are set when it ends.
    await settled(flake);
    const diags = await until('the evaluation error in Problems', () => nixDiagnostics(join(flake.uri.fsPath, 'flake.nix')), 60_000);
    assert.match(diags[0].message, /attribute 'version' missing/);
    assert.equal(
      diags[0].range.start.line,
      readFileSync(join(flake.uri.fsPath, 'flake.nix'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('cfg.version')),
    );
  });

  it('keeps the last good tree when an edit breaks evaluation, with the error in Problems', async () => {
    const api = await extension();
    const flake = await flakeOf('hello');
    const file = join(flake.uri.fsPath, 'flake.nix');
    const good = readFileSync(file, 'utf8');
    const leaves = (s: { model?: { categories: { leaves: { attrPath: string[] }[] }[] } }) =>
      (s.model?.categories ?? []).flatMap((c) => c.leaves.map((l) => l.attrPath.join('.'))).sort();
    await api.outputs.service.evaluate(flake, { force: true });
    const before = await settled(flake);
    assert.deepEqual(before.errors, []);
    const goodLeaves = leaves(before);
    assert.ok(goodLeaves.includes('packages.x86_64-linux.hello'), goodLeaves.join(', '));
    try {
      writeFileSync(
        file,
        good.replace(
          'greeting = import ./pkgs/greeting.nix { inherit lib; };',
          'greeting = import ./pkgs/greeting.nix { inherit lib; } ;;',
        ),
      );
      const s = await settled(flake);
      assert.equal(s.errors[0]?.kind, 'syntax-error', JSON.stringify(s.errors));
      assert.deepEqual(leaves(s), goodLeaves, 'the last good listing is kept');
      const line = good.split('\n').findIndex((l) => l.includes('greeting = import'));
      await until('the syntax error in Problems at its line', () => nixDiagnostics(file)?.find((d) => d.range.start.line === line));
    } finally {
      writeFileSync(file, good);
    }
    const after = await settled(flake);
    assert.deepEqual(after.errors, []);
    assert.deepEqual(leaves(after), goodLeaves);
    await until('a good evaluation to clear the diagnostics', () => !nixDiagnostics(file));
  });

  it('a storm of 100 saves in a second evaluates at most twice', async () => {
    const api = await extension();
    const flake = await flakeOf('hello');
    const file = join(flake.uri.fsPath, 'pkgs', 'greeting.nix');
    const text = readFileSync(file, 'utf8');
    const count = () => api.outputs.service.evaluations.get(flake.uri.toString()) ?? 0;
    await settled(flake);
    const before = count();
    try {
      // 100 saves spread over a second, each waiting for the file system to take it (no fixed sleeps).
      const t0 = Date.now();
      for (let i = 0; i < 100; i++) {
        writeFileSync(file, `${text}# save ${i}\n`);
        const due = t0 + (i + 1) * 10;
        while (Date.now() < due) await new Promise((r) => setImmediate(r));
      }
      // Idle, and current with the last save (the debounce then has nothing left to do).
      const s = await settled(flake);
      assert.deepEqual(s.errors, []);
      assert.ok(count() - before >= 1, 'the saves were noticed');
      assert.ok(count() - before <= 2, `${count() - before} evaluations`);
    } finally {
      writeFileSync(file, text);
    }
    await settled(flake);
  });

  it('an unchanged flake is shown from the cache without running nix', async () => {
    const api = await extension();
    const flake = await flakeOf('builds');
    await api.outputs.service.evaluate(flake, { force: true });
    const count = api.outputs.service.evaluations.get(flake.uri.toString());
    await api.outputs.service.evaluate(flake);
    assert.equal(api.outputs.service.evaluations.get(flake.uri.toString()), count);
    assert.ok(api.outputs.service.get(flake).fromCache);
  });

  it('never writes flake.lock when refreshing', async () => {
    const api = await extension();
    const flake = await flakeOf('unlocked');
    await api.outputs.service.evaluate(flake, { force: true });
    assert.deepEqual(api.outputs.service.get(flake).errors, []);
    assert.ok(!existsSync(join(fixture('unlocked'), 'flake.lock')), 'no flake.lock was written');
  });
});

describe('Run and Develop', () => {
  const exited = (t: vscode.Terminal) =>
    new Promise<number | undefined>((resolve) => {
      if (t.exitStatus) return resolve(t.exitStatus.code);
      const sub = vscode.window.onDidCloseTerminal((c) => {
        if (c === t) {
          sub.dispose();
          resolve(c.exitStatus?.code);
        }
      });
      const poll = setInterval(() => {
        if (t.exitStatus) {
          clearInterval(poll);
          resolve(t.exitStatus.code);
        }
      }, 200);
    });

  it('Run opens a terminal named after the installable, running nix run in the flake folder', async () => {
    const flake = await flakeOf('builds');
    const probe = join(flake.uri.fsPath, 'run-probe.txt');
    rmSync(probe, { force: true });
    const t = await vscode.commands.executeCommand<vscode.Terminal>('nixFlakes.run', {
      flake,
      attrPath: ['apps', 'x86_64-linux', 'probe'],
      display: '.#probe',
    });
    try {
      assert.equal(t.name, 'nix run .#probe');
      assert.equal(await exited(t), 0, 'the app ran and exited');
      // The app writes where it ran into its working folder: the flake's.
      assert.equal(readFileSync(probe, 'utf8').trim(), `ran in ${flake.uri.fsPath}`);
    } finally {
      t.dispose();
      rmSync(probe, { force: true });
    }
  });

  it("Develop opens an interactive shell with the dev shell's environment, in the flake folder", async () => {
    const flake = await flakeOf('builds');
    const probe = join(scratch(), 'develop-probe.txt');
    const t = await vscode.commands.executeCommand<vscode.Terminal>('nixFlakes.develop', {
      flake,
      attrPath: ['devShells', 'x86_64-linux', 'default'],
      display: '.#default',
    });
    try {
      assert.equal(t.name, 'nix develop .#default');
      // Typed into the shell once it reads its input: the dev shell's variable, its folder, then an exit code.
      t.sendText(`printf '%s|%s' "$PROBE_VAR" "$PWD" > '${probe}'; exit 7`);
      assert.equal(await exited(t), 7, 'the dev shell was an interactive shell that ran our exit');
      assert.equal(readFileSync(probe, 'utf8'), `set by the dev shell|${flake.uri.fsPath}`);
    } finally {
      t.dispose();
    }
  });
});

describe('Any folder name', () => {
  it('a flake in a folder named "my flake #1 ?x=%41" is listed and built (Nix 2.26+), or says why (older Nix)', async () => {
    const api = await extension();
    const parent = join(scratchDir(), 'my flake #1 ?x=%41');
    mkdirSync(parent, { recursive: true });
    const dir = copyFixture('basic', new Map(), parent);
    const flake = { uri: vscode.Uri.file(dir), folder: vscode.workspace.workspaceFolders![0], label: 'odd name' };
    await api.outputs.service.evaluate(flake, { force: true });
    const s = api.outputs.service.get(flake);
    const nix = await api.nix();
    assert.ok(nix.ok);
    if (nix.nix.version.minor >= 26 || nix.nix.version.major > 2) {
      assert.deepEqual(
        s.errors.map((e) => e.message),
        [],
      );
      const leaves = s.model!.categories.flatMap((c) => c.leaves.map((l) => l.attrPath.join('.')));
      assert.ok(leaves.includes('packages.x86_64-linux.hello'), leaves.join(', '));
      const outcome = await vscode.commands.executeCommand<{ status: string; outputs: Record<string, string> }>('nixFlakes.build', {
        flake,
        attrPath: ['packages', 'x86_64-linux', 'hello'],
        display: '.#hello',
      });
      assert.equal(outcome.status, 'built');
      assert.equal(readFileSync(outcome.outputs.out, 'utf8'), 'hello\n');
      // Every command got the folder as an encoded git+file reference, never the raw path.
      const runs = api.recentRuns().filter((r) => r.command.includes('--extra-experimental-features') && /my( |%20)flake/.test(r.command));
      assert.ok(runs.length > 0);
      for (const r of runs) assert.match(r.command, /git\+file:\/\/[^ ']*my%20flake%20%231%20%3Fx=%2541/, r.command);
    } else {
      assert.match(s.errors[0]?.message ?? '', /cannot read a flake in a folder whose path holds a space, '#', '\?' or '%'/);
    }
  });
});
