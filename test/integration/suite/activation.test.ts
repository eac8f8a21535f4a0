import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extension, fixture } from './helpers';

describe('activation', () => {
  it('activates in a flake workspace and finds the flake', async () => {
    const api = await extension();
    const flakes = await api.flakes();
    const hello = fixture('hello');
    assert.ok(
      flakes.some((f) => f.uri.fsPath === hello),
      `flakes found: ${flakes.map((f) => f.uri.fsPath).join(', ')}`,
    );
  });

  it('detects the real nix and reports its version', async () => {
    const api = await extension();
    const r = await api.nix();
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.ok(r.nix.caps.supported);
    const text = await vscode.commands.executeCommand<string>('nixFlakes.showNixVersion');
    assert.match(text, /^(Nix|Lix|Determinate Nix) \d+\.\d+/);
  });

  it('contributes the nix language for .nix files', async () => {
    await extension();
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(`${fixture('hello')}/flake.nix`));
    assert.equal(doc.languageId, 'nix');
  });

  it('sets the state that chooses the welcome views to ready', async () => {
    const api = await extension();
    await api.ready;
    assert.equal(api.state(), 'ready');
  });
});
