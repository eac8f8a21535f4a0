// Quick fixes for the errors NixOS users hit most, offered on the diagnostics of a dry-build:
//  - a file the flake needs is not tracked by git → `git add -N` it (Nix only sees tracked files);
//  - "Did you mean `services.x.enable'?" → the suggested name, at the spot;
//  - "has conflicting definition values" → `lib.mkForce` / `lib.mkDefault` on the chosen definition.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import type { Ctx } from '../../context';
import type { NixError } from '../../core/errors/types';
import { findOptionDefinitions, LineIndex, parseOptionPath, showOptionPath } from '../../core/source';

/** Errors behind the diagnostics, by document and range (diagnostics carry no data of their own). */
export class ErrorIndex {
  private readonly map = new Map<string, NixError>();

  static key(uri: vscode.Uri, d: vscode.Diagnostic): string {
    const r = d.range;
    return `${uri.toString()}|${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}|${d.code}`;
  }

  set(uri: vscode.Uri, d: vscode.Diagnostic, e: NixError): void {
    this.map.set(ErrorIndex.key(uri, d), e);
  }

  get(uri: vscode.Uri, d: vscode.Diagnostic): NixError | undefined {
    return this.map.get(ErrorIndex.key(uri, d));
  }
}

export class DryBuildFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly errors: ErrorIndex) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== 'nix') continue;
      const e = this.errors.get(doc.uri, d);
      if (!e) continue;
      if (e.kind === 'untracked-file') {
        const a = new vscode.CodeAction(
          `Track ${doc.uri.path.split('/').pop()} in git (git add -N), so Nix sees it`,
          vscode.CodeActionKind.QuickFix,
        );
        a.command = { command: 'nixFlakes.gitAddIntent', title: 'git add -N', arguments: [doc.uri] };
        a.diagnostics = [d];
        a.isPreferred = true;
        out.push(a);
      } else if (e.kind === 'option-does-not-exist') {
        out.push(...renameActions(doc, d, e.optionPath, e.suggestions));
      } else if (e.kind === 'conflicting-definitions') {
        out.push(...priorityActions(doc, d, e.optionPath));
      }
    }
    return out;
  }
}

/** "Did you mean": replaces the option name as written at the diagnostic (a full path or its last segments). */
function renameActions(doc: vscode.TextDocument, d: vscode.Diagnostic, optionPath: string, suggestions: string[]): vscode.CodeAction[] {
  const written = doc.getText(d.range).trim();
  // Parts, not text split at dots: `users.users."alice.smith".uid` has four.
  const writtenSegs = parseOptionPath(written);
  const pathSegs = parseOptionPath(optionPath);
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!written || writtenSegs.length > pathSegs.length || !same(pathSegs.slice(-writtenSegs.length), writtenSegs)) return [];
  return suggestions.flatMap((s, i) => {
    const segs = parseOptionPath(s);
    // A bare suggestion ("Did you mean motd?") names the last segment.
    const full = segs.length === 1 ? [...pathSegs.slice(0, -1), segs[0]!] : segs;
    if (full.length !== pathSegs.length || !same(full.slice(0, -writtenSegs.length), pathSegs.slice(0, -writtenSegs.length))) return [];
    const replacement = showOptionPath(full.slice(-writtenSegs.length));
    const a = new vscode.CodeAction(`Change to \`${showOptionPath(full)}\``, vscode.CodeActionKind.QuickFix);
    a.edit = new vscode.WorkspaceEdit();
    a.edit.replace(doc.uri, d.range, replacement);
    a.diagnostics = [d];
    a.isPreferred = i === 0;
    return [a];
  });
}

/** Wraps the value of the definition at the diagnostic in `lib.mkForce` or `lib.mkDefault`. */
function priorityActions(doc: vscode.TextDocument, d: vscode.Diagnostic, optionPath: string): vscode.CodeAction[] {
  const text = doc.getText();
  // Only where `lib` is in scope: the module is a function taking `lib`.
  if (!/^\s*(?:#[^\n]*\n\s*)*\{[^}]*\blib\b[^}]*\}\s*:/.test(text)) return [];
  const idx = new LineIndex(text);
  const start = doc.offsetAt(d.range.start);
  const def = findOptionDefinitions(text, parseOptionPath(optionPath)).find((x) => x.range.start <= start && start <= x.range.end);
  if (!def) return [];
  const v = def.binding.valueRange;
  const value = text.slice(v.start, v.end).trim();
  if (!value || /^lib\.mk(Force|Default|Override)\b/.test(value)) return [];
  const simple = /^("[^"]*"|[\w.'-]+|\[[^\]]*\]|\{[^}]*\})$/.test(value);
  return (['mkForce', 'mkDefault'] as const).map((fn) => {
    const a = new vscode.CodeAction(
      `Use lib.${fn} for this definition (${fn === 'mkForce' ? 'it wins' : 'others win'})`,
      vscode.CodeActionKind.QuickFix,
    );
    a.edit = new vscode.WorkspaceEdit();
    const e = idx.positionAt(v.start + text.slice(v.start, v.end).trimEnd().length);
    const lead = text.slice(v.start, v.end).length - text.slice(v.start, v.end).trimStart().length;
    const sp = idx.positionAt(v.start + lead);
    a.edit.replace(doc.uri, new vscode.Range(sp.line, sp.character, e.line, e.character), `lib.${fn} ${simple ? value : `(${value})`}`);
    a.diagnostics = [d];
    return a;
  });
}

/** A `git add -N` that takes longer (a lock held by another git, a slow hook of the repository) is given up. */
const GIT_TIMEOUT_MS = 15_000;

/** `git add -N` (intent to add): the file becomes visible to Nix without staging its content. */
export function registerGitAddIntent(ctx: Ctx, after: (uri: vscode.Uri) => void): void {
  ctx.register(
    vscode.commands.registerCommand('nixFlakes.gitAddIntent', async (uri: vscode.Uri) => {
      if (!ctx.trusted) return false;
      try {
        await ctx.git(['-C', dirname(uri.fsPath), 'add', '--intent-to-add', '--', uri.fsPath], {
          signal: AbortSignal.timeout(GIT_TIMEOUT_MS),
        });
      } catch (e) {
        void vscode.window.showErrorMessage(`git add -N failed: ${(e as Error).message}`);
        return false;
      }
      vscode.window.setStatusBarMessage(`${uri.path.split('/').pop()} is now tracked by git (intent to add)`, 4000);
      after(uri);
      return true;
    }),
  );
}
