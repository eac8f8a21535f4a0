import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, settled } from './helpers';

const OPTIONS = { tabSize: 2, insertSpaces: true };

async function format(uri: vscode.Uri): Promise<vscode.TextEdit[] | undefined> {
  return vscode.commands.executeCommand<vscode.TextEdit[] | undefined>('vscode.executeFormatDocumentProvider', uri, OPTIONS);
}

async function apply(doc: vscode.TextDocument, edits: readonly vscode.TextEdit[]): Promise<void> {
  const we = new vscode.WorkspaceEdit();
  we.set(doc.uri, [...edits]);
  assert.ok(await vscode.workspace.applyEdit(we));
}

/** The nix runs (by the nix the extension uses) started at or after `t0`. */
/** The nix runs since `t0` for one fixture's flake (another flake may be refreshed in the background meanwhile). */
async function nixRunsSince(t0: number, name = 'format'): Promise<string[]> {
  const api = await extension();
  const nix = await api.nix();
  const path = nix.ok ? nix.nix.path : 'nix';
  const dir = fixture(name);
  return api
    .recentRuns()
    .filter((r) => r.startedAt >= t0 && r.command.startsWith(path) && r.command.includes(dir))
    .map((r) => r.command);
}

describe('Formatting with the flake formatter', () => {
  it('formats a file with formatter.<system> of its flake; the second format starts no nix', async () => {
    const api = await extension();
    const dir = fixture('format');
    await settled(await flakeOf('format'));
    const file = join(dir, 'messy.nix');
    writeFileSync(file, '{\n\tx = 1;   \n\ty = [ 1 2 ];\t\n}\n');
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const t0 = Date.now();
    const edits = await format(doc.uri);
    assert.ok(
      edits && edits.length > 0,
      `edits: ${JSON.stringify(edits)}; runs: ${api
        .recentRuns()
        .map((r) => `${r.command} → ${r.outcome}`)
        .join(' | ')}`,
    );
    const first = await nixRunsSince(t0);
    assert.ok(
      first.some((c) => / build .*--out-link .*formatter.x86_64-linux/.test(c)),
      `the formatter is built with a GC root: ${first.join(' | ')}`,
    );
    await apply(doc, edits);
    assert.ok(await doc.save());
    assert.equal(readFileSync(file, 'utf8'), '{\n  x = 1;\n  y = [ 1 2 ];\n}\n', 'the file is formatted');

    // Edited again (in the editor only), formatted again: the formatter's program runs, nix does not.
    await apply(doc, [vscode.TextEdit.insert(new vscode.Position(1, 8), '    ')]);
    const t1 = Date.now();
    const again = await format(doc.uri);
    assert.deepEqual(await nixRunsSince(t1), [], 'no nix for the second format');
    assert.ok(
      api.recentRuns().some((r) => r.startedAt >= t1 && /\/bin\/fixture-fmt$/.test(r.command) && r.outcome === 'ok'),
      api
        .recentRuns()
        .slice(-5)
        .map((r) => r.command)
        .join(' | '),
    );
    assert.ok(again && again.length > 0);
    await apply(doc, again);
    assert.equal(doc.getText(), '{\n  x = 1;\n  y = [ 1 2 ];\n}\n');
    // Already formatted: no edit.
    assert.deepEqual((await format(doc.uri)) ?? [], []);
    await doc.save();
  });

  it("a formatter's error is not applied: the file stays as it is", async () => {
    const dir = fixture('format');
    const file = join(dir, 'broken-format.nix');
    const text = '{\n  x = 1;   \n  FORMAT_ERROR\n}\n';
    writeFileSync(file, text);
    const doc = await vscode.workspace.openTextDocument(file);
    const t0 = Date.now();
    const edits = await format(doc.uri);
    assert.deepEqual(edits ?? [], [], 'no edit from a failing formatter');
    assert.equal(doc.getText(), text);
    assert.equal(readFileSync(file, 'utf8'), text);
    const api = await extension();
    const run = api.recentRuns().find((r) => r.startedAt >= t0 && /fixture-fmt$/.test(r.command));
    assert.equal(run?.outcome, 'exit 3', 'the formatter ran and failed');
    assert.deepEqual(await nixRunsSince(t0), [], 'resolved earlier: no nix');
  });

  it('a flake without a formatter formats nothing, and is asked once per state of its files', async () => {
    const dir = fixture('builds');
    const doc = await vscode.workspace.openTextDocument(join(dir, 'flake.nix'));
    const text = doc.getText();
    const t0 = Date.now();
    assert.deepEqual((await format(doc.uri)) ?? [], []);
    assert.ok(
      (await nixRunsSince(t0, 'builds')).some((c) => c.includes('formatter.x86_64-linux')),
      'nix was asked for the formatter',
    );
    const t1 = Date.now();
    assert.deepEqual((await format(doc.uri)) ?? [], []);
    assert.deepEqual(
      (await nixRunsSince(t1, 'builds')).filter((c) => c.includes('formatter')),
      [],
      'not asked again',
    );
    assert.equal(doc.getText(), text);
  });
});
