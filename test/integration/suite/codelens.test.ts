import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, lineOf, settled, until } from './helpers';

async function lensesOf(path: string): Promise<vscode.CodeLens[]> {
  const uri = vscode.Uri.file(path);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  return vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
}

async function evaluated(name: string) {
  const api = await extension();
  const flake = await flakeOf(name);
  // Current outputs (a refresh another test's setting started may still run: its broken set is what lenses follow).
  await settled(flake);
  await api.lenses.evaluate(flake);
  await until(`the lenses of ${name} placed by evaluation`, () => (api.lenses.placed(flake)?.size ?? 0) > 0);
  return { api, flake };
}

describe('Build lenses', () => {
  it('sit above each package definition, in flake.nix and in package files, naming every installable that builds it', async () => {
    await evaluated('hello');
    const flakeNix = join(fixture('hello'), 'flake.nix');
    const lenses = await lensesOf(flakeNix);
    const at = (line: number) => lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title);
    assert.deepEqual(at(lineOf(flakeNix, 'hello = lib.mkDerivation {')), [
      '$(tools) Build .#hello (also .#default)',
      '$(play) Run',
      '$(copy) Copy',
    ]);
    const shell = at(lineOf(flakeNix, 'devShells.${system}.default = lib.mkDerivation {'));
    assert.equal(shell[0], '$(terminal) Develop .#default');
    const greeting = join(fixture('hello'), 'pkgs', 'greeting.nix');
    const g = await lensesOf(greeting);
    assert.equal(g[0]?.range.start.line, lineOf(greeting, 'lib.mkDerivation {'));
    assert.match(String(g[0]?.command?.title), /^\$\(tools\) Build \.#greeting \(also \.#checks\.x86_64-linux\.greeting\)$/);
  });

  it('a broken package loses only its own lens', async () => {
    await evaluated('lens-broken');
    const file = join(fixture('lens-broken'), 'flake.nix');
    const titles = (await lensesOf(file)).map((l) => l.command?.title ?? '');
    assert.ok(
      titles.some((t) => t.startsWith('$(tools) Build .#hello')),
      titles.join(' | '),
    );
    assert.ok(
      titles.some((t) => t.includes('.#custom')),
      titles.join(' | '),
    );
    assert.ok(!titles.some((t) => /\.#(thrown|evalerr|asserted)\b/.test(t)), titles.join(' | '));
  });

  it('clicking Build builds it, as the Outputs tree does', async () => {
    await evaluated('hello');
    const greeting = join(fixture('hello'), 'pkgs', 'greeting.nix');
    const lens = (await lensesOf(greeting)).find((l) => l.command?.command === 'nixFlakes.build')!;
    const outcome = await vscode.commands.executeCommand<{ status: string; outputs: Record<string, string> }>(
      lens.command!.command,
      ...(lens.command!.arguments ?? []),
    );
    assert.equal(outcome.status, 'built');
    assert.match(outcome.outputs.out, /-greeting$/);
  });

  it('Go to Definition from the Outputs tree opens the defining expression (packages and hosts)', async () => {
    const api = await extension();
    const flake = await flakeOf('hello');
    const flakeNix = join(fixture('hello'), 'flake.nix');
    const s = await api.outputs.service.ensure(flake);
    const leaf = (path: string) => s.model!.categories.flatMap((c) => c.leaves).find((l) => l.attrPath.join('.') === path)!;
    const pkg = await vscode.commands.executeCommand<vscode.Location>('nixFlakes.revealDefinition', {
      flake,
      leaf: leaf('packages.x86_64-linux.hello'),
    });
    assert.equal(pkg?.uri.fsPath, flakeNix);
    assert.equal(pkg?.range.start.line, lineOf(flakeNix, 'hello = lib.mkDerivation {'));
    const host = await vscode.commands.executeCommand<vscode.Location>('nixFlakes.revealDefinition', {
      flake,
      leaf: leaf('nixosConfigurations.web'),
    });
    assert.equal(host?.uri.fsPath, flakeNix);
    assert.equal(host?.range.start.line, lineOf(flakeNix, 'web = lib.nixosSystem'));
    // The file is opened there, as a user sees it.
    const editor = await until('the editor at the host', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.uri.fsPath === flakeNix && e.selection.active.line === host.range.start.line ? e : undefined;
    });
    assert.ok(editor);
  });

  it('typing starts no nix process, and the lenses follow the edit', async () => {
    const { api, flake } = await evaluated('hello');
    const flakeNix = join(fixture('hello'), 'flake.nix');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(flakeNix));
    const editor = await vscode.window.showTextDocument(doc);
    const before = api.lenses.queries(flake);
    const started = Date.now();
    const line = lineOf(flakeNix, 'hello = lib.mkDerivation {');
    await editor.edit((e) => e.insert(new vscode.Position(line, 0), '        # a comment typed above hello\n'));
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100);
    assert.ok(lenses.some((l) => l.range.start.line === line + 1 && l.command?.title.startsWith('$(tools) Build .#hello')));
    assert.equal(api.lenses.queries(flake), before, 'no positions query for this flake while typing');
    // Processes for this flake (another flake may be refreshed in the background meanwhile).
    const mine = api.recentRuns().filter((r) => r.startedAt >= started && r.command.includes(fixture('hello')));
    assert.deepEqual(
      mine.map((r) => r.command),
      [],
      'no process at all (nix, git) for this flake while typing',
    );
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('a package built by a builder the scanner does not know gets its lens in its own file, where the evaluation placed it', async () => {
    await evaluated('lens-builders');
    const helperArg = join(fixture('lens-builders'), 'pkgs', 'helper-arg.nix');
    const h = (await lensesOf(helperArg)).filter((l) => l.command?.command === 'nixFlakes.build');
    assert.equal(h[0]?.range.start.line, lineOf(helperArg, 'mkDrv {'));
    assert.match(String(h[0]?.command?.title), /^\$\(tools\) Build \.#helperArg\b/);
    const parted = join(fixture('lens-builders'), 'pkgs', 'parted.nix');
    const p = (await lensesOf(parted)).filter((l) => l.command?.command === 'nixFlakes.build');
    assert.equal(p[0]?.range.start.line, lineOf(parted, 'mkPackage {'));
    assert.match(String(p[0]?.command?.title), /^\$\(tools\) Build \.#parted\b/);
  });
});
