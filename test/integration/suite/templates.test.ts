import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, flakeOf, label, settled } from './helpers';
import { makeRepo, scratchDir } from '../../support/nix';
import type { Node } from '../../../src/features/outputs/view';
import type { TemplateResult } from '../../../src/features/templates';

/** The Outputs tree's items under Templates of the `format` fixture. */
async function templateItems(): Promise<Node[]> {
  const api = await extension();
  const flake = await flakeOf('format');
  await settled(flake);
  const root = (await api.outputs.provider.getChildren()).find((n) => n.kind === 'flake' && n.flake.uri.fsPath === flake.uri.fsPath)!;
  const cats = await api.outputs.provider.getChildren(root);
  const templates = cats.find((c) => label(api.outputs.provider.getTreeItem(c)) === 'Templates');
  assert.ok(templates, 'a Templates category');
  return api.outputs.provider.getChildren(templates);
}

const status = (dir: string) => execFileSync('git', ['-C', dir, 'status', '--porcelain'], { encoding: 'utf8' });

describe('Templates', () => {
  it('a template item of the Outputs tree creates a flake in a folder of a git repository, its files added to git', async () => {
    const api = await extension();
    const items = await templateItems();
    const hello = items.find((n) => label(api.outputs.provider.getTreeItem(n)) === 'hello')!;
    assert.ok(hello, 'the hello template is listed');
    assert.match(String(api.outputs.provider.getTreeItem(hello).contextValue), /^nix:output:template/);
    const repo = makeRepo(mkdtempSync(join(scratchDir(), 'new-project-')), { 'notes.txt': 'mine\n' });
    const folder = join(repo, 'sub');
    const r = await vscode.commands.executeCommand<TemplateResult>('nixFlakes.newFromTemplate', hello, vscode.Uri.file(folder));
    assert.equal(r?.outcome, 'created', JSON.stringify(r));
    if (r.outcome !== 'created') return;
    assert.deepEqual(r.added, ['README.md', 'flake.nix']);
    assert.ok(r.tracked);
    assert.match(r.welcome ?? '', /Build it with/);
    assert.match(readFileSync(join(folder, 'flake.nix'), 'utf8'), /A new flake/);
    // Intent to add: git (and so the flake) sees them; nothing else was touched.
    assert.deepEqual(status(repo).split('\n').filter(Boolean).sort(), [' A sub/README.md', ' A sub/flake.nix']);
    assert.equal(readFileSync(join(repo, 'notes.txt'), 'utf8'), 'mine\n');
  });

  it('refuses to overwrite: a folder holding a different file of the template gets nothing, on every Nix', async () => {
    const flake = await flakeOf('format');
    const target = makeRepo(mkdtempSync(join(scratchDir(), 'taken-')), { 'README.md': 'my own readme\n' });
    const r = await vscode.commands.executeCommand<TemplateResult>(
      'nixFlakes.newFromTemplate',
      { flake, attrPath: ['templates', 'hello'], display: '.#hello' },
      vscode.Uri.file(target),
    );
    assert.deepEqual(r && r.outcome === 'refused' ? r.conflicts : r, ['README.md']);
    assert.deepEqual(readdirSync(target).sort(), ['.git', 'README.md'], 'flake.nix was not written either');
    assert.equal(readFileSync(join(target, 'README.md'), 'utf8'), 'my own readme\n');
    assert.equal(status(target), '');
  });

  it('a typed reference works too; identical files are left; a folder outside git gets plain files', async () => {
    const api = await extension();
    const flake = await flakeOf('format');
    const plain = mkdtempSync(join(scratchDir(), 'plain-'));
    writeFileSync(join(plain, 'README.md'), '# A new flake\n\nMade from the `hello` template.\n');
    const r = await vscode.commands.executeCommand<TemplateResult>(
      'nixFlakes.newFromTemplate',
      `git+file://${flake.uri.fsPath}#hello`,
      plain,
    );
    assert.equal(r?.outcome, 'created', JSON.stringify(r));
    if (r.outcome !== 'created') return;
    assert.deepEqual(r.added, ['flake.nix']);
    assert.deepEqual(r.identical, ['README.md']);
    assert.equal(r.tracked, false);
    assert.ok(existsSync(join(plain, 'flake.nix')));
    assert.ok(!api.recentRuns().some((x) => x.command.includes(`-C ${plain} add`)), 'no git add outside git');
    // A reference nix cannot resolve: the failure is said, nothing is written.
    const empty = mkdtempSync(join(scratchDir(), 'empty-'));
    const bad = await vscode.commands.executeCommand<TemplateResult>(
      'nixFlakes.newFromTemplate',
      `git+file://${flake.uri.fsPath}#nope`,
      empty,
    );
    assert.equal(bad?.outcome, 'failed');
    assert.match(bad && bad.outcome === 'failed' ? bad.message : '', /does not provide attribute/);
    assert.deepEqual(readdirSync(empty), []);
  });
});
