// Every setting does what the README says, the commands of the views work when called as the UI calls them, and the
// welcome state follows the nix the extension is pointed at.
import * as assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, label, settled, until } from './helpers';
import { copyFixture, testNix } from '../../support/nix';

type Target = vscode.ConfigurationTarget;
const GLOBAL: Target = vscode.ConfigurationTarget.Global;

/** Sets a setting for the test's duration, for one folder or globally, and puts it back afterwards. */
async function withSetting<T>(
  key: string,
  value: unknown,
  where: { folder?: vscode.WorkspaceFolder; target: Target },
  body: () => Promise<T>,
): Promise<T> {
  const conf = vscode.workspace.getConfiguration('nixFlakes', where.folder);
  await conf.update(key, value, where.target);
  try {
    return await body();
  } finally {
    await conf.update(key, undefined, where.target);
  }
}

/** The outputs the tree shows: not those Nix omitted, and only the systems shown (Nix 2.8 lists every system). */
const leaves = (s: { systems: string[]; model?: { categories: { leaves: { attrPath: string[]; kind: string; system?: string }[] }[] } }) =>
  (s.model?.categories ?? []).flatMap((c) =>
    c.leaves.filter((l) => l.kind !== 'omitted' && (!l.system || s.systems.includes(l.system))).map((l) => l.attrPath.join('.')),
  );

