// Dev shells applied to the editor: per workspace folder, one of its flakes' `devShells.<system>.*` (or none), chosen
// from a status bar item and remembered. Its environment comes from `nix print-dev-env --json` (with a profile in the
// extension's storage as its GC root), is cached by the flake's state, and is applied to new terminals and tasks of
// the folder (the environment variable collection, scoped to the folder), to the processes the extension starts
// there (the gateway), and, when the user asks for it, to the extension host itself. A change to the flake marks it
// stale; a shell that fails keeps the previous environment and shows its error in Problems. Restricted Mode applies
// nothing.
import * as vscode from 'vscode';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RestrictedError, type Ctx } from '../../context';
import { DEV_SHELL_SETTINGS } from '../../config';
import type { Flake } from '../../workspace/flakes';
import { attrPosition, flakeMapper, flakeRef } from '../../workspace/mapping';
import { OwnedDiagnostics, placeDiagnostics } from '../../workspace/diagnostics';
import type { OutputsService } from '../../workspace/outputs';
import { CancelledError, ExitError } from '../../core/nix/process';
import { parseNixErrors } from '../../core/errors/fromLog';
import { flakeCacheKey } from '../../core/flake/cacheKey';
import { describe } from '../../core/nix/version';
import { stripAnsi, truncate } from '../../core/text';
import {
  devShellId,
  devShellInstallable,
  devShellKeyParts,
  devShellsOf,
  evaluateDevShell,
  readCachedDevShell,
  saveDevShell,
  type DevEnv,
  type EnvMutation,
} from '../../core/flake/devShell';

/** The shell chosen for a folder (remembered in the workspace state). */
interface Choice {
  flakeDir: string;
  name: string;
}

/** What a folder's shell looks like now (for the status bar, the API and tests). */
export interface DevShellState {
  folder: string;
  /** The chosen shell's name (undefined: none). */
  shell?: string;
  flakeDir?: string;
  /** The environment applied now (the last good one), by variable. */
  variables?: Readonly<Record<string, string>>;
  /** The flake changed since the environment was made. */
  stale: boolean;
  loading: boolean;
  /** Why the last evaluation failed (the previous environment stays applied). */
  error?: string;
  /** The environment came from the cache (no nix ran for it). */
  fromCache: boolean;
}

interface Applied {
  choice: Choice;
  env: DevEnv;
  mutations: EnvMutation[];
  /** The flake's state it was made for (undefined: not in git, every state may differ). */
  key: string | undefined;
  fromCache: boolean;
}

interface FolderShell {
  folder: vscode.WorkspaceFolder;
  choice?: Choice;
  applied?: Applied;
  stale: boolean;
  loading?: { ac: AbortController; done: Promise<void> };
  error?: string;
  item: vscode.StatusBarItem;
  staleTimer?: NodeJS.Timeout;
  /** When a file of the folder last changed (ms). */
  lastChange: number;
}

const CHOICE_PREFIX = 'nixFlakes.devShell:';
/** Evaluating and building a shell may download a lot: a bound well above that. */
const LOAD_TIMEOUT_MS = 30 * 60_000;
const STALE_DEBOUNCE_MS = 400;

export class DevShells implements vscode.Disposable {
  private readonly folders = new Map<string, FolderShell>();
  private readonly diagnostics = new OwnedDiagnostics('nix-devshell');
  private readonly changed = new vscode.EventEmitter<vscode.WorkspaceFolder>();
  readonly onDidChange = this.changed.event;
  /** The folder whose shell is applied to the extension host (one environment for all folders: the last applied). */
  private hostFolder: string | undefined;
  /** `nix print-dev-env` runs started (for tests and the log). */
  loads = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {
    const collection = ctx.extension.environmentVariableCollection;
    collection.persistent = true;
    collection.description = 'Nix dev shells of the workspace folders';
    // Restricted Mode applies nothing, not even what an earlier trusted window left in the persisted collection.
    if (!ctx.trusted) collection.clear();
  }

