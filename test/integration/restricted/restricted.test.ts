// Restricted Mode on every path: every command of the extension, called directly as another extension or a
// `command:` link can, starts no process — no nix, no git (which would run the repository's core.fsmonitor), no
// nixos-rebuild, no terminal.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, extension, fixture, flakeOf } from '../suite/helpers';
import { processesWith } from '../../support/nix';

describe('Restricted Mode', () => {
  it('the workspace is not trusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('every command, called directly with the arguments the views pass, starts no process and opens no terminal', async () => {
    const api = await extension();
    const dir = fixture('hello');
    const flake = { uri: vscode.Uri.file(dir), folder: vscode.workspace.workspaceFolders![0], label: 'hello' };
    const found = await api.flakes();
    assert.ok(
      found.some((f) => f.uri.fsPath === dir),
      'the flake is found (from the file system, no process)',
    );
    const terminals = vscode.window.terminals.length;
    const seen = new Set<string>();
    const watch = setInterval(() => {
      for (const p of processesWith(dir)) seen.add(p.cmd);
    }, 20);
    const leaf = { kind: 'derivation', attrPath: ['packages', 'x86_64-linux', 'hello'], name: 'hello' };
    const target = { flake, attrPath: ['packages', 'x86_64-linux', 'hello'], display: '.#hello' };
    const host = { flake, leaf: { kind: 'nixos-configuration', attrPath: ['nixosConfigurations', 'web'], name: 'web' } };
    const calls: [string, unknown[]][] = [
      ['nixFlakes.refresh', []],
      ['nixFlakes.build', [target]],
      ['nixFlakes.run', [{ flake, attrPath: ['apps', 'x86_64-linux', 'default'], display: '.#default' }]],
      ['nixFlakes.develop', [{ flake, attrPath: ['devShells', 'x86_64-linux', 'default'], display: '.#default' }]],
      ['nixFlakes.revealDefinition', [{ flake, leaf }]],
      ['nixFlakes.revealDefinition', [host]],
      ['nixFlakes.dryBuild', [{ flake, host: 'web' }]],
      ['nixFlakes.home.dryBuild', [{ flake, home: 'alice' }]],
      ['nixFlakes.updateInput', [flake, 'nixpkgs']],
      ['nixFlakes.updateAllInputs', [flake]],
      ['nixFlakes.lockFlake', [flake]],
      ['nixFlakes.refreshInputs', []],
      ['nixFlakes.gitAddIntent', [vscode.Uri.file(join(dir, 'pkgs', 'greeting.nix'))]],
      ['nixFlakes.showNixVersion', []],
      ['nixFlakes.showBuildLog', []],
      ['nixFlakes.showLog', []],
      ...['switch', 'boot', 'test', 'dryActivate', 'build', 'preview', 'generations', 'images', 'configure'].map(
        (a): [string, unknown[]] => [`nixFlakes.deploy.${a}`, [{ flake, host: 'web' }]],
      ),
      ...['build', 'preview', 'activate'].map((a): [string, unknown[]] => [`nixFlakes.home.${a}`, [{ flake, home: 'alice' }]]),
      [
        'nixFlakes.newFromTemplate',
        [{ flake, attrPath: ['templates', 'default'], display: '.#default' }, vscode.Uri.file(join(dir, 'new'))],
      ],
      ['nixFlakes.airgap.export', [target, { folder: join(dir, 'offline'), keyFile: null, confirm: true }]],
      ['nixFlakes.airgap.export', [{ flake }, { folder: join(dir, 'offline'), keyFile: null, attrPaths: [], confirm: true }]],
      ['nixFlakes.airgap.export', []],
      ['nixFlakes.airgap.import', [join(dir, 'offline'), { acceptIncomplete: true }]],
      ['nixFlakes.airgap.import', []],
      ['nixFlakes.airgap.readiness', [target, { media: [] }]],
      ['nixFlakes.airgap.readiness', []],
      ['nixFlakes.newFromTemplate', ['templates#rust', join(dir, 'new')]],
      ['nixFlakes.newFromTemplate', []],
      ['nixFlakes.devShell.select', [{ folder: vscode.workspace.workspaceFolders![0]!.uri, shell: 'default' }]],
      ['nixFlakes.devShell.select', []],
      ['nixFlakes.devShell.reload', [{ folder: vscode.workspace.workspaceFolders![0]!.uri }]],
      ['nixFlakes.results.open', [target]],
      ['nixFlakes.results.open', []],
      ['nixFlakes.results.diffWithHead', [target]],
      ['nixFlakes.results.diffWithPrevious', [target]],
      ['nixFlakes.results.compareImages', [target, target]],
      ['nixFlakes.results.clear', []],
    ];
    const contributed = (
      vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[] } }
    ).contributes.commands.map((c) => c.command);
    try {
      for (const [command, args] of calls) {
        // Some refuse with an error, some with a message: either way, nothing runs.
        await Promise.race([
          Promise.resolve(vscode.commands.executeCommand(command, ...args)).catch(() => undefined),
          new Promise((r) => setTimeout(r, 5000)),
        ]);
      }
      // Lenses and Go to Definition of an open .nix file.
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(dir, 'flake.nix')));
      await vscode.window.showTextDocument(doc);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100);
      // Format Document: the flake's formatter is neither built nor run.
      assert.equal(
        (
          await vscode.commands.executeCommand<vscode.TextEdit[] | undefined>('vscode.executeFormatDocumentProvider', doc.uri, {
            tabSize: 2,
            insertSpaces: true,
          })
        )?.length ?? 0,
        0,
      );
      assert.deepEqual(
        lenses.filter((l) => l.command?.command.startsWith('nixFlakes.')),
        [],
        'no lens in Restricted Mode',
      );
      await api.outputs.service.evaluate(await flakeOf('hello'), { force: true });
      // Tasks and tests: no nix task is offered, one written by hand refuses, a test run of every check skips.
      // (The provider itself: VS Code's fetchTasks waits for the workspace to be trusted.)
      assert.deepEqual(
        (await api.tasks.provideTasks()).map((t) => t.name),
        [],
      );
      const pty = api.tasks.terminal(
        { type: 'nix', command: 'build', installable: '.#hello' },
        vscode.workspace.workspaceFolders![0]!,
        'hand-written',
      );
      const code = await new Promise<number | void>((resolve) => {
        pty.onDidClose?.((c) => resolve(c));
        pty.open(undefined);
      });
      assert.equal(code, 1);
      for (const p of [api.checks.runProfile, api.checks.keepGoingProfile])
        await p.runHandler(new vscode.TestRunRequest(undefined, undefined, p), new vscode.CancellationTokenSource().token);
      assert.equal(api.checks.controller.items.size, 0, 'no test is made from an evaluation');
    } finally {
      clearInterval(watch);
    }
    for (const c of contributed.filter((c) => !calls.some(([k]) => k === c))) {
      // Commands not called above take a tree node or are UI-only; they are listed so a new one is not forgotten.
      assert.ok(
        [
          'nixFlakes.openSettings',
          'nixFlakes.copyInstallable',
          'nixFlakes.openInputInLock',
          'nixFlakes.goToInputDeclaration',
          'nixFlakes.offerRelock',
        ].includes(c),
        `${c} is not exercised in Restricted Mode`,
      );
    }
    assert.equal(
      api.startedProcesses(),
      0,
      `processes started: ${api
        .recentRuns()
        .map((r) => r.command)
        .join(' | ')}`,
    );
    assert.deepEqual([...seen], [], 'no process with the flake in its command line');
    assert.equal(vscode.window.terminals.length, terminals, 'no terminal');
    assert.ok(
      !existsSync(join(dir, '.fsmonitor-ran')),
      `git ran the repository's fsmonitor: ${existsSync(join(dir, '.fsmonitor-ran')) ? readFileSync(join(dir, '.fsmonitor-ran'), 'utf8') : ''}`,
    );
  });
});
