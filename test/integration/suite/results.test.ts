// Build results in the editor, with the real nix, on the `results` fixture: Open Result (a folder in the Build
// Results view through the read-only nix-result: file system, a single file as a document, an image archive in its
// inspector), Compare Image With… (one changed layer), Diff with HEAD (a changed value is exactly that resource; a
// reordered render is no change), Diff with Previous Build. Private inputs: an update of a flake whose input is
// served over git+ssh:// by the test host's sshd — with the key it works; without it, and with an unknown host key,
// nix ends at once with the explanation and nothing is left waiting.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf } from './helpers';
import { makeRepo, processesWith, scratchDir } from '../../support/nix';
import { startTestHost, testHostUnavailable, type TestHost } from '../../support/testHost';
import { gitSshServer, type GitSshServer, type SshClient } from '../../support/gitSsh';
import type { DiffOutcome, ImageCompareOutcome, ResultOutcome } from '../../../src/features/results';

const SYSTEM = 'x86_64-linux';

describe('Build results', function () {
  this.timeout(180_000);
  let dir: string;
  let values: string;
  let original: string;
  const target = async (name: string) => ({ flake: await flakeOf('results'), attrPath: ['packages', SYSTEM, name], display: `.#${name}` });

  before(async () => {
    await extension();
    dir = fixture('results');
    values = join(dir, 'values.nix');
    original = readFileSync(values, 'utf8');
  });
  afterEach(() => writeFileSync(values, original));

  it('Open Result on a folder output: the Build Results view, files read through nix-result: (YAML as YAML, read-only, store paths only)', async () => {
    const o = (await vscode.commands.executeCommand<ResultOutcome>('nixFlakes.results.open', await target('manifests')))!;
    assert.equal(o.status, 'opened', o.message);
    assert.equal(o.shownAs, 'tree');
    assert.match(o.outPath!, /^\/nix\/store\/[a-z0-9]{32}-manifests$/);
    const uri = vscode.Uri.from({ scheme: 'nix-result', path: `${o.outPath}/manifests/all.yaml` });
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    assert.match(text, /kind: Deployment/);
    const listing = await vscode.workspace.fs.readDirectory(vscode.Uri.from({ scheme: 'nix-result', path: o.outPath! }));
    assert.deepEqual(listing.map(([n]) => n).sort(), ['NOTES.txt', 'manifests']);
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.languageId, 'yaml');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, new Uint8Array([1]))), /NoPermissions|read-?only/i);
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.from({ scheme: 'nix-result', path: '/etc/passwd' }))),
      /EntryNotFound|FileNotFound|not found/i,
    );
  });

  it('Open Result on a single-file output opens it as a document', async () => {
    const o = (await vscode.commands.executeCommand<ResultOutcome>('nixFlakes.results.open', await target('settings')))!;
    assert.equal(o.shownAs, 'document', o.message);
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.scheme, 'nix-result');
    assert.equal(editor.document.getText(), 'greeting: hello\n');
    assert.equal(editor.document.languageId, 'yaml');
  });

  it('Open Result on an image archive: the inspector with platform, layers, entrypoint and labels', async () => {
    const o = (await vscode.commands.executeCommand<ResultOutcome>('nixFlakes.results.open', await target('image-v1')))!;
    assert.equal(o.shownAs, 'image', o.message);
    assert.equal(o.image!.platform, 'linux/amd64');
    assert.equal(o.image!.layers.length, 2);
    assert.deepEqual(o.image!.entrypoint, ['/app/server.sh']);
    assert.equal(o.image!.labels['org.opencontainers.image.version'], '1.0');
    const report = await vscode.workspace.openTextDocument(vscode.Uri.parse(o.report!));
    assert.match(report.uri.path, /image-v1\.tar\.md$/);
    assert.match(report.getText(), /## Layers[\s\S]*\| 2 \| sha256:/);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.ok(
      tabs.some((t) => t.input instanceof vscode.TabInputWebview && /markdown/i.test(t.input.viewType)),
      `a Markdown preview is open (${tabs.map((t) => t.label).join(', ')})`,
    );
  });

  it('Compare Image With…: the second image differs in exactly one layer and its version label', async () => {
    const o = (await vscode.commands.executeCommand<ImageCompareOutcome>(
      'nixFlakes.results.compareImages',
      await target('image-v1'),
      await target('image-v2'),
    ))!;
    assert.equal(o.status, 'compared', o.message);
    assert.deepEqual(
      o.diff!.layers.map((l) => l.status),
      ['same', 'changed'],
    );
    assert.deepEqual(
      o.diff!.fields.map((f) => f.field),
      ['label org.opencontainers.image.version'],
    );
    assert.match((await vscode.workspace.openTextDocument(vscode.Uri.parse(o.report!))).getText(), /1 layer and 1 config field differ/);
  });

  it('Diff with HEAD: a changed value is exactly that resource changed, shown in the changes editor', async () => {
    writeFileSync(values, original.replace('replicas = 2;', 'replicas = 3;'));
    const o = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithHead', await target('manifests')))!;
    assert.equal(o.status, 'different', o.message);
    assert.deepEqual(
      o.diff!.changes.map((c) => [c.rel, c.status]),
      [['manifests/all.yaml', 'changed']],
    );
    assert.deepEqual(
      o.diff!.changes[0]!.resources!.map((r) => [r.key, r.status]),
      [['Deployment shop/app', 'changed']],
    );
    assert.deepEqual(o.shown, ['manifests/all.yaml › Deployment shop/app (changed)']);
    assert.notEqual(o.before, o.after);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputTextDiff, `a diff editor is open (${tab?.label})`);
    assert.match((tab.input as vscode.TabInputTextDiff).modified.path, /Deployment shop\/app\.yaml$/);
  });

  it('Diff with HEAD: a render that only reorders its documents is no change; nothing changed at all is the same result', async () => {
    writeFileSync(
      values,
      original.replace('[ "namespace" "config" "service" "deployment" ]', '[ "deployment" "service" "config" "namespace" ]'),
    );
    const o = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithHead', await target('manifests')))!;
    assert.equal(o.status, 'same', o.message);
    assert.deepEqual(o.diff!.changes, []);
    assert.deepEqual(o.diff!.reordered, ['manifests/all.yaml']);
    writeFileSync(values, original);
    const same = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithHead', await target('manifests')))!;
    assert.equal(same.status, 'same');
    assert.equal(same.before, same.after);
  });

  it('Diff with Previous Build: against the last different result of the same output', async () => {
    await vscode.commands.executeCommand('nixFlakes.results.open', await target('manifests'));
    writeFileSync(values, original.replace('replicas = 2;', 'replicas = 4;'));
    const o = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithPrevious', await target('manifests')))!;
    assert.equal(o.status, 'different', o.message);
    assert.deepEqual(
      o.diff!.changes[0]!.resources!.map((r) => r.key),
      ['Deployment shop/app'],
    );
    const again = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithPrevious', await target('manifests')))!;
    assert.equal(again.status, 'different', 'the same result again compares with the one before it');
    assert.equal(again.before, o.before);
    const fresh = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithPrevious', await target('image-v2')))!;
    assert.equal(fresh.status, 'no-previous');
  });

  it('Diff with Previous Build: a build from the Build command counts as the previous build too', async () => {
    const api = await extension();
    const built = await api.outputs.builds.build(await target('manifests'));
    assert.equal(built.status, 'built');
    writeFileSync(values, original.replace('replicas = 2;', 'replicas = 5;'));
    const o = (await vscode.commands.executeCommand<DiffOutcome>('nixFlakes.results.diffWithPrevious', await target('manifests')))!;
    assert.equal(o.status, 'different', o.message);
    assert.equal(o.before, built.outputs.out);
  });
});

