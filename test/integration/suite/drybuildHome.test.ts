import * as assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DryBuildOutcome } from '../../../src/features/dryBuild';
import { extension, fixture, flakeOf, lineOf, nixDiagnostics, settled, withStandInNix } from './helpers';

/** The file's nix diagnostics, possibly none. */
function diagnosticsOf(path: string): vscode.Diagnostic[] {
  return nixDiagnostics(path) ?? [];
}

async function dry(home: string): Promise<DryBuildOutcome> {
  const api = await extension();
  return api.dryBuilds.dryBuild(await flakeOf('homes'), home, 'home');
}

const homeFile = (name: string) => join(fixture('homes'), 'home', `${name}.nix`);

describe('home-manager dry-build', () => {
  it('the panel lists the home configurations, as such, beside the NixOS hosts', async () => {
    const api = await extension();
    const flake = await flakeOf('homes');
    const s = await settled(flake);
    const listed = await api.dryBuilds.listHosts();
    assert.deepEqual(
      listed.filter((h) => h.flake === flake.uri.fsPath).map((h) => [h.host, h.kind]),
      ['alice', 'bob', 'carol', 'dave', 'erin@laptop'].map((h) => [h, 'home']),
      JSON.stringify({
        outputs: s.model?.categories.map((c) => [c.name, c.leaves.map((l) => [l.attrPath, l.kind])]),
        errors: s.errors.map((e) => e.message),
        listed: [...new Set(listed.map((h) => h.flake))],
      }),
    );
    const good = listed.find((h) => h.flake === fixture('hosts') && h.host === 'good');
    assert.ok(good, 'the NixOS hosts are listed too');
    assert.equal(good.kind, undefined, 'a NixOS host has no kind');
  });

  it('listed from the cache (unchanged, as after a window reload), the home configurations keep their names', async () => {
    const api = await extension();
    const flake = await flakeOf('homes');
    await settled(flake);
    await api.outputs.service.evaluate(flake);
    const s = api.outputs.service.get(flake);
    assert.equal(s.fromCache, true, 'shown from the cache');
    assert.deepEqual(
      s.model?.categories.find((c) => c.name === 'homeConfigurations')?.leaves.map((l) => l.attrPath),
      ['alice', 'bob', 'carol', 'dave', 'erin@laptop'].map((h) => ['homeConfigurations', h]),
    );
    const listed = await api.dryBuilds.listHosts();
    assert.equal(listed.filter((h) => h.flake === flake.uri.fsPath && h.kind === 'home').length, 5);
  });

  it('names that could not be listed once (a failure of that listing) are listed again when the cached outputs are used', async () => {
    const api = await extension();
    const flake = await flakeOf('homes');
    await settled(flake);
    // A nix whose listing of the home configurations' names fails while a file says so.
    const arms = (_real: string, dir: string) =>
      `  *"#homeConfigurations --apply "*) if [ -e '${dir}/fail' ]; then echo 'error: the listing failed (test)' >&2; exit 1; fi ;;`;
    const homes = () =>
      api.outputs.service
        .get(flake)
        .model?.categories.find((c) => c.name === 'homeConfigurations')
        ?.leaves.map((l) => l.attrPath.join('.'));
    try {
      await withStandInNix(arms, async (dir) => {
        await settled(flake); // the refresh a change of nix starts is over
        writeFileSync(join(dir, 'fail'), '');
        await api.outputs.service.evaluate(flake, { force: true });
        assert.deepEqual(homes(), ['homeConfigurations'], 'one unnamed entry while the names cannot be listed');
        rmSync(join(dir, 'fail'));
        const t0 = Date.now();
        await api.outputs.service.evaluate(flake);
        assert.equal(api.outputs.service.get(flake).fromCache, true, 'shown from the cache');
        assert.deepEqual(
          homes(),
          ['alice', 'bob', 'carol', 'dave', 'erin@laptop'].map((h) => `homeConfigurations.${h}`),
        );
        assert.deepEqual(
          api
            .recentRuns()
            .filter((r) => r.startedAt >= t0 && / flake show /.test(r.command))
            .map((r) => r.command),
          [],
          'no nix flake show: only the names were asked again',
        );
      });
    } finally {
      await settled(flake);
    }
  });

  it('Dry Build of alice (the command, as the Outputs view calls it) evaluates and lists her generation to build', async () => {
    const flake = await flakeOf('homes');
    const o = await vscode.commands.executeCommand<DryBuildOutcome>('nixFlakes.dryBuild', { flake, home: 'alice' });
    assert.equal(o.result.status, 'done', JSON.stringify(o.result.errors.map((e) => e.message)));
    assert.match(o.result.command, /build --no-write-lock-file --dry-run .*homeConfigurations\.alice\.activationPackage/);
    // Her home-files carry the run's marker: a generation that no earlier run built.
    assert.ok(
      o.result.plan.builds.some((p) => /-home-manager-generation\.drv$/.test(p)),
      o.result.plan.builds.join('\n'),
    );
    assert.ok(
      o.result.plan.builds.some((p) => /-home-manager-files\.drv$/.test(p)),
      o.result.plan.builds.join('\n'),
    );
    assert.equal(o.card.kind, 'home');
    assert.equal(o.card.state, 'done');
    // A name that needs quoting, with extraSpecialArgs.
    const erin = await dry('erin@laptop');
    assert.equal(erin.result.status, 'done', JSON.stringify(erin.result.errors.map((e) => e.message)));
    assert.match(erin.result.command, /homeConfigurations\."erin@laptop"\.activationPackage/);
  });

  it("the Home Manager menu's Dry Build (nixFlakes.home.dryBuild, with the tree item's target) dry-builds that configuration", async () => {
    const flake = await flakeOf('homes');
    const s = await settled(flake);
    const leaf = s.model!.categories.find((c) => c.name === 'homeConfigurations')!.leaves.find((l) => l.attrPath[1] === 'alice')!;
    const target = { flake, attrPath: leaf.attrPath, display: '.#homeConfigurations.alice', kind: leaf.kind };
    const o = await vscode.commands.executeCommand<DryBuildOutcome>('nixFlakes.home.dryBuild', target);
    assert.equal(o.result.status, 'done', JSON.stringify(o.result.errors.map((e) => e.message)));
    assert.match(o.result.command, /homeConfigurations\.alice\.activationPackage/);
    assert.equal(o.card.kind, 'home');
  });

  it('bob’s unknown option is in Problems at his line; the quick fix, saved, makes the next run pass and clears it', async () => {
    const file = homeFile('bob');
    const original = readFileSync(file, 'utf8');
    try {
      const o = await dry('bob');
      assert.equal(o.result.status, 'failed');
      const d = diagnosticsOf(file);
      assert.equal(d.length, 1, JSON.stringify(o.result.errors.map((e) => e.message)));
      assert.equal(d[0].range.start.line, lineOf(file, 'programs.git.userNmae'));
      assert.equal(d[0].code, 'unknown-option');
      assert.match(d[0].message, /The option `programs\.git\.userNmae' does not exist/);
      assert.equal(o.card.errors[0]?.location?.line, lineOf(file, 'programs.git.userNmae') + 1, 'the card links to the line');

      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      await vscode.window.showTextDocument(doc);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        doc.uri,
        d[0].range,
        vscode.CodeActionKind.QuickFix.value,
      );
      const fix = actions.find((a) => a.title === 'Change to `programs.git.userName`');
      assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
      assert.equal(await vscode.workspace.applyEdit(fix.edit), true);
      assert.equal(await doc.save(), true);
      assert.match(readFileSync(file, 'utf8'), /programs\.git\.userName = "Bob";/);

      const again = await dry('bob');
      assert.equal(again.result.status, 'done', JSON.stringify(again.result.errors.map((e) => e.message)));
      assert.deepEqual(again.diagnostics, []);
      assert.deepEqual(diagnosticsOf(file), [], 'no diagnostic left on bob.nix');
    } finally {
      writeFileSync(file, original);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
    await settled(await flakeOf('homes'));
  });

  it('carol’s wrong type lands on her home.packages line; dave’s failed assertion on his entry in flake.nix, with a hint', async () => {
    const carol = homeFile('carol');
    const c = await dry('carol');
    assert.equal(c.result.status, 'failed');
    const dc = diagnosticsOf(carol);
    assert.equal(dc.length, 1, JSON.stringify(c.result.errors.map((e) => e.message)));
    assert.equal(dc[0].range.start.line, lineOf(carol, 'home.packages'));
    assert.equal(dc[0].code, 'type-mismatch');

    const flakeNix = join(fixture('homes'), 'flake.nix');
    const d = await dry('dave');
    assert.equal(d.result.status, 'failed');
    assert.equal(d.diagnostics.length, 1, JSON.stringify(d.diagnostics.map((p) => [p.uri.fsPath, p.diagnostic.message])));
    const [dd] = d.diagnostics;
    assert.equal(dd.uri.fsPath, flakeNix);
    assert.equal(dd.diagnostic.range.start.line, lineOf(flakeNix, 'dave = home'));
    assert.equal(
      readFileSync(flakeNix, 'utf8').split('\n')[dd.diagnostic.range.start.line].slice(dd.diagnostic.range.start.character).slice(0, 4),
      'dave',
    );
    assert.match(dd.diagnostic.message, /Failed assertions:\n- Username could not be determined/);
    assert.match(dd.diagnostic.message, /Hint: each line is an assertion/);
    assert.ok(
      diagnosticsOf(flakeNix).some((x) => /Username could not be determined/.test(x.message)),
      'in Problems',
    );
  });
});
