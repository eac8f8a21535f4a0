// The follows quick fix: adds the missing `follows` in the style flake.nix already uses, then offers to re-lock.
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import { isRefusal, planFollowsEdit } from '../../core/source';
import type { FollowsDiagnostic } from './diagnostics';

export function registerFollowsFix(ctx: Ctx): void {
  ctx.register(
    vscode.languages.registerCodeActionsProvider({ language: 'nix', scheme: 'file' }, new FollowsFix(ctx), {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }),
  );
}

class FollowsFix implements vscode.CodeActionProvider {
  constructor(private readonly ctx: Ctx) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics as readonly FollowsDiagnostic[]) {
      const s = d.suggestion;
      if (d.code !== 'duplicate-input' || !s) continue;
      const plan = planFollowsEdit(doc.getText(), s.input, s.dep, s.target);
      if (isRefusal(plan)) {
        this.ctx.log.info(`no quick fix for ${s.nix}: ${plan.refused}`);
        continue;
      }
      const action = new vscode.CodeAction(`Make ${s.input} follow ${s.target} (${s.nix})`, vscode.CodeActionKind.QuickFix);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(
        doc.uri,
        new vscode.Range(doc.positionAt(plan.offset), doc.positionAt(plan.offset + plan.deleteLength)),
        plan.insertText,
      );
      action.edit = edit;
      action.diagnostics = [d];
      action.isPreferred = true;
      action.command = { command: 'nixFlakes.offerRelock', title: 'Re-lock', arguments: [doc.uri] };
      out.push(action);
    }
    return out;
  }
}

/** After the follows quick fix: offer to re-lock so flake.lock reflects it. */
export function registerRelockOffer(ctx: Ctx): void {
  ctx.register(
    vscode.commands.registerCommand('nixFlakes.offerRelock', async (uri: vscode.Uri) => {
      const flakes = await ctx.flakes();
      const flake = flakes.find((f) => uri.fsPath === join(f.uri.fsPath, 'flake.nix'));
      if (!flake) return;
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const a = await vscode.window.showInformationMessage(
        `Re-lock ${flake.label} so flake.lock uses the follows?${doc?.isDirty ? ' (flake.nix is saved first)' : ''}`,
        'Save and Re-lock',
      );
      if (a !== 'Save and Re-lock') return;
      if (doc?.isDirty) await doc.save();
      await vscode.commands.executeCommand('nixFlakes.lockFlake', flake);
    }),
  );
}