describe('Settings', () => {
  it("systems: another system's outputs are listed (and only then)", async () => {
    const api = await extension();
    const flake = await flakeOf('builds');
    await api.outputs.service.evaluate(flake, { force: true });
    assert.ok(!leaves(api.outputs.service.get(flake)).includes('packages.aarch64-linux.ok-arm'));
    await withSetting('systems', ['x86_64-linux', 'aarch64-linux'], { target: GLOBAL }, async () => {
      await api.outputs.service.evaluate(flake, { force: true });
      const s = api.outputs.service.get(flake);
      assert.deepEqual(s.systems, ['x86_64-linux', 'aarch64-linux']);
      assert.ok(leaves(s).includes('packages.aarch64-linux.ok-arm'), leaves(s).join(', '));
    });
    await api.outputs.service.evaluate(flake, { force: true });
  });

  it('offline: every nix command gets --offline', async () => {
    const api = await extension();
    const flake = await flakeOf('builds');
    await withSetting('offline', true, { target: GLOBAL }, async () => {
      const since = Date.now();
      await api.outputs.service.evaluate(flake, { force: true });
      const runs = api.recentRuns().filter((r) => r.startedAt >= since && r.command.includes('--extra-experimental-features'));
      assert.ok(runs.length > 0);
      for (const r of runs) assert.match(r.command, / --offline /, r.command);
    });
  });

  it('autoRefresh off: a saved change does not evaluate the flake', async () => {
    const api = await extension();
    const hello = await flakeOf('hello');
    await settled(hello);
    const count = () => api.outputs.service.evaluations.get(hello.uri.toString()) ?? 0;
    const file = join(hello.uri.fsPath, 'pkgs', 'greeting.nix');
    const text = readFileSync(file, 'utf8');
    // A watcher of the test's own: when it has seen the change, the extension's watcher has been told too.
    const seen = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(join(hello.uri.fsPath, 'pkgs')), 'greeting.nix'),
    );
    try {
      await withSetting('autoRefresh', false, { target: GLOBAL }, async () => {
        const before = count();
        const told = new Promise<void>((r) => seen.onDidChange(() => r()));
        writeFileSync(file, `${text}# not refreshed\n`);
        await told;
        const s = await api.outputs.service.whenIdle(hello);
        assert.equal(count(), before, 'no evaluation');
        assert.notEqual(await api.outputs.service.currentKey(hello), s.evaluatedKey, 'the outputs are stale, as asked');
        writeFileSync(file, text);
      });
    } finally {
      seen.dispose();
      writeFileSync(file, text);
    }
    await settled(hello);
  });

  it('build.outLinks: a result link for what nix builds of a split package (its default output)', async () => {
    const flake = await flakeOf('builds');
    const dir = flake.uri.fsPath;
    await withSetting('build.outLinks', true, { target: GLOBAL }, async () => {
      const outcome = await vscode.commands.executeCommand<{ status: string; outputs: Record<string, string> }>('nixFlakes.build', {
        flake,
        attrPath: ['packages', 'x86_64-linux', 'split'],
        display: '.#split',
      });
      try {
        assert.equal(outcome.status, 'built');
        assert.deepEqual(Object.keys(outcome.outputs), ['out']);
        assert.match(outcome.outputs.out, /-split$/);
        assert.ok(lstatSync(join(dir, 'result-split')).isSymbolicLink());
        assert.equal(readlinkSync(join(dir, 'result-split')), outcome.outputs.out);
      } finally {
        rmSync(join(dir, 'result-split'), { force: true });
        rmSync(join(dir, 'result-split-doc'), { force: true });
      }
    });
  });

  it('inputs.commitLockFile: an update commits flake.lock; when the commit fails, the message says why', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const dir = flake.uri.fsPath;
    const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' }).trim();
    const lock = readFileSync(join(dir, 'flake.lock'), 'utf8');
    const head = git('rev-parse', 'HEAD');
    const lib = fixture('lib-src');
    const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const move = () => {
      writeFileSync(join(lib, 'moved.txt'), `${Date.now()}\n`);
      execFileSync('git', ['add', '-A'], { cwd: lib });
      execFileSync('git', ['commit', '-qm', 'move'], { cwd: lib, env });
    };
    // git needs to know who commits: as a user's git config would say.
    const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const saved = Object.fromEntries(Object.keys(identity).map((k) => [k, process.env[k]]));
    Object.assign(process.env, identity);
    await withSetting('inputs.commitLockFile', true, { target: GLOBAL }, async () => {
      try {
        move();
        const r = await api.inputs.update(flake, ['lib-src']);
        assert.equal(r.status, 'updated', JSON.stringify(r));
        assert.notEqual(git('rev-parse', 'HEAD'), head, 'a new commit');
        assert.deepEqual(git('show', '--name-only', '--format=', 'HEAD').split('\n'), ['flake.lock']);
        assert.equal(git('status', '--porcelain', 'flake.lock'), '', 'flake.lock is committed');
        // A commit that git refuses (a hook that fails): the update fails with the reason.
        const hook = join(dir, '.git', 'hooks', 'pre-commit');
        writeFileSync(hook, '#!/bin/sh\necho "refused by a hook" >&2\nexit 1\n');
        chmodSync(hook, 0o755);
        try {
          move();
          const failed = await api.inputs.update(flake, ['lib-src']);
          assert.equal(failed.status, 'failed', JSON.stringify(failed));
          assert.match(failed.message ?? '', /could not be committed .*git commit failed/, failed.message);
        } finally {
          rmSync(hook, { force: true });
        }
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
        git('reset', '-q', '--hard', head);
        writeFileSync(join(dir, 'flake.lock'), lock);
      }
    });
  });

  it('dryBuild.runOnSave: saving a file of the flake dry-builds its last host again', async () => {
    const api = await extension();
    const flake = await flakeOf('hosts');
    await api.dryBuilds.dryBuild(flake, 'good');
    await withSetting('dryBuild.runOnSave', true, { target: GLOBAL }, async () => {
      const again = new Promise<string>((resolve) => {
        const sub = api.dryBuilds.onDidFinish((o) => {
          sub.dispose();
          resolve(o.result.command);
        });
      });
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(flake.uri.fsPath, 'hosts', 'good.nix')));
      const editor = await vscode.window.showTextDocument(doc);
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), '# saved\n'));
      try {
        await doc.save();
        assert.match(await again, /nixosConfigurations\."good"\.config\.system\.build\.toplevel/);
      } finally {
        await editor.edit((e) => e.delete(new vscode.Range(0, 0, 1, 0)));
        await doc.save();
      }
    });
    await settled(flake);
  });

  it('codeLens.enabled off: no lens, on again: lenses', async () => {
    const api = await extension();
    const flake = await flakeOf('hello');
    const file = vscode.Uri.file(join(flake.uri.fsPath, 'flake.nix'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
    const lenses = () => vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file, 100);
    const ours = (l: vscode.CodeLens[]) => l.filter((x) => x.command?.command.startsWith('nixFlakes.'));
    assert.ok(ours(await lenses()).length > 0);
    await withSetting('codeLens.enabled', false, { target: GLOBAL }, async () => {
      assert.deepEqual(
        ours(await until('the lenses to go', async () => ((l) => (ours(l).length === 0 ? [] : undefined))(await lenses()) ?? false)),
        [],
      );
    });
    await until('the lenses to come back', async () => ours(await lenses()).length > 0);
    void api;
  });
});

