// Offline media in the editor: Export for Offline Use… (a host, package, check, dev shell or a whole flake, into a
// folder, with progress in paths and bytes and cancel), Import from Folder…, and Ready for Offline?. The work is the
// airgap core's; here: what was chosen, the questions (folder, key, outputs), the progress and the answers. Every
// process goes through the context's gateway. Each command returns its outcome (for callers and tests).
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { flakeRef } from '../../workspace/mapping';
import { asTarget, pickOutput, type OutputTarget } from '../../workspace/targets';
import { allLeaves } from '../../core/flake/show';
import { installable as installableOf } from '../../core/flake/installable';
import { CancelledError } from '../../core/nix/process';
import {
  AirgapError,
  checkReadiness,
  exportMedium,
  formatBytes,
  importMedium,
  inspectFolder,
  nixPathFor,
  readMedium,
  README,
  type ExportItem,
  type ExportProgress,
  type ItemKind,
  type Manifest,
  type NixRunner,
  type Readiness,
} from '../../core/airgap';

/** Answers a caller (or a test) gives instead of the dialogs. */
export interface ExportOptions {
  folder?: string;
  /** A secret key file; null: do not sign. */
  keyFile?: string | null;
  /** For a whole flake: the outputs (attribute paths) to export with its inputs. */
  attrPaths?: string[][];
  /** Replace what a non-empty folder holds without asking. */
  confirm?: boolean;
}

export interface ExportOutcome {
  status: 'exported' | 'cancelled' | 'failed' | 'declined';
  folder?: string;
  manifest?: Manifest;
  copied?: number;
  bytesWritten?: number;
  /** The progress the user saw (phases and the last copy figures), in order. */
  progress: string[];
  error?: string;
  kind?: string;
}

export interface ImportOptions {
  folder?: string;
  /** Import a medium without a manifest without asking. */
  acceptIncomplete?: boolean;
  /** Another store to import into (`--store`: a system being installed under /mnt, a test's chroot store). */
  store?: string;
}

export interface ImportOutcome {
  status: 'imported' | 'cancelled' | 'failed' | 'declined';
  added?: string[];
  paths?: number;
  incomplete?: boolean;
  message?: string;
  kind?: string;
}

export interface ReadinessOptions {
  /** Media folders to substitute from; [] the store alone. Undefined: asked. */
  media?: string[];
  /** Another store to check (`--store`). */
  store?: string;
}

function kindOf(attrPath: readonly string[]): ItemKind {
  switch (attrPath[0]) {
    case 'nixosConfigurations':
      return 'host';
    case 'packages':
    case 'legacyPackages':
    case 'defaultPackage':
      return 'package';
    case 'checks':
      return 'check';
    case 'devShells':
    case 'devShell':
      return 'devShell';
    default:
      return 'other';
  }
}

/** A whole flake: a flake node of the Outputs tree, or `{ flake }`. */
function flakeOf(arg: unknown): Flake | undefined {
  if (!arg || typeof arg !== 'object' || asTarget(arg)) return undefined;
  const f = (arg as { flake?: Partial<Flake> }).flake;
  return f && f.uri instanceof vscode.Uri && f.folder && typeof f.label === 'string' ? (f as Flake) : undefined;
}

export class Offline {
  /** The last export's and import's outcome (tests, the README's screenshot). */
  lastExport?: ExportOutcome;
  lastImport?: ImportOutcome;
  lastReadiness?: Readiness;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {}

  private get privateDir(): string {
    return join(this.ctx.extension.globalStorageUri.fsPath, 'offline');
  }

  private async runner(scope?: vscode.ConfigurationScope): Promise<NixRunner> {
    const nix = await this.ctx.requireNix();
    const s = this.ctx.settings(scope);
    return { nix: nix.path, exec: (f, a, o) => this.ctx.exec(f, a, o), options: { offline: s.offline, extraArgs: s.extraArgs } };
  }

  private async item(t: OutputTarget): Promise<ExportItem> {
    const ref = await flakeRef(this.ctx, t.flake);
    const inst = installableOf(ref, t.attrPath);
    if (!inst.ok) throw new Error(inst.error.message);
    return { display: t.display, kind: kindOf(t.attrPath), installable: inst.value };
  }

