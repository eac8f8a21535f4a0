// From an input in the view to its entry in flake.lock or its declaration in flake.nix.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import type { Locks } from './model';
import type { InputNode } from './view';
import { findInputDeclaration } from '../../core/source';

export function registerNavigation(ctx: Ctx, locks: Locks): void {
  ctx.register(
    vscode.commands.registerCommand('nixFlakes.openInputInLock', async (node?: InputNode) => {
      if (!node || node.kind !== 'input') return;
      const doc = await vscode.workspace.openTextDocument(node.state.lockPath);
      const r = node.input.nodeRange ?? node.input.entryRange;
      const start = doc.positionAt(r.offset);
      await vscode.window.showTextDocument(doc, {
        selection: new vscode.Range(start, doc.positionAt(r.offset + Math.min(r.length, 1))),
        preview: true,
      });
    }),
    vscode.commands.registerCommand('nixFlakes.goToInputDeclaration', async (node?: InputNode) => {
      if (!node || node.kind !== 'input') return undefined;
      const file = join(node.state.flake.uri.fsPath, 'flake.nix');
      const text = await readFile(file, 'utf8');
      const decl = findInputDeclaration(text, node.input.path[0]!);
      const doc = await vscode.workspace.openTextDocument(file);
      if (!decl) {
        void vscode.window.showInformationMessage(`The declaration of ${node.input.path[0]} was not found in flake.nix.`);
        await vscode.window.showTextDocument(doc);
        return undefined;
      }
      const range = new vscode.Range(doc.positionAt(decl.range.start), doc.positionAt(decl.range.end));
      await vscode.window.showTextDocument(doc, { selection: range });
      return range;
    }),
    vscode.commands.registerCommand('nixFlakes.refreshInputs', () => locks.invalidate()),
  );
}