  /** Applies each folder's remembered shell: from its cache when there is one (no nix), then checks it is current. */
  async init(): Promise<void> {
    if (!this.ctx.trusted) return;
    const flakes = await this.ctx.flakes();
    const present = new Set((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
    for (const [k, fs] of this.folders) {
      if (!present.has(k)) {
        this.unapply(fs);
        fs.item.dispose();
        this.folders.delete(k);
      }
    }
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (!flakes.some((f) => f.folder.uri.fsPath === folder.uri.fsPath)) continue;
      const fs = this.folderShell(folder);
      const choice = this.ctx.extension.workspaceState.get<Choice>(CHOICE_PREFIX + folder.uri.fsPath);
      // Once per folder: later state changes (nix detected again, folders added) leave a chosen shell as it is.
      if (fs.choice || !choice || typeof choice.flakeDir !== 'string' || typeof choice.name !== 'string') continue;
      fs.choice = choice;
      if (await this.applyCached(fs, choice)) void this.checkStale(fs);
      else void this.load(fs, choice);
    }
    this.render();
  }

  /** A folder's shell as it is now. */
  state(folder: vscode.WorkspaceFolder | vscode.Uri): DevShellState {
    const f = folder instanceof vscode.Uri ? vscode.workspace.getWorkspaceFolder(folder) : folder;
    const fs = f && this.folders.get(f.uri.fsPath);
    return {
      folder: f?.uri.fsPath ?? '',
      shell: fs?.choice?.name,
      flakeDir: fs?.choice?.flakeDir,
      variables: fs?.applied ? { ...fs.applied.env.variables } : undefined,
      stale: fs?.stale ?? false,
      loading: !!fs?.loading,
      error: fs?.error,
      fromCache: fs?.applied?.fromCache ?? false,
    };
  }

  /** Resolves when no evaluation of the folder's shell is running. */
  async whenIdle(folder: vscode.WorkspaceFolder): Promise<DevShellState> {
    for (;;) {
      const l = this.folders.get(folder.uri.fsPath)?.loading;
      if (!l) return this.state(folder);
      await l.done;
    }
  }

  /**
   * Chooses a folder's shell: `shell` a name of `devShells.<system>.*` of `flake` (default: the folder's only flake
   * with one), `null` for none; without a shell, the user picks. Resolves when the environment is applied (or failed).
   */
  async select(arg?: {
    folder?: vscode.WorkspaceFolder | vscode.Uri;
    shell?: string | null;
    flake?: vscode.Uri | string;
  }): Promise<DevShellState | undefined> {
    if (!this.ctx.trusted) {
      void vscode.window.showWarningMessage('Restricted Mode: trust this folder to apply its dev shell.');
      return undefined;
    }
    const folder = await this.folderOf(arg?.folder);
    if (!folder) return undefined;
    const fs = this.folderShell(folder);
    let choice: Choice | null | undefined;
    if (arg?.shell === null) choice = null;
    else if (typeof arg?.shell === 'string') {
      const flakeDir = typeof arg.flake === 'string' ? arg.flake : (arg.flake?.fsPath ?? (await this.flakesOf(folder))[0]?.uri.fsPath);
      if (!flakeDir) return this.state(folder);
      choice = { flakeDir, name: arg.shell };
    } else choice = await this.pick(fs);
    if (choice === undefined) return this.state(folder);
    if (choice === null) {
      this.leave(fs);
      return this.state(folder);
    }
    fs.choice = choice;
    void this.ctx.extension.workspaceState.update(CHOICE_PREFIX + folder.uri.fsPath, choice);
    const same = fs.applied && fs.applied.choice.flakeDir === choice.flakeDir && fs.applied.choice.name === choice.name;
    if (!same && !(await this.applyCached(fs, choice))) await this.load(fs, choice);
    else if (!same) void this.checkStale(fs);
    return this.state(folder);
  }

  /**
   * Makes a folder's environment current: applied again from the cache when the flake is as it was (no nix), else
   * evaluated again (`force`: always).
   */
  async reload(
    arg?: vscode.WorkspaceFolder | vscode.Uri | { folder?: vscode.WorkspaceFolder | vscode.Uri },
    force = false,
  ): Promise<DevShellState | undefined> {
    if (!this.ctx.trusted) {
      void vscode.window.showWarningMessage('Restricted Mode: trust this folder to apply its dev shell.');
      return undefined;
    }
    const folder = await this.folderOf(
      arg && !(arg instanceof vscode.Uri) && 'folder' in arg ? arg.folder : (arg as vscode.WorkspaceFolder | vscode.Uri | undefined),
      true,
    );
    if (!folder) return undefined;
    const fs = this.folderShell(folder);
    const choice = fs.choice;
    if (!choice) {
      void vscode.window.showInformationMessage(`No dev shell is selected for ${folder.name}.`);
      return this.state(folder);
    }
    if (!force && fs.applied && fs.applied.key !== undefined) {
      const flake = await this.flakeOf(choice);
      const key = flake && (await this.currentKey(flake, choice.name));
      if (key === fs.applied.key && (await this.applyCached(fs, choice))) return this.state(folder);
    }
    await this.load(fs, choice);
    return this.state(folder);
  }

  /** A file of a folder changed: its shell is stale when the flake's state is no longer the one it was made for. */
  fileChanged(uri: vscode.Uri): void {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const fs = folder && this.folders.get(folder.uri.fsPath);
    if (!fs) return;
    fs.lastChange = Date.now();
    if (!fs.applied) return;
    if (fs.staleTimer) clearTimeout(fs.staleTimer);
    fs.staleTimer = setTimeout(() => {
      fs.staleTimer = undefined;
      void this.checkStale(fs);
    }, STALE_DEBOUNCE_MS);
  }

  /** The extension host's environment setting changed: apply the last applied shell, or put the original back. */
  hostSettingChanged(): void {
    const on = this.ctx.settings().devShellApplyToExtensionHost;
    const fs = this.hostFolder ? this.folders.get(this.hostFolder) : [...this.folders.values()].find((f) => f.applied);
    if (on && fs?.applied) this.applyToHost(fs, fs.applied.mutations, true);
    else if (!on && this.hostFolder) {
      this.ctx.setHostEnvironment(undefined);
      this.hostFolder = undefined;
      this.offerRestart('The dev shell is no longer applied to the extension host.');
    }
  }

  private async checkStale(fs: FolderShell): Promise<void> {
    const a = fs.applied;
    if (!a || fs.loading) return;
    const flake = await this.flakeOf(a.choice);
    const key = flake ? await this.currentKey(flake, a.choice.name).catch(() => undefined) : undefined;
    if (fs.applied !== a) return;
    const stale = key === undefined || key !== a.key;
    if (stale !== fs.stale) {
      fs.stale = stale;
      this.render();
      this.changed.fire(fs.folder);
    }
    if (stale && this.ctx.settings(fs.folder).devShellAutoReload && fs.choice) void this.load(fs, fs.choice);
  }

  private folderShell(folder: vscode.WorkspaceFolder): FolderShell {
    let fs = this.folders.get(folder.uri.fsPath);
    if (!fs) {
      const item = vscode.window.createStatusBarItem(`nixFlakes.devShell.${folder.uri.toString()}`, vscode.StatusBarAlignment.Left, 50);
      item.name = `Nix Dev Shell (${folder.name})`;
      fs = { folder, stale: false, item, lastChange: 0 };
      this.folders.set(folder.uri.fsPath, fs);
    }
    return fs;
  }

  private async flakesOf(folder: vscode.WorkspaceFolder): Promise<Flake[]> {
    return (await this.ctx.flakes()).filter((f) => f.folder.uri.fsPath === folder.uri.fsPath);
  }

  private async flakeOf(choice: Choice): Promise<Flake | undefined> {
    return (await this.ctx.flakes()).find((f) => f.uri.fsPath === choice.flakeDir);
  }

  /** The folder a command is for: the one given, else the active editor's, else the only one with a flake, else a pick. */
  private async folderOf(
    given: vscode.WorkspaceFolder | vscode.Uri | undefined,
    withShell = false,
  ): Promise<vscode.WorkspaceFolder | undefined> {
    if (given instanceof vscode.Uri) return vscode.workspace.getWorkspaceFolder(given);
    if (given && typeof given === 'object' && given.uri instanceof vscode.Uri) return vscode.workspace.getWorkspaceFolder(given.uri);
    const flakes = await this.ctx.flakes();
    const candidates = (vscode.workspace.workspaceFolders ?? []).filter(
      (f) => flakes.some((x) => x.folder.uri.fsPath === f.uri.fsPath) && (!withShell || this.folders.get(f.uri.fsPath)?.choice),
    );
    const active = vscode.window.activeTextEditor && vscode.workspace.getWorkspaceFolder(vscode.window.activeTextEditor.document.uri);
    if (active && candidates.some((c) => c.uri.fsPath === active.uri.fsPath)) return active;
    if (candidates.length <= 1) return candidates[0];
    return vscode.window.showWorkspaceFolderPick({ placeHolder: 'The workspace folder whose dev shell to set' }).then((f) => f);
  }

  private async pick(fs: FolderShell): Promise<Choice | null | undefined> {
    type Item = vscode.QuickPickItem & { choice: Choice | null };
    const items = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Listing dev shells' }, async () => {
      const nix = await this.ctx.requireNix();
      const flakes = await this.flakesOf(fs.folder);
      const out: Item[] = [
        {
          label: '$(circle-slash) None',
          description: fs.choice ? undefined : 'current',
          detail: 'The environment without a dev shell',
          choice: null,
        },
      ];
      for (const flake of flakes) {
        const s = await this.outputs.ensure(flake);
        for (const leaf of devShellsOf(s.model, nix.system)) {
          const current = fs.choice?.flakeDir === flake.uri.fsPath && fs.choice.name === leaf.name;
          out.push({
            label: `$(terminal) ${leaf.name}`,
            description: [flakes.length > 1 ? flake.label : undefined, leaf.derivationName, current ? 'current' : undefined]
              .filter(Boolean)
              .join(' · '),
            detail: leaf.description,
            choice: { flakeDir: flake.uri.fsPath, name: leaf.name },
          });
        }
      }
      return out;
    });
    if (items.length === 1) {
      void vscode.window.showInformationMessage(`The flakes of ${fs.folder.name} have no devShells for this system.`);
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: `Dev shell for ${fs.folder.name}`,
      placeHolder: 'The environment of new terminals and tasks of this folder',
    });
    return picked ? picked.choice : undefined;
  }

  private storage(): string {
    return join(this.ctx.extension.globalStorageUri.fsPath, 'devshells');
  }

  private async currentKey(flake: Flake, name: string): Promise<string | undefined> {
    const nix = await this.ctx.requireNix();
    const s = this.ctx.settings(flake.folder);
    const extra = devShellKeyParts({
      nix: `${describe(nix.version)}\0${nix.path}`,
      system: nix.system,
      name,
      extraArgs: s.extraArgs,
      offline: s.offline,
    });
    return flakeCacheKey(flake.uri.fsPath, { extra, run: (f, a, o) => this.ctx.exec(f, a, { ...o, devShell: false }) });
  }

  /** Applies the cached environment of a shell (no process at all), when its record and profile are there. */
  private async applyCached(fs: FolderShell, choice: Choice): Promise<boolean> {
    const nix = await this.ctx.nix();
    if (!nix.ok) return false;
    const cached = await readCachedDevShell(`${join(this.storage(), devShellId(choice.flakeDir, nix.nix.system, choice.name))}.json`);
    if (!cached) return false;
    this.apply(fs, { choice, env: cached.env, mutations: cached.mutations, key: cached.record.key || undefined, fromCache: true });
    return true;
  }

  /** Evaluates the shell with nix (cancelling an older evaluation of the folder), then applies it; a failure keeps the old one. */
  private load(fs: FolderShell, choice: Choice): Promise<void> {
    fs.loading?.ac.abort();
    const ac = new AbortController();
    const done = (async () => {
      try {
        await this.loadWithNix(fs, choice, AbortSignal.any([ac.signal, AbortSignal.timeout(LOAD_TIMEOUT_MS)]));
      } catch (e) {
        if (e instanceof CancelledError && ac.signal.aborted) return;
        if (e instanceof RestrictedError) return;
        fs.error = e instanceof CancelledError ? 'evaluating the dev shell took too long' : (e as Error).message;
        this.ctx.log.error(`dev shell ${choice.name} of ${fs.folder.name}: ${fs.error}`);
      } finally {
        if (fs.loading?.ac === ac) fs.loading = undefined;
        this.render();
        this.changed.fire(fs.folder);
      }
    })();
    fs.loading = { ac, done };
    this.render();
    return done;
  }

  private async loadWithNix(fs: FolderShell, choice: Choice, signal: AbortSignal): Promise<void> {
    const nix = await this.ctx.requireNix();
    const flake = await this.flakeOf(choice);
    if (!flake) throw new Error(`the flake at ${choice.flakeDir} is no longer in the workspace`);
    const inst = devShellInstallable(await flakeRef(this.ctx, flake), nix.system, choice.name);
    if (!inst) throw new Error(`the dev shell name ${JSON.stringify(choice.name)} cannot be written`);
    const dir = this.storage();
    await mkdir(dir, { recursive: true });
    const profile = join(dir, devShellId(choice.flakeDir, nix.system, choice.name));
    this.loads++;
    const started = Date.now();
    // The flake's state before nix reads it: the environment is kept for this key only if the state is the same after.
    const keyBefore = await this.currentKey(flake, choice.name).catch(() => undefined);
    let r: Awaited<ReturnType<typeof evaluateDevShell>>;
    try {
      r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Dev shell ${choice.name} of ${flake.label}` },
        () =>
          evaluateDevShell({
            installable: inst,
            profile,
            printDevEnv: (args) =>
              this.ctx.runNix(['print-dev-env'], args, { cwd: flake.uri.fsPath, scope: flake.folder, signal, maxStdout: 32 << 20 }),
          }),
      );
    } catch (e) {
      if (!(e instanceof ExitError)) throw e;
      await this.showFailure(fs, flake, choice, e.stderrLines.join('\n'), nix.storeDir);
      return;
    }
    if (!r.ok) throw new Error(r.message);
    if (signal.aborted) return;
    const applied: Applied = { choice, env: r.env, mutations: r.mutations, key: undefined, fromCache: false };
    this.apply(fs, applied);
    this.ctx.log.info(
      `dev shell ${choice.name} of ${flake.label}: ${Object.keys(r.env.variables).length} variables applied (left out: ${r.env.dropped.join(' ') || 'none'})`,
    );
    // Then kept for the next time, by the flake's state: the same before and after the evaluation (and no watcher
    // event since it started), else no key (the shell shows as stale) rather than a key of files nix did not see.
    const keyAfter = await this.currentKey(flake, choice.name).catch(() => undefined);
    const known = keyBefore !== undefined && keyAfter === keyBefore && fs.lastChange < started ? keyBefore : undefined;
    await saveDevShell({ installable: inst, profile, json: r.json, key: known });
    if (fs.applied === applied) applied.key = known;
    void this.checkStale(fs);
  }

  /** The shell failed: its errors in Problems (where Nix points, else at the shell's definition); the environment stays. */
  private async showFailure(fs: FolderShell, flake: Flake, choice: Choice, stderr: string, storeDir: string): Promise<void> {
    const nix = await this.ctx.requireNix();
    const errors = parseNixErrors(stderr);
    const message =
      errors[0]?.message ?? (truncate(stripAnsi(stderr).trim().split('\n').slice(-8).join('\n'), 2000) || 'nix print-dev-env failed');
    const mapper = await flakeMapper(this.ctx, flake, storeDir);
    const { placed, unplaced } = await placeDiagnostics(errors, mapper);
    const items: { uri: vscode.Uri; diagnostic: vscode.Diagnostic }[] = placed;
    if (unplaced.length || placed.length === 0) {
      const at = await attrPosition(this.ctx, flake, ['devShells', nix.system, choice.name], { mapper });
      const uri = at?.uri ?? vscode.Uri.joinPath(flake.uri, 'flake.nix');
      const range = at ? new vscode.Range(at.range.start, at.range.start.translate(0, choice.name.length)) : new vscode.Range(0, 0, 0, 0);
      const text = unplaced.length ? unplaced.map((u) => u.message).join('\n') : message;
      const d = new vscode.Diagnostic(range, `The dev shell ${choice.name} failed: ${text}`, vscode.DiagnosticSeverity.Error);
      d.source = 'nix';
      d.code = 'dev-shell';
      items.push({ uri, diagnostic: d });
    }
    this.diagnostics.set(fs.folder.uri.fsPath, items);
    fs.error = message;
    const kept = fs.applied ? ` The environment of ${fs.applied.choice.name} stays applied.` : '';
    this.ctx.log.warn(`dev shell ${choice.name} of ${flake.label} failed: ${message}`);
    void vscode.window
      .showErrorMessage(`The dev shell ${choice.name} of ${flake.label} failed: ${truncate(message, 300)}.${kept}`, 'Show Problems')
      .then((a) => a && vscode.commands.executeCommand('workbench.actions.view.problems'));
  }

  private apply(fs: FolderShell, applied: Applied): void {
    const scoped = this.ctx.extension.environmentVariableCollection.getScoped({ workspaceFolder: fs.folder });
    scoped.clear();
    for (const m of applied.mutations) {
      if (m.op === 'prepend') scoped.prepend(m.name, m.value);
      else scoped.replace(m.name, m.value);
    }
    scoped.description = `Nix dev shell ${applied.choice.name}`;
    this.ctx.setFolderEnvironment(fs.folder, applied.mutations);
    const changed =
      !fs.applied ||
      fs.applied.choice.name !== applied.choice.name ||
      fs.applied.choice.flakeDir !== applied.choice.flakeDir ||
      !sameMutations(fs.applied.mutations, applied.mutations);
    fs.applied = applied;
    fs.stale = false;
    fs.error = undefined;
    this.diagnostics.clear(fs.folder.uri.fsPath);
    if (this.ctx.settings().devShellApplyToExtensionHost) this.applyToHost(fs, applied.mutations, changed);
    this.render();
    this.changed.fire(fs.folder);
  }

  private applyToHost(fs: FolderShell, mutations: readonly EnvMutation[], offer: boolean): void {
    this.ctx.setHostEnvironment(mutations);
    this.hostFolder = fs.folder.uri.fsPath;
    if (offer) this.offerRestart(`The dev shell ${fs.applied?.choice.name ?? ''} of ${fs.folder.name} is applied to the extension host.`);
  }

  private offerRestart(what: string): void {
    const remote = vscode.env.remoteName !== undefined;
    const action = remote ? 'Reload Window' : 'Restart Extension Host';
    void vscode.window
      .showInformationMessage(`${what} Language servers other extensions started before still run in the old environment.`, action)
      .then((a) => a && vscode.commands.executeCommand(remote ? 'workbench.action.reloadWindow' : 'workbench.action.restartExtensionHost'));
  }

  /** "None": the folder's environment as it was, for new terminals, tasks and processes. */
  private leave(fs: FolderShell): void {
    fs.loading?.ac.abort();
    this.unapply(fs);
    fs.choice = undefined;
    fs.error = undefined;
    fs.stale = false;
    this.diagnostics.clear(fs.folder.uri.fsPath);
    void this.ctx.extension.workspaceState.update(CHOICE_PREFIX + fs.folder.uri.fsPath, undefined);
    this.render();
    this.changed.fire(fs.folder);
  }

  private unapply(fs: FolderShell): void {
    this.ctx.extension.environmentVariableCollection.getScoped({ workspaceFolder: fs.folder }).clear();
    this.ctx.setFolderEnvironment(fs.folder, undefined);
    if (this.hostFolder === fs.folder.uri.fsPath) {
      this.ctx.setHostEnvironment(undefined);
      this.hostFolder = undefined;
    }
    fs.applied = undefined;
  }

  /** The status bar: an item for each folder with a shell, and for the active editor's folder (or the only one). */
  render(): void {
    if (!this.ctx.trusted) {
      for (const fs of this.folders.values()) fs.item.hide();
      return;
    }
    const many = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const activeUri = vscode.window.activeTextEditor?.document.uri;
    const active = activeUri && vscode.workspace.getWorkspaceFolder(activeUri);
    for (const fs of this.folders.values()) {
      const show = !many || !!fs.choice || active?.uri.fsPath === fs.folder.uri.fsPath;
      const item = fs.item;
      const where = many ? ` (${fs.folder.name})` : '';
      const name = fs.choice?.name;
      const folderArg = encodeURIComponent(JSON.stringify([{ folder: fs.folder.uri.toJSON() }]));
      const tip = new vscode.MarkdownString(undefined, true);
      tip.isTrusted = { enabledCommands: ['nixFlakes.devShell.reload', 'nixFlakes.devShell.select'] };
      item.backgroundColor = undefined;
      if (!name) {
        item.text = `$(terminal) No dev shell${where}`;
        tip.appendMarkdown(`No Nix dev shell is applied to ${fs.folder.name}.`);
        item.command = { title: 'Select Dev Shell', command: 'nixFlakes.devShell.select', arguments: [{ folder: fs.folder.uri }] };
      } else {
        const icon = fs.loading ? '$(sync~spin)' : fs.error ? '$(error)' : fs.stale ? '$(warning)' : '$(terminal)';
        item.text = `${icon} ${name}${fs.stale && !fs.loading ? ' (stale)' : ''}${where}`;
        const n = fs.applied ? Object.keys(fs.applied.env.variables).length : 0;
        tip.appendMarkdown(`**Nix dev shell \`${name}\`** of ${fs.folder.name}: `);
        tip.appendMarkdown(fs.applied?.choice.name === name ? `${n} variables applied to new terminals and tasks.` : 'not applied yet.');
        if (fs.loading) tip.appendMarkdown('\n\nEvaluating…');
        if (fs.stale) tip.appendMarkdown('\n\nThe flake changed since this environment was made.');
        const kept =
          fs.applied && fs.applied.choice.name !== name
            ? `the environment of ${fs.applied.choice.name} stays`
            : 'the previous environment stays';
        if (fs.error)
          tip.appendMarkdown(`\n\nThe last evaluation failed (${kept}): ${fs.error.slice(0, 300).replace(/[\\`*_[\]<>]/g, '\\$&')}`);
        tip.appendMarkdown(
          `\n\n[Reload](command:nixFlakes.devShell.reload?${folderArg}) · [Choose another shell](command:nixFlakes.devShell.select?${folderArg})`,
        );
        if (fs.error) item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        else if (fs.stale) item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        item.command =
          fs.stale || fs.error
            ? { title: 'Reload Dev Shell', command: 'nixFlakes.devShell.reload', arguments: [{ folder: fs.folder.uri }] }
            : { title: 'Select Dev Shell', command: 'nixFlakes.devShell.select', arguments: [{ folder: fs.folder.uri }] };
      }
      item.tooltip = tip;
      if (show) item.show();
      else item.hide();
    }
  }

  dispose(): void {
    for (const fs of this.folders.values()) {
      fs.loading?.ac.abort();
      if (fs.staleTimer) clearTimeout(fs.staleTimer);
      fs.item.dispose();
    }
    this.diagnostics.dispose();
    this.changed.dispose();
  }
}

function sameMutations(a: readonly EnvMutation[], b: readonly EnvMutation[]): boolean {
  return a.length === b.length && a.every((m, i) => m.name === b[i]?.name && m.op === b[i]?.op && m.value === b[i]?.value);
}

/** Command arguments: a folder or its URI, from the status bar, a `command:` link (JSON) or a caller. */
function folderArg(v: unknown): vscode.WorkspaceFolder | vscode.Uri | undefined {
  if (v instanceof vscode.Uri) return v;
  if (!v || typeof v !== 'object') return undefined;
  const o = v as { uri?: unknown; scheme?: unknown; path?: unknown; index?: unknown; name?: unknown };
  if (o.uri instanceof vscode.Uri && typeof o.name === 'string') return v as vscode.WorkspaceFolder;
  if (typeof o.scheme === 'string' && typeof o.path === 'string') return vscode.Uri.from({ scheme: o.scheme, path: o.path });
  return undefined;
}

function selectArg(
  v: unknown,
): { folder?: vscode.WorkspaceFolder | vscode.Uri; shell?: string | null; flake?: vscode.Uri | string } | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as { folder?: unknown; shell?: unknown; flake?: unknown };
  const shell = o.shell === null ? null : typeof o.shell === 'string' && o.shell.length > 0 && o.shell.length < 256 ? o.shell : undefined;
  const flake = typeof o.flake === 'string' || o.flake instanceof vscode.Uri ? o.flake : undefined;
  return { folder: folderArg(o.folder), shell, flake };
}

export function registerDevShell(ctx: Ctx, outputs: OutputsService): DevShells {
  const shells = ctx.register(new DevShells(ctx, outputs));
  const watcher = ctx.register(vscode.workspace.createFileSystemWatcher('**/{*.nix,flake.lock}'));
  const changed = (uri: vscode.Uri) => shells.fileChanged(uri);
  ctx.register(
    vscode.commands.registerCommand('nixFlakes.devShell.select', (arg?: unknown) => shells.select(selectArg(arg))),
    vscode.commands.registerCommand('nixFlakes.devShell.reload', (arg?: unknown) => {
      const a = selectArg(arg);
      return shells.reload(a?.folder ?? folderArg(arg));
    }),
    watcher.onDidChange(changed),
    watcher.onDidCreate(changed),
    watcher.onDidDelete(changed),
    vscode.window.onDidChangeActiveTextEditor(() => shells.render()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(DEV_SHELL_SETTINGS.applyToExtensionHost)) shells.hostSettingChanged();
    }),
    ctx.onDidChangeState(() => void shells.init()),
  );
  return shells;
}
