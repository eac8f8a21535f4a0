// Lock diagnostics: sources locked at several revisions, flagged on the input's declaration in flake.nix (the
// follows quick fix reads the suggestion they carry).
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import type { Locks } from './model';
import type { DuplicateGroup, FollowsSuggestion } from '../../core/flake/duplicates';
import { findInputDeclaration, LineIndex } from '../../core/source';

/** A duplicate-input warning with the follows that fixes it. */
export interface FollowsDiagnostic extends vscode.Diagnostic {
  suggestion?: FollowsSuggestion;
}

/** Keeps the warnings on each flake.nix in step with the lock files. */
export function registerLockDiagnostics(ctx: Ctx, locks: Locks): void {
  const diagnostics = ctx.register(vscode.languages.createDiagnosticCollection('nix-flake-inputs'));
  const refresh = async () => {
    diagnostics.clear();
    if (!ctx.trusted) return;
    const groups = await locks.duplicates();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const state of await locks.all()) {
      const flakeNix = join(state.flake.uri.fsPath, 'flake.nix');
      const text = await readFile(flakeNix, 'utf8').catch(() => undefined);
      if (!text) continue;
      const idx = new LineIndex(text);
      for (const g of groups) {
        for (const d of duplicateDiagnostics(g, state.flake.label, text, idx)) byFile.set(flakeNix, [...(byFile.get(flakeNix) ?? []), d]);
      }
    }
    for (const [file, ds] of byFile) diagnostics.set(vscode.Uri.file(file), ds);
  };
  ctx.register(locks.onDidChange(() => void refresh()));
  void refresh();
}

/** Warnings on the declarations of inputs that lock their own copy of a source the root already has. */
function duplicateDiagnostics(g: DuplicateGroup, flakeLabel: string, text: string, idx: LineIndex): vscode.Diagnostic[] {
  const out: vscode.Diagnostic[] = [];
  const mine = g.occurrences.filter((o) => o.flake === undefined || o.flake === flakeLabel);
  if (mine.length === 0) return out;
  const describe = (o: (typeof g.occurrences)[number]) =>
    `${o.flake && o.flake !== flakeLabel ? `${o.flake}: ` : ''}${o.id} at ${o.shortRev ?? '?'}${o.lastModified ? ` (${new Date(o.lastModified * 1000).toISOString().slice(0, 10)})` : ''}`;
  const range = (name: string) => {
    const decl = findInputDeclaration(text, name);
    if (!decl) return undefined;
    const s = idx.positionAt(decl.range.start);
    const e = idx.positionAt(decl.range.end);
    return new vscode.Range(s.line, s.character, e.line, e.character);
  };
  const suggestions = g.suggestions.filter((s) => s.flake === undefined || s.flake === flakeLabel);
  for (const s of suggestions) {
    const r = range(s.input);
    if (!r) continue;
    const d: FollowsDiagnostic = new vscode.Diagnostic(
      r,
      `${s.path.join('/')} locks its own ${g.label} (${g.revisions.length} revisions in use: ${g.occurrences.map(describe).join(', ')}${g.spreadDays !== undefined ? `; ${g.spreadDays} days apart` : ''}). Make it follow ${s.target}: ${s.nix}`,
      vscode.DiagnosticSeverity.Warning,
    );
    d.source = 'nix flake inputs';
    d.code = 'duplicate-input';
    d.suggestion = s;
    out.push(d);
  }
  // Across repositories: a direct input pinned differently by another flake of the workspace.
  const others = g.occurrences.filter((o) => o.flake !== undefined && o.flake !== flakeLabel);
  if (!suggestions.length && others.length) {
    for (const o of mine.filter((m) => m.path.length === 1)) {
      const r = range(o.path[0]!);
      if (!r) continue;
      const d = new vscode.Diagnostic(
        r,
        `${g.label} is pinned at ${o.shortRev ?? '?'} here but at another revision elsewhere in the workspace: ${others.map(describe).join(', ')}.`,
        vscode.DiagnosticSeverity.Information,
      );
      d.source = 'nix flake inputs';
      d.code = 'diverging-pin';
      out.push(d);
    }
  }
  return out;
}
