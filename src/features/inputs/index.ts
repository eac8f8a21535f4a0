// Flake Inputs: the view, Update (one input or all, chosen by Nix version), Lock now, navigation to flake.lock and
// flake.nix, and the "one nixpkgs" analysis: sources locked at several revisions are flagged in the view and on the
// input's declaration in flake.nix, with a quick fix that adds the missing `follows`.
import * as vscode from 'vscode';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import type { Flake } from '../../flakes';
import { Locks, readLock } from './model';
import { flakeOfNode, InputNode, InputsProvider } from './view';
import { CancelledError, ExitError } from '../../core/nix/process';
import { diffLocks, diffSummary, lockArgs, parseLockUpdateMessages, updateArgs } from '../../core/flake/update';
import { allInputs, isValidInputPath } from '../../core/flake/lock';
import type { DuplicateGroup, FollowsSuggestion } from '../../core/flake/duplicates';
import { findInputDeclaration, LineIndex, planFollowsEdit } from '../../core/source';
import { isRefusal } from '../../core/source';
import { stripAnsi } from '../../core/text';
import { flakeRef } from '../diagnostics';

export interface UpdateOutcome {
  status: 'updated' | 'unchanged' | 'failed' | 'cancelled';
  summary: string[];
  message?: string;
}

const BEFORE_SCHEME = 'nix-flakes-lock-before';

export interface Inputs {
  locks: Locks;
  provider: InputsProvider;
  /** Updates `inputs` (all when empty); `signal` cancels like the notification's Cancel button. */
  update(flake: Flake, inputs: string[], signal?: AbortSignal): Promise<UpdateOutcome>;
}