  /** The outputs of a whole flake to export with its inputs: a pick, this system's packages and dev shells chosen. */
  private async pickOutputs(flake: Flake, given?: string[][]): Promise<ExportItem[] | undefined> {
    const ref = await flakeRef(this.ctx, flake);
    const toItem = (attrPath: string[], display: string): ExportItem | undefined => {
      const inst = installableOf(ref, attrPath);
      return inst.ok ? { display, kind: kindOf(attrPath), installable: inst.value } : undefined;
    };
    if (given) return given.map((p) => toItem(p, `.#${p.join('.')}`)).filter((x): x is ExportItem => !!x);
    const s = await this.outputs.ensure(flake);
    const system = (await this.ctx.requireNix()).system;
    type Item = vscode.QuickPickItem & { item: ExportItem };
    const items: Item[] = [];
    for (const leaf of s.model ? allLeaves(s.model) : []) {
      if (leaf.kind === 'omitted' || !leaf.buildable || (leaf.system && leaf.system !== system)) continue;
      const path = leaf.buildAttrPath ?? leaf.attrPath;
      const it = toItem(path, `.#${leaf.attrPath.join('.')}`);
      if (!it) continue;
      items.push({
        label: it.display,
        description: [it.kind, leaf.derivationName].filter(Boolean).join(' · '),
        picked: it.kind === 'package' || it.kind === 'devShell',
        item: it,
      });
    }
    const picked = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      title: `Export ${flake.label} for Offline Use`,
      placeHolder: "The flake's inputs are always exported; choose the outputs to export with them (none: the inputs only)",
    });
    return picked?.map((p) => p.item);
  }

  private async chooseFolder(title: string, openLabel: string): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      title,
      openLabel,
    });
    return uris?.[0]?.fsPath;
  }

  private async chooseKey(given: string | null | undefined, scope: vscode.ConfigurationScope): Promise<string | null | undefined> {
    if (given !== undefined) return given;
    const configured = this.ctx.settings(scope).airgapSigningKeyFile;
    type Item = vscode.QuickPickItem & { key: string | null | 'choose' };
    const items: Item[] = [
      ...(configured ? [{ label: '$(key) Sign with the configured key', description: configured, key: configured }] : []),
      { label: '$(folder-opened) Sign with a key file…', description: 'nix key generate-secret', key: 'choose' },
      { label: "Don't sign", description: 'the other side must trust the medium some other way', key: null },
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Sign the medium?',
      placeHolder: 'Signed paths are accepted where their public key is trusted',
    });
    if (!picked) return undefined;
    if (picked.key !== 'choose') return picked.key;
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectMany: false,
      title: 'The secret key file',
      openLabel: 'Sign with This Key',
    });
    return uris?.[0]?.fsPath;
  }

  async export(arg?: unknown, opts: ExportOptions = {}): Promise<ExportOutcome | undefined> {
    const progress: string[] = [];
    let flake = flakeOf(arg);
    let items: ExportItem[] | undefined;
    let what: string;
    const target = flake ? undefined : (asTarget(arg) ?? (await pickOutput(this.ctx, this.outputs, 'build')));
    if (target) {
      flake = target.flake;
      items = [await this.item(target)];
      what = target.display;
    } else if (flake) {
      items = await this.pickOutputs(flake, opts.attrPaths);
      what = `${flake.label} (the flake and its inputs)`;
    } else return undefined;
    if (!items || !flake) return undefined;
    const folder = opts.folder ?? (await this.chooseFolder(`Export ${what} for Offline Use`, 'Export Here'));
    if (!folder) return undefined;
    const state = await inspectFolder(folder);
    if (state.exists && state.entries > 0 && !opts.confirm) {
      const detail = state.cache
        ? `${folder} already holds a medium: what is exported is added to its cache, and its manifest is replaced.`
        : `${folder} is not empty: the cache's files (nix-cache-info, *.narinfo, nar/, images/, ${README}, the manifest) are written beside what is there.`;
      const ok = await vscode.window.showWarningMessage(`Export ${what} into this folder?`, { modal: true, detail }, 'Export');
      if (ok !== 'Export') return (this.lastExport = { status: 'declined', progress });
    }
    const keyFile = await this.chooseKey(opts.keyFile, flake.folder);
    if (keyFile === undefined) return undefined;
    const ref = await flakeRef(this.ctx, flake);
    const r = await this.runner(flake.folder);
    const compression = this.ctx.settings(flake.folder).airgapCompression;
    const line = (p: ExportProgress): string => {
      if (p.copy) {
        const c = p.copy;
        return `${p.message}: ${c.pathsDone}/${c.pathsTotal} paths, ${formatBytes(c.bytesDone)} of ${formatBytes(c.bytesTotal)}${c.bytesWritten ? ` (${formatBytes(c.bytesWritten)} written)` : ''}`;
      }
      if (p.images) return `${p.message}: ${formatBytes(p.images.done)} of ${formatBytes(p.images.total)}`;
      return p.message;
    };
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting ${what}`, cancellable: true },
      async (report, token): Promise<ExportOutcome> => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        let last = 0;
        try {
          const res = await exportMedium(
            r,
            { flakeRef: ref, items: items!, medium: folder, compression, ...(keyFile ? { keyFile } : {}), privateDir: this.privateDir },
            {
              signal: ac.signal,
              onProgress: (p) => {
                const text = line(p);
                // At most a few updates a second reach the notification; every phase's first and last are kept.
                const now = Date.now();
                if (progress.at(-1)?.split(':')[0] !== text.split(':')[0] || now - last > 150) {
                  last = now;
                  progress.push(text);
                  report.report({ message: text });
                }
              },
            },
          );
          return { status: 'exported', folder, manifest: res.manifest, copied: res.copied, bytesWritten: res.bytesWritten, progress };
        } catch (e) {
          if (e instanceof CancelledError) return { status: 'cancelled', folder, progress };
          return { status: 'failed', folder, progress, error: (e as Error).message, ...(e instanceof AirgapError ? { kind: e.kind } : {}) };
        } finally {
          sub.dispose();
        }
      },
    );
    this.lastExport = outcome;
    if (outcome.status === 'exported' && outcome.manifest) {
      const m = outcome.manifest;
      const text = `Exported ${what} to ${folder}: ${m.closure.paths} store paths (${formatBytes(m.closure.narBytes)}) and ${m.inputs.length} flake sources, ${formatBytes(outcome.bytesWritten ?? 0)} on disk${m.images.length ? `, ${m.images.length} image file${m.images.length === 1 ? '' : 's'}` : ''}${m.publicKey ? `, signed with ${m.publicKey.split(':')[0]}` : ', not signed'}.`;
      void vscode.window
        .showInformationMessage(text, 'Open Instructions')
        .then((a) => a && vscode.window.showTextDocument(vscode.Uri.file(join(folder, README))));
    } else if (outcome.status === 'cancelled') {
      void vscode.window.showWarningMessage(
        `Export cancelled: ${folder} has no manifest, so it is not a complete medium (an import from it says so).`,
      );
    } else if (outcome.status === 'failed') {
      this.ctx.log.error(`export failed: ${outcome.error}`);
      void vscode.window
        .showErrorMessage(`Export failed: ${outcome.error} No manifest was written.`, 'Show Log')
        .then((a) => a && this.ctx.log.show());
    }
    return outcome;
  }

  async import(arg?: unknown, opts: ImportOptions = {}): Promise<ImportOutcome | undefined> {
    const given = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : opts.folder;
    const folder = given ?? (await this.chooseFolder('Import an Offline Medium', 'Import'));
    if (!folder) return undefined;
    let contents;
    try {
      contents = await readMedium(folder);
    } catch (e) {
      void vscode.window.showErrorMessage((e as Error).message);
      return (this.lastImport = { status: 'failed', message: (e as Error).message });
    }
    if (contents.incomplete && !opts.acceptIncomplete) {
      const ok = await vscode.window.showWarningMessage(
        'This medium has no manifest: its export did not finish, and it may lack paths.',
        {
          modal: true,
          detail: `${contents.manifestProblem ? `(${contents.manifestProblem}) ` : ''}Import the ${contents.paths.length} store paths its cache holds?`,
        },
        'Import Anyway',
      );
      if (ok !== 'Import Anyway') return (this.lastImport = { status: 'declined', incomplete: true });
    }
    const r = await this.runner();
    const trustedKeys = this.ctx.settings().airgapTrustedPublicKeys;
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Importing from ${folder}`, cancellable: true },
      async (report, token): Promise<ImportOutcome> => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        try {
          const res = await importMedium(r, folder, {
            privateDir: this.privateDir,
            trustedKeys,
            ...(opts.store ? { store: opts.store } : {}),
            signal: ac.signal,
            onProgress: (c) => report.report({ message: `${c.pathsDone}/${c.pathsTotal} paths, ${formatBytes(c.bytesDone)}` }),
          });
          const m = res.contents.manifest;
          const total = m ? m.closure.paths + m.inputs.length : res.contents.paths.length;
          const present = Math.max(0, total - res.added.length);
          const message = `Imported from ${folder}: ${res.added.length} store path${res.added.length === 1 ? '' : 's'} added (${formatBytes(res.progress.bytesDone)})${present ? `, ${present} already in the store` : ''}; signatures checked.${res.contents.incomplete ? ' The medium had no manifest: it may lack paths.' : ''}`;
          return { status: 'imported', added: res.added, paths: total, incomplete: res.contents.incomplete, message };
        } catch (e) {
          if (e instanceof CancelledError)
            return {
              status: 'cancelled',
              message: 'Import cancelled: the paths copied so far are complete and valid; the rest are not in the store.',
            };
          const key = contents.manifest?.publicKey;
          const message = `${(e as Error).message}${e instanceof AirgapError && e.kind === 'unsigned' ? (key ? ` The medium says it is signed with ${key}.` : ' The medium is not signed.') : ''}`;
          return { status: 'failed', message, ...(e instanceof AirgapError ? { kind: e.kind } : {}) };
        } finally {
          sub.dispose();
        }
      },
    );
    this.lastImport = outcome;
    if (outcome.status === 'imported') void vscode.window.showInformationMessage(outcome.message!);
    else if (outcome.status === 'cancelled') void vscode.window.showWarningMessage(outcome.message!);
    else {
      this.ctx.log.error(`import failed: ${outcome.message}`);
      void vscode.window.showErrorMessage(`Import refused: ${outcome.message}`, 'Show Log').then((a) => a && this.ctx.log.show());
    }
    return outcome;
  }

  async readiness(arg?: unknown, opts: ReadinessOptions = {}): Promise<Readiness | undefined> {
    const target = asTarget(arg) ?? (await pickOutput(this.ctx, this.outputs, 'build'));
    if (!target) return undefined;
    let media = opts.media;
    if (!media) {
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'This store alone', description: 'what is already here', media: 'none' as const },
          { label: 'This store and a medium…', description: 'a folder with an exported cache', media: 'choose' as const },
        ],
        { title: `Ready for Offline? ${target.display}` },
      );
      if (!picked) return undefined;
      if (picked.media === 'choose') {
        const f = await this.chooseFolder('The Offline Medium', 'Use This Medium');
        if (!f) return undefined;
        media = [f];
      } else media = [];
    }
    const item = await this.item(target);
    const r = await this.runner(target.flake.folder);
    const plain = await Promise.all(media.map((m) => nixPathFor(m, this.privateDir)));
    const answer = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Ready for offline? ${target.display} (checked with --offline: no network)`,
        cancellable: true,
      },
      async (_report, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        try {
          return await checkReadiness(r, [item.installable], {
            media: plain,
            trustedKeys: this.ctx.settings().airgapTrustedPublicKeys,
            signal: ac.signal,
            ...(opts.store ? { store: opts.store } : {}),
          });
        } catch (e) {
          if (e instanceof CancelledError) return undefined;
          throw e;
        } finally {
          sub.dispose();
        }
      },
    );
    if (!answer) return undefined;
    this.lastReadiness = answer;
    const where = media.length ? ` (store and ${media.join(', ')})` : ' (this store alone)';
    const lines = [
      `Ready for offline? ${target.display}${where}: ${answer.summary}`,
      ...answer.fromMedia.map((p) => `  from the medium: ${p}`),
      ...answer.toBuild.map((p) => `  missing, would be built: ${p}`),
      ...answer.unbuildable.map((p) => `  missing, cannot be made: ${p}`),
      ...(answer.evalError ? [`  ${answer.evalError}`] : []),
    ];
    this.ctx.log.info(lines.join('\n'));
    const text = `${target.display}${where}: ${answer.summary} Checked with --offline: nothing was fetched from the network.`;
    const show = answer.ready ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(text, ...(lines.length > 1 ? ['Show Details'] : [])).then((a) => a && this.ctx.log.show());
    return answer;
  }
}