describe('Settings a repository cannot set', () => {
  for (const [key, value] of [
    ['dryBuild.command', 'nixos-rebuild'],
    ['inputs.commitLockFile', true],
    ['build.outLinks', true],
    ['nixPath', '/tmp/evil/nix'],
    ['extraArgs', ['--option', 'post-build-hook', '/tmp/evil']],
  ] as const) {
    it(`${key} in the workspace's settings has no effect`, async () => {
      const conf = vscode.workspace.getConfiguration('nixFlakes');
      // VS Code refuses to write a machine-scoped setting to the workspace; a settings file that holds one anyway is ignored.
      const wrote = await Promise.resolve(conf.update(key, value, vscode.ConfigurationTarget.Workspace)).then(
        () => true,
        () => false,
      );
      try {
        const effective = vscode.workspace.getConfiguration('nixFlakes').inspect(key);
        assert.equal(
          effective?.workspaceValue === undefined ||
            !wrote ||
            JSON.stringify(vscode.workspace.getConfiguration('nixFlakes').get(key)) !== JSON.stringify(value),
          true,
          `${key} took ${JSON.stringify(value)} from the workspace`,
        );
      } finally {
        if (wrote) await conf.update(key, undefined, vscode.ConfigurationTarget.Workspace);
      }
    });
  }
});

describe('Welcome state and the nix in use', () => {
  it('nixPath: a missing nix, then one too old, then the real one again', async () => {
    const api = await extension();
    const bin = mkdtempSync(join(tmpdir(), 'nix-old-'));
    const old = join(bin, 'nix');
    writeFileSync(old, '#!/bin/sh\necho "nix (Nix) 2.3.16"\n');
    chmodSync(old, 0o755);
    const conf = () => vscode.workspace.getConfiguration('nixFlakes');
    const previous = conf().inspect<string>('nixPath')?.globalValue;
    try {
      await conf().update('nixPath', join(bin, 'does-not-exist'), GLOBAL);
      await until('the nixMissing state', () => api.state() === 'nixMissing');
      const missing = await api.nix();
      assert.ok(!missing.ok && missing.reason !== 'too-old', JSON.stringify(missing));
      await conf().update('nixPath', old, GLOBAL);
      await until('the nixTooOld state', () => api.state() === 'nixTooOld');
      const tooOld = await api.nix();
      assert.ok(!tooOld.ok && tooOld.reason === 'too-old');
      assert.match(tooOld.message, /2\.3\.16/);
    } finally {
      await conf().update('nixPath', previous, GLOBAL);
    }
    await until('the ready state again', () => api.state() === 'ready');
    const r = await api.nix();
    assert.ok(r.ok, JSON.stringify(r));
    if (process.env.NIX_FLAKES_TEST_NIX) assert.equal(r.nix.path, testNix());
  });
});