export function registerInputs(ctx: Ctx): Inputs {
  const locks = ctx.register(new Locks(ctx));
  const provider = new InputsProvider(ctx, locks);
  const view = vscode.window.createTreeView('nixFlakes.inputs', { treeDataProvider: provider, showCollapseAll: true });
  ctx.register(view);

  // The lock as it was before an update, for the diff editor.
  const before = new Map<string, string>();
  ctx.register(
    vscode.workspace.registerTextDocumentContentProvider(BEFORE_SCHEME, { provideTextDocumentContent: (uri) => before.get(uri.query) ?? '' }),
  );

  const diagnostics = ctx.register(vscode.languages.createDiagnosticCollection('nix-flake-inputs'));
  const refreshDiagnostics = async () => {
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
  ctx.register(locks.onDidChange(() => void refreshDiagnostics()));
  void refreshDiagnostics();

  ctx.register(
    vscode.languages.registerCodeActionsProvider({ language: 'nix', scheme: 'file' }, new FollowsFix(ctx), { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
  );

  const update = (flake: Flake, inputs: string[], signal?: AbortSignal) => updateInputs(ctx, locks, before, flake, inputs, signal);
  const pickFlake = async (arg: unknown): Promise<Flake | undefined> => {
    const f = flakeOfNode(arg as InputNode) ?? (isFlake(arg) ? arg : undefined);
    if (f) return f;
    const flakes = await ctx.flakes();
    if (flakes.length <= 1) return flakes[0];
    const picked = await vscode.window.showQuickPick(flakes.map((fl) => ({ label: fl.label, description: fl.uri.fsPath, fl })), { placeHolder: 'Which flake?' });
    return picked?.fl;
  };

  ctx.register(
    vscode.commands.registerCommand('nixFlakes.updateInput', async (arg?: unknown, name?: string) => {
      const node = arg as InputNode | undefined;
      const flake = await pickFlake(arg);
      if (!flake) return undefined;
      let input = node?.kind === 'input' ? node.input.id : name;
      if (!input) {
        const state = await readLock(flake);
        const items = (state.lock ? allInputs(state.lock) : []).filter((i) => !i.follows && i.path.length === 1).map((i) => ({ label: i.id, description: [i.shortRev, i.original].filter(Boolean).join(' · ') }));
        if (!items.length) {
          void vscode.window.showInformationMessage(`${flake.label} has no locked inputs to update.`);
          return undefined;
        }
        input = (await vscode.window.showQuickPick(items, { placeHolder: `Update which input of ${flake.label}?` }))?.label;
      }
      if (!input) return undefined;
      return update(flake, [input]);
    }),
    vscode.commands.registerCommand('nixFlakes.updateAllInputs', async (arg?: unknown) => {
      const flake = await pickFlake(arg);
      return flake ? update(flake, []) : undefined;
    }),
    vscode.commands.registerCommand('nixFlakes.lockFlake', async (arg?: unknown) => {
      const flake = await pickFlake(arg);
      return flake ? lockFlake(ctx, locks, flake) : undefined;
    }),
    vscode.commands.registerCommand('nixFlakes.openInputInLock', async (node?: InputNode) => {
      if (!node || node.kind !== 'input') return;
      const doc = await vscode.workspace.openTextDocument(node.state.lockPath);
      const r = node.input.nodeRange ?? node.input.entryRange;
      const start = doc.positionAt(r.offset);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, doc.positionAt(r.offset + Math.min(r.length, 1))), preview: true });
    }),
    vscode.commands.registerCommand('nixFlakes.goToInputDeclaration', async (node?: InputNode) => {
      if (!node || node.kind !== 'input') return undefined;
      const file = join(node.state.flake.uri.fsPath, 'flake.nix');
      const text = await readFile(file, 'utf8');
      const decl = findInputDeclaration(text, node.input.path[0]);
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
  return { locks, provider, update };
}

function isFlake(x: unknown): x is Flake {
  return !!x && typeof x === 'object' && 'uri' in x && 'folder' in x && 'label' in x;
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
    const d = new vscode.Diagnostic(
      r,
      `${s.path.join('/')} locks its own ${g.label} (${g.revisions.length} revisions in use: ${g.occurrences.map(describe).join(', ')}${g.spreadDays !== undefined ? `; ${g.spreadDays} days apart` : ''}). Make it follow ${s.target}: ${s.nix}`,
      vscode.DiagnosticSeverity.Warning,
    );
    d.source = 'nix flake inputs';
    d.code = 'duplicate-input';
    (d as FollowsDiagnostic).suggestion = s;
    out.push(d);
  }
  // Across repositories: a direct input pinned differently by another flake of the workspace.
  const others = g.occurrences.filter((o) => o.flake !== undefined && o.flake !== flakeLabel);
  if (!suggestions.length && others.length) {
    for (const o of mine.filter((m) => m.path.length === 1)) {
      const r = range(o.path[0]);
      if (!r) continue;
      const d = new vscode.Diagnostic(r, `${g.label} is pinned at ${o.shortRev ?? '?'} here but at another revision elsewhere in the workspace: ${others.map(describe).join(', ')}.`, vscode.DiagnosticSeverity.Information);
      d.source = 'nix flake inputs';
      d.code = 'diverging-pin';
      out.push(d);
    }
  }
  return out;
}

interface FollowsDiagnostic extends vscode.Diagnostic {
  suggestion?: FollowsSuggestion;
}

/** Quick fix: add the missing follows in the style the file already uses, then offer to re-lock. */
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
      edit.replace(doc.uri, new vscode.Range(doc.positionAt(plan.offset), doc.positionAt(plan.offset + plan.deleteLength)), plan.insertText);
      action.edit = edit;
      action.diagnostics = [d];
      action.isPreferred = true;
      action.command = { command: 'nixFlakes.offerRelock', title: 'Re-lock', arguments: [doc.uri] };
      out.push(action);
    }
    return out;
  }
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function updateInputs(ctx: Ctx, locks: Locks, before: Map<string, string>, flake: Flake, inputs: string[], signal?: AbortSignal): Promise<UpdateOutcome> {
  if (!ctx.trusted) {
    void vscode.window.showWarningMessage('Restricted Mode: trust this folder to update its inputs.');
    return { status: 'failed', summary: [] };
  }
  for (const i of inputs) {
    if (!isValidInputPath(i)) {
      void vscode.window.showErrorMessage(`'${i}' is not an input name Nix accepts.`);
      return { status: 'failed', summary: [] };
    }
  }
  const nix = await ctx.requireNix();
  const old = await readLock(flake);
  const commit = vscode.workspace.getConfiguration('nixFlakes', flake.folder).get<boolean>('inputs.commitLockFile', false);
  let ref: string;
  try {
    ref = await flakeRef(ctx, flake);
  } catch (e) {
    void vscode.window.showErrorMessage((e as Error).message);
    return { status: 'failed', summary: [], message: (e as Error).message };
  }
  const args = updateArgs(nix.version, ref, inputs, { commitLockFile: commit });
  const what = inputs.length ? inputs.join(', ') : 'all inputs';
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Updating ${what} of ${flake.label}`, cancellable: true },
    async (progress, token): Promise<UpdateOutcome> => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      signal?.addEventListener('abort', () => ac.abort());
      try {
        const r = await ctx.runNix(args.slice(0, 2), args.slice(2), {
          cwd: flake.uri.fsPath,
          scope: flake.folder,
          signal: ac.signal,
          writeLockFile: true,
          onStderrLine: (l) => {
            const t = stripAnsi(l).trim();
            if (/^(fetching|downloading|unpacking|• |warning: updating)/.test(t)) progress.report({ message: t.slice(0, 120) });
          },
        });
        const messages = parseLockUpdateMessages(r.stderrLines.join('\n'));
        const now = await readLock(flake);
        const changes = old.lock && now.lock ? diffLocks(old.lock, now.lock) : [];
        const summary = diffSummary(changes);
        if (messages.unknownInputs.length) {
          return { status: 'failed', summary, message: `${flake.label} has no input named ${messages.unknownInputs.join(', ')}: nothing was updated.` };
        }
        return { status: summary.length || (!old.lock && now.lock) ? 'updated' : 'unchanged', summary };
      } catch (e) {
        if (e instanceof CancelledError) {
          // Nix writes the lock at the end; if anything did change, put back what was there.
          const now = await readFile(old.lockPath, 'utf8').catch(() => undefined);
          if (old.text !== undefined && now !== old.text) await atomicWrite(old.lockPath, old.text);
          else if (old.text === undefined && now !== undefined) await unlink(old.lockPath).catch(() => undefined);
          return { status: 'cancelled', summary: [] };
        }
        if (!(e instanceof ExitError)) throw e;
        return { status: 'failed', summary: [], message: explainUpdateFailure(stripAnsi(e.stderrTail(12)), commit, ctx.settings(flake.folder).offline) };
      }
    },
  );
  locks.invalidate();
  if (result.status === 'updated') {
    const key = `${flake.uri.toString()}@${Date.now()}`;
    before.set(key, old.text ?? '');
    const shown = result.summary.slice(0, 6).join('\n');
    void vscode.window.showInformationMessage(`Updated ${flake.label}: ${shown}${result.summary.length > 6 ? ` (+${result.summary.length - 6} more)` : ''}`, 'Show Diff').then((a) => {
      if (a === 'Show Diff') {
        void vscode.commands.executeCommand('vscode.diff', vscode.Uri.from({ scheme: BEFORE_SCHEME, path: `${old.lockPath} (before)`, query: key }), vscode.Uri.file(old.lockPath), `flake.lock: before ↔ after updating ${what}`);
      }
    });
  } else if (result.status === 'unchanged') {
    void vscode.window.showInformationMessage(`${what} of ${flake.label}: already up to date, nothing changed.`);
  } else if (result.status === 'cancelled') {
    void vscode.window.showInformationMessage(`Update cancelled; flake.lock is as it was.`);
  } else if (result.message) {
    void vscode.window.showErrorMessage(result.message, 'Show Log').then((a) => a && ctx.log.show());
  }
  return result;
}

function explainUpdateFailure(stderr: string, commit: boolean, offline: boolean): string {
  if (offline || /unable to download|Could not resolve host|Couldn't resolve host|network|offline/i.test(stderr)) {
    return `Updating needs the network to fetch new revisions${offline ? ', and nixFlakes.offline is on' : ''}. ${stderr.split('\n').pop() ?? ''}`;
  }
  if (commit && /program ['"]?git['"]? failed/.test(stderr)) {
    return 'flake.lock could not be committed (nixFlakes.inputs.commitLockFile): git commit failed. Check that git knows who you are (user.name, user.email) and what the repository\'s hooks say; the log has git\'s message.';
  }
  if (commit && /dirty|uncommitted|changes not staged|commit/i.test(stderr)) {
    return `flake.lock could not be committed (nixFlakes.inputs.commitLockFile): commit or stash your other changes first. ${stderr.split('\n').pop() ?? ''}`;
  }
  if (/cannot find flake 'flake:/.test(stderr)) return `This Nix does not know that input name. ${stderr.split('\n').pop() ?? ''}`;
  return `Update failed: ${stderr.split('\n').filter(Boolean).slice(-3).join(' ')}`;
}

async function lockFlake(ctx: Ctx, locks: Locks, flake: Flake): Promise<UpdateOutcome> {
  const args = lockArgs(await flakeRef(ctx, flake));
  const old = await readLock(flake);
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Locking ${flake.label}`, cancellable: true }, (_p, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return ctx.runNix(args.slice(0, 2), args.slice(2), { cwd: flake.uri.fsPath, scope: flake.folder, signal: ac.signal, writeLockFile: true });
    });
  } catch (e) {
    if (e instanceof CancelledError) return { status: 'cancelled', summary: [] };
    const msg = e instanceof ExitError ? stripAnsi(e.stderrTail(3)) : (e as Error).message;
    void vscode.window.showErrorMessage(`Locking ${flake.label} failed: ${msg}`);
    return { status: 'failed', summary: [], message: msg };
  } finally {
    locks.invalidate();
  }
  const now = await readLock(flake);
  const summary = old.lock && now.lock ? diffSummary(diffLocks(old.lock, now.lock)) : now.lock ? now.lock.inputs.map((i) => `${i.id}: added`) : [];
  return { status: summary.length ? 'updated' : 'unchanged', summary };
}

/** After the follows quick fix: offer to re-lock so flake.lock reflects it. */
export function registerRelockOffer(ctx: Ctx): void {
  ctx.register(
    vscode.commands.registerCommand('nixFlakes.offerRelock', async (uri: vscode.Uri) => {
      const flakes = await ctx.flakes();
      const flake = flakes.find((f) => uri.fsPath === join(f.uri.fsPath, 'flake.nix'));
      if (!flake) return;
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const a = await vscode.window.showInformationMessage(`Re-lock ${flake.label} so flake.lock uses the follows?${doc?.isDirty ? ' (flake.nix is saved first)' : ''}`, 'Save and Re-lock');
      if (a !== 'Save and Re-lock') return;
      if (doc?.isDirty) await doc.save();
      await vscode.commands.executeCommand('nixFlakes.lockFlake', flake);
    }),
  );
}