describe('Private inputs', function () {
  this.timeout(180_000);
  let host: TestHost | undefined;
  let srv: GitSshServer;
  const saved = process.env.GIT_SSH_COMMAND;

  before(async function () {
    if (testHostUnavailable()) this.skip();
    host = await startTestHost();
    srv = gitSshServer(host);
  });
  after(() => {
    if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
    else process.env.GIT_SSH_COMMAND = saved;
    host?.stop();
  });

  /** A flake (outside the workspace) whose input is a fresh private repository on the test host. */
  async function update(client: SshClient) {
    const api = await extension();
    const lib = makeRepo(mkdtempSync(join(scratchDir(), 'private-lib-')), { 'flake.nix': '{ outputs = _: { value = 42; }; }' });
    const app = makeRepo(mkdtempSync(join(scratchDir(), 'private-app-')), {
      'flake.nix': `{ inputs.private.url = "${srv.url(lib)}?ref=main"; outputs = { self, private }: { v = private.value; }; }`,
    });
    process.env.GIT_SSH_COMMAND = srv.env(client).GIT_SSH_COMMAND;
    const flake = { uri: vscode.Uri.file(app), folder: vscode.workspace.workspaceFolders![0]!, label: 'private-app' };
    const started = Date.now();
    const o = await api.inputs.update(flake, []);
    return { o, ms: Date.now() - started, app };
  }

  it('with the key, updating a git+ssh:// input works', async () => {
    const { o, app } = await update('good');
    assert.equal(o.status, 'updated', o.message);
    assert.match(readFileSync(join(app, 'flake.lock'), 'utf8'), /"url": "ssh:\/\/testhost\//);
  });

  it('without the key: the explanation (ssh-agent), offered in a terminal, at once, no process left waiting', async () => {
    const { o, ms } = await update('wrongKey');
    assert.equal(o.status, 'failed');
    assert.match(o.message!, /Permission denied \(publickey\)[\s\S]*ssh-agent/);
    assert.equal(o.terminal, true);
    assert.ok(ms < 30_000, `took ${ms} ms`);
    assert.deepEqual(processesWith(join(host!.dir, 'git-clients')), []);
  });

  it('a key locked by a passphrase: nobody is asked, the same explanation', async () => {
    const { o } = await update('passphrase');
    assert.equal(o.status, 'failed');
    assert.match(o.message!, /ssh-add/);
    assert.deepEqual(processesWith(join(host!.dir, 'git-clients')), []);
  });

  it('an unknown host key: the explanation (known_hosts)', async () => {
    const { o } = await update('unknownHost');
    assert.equal(o.status, 'failed');
    assert.match(o.message!, /Host key verification failed[\s\S]*known_hosts/);
    assert.equal(o.terminal, true);
  });
});
