import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, lineOf, settled, until } from './helpers';

/** The tests of the checks fixture, once the Testing view has them. */
async function tests() {
  const api = await extension();
  const flake = await flakeOf('checks');
  await settled(flake);
  const parent = await until('the flake in the Testing view', () => api.checks.controller.items.get(flake.uri.toString()));
  const child = (label: string) => {
    let found: vscode.TestItem | undefined;
    parent.children.forEach((c) => {
      if (c.label === label) found = c;
    });
    return found;
  };
  await until('its checks as tests', () => child('passes') && child('fails') && child('flake check'));
  return { api, flake, parent, passes: child('passes')!, fails: child('fails')!, flakeCheck: child('flake check')! };
}

async function runTests(items: vscode.TestItem[], profile: 'run' | 'keepGoing' = 'run') {
  const api = await extension();
  const p = profile === 'run' ? api.checks.runProfile : api.checks.keepGoingProfile;
  const t0 = Date.now();
  await p.runHandler(new vscode.TestRunRequest(items, undefined, p), new vscode.CancellationTokenSource().token);
  for (const i of items) assert.ok((api.checks.results.get(i.id)?.at ?? 0) >= t0, `${i.label} was reported`);
  return (item: vscode.TestItem) => api.checks.results.get(item.id)!;
}

describe('Flake checks in the Testing view', () => {
  it('a flake, its "flake check" and each check are tests as soon as the outputs are known', async () => {
    const { parent, fails, passes } = await tests();
    assert.equal(parent.label, 'checks');
    const file = join(fixture('checks'), 'flake.nix');
    assert.equal(fails.uri?.fsPath, file);
    // Go to Test: where the check is written.
    await until('the position of the checks', () => fails.range && passes.range);
    assert.equal(fails.range?.start.line, lineOf(file, 'fails = sh'));
  });

  it("a passing and a failing check: the failure is the builder's last lines at the check", async () => {
    const { fails, passes, flakeCheck } = await tests();
    const result = await runTests([passes, fails, flakeCheck]);
    assert.equal(result(passes).state, 'passed');
    assert.equal(result(flakeCheck).state, 'passed');
    const failed = result(fails);
    assert.equal(failed.state, 'failed', JSON.stringify(failed));
    const m = failed.messages[0]!;
    assert.match(m.text, /expected 42, got 41/);
    assert.match(m.text, /check-fails/);
    const file = join(fixture('checks'), 'flake.nix');
    assert.equal(m.location?.uri.fsPath, file);
    assert.equal(m.location?.range.start.line, lineOf(file, 'fails = sh'));
  });

  it('Build All (--keep-going): the checks in one nix build, each with its own outcome', async () => {
    const { api, fails, passes } = await tests();
    const t0 = Date.now();
    const result = await runTests([passes, fails], 'keepGoing');
    assert.equal(result(passes).state, 'passed');
    assert.equal(result(fails).state, 'failed');
    assert.match(result(fails).messages[0]!.text, /expected 42, got 41/);
    const builds = api.recentRuns().filter((r) => r.startedAt >= t0 && / build /.test(r.command));
    assert.equal(builds.length, 1, builds.map((b) => b.command).join(' | '));
    assert.match(
      builds[0]!.command,
      /--keep-going .*checks\.x86_64-linux\.passes .*checks\.x86_64-linux\.fails|--keep-going .*fails .*passes/,
    );
  });

  it('an evaluation error fails the check and "flake check" at its file and line; continuous run re-runs on save', async () => {
    const { api, passes, flakeCheck } = await tests();
    const file = join(fixture('checks'), 'flake.nix');
    const good = readFileSync(file, 'utf8');
    const cts = new vscode.CancellationTokenSource();
    try {
      // Continuous run of "passes": a save of the flake's file runs it again.
      const p = api.checks.runProfile;
      void p.runHandler(new vscode.TestRunRequest([passes], undefined, p, true), cts.token);
      const t0 = Date.now();
      const doc = await vscode.workspace.openTextDocument(file);
      const editor = await vscode.window.showTextDocument(doc);
      const line = lineOf(file, 'passes = sh');
      const text = doc.lineAt(line).text;
      await editor.edit((e) =>
        e.replace(doc.lineAt(line).range, text.replace('"echo all good; echo ok > $out"', '"echo ${self.notThere}"')),
      );
      assert.ok(await doc.save());
      const r = await until(
        'the continuous run after the save',
        () => {
          const x = api.checks.results.get(passes.id);
          return x && x.at >= t0 ? x : undefined;
        },
        120_000,
      );
      assert.equal(r.state, 'failed', JSON.stringify(r));
      assert.match(r.messages[0]!.text, /notThere/);
      assert.equal(r.messages[0]!.location?.uri.fsPath, file);
      assert.equal(r.messages[0]!.location?.range.start.line, line);
      cts.cancel();
      const result = await runTests([flakeCheck]);
      const fc = result(flakeCheck);
      assert.equal(fc.state, 'failed');
      assert.ok(
        fc.messages.some((m) => /notThere/.test(m.text) && m.location?.uri.fsPath === file && m.location.range.start.line === line),
        JSON.stringify(fc.messages),
      );
    } finally {
      cts.cancel();
      writeFileSync(file, good);
      await vscode.commands.executeCommand('workbench.action.files.revert');
      // The refresh the restored file starts, and the positions that follow it, end here (not in the next test).
      await settled(await flakeOf('checks'));
      await api.checks.whenIdle();
    }
  });
});
