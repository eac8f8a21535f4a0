// "New Flake from Template…": a template of the workspace's flakes (or any reference the user types) initialised
// into a chosen folder with `nix flake init -t`, refusing to overwrite: the template is first written into an empty
// folder of ours and compared with the chosen one, and nothing is written there when a file would be replaced by a
// different one. The new files are then added to git with `git add -N`, so that the flake sees them.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestrictedError, type Ctx } from '../../context';
import { flakeRef } from '../../workspace/mapping';
import type { OutputsService } from '../../workspace/outputs';
import { asTarget } from '../../workspace/targets';
import { CancelledError } from '../../core/nix/process';
import {
  checkTemplateReference,
  isTemplatePath,
  listTree,
  planTemplate,
  templateInitArgs,
  templateRef,
  templatesOf,
  welcomeText,
} from '../../core/flake/templates';
import { failureMessage } from '../../core/flake/formatter';

/** What the command did (returned to callers and tests). */
export type TemplateResult =
  | { outcome: 'created'; folder: string; ref: string; added: string[]; identical: string[]; tracked: boolean; welcome?: string }
  | { outcome: 'refused'; folder: string; ref: string; conflicts: string[] }
  | { outcome: 'failed'; folder: string; ref: string; message: string };

export function registerTemplates(ctx: Ctx, service: OutputsService): void {
  ctx.register(
    vscode.commands.registerCommand(
      'nixFlakes.newFromTemplate',
      async (arg?: unknown, folderArg?: unknown): Promise<TemplateResult | undefined> => {
        // Restricted Mode: nothing runs, and no dialog is opened either.
        if (!ctx.trusted) {
          void vscode.window.showWarningMessage(RestrictedError.MESSAGE);
          return undefined;
        }
        const ref = await chooseTemplate(ctx, service, arg);
        if (!ref) return undefined;
        const folder = await chooseFolder(folderArg, arg);
        if (!folder) return undefined;
        const r = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Creating a flake from ${ref}`, cancellable: true },
          (_p, token) => createFromTemplate(ctx, ref, folder, token),
        );
        await tell(ctx, r, folderArg === undefined);
        return r;
      },
    ),
  );
}

/** The `-t` reference: the tree item's template, a reference given by a caller, or one the user picks or types. */
async function chooseTemplate(ctx: Ctx, service: OutputsService, arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string') {
    const c = checkTemplateReference(arg);
    if (!c.ok) void vscode.window.showErrorMessage(c.message);
    return c.ok ? c.value : undefined;
  }
  const target = asTarget(arg);
  if (target && isTemplatePath(target.attrPath)) return templateRef(await flakeRef(ctx, target.flake), target.attrPath);
  type Item = vscode.QuickPickItem & { ref?: string };
  const items = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Listing templates' }, async () => {
    const out: Item[] = [];
    for (const flake of await ctx.flakes()) {
      const model = (await service.ensure(flake)).model;
      if (!model) continue;
      for (const t of templatesOf(model)) {
        const ref = templateRef(await flakeRef(ctx, flake).catch(() => ''), t.attrPath);
        if (ref) out.push({ label: t.name, description: flake.label, detail: t.description, ref });
      }
    }
    return out;
  });
  const typed: Item = {
    label: '$(edit) Enter a flake reference…',
    detail: 'e.g. templates#rust, github:owner/repo#name',
    alwaysShow: true,
  };
  const picked = items.length
    ? await vscode.window.showQuickPick([...items, typed], {
        title: 'New Flake from Template',
        placeHolder: 'Choose a template',
        matchOnDescription: true,
        matchOnDetail: true,
      })
    : typed;
  if (!picked) return undefined;
  if (picked.ref) return picked.ref;
  const text = await vscode.window.showInputBox({
    title: 'New Flake from Template',
    prompt: 'The template, as nix flake init -t takes it',
    placeHolder: 'templates#rust or github:owner/repo#name',
    validateInput: (v) => {
      const c = checkTemplateReference(v);
      return c.ok ? undefined : c.message;
    },
  });
  const c = text === undefined ? undefined : checkTemplateReference(text);
  return c?.ok ? c.value : undefined;
}

/** The folder to create the flake in: given by a caller, else chosen in a dialog (from the template's folder). */
async function chooseFolder(folderArg: unknown, arg: unknown): Promise<string | undefined> {
  if (folderArg instanceof vscode.Uri) return folderArg.fsPath;
  if (typeof folderArg === 'string' && folderArg.startsWith('/')) return folderArg;
  const near = asTarget(arg)?.flake.folder.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    defaultUri: near,
    openLabel: 'Create Flake Here',
    title: 'New Flake from Template: choose the folder',
  });
  return picked?.[0]?.fsPath;
}

/**
 * Writes the template's files into `folder`, unless one of them would replace a different file there (then nothing
 * is written), and adds the new ones to git (intent to add) when the folder is in a git work tree.
 */
export async function createFromTemplate(ctx: Ctx, ref: string, folder: string, token?: vscode.CancellationToken): Promise<TemplateResult> {
  const ac = new AbortController();
  const sub = token?.onCancellationRequested(() => ac.abort());
  const staged = await mkdtemp(join(tmpdir(), 'nix-flakes-template-'));
  try {
    // 1. The template's files, in an empty folder of ours.
    const init = (cwd: string) => ctx.runNix(['flake', 'init'], templateInitArgs(ref), { cwd, flakeOptions: false, signal: ac.signal });
    const first = await init(staged);
    const entries = await listTree(staged);
    // 2. Nothing is written where a file would be replaced.
    const plan = await planTemplate(staged, folder, entries);
    if (plan.conflicts.length) return { outcome: 'refused', folder, ref, conflicts: plan.conflicts };
    // 3. Into the chosen folder (files already there with the same content are left as they are).
    await mkdir(folder, { recursive: true });
    if (plan.added.length) await init(folder);
    const added = plan.added.filter((p) => existsSync(join(folder, p)));
    // 4. Seen by the flake: git add -N of the new files.
    const tracked = added.length > 0 && (await intentToAdd(ctx, folder, added));
    return { outcome: 'created', folder, ref, added, identical: plan.identical, tracked, welcome: welcomeText(first.stderrLines) };
  } catch (e) {
    if (e instanceof CancelledError) return { outcome: 'failed', folder, ref, message: 'cancelled' };
    return { outcome: 'failed', folder, ref, message: failureMessage(e) };
  } finally {
    sub?.dispose();
    await rm(staged, { recursive: true, force: true });
  }
}

/** `git add --intent-to-add` of the files, when the folder is in a git work tree; false when it is not (or git fails). */
async function intentToAdd(ctx: Ctx, folder: string, files: string[]): Promise<boolean> {
  const bound = () => AbortSignal.timeout(30_000);
  try {
    await ctx.git(['-C', folder, 'rev-parse', '--show-toplevel'], { signal: bound() });
  } catch {
    return false;
  }
  try {
    await ctx.git(['-C', folder, 'add', '--intent-to-add', '--', ...files], { signal: bound() });
    return true;
  } catch (e) {
    ctx.log.warn(`git add -N in ${folder}: ${failureMessage(e)}`);
    return false;
  }
}

async function tell(ctx: Ctx, r: TemplateResult, interactive: boolean): Promise<void> {
  const where = vscode.workspace.asRelativePath(r.folder, true);
  if (r.outcome === 'refused') {
    const names = r.conflicts.slice(0, 5).join(', ') + (r.conflicts.length > 5 ? `, and ${r.conflicts.length - 5} more` : '');
    void vscode.window.showErrorMessage(
      `Nothing was created: ${where} already holds ${names}, which the template would replace. Choose another folder, or move those files away.`,
    );
    return;
  }
  if (r.outcome === 'failed') {
    if (r.message !== 'cancelled')
      void vscode.window
        .showErrorMessage(`The flake could not be created from ${r.ref}: ${r.message}`, 'Show Log')
        .then((a) => a && ctx.log.show());
    return;
  }
  ctx.forgetFlakes();
  void ctx.updateState();
  const what = r.added.length === 1 ? '1 file' : `${r.added.length} files`;
  const git = r.tracked ? ' (added to git, so the flake sees them)' : '';
  void vscode.window.showInformationMessage(`Created ${what} in ${where} from ${r.ref}${git}.${r.welcome ? ` ${r.welcome}` : ''}`);
  const flakeNix = join(r.folder, 'flake.nix');
  if (interactive && r.added.includes('flake.nix')) await vscode.window.showTextDocument(vscode.Uri.file(flakeNix), { preview: false });
}