describe('Commands as the views call them', () => {
  it('Refresh evaluates every flake again, bypassing the cache', async () => {
    const api = await extension();
    const flake = await flakeOf('builds');
    await settled(flake);
    const before = api.outputs.service.evaluations.get(flake.uri.toString()) ?? 0;
    await vscode.commands.executeCommand('nixFlakes.refresh');
    assert.equal(api.outputs.service.evaluations.get(flake.uri.toString()), before + 1);
    assert.equal(api.outputs.service.get(flake).fromCache, false);
  });

  it('Show Build Log opens the Nix Build output', async () => {
    const api = await extension();
    await vscode.commands.executeCommand('nixFlakes.showBuildLog');
    await until(
      "the Nix Build output in the editor's output view",
      () =>
        vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'output' && /Nix Build/.test(e.document.uri.path)) ||
        api.outputs.builds.output.name === 'Nix Build',
    );
  });

  it('an output Nix has no schema for is listed by name', async () => {
    const api = await extension();
    const flake = await flakeOf('builds');
    const s = await api.outputs.service.ensure(flake);
    const home = s.model!.categories.find((c) => c.name === 'homeConfigurations');
    assert.ok(home, s.model!.categories.map((c) => c.name).join(', '));
    assert.deepEqual(home.leaves.map((l) => l.name).sort(), ['me@laptop', 'server']);
    const roots = await api.outputs.provider.getChildren();
    const root = roots.find((n) => n.kind === 'flake' && n.flake.uri.fsPath === flake.uri.fsPath)!;
    const cats = (await api.outputs.provider.getChildren(root)).map((c) => label(api.outputs.provider.getTreeItem(c)));
    assert.ok(
      cats.some((c) => /homeConfigurations|Home/i.test(c)),
      cats.join(', '),
    );
  });

  it('Update Input and Update All Inputs from the Inputs view', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const dir = flake.uri.fsPath;
    const lock = readFileSync(join(dir, 'flake.lock'), 'utf8');
    try {
      const roots = await api.inputs.provider.getChildren();
      const root = roots.find((n) => n.kind === 'flake' && n.state.flake.uri.fsPath === dir)!;
      const node = (await api.inputs.provider.getChildren(root)).find((n) => n.kind === 'input' && n.input.id === 'lib-src')!;
      assert.ok(node);
      const one = await vscode.commands.executeCommand<{ status: string }>('nixFlakes.updateInput', node);
      assert.ok(['updated', 'unchanged'].includes(one.status), JSON.stringify(one));
      const all = await vscode.commands.executeCommand<{ status: string }>('nixFlakes.updateAllInputs', root);
      assert.ok(['updated', 'unchanged'].includes(all.status), JSON.stringify(all));
      assert.ok(existsSync(join(dir, 'flake.lock')));
    } finally {
      writeFileSync(join(dir, 'flake.lock'), lock);
    }
  });
});

describe('Guarded listing', () => {
  it('finds exactly the two broken packages of 64 by halving, within its budget of processes', async () => {
    const api = await extension();
    const dir = copyFixture('many-broken');
    const flake = { uri: vscode.Uri.file(dir), folder: vscode.workspace.workspaceFolders![0], label: 'many-broken' };
    const since = Date.now();
    await api.outputs.service.evaluate(flake, { force: true });
    const s = api.outputs.service.get(flake);
    assert.ok(s.partial, 'nix flake show failed, the guarded listing ran');
    const broken = [...s.broken.keys()].map((k) => k.split('\0').join('.')).sort();
    assert.deepEqual(broken, ['packages.x86_64-linux.p05', 'packages.x86_64-linux.p40']);
    const listed = leaves(s).filter((l) => l.startsWith('packages.x86_64-linux.'));
    assert.equal(listed.length, 64);
    const evals = api.recentRuns().filter((r) => r.startedAt >= since && / eval .*#packages\b/.test(r.command)).length;
    // One listing of the category, one of its names, then at most the budget of 24 halving probes.
    assert.ok(evals <= 2 + 24, `${evals} nix eval processes`);
    assert.ok(evals >= 2 + 2 * 5, `${evals}: halving 64 down to two single packages takes at least 10 probes`);
  });
});
