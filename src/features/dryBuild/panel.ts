// The "NixOS Dry Build" webview panel: host picker, runs one after another, results compared side by side, errors
// as links into the user's files and as diagnostics in the editor. Strict CSP with a nonce; every message from the
// webview is checked before it is used; all Nix text goes to the webview as data, rendered as text there.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import type { Ctx } from '../../context';
import type { Flake } from '../../flakes';
import type { OutputsService } from '../outputs/service';
import { DryBuildResult, runDryBuild } from './runner';
import { fitList, fitText, HostEntry, isToExtension, isToWebview, LIMITS, PROTOCOL_VERSION, RunState, ToExtension, ToWebview, ErrorView, Location } from '../../protocol/dryBuild';
import { flakeMapper, flakeRef, gitRootOf, OwnedDiagnostics, placeDiagnostics, PlacedDiagnostic, Mapper } from '../diagnostics';
import type { NixError } from '../../core/errors/types';
import type { SourcePosition } from '../../core/log/position';
import { formatString } from '../../core/source';

export const VIEW_TYPE = 'nixFlakes.dryBuild';
const SELECTED_KEY = 'nixFlakes.dryBuild.selected';

interface HostRun {
  state: RunState;
  flake: Flake;
  abort?: AbortController;
  result?: DryBuildResult;
}

/** What tests and other features can observe of a finished run. */
export interface DryBuildOutcome {
  runId: string;
  result: DryBuildResult;
  diagnostics: PlacedDiagnostic[];
}

export class DryBuilds implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly runs: HostRun[] = [];
  /** Locations sent to the webview: only these may be opened when it asks. */
  private readonly sentLocations = new Set<string>();
  readonly diagnostics = new OwnedDiagnostics('nix-dry-build');
  private readonly finished = new vscode.EventEmitter<DryBuildOutcome>();
  readonly onDidFinish = this.finished.event;
  private readonly disposables: vscode.Disposable[] = [];
  private counter = 0;
  private hosts: HostEntry[] = [];
  private flakesByKey = new Map<string, Flake>();

  constructor(private readonly ctx: Ctx, private readonly outputs: OutputsService) {
    this.disposables.push(this.finished);
  }

  /** Shows the panel (creating it if needed) and optionally selects a host. */
  async show(select?: { flake: Flake; host: string }): Promise<vscode.WebviewPanel> {
    if (!this.panel) this.attach(vscode.window.createWebviewPanel(VIEW_TYPE, 'NixOS Dry Build', vscode.ViewColumn.Active, this.options()));
    else this.panel.reveal();
    if (select) await this.ctx.extension.workspaceState.update(SELECTED_KEY, { flake: select.flake.uri.fsPath, host: select.host });
    await this.sendHosts();
    return this.panel!;
  }

  /** Restores a panel after a window reload (WebviewPanelSerializer). */
  revive(panel: vscode.WebviewPanel): void {
    panel.webview.options = this.options();
    this.attach(panel);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist')], enableFindWidget: true };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'nix.svg');
    panel.webview.html = this.html(panel.webview);
    const subs = [
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        for (const s of subs) s.dispose();
      }),
    ];
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
    const dist = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
    const csp = `default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}'; font-src ${webview.cspSource}; img-src ${webview.cspSource} data:; script-src 'nonce-${nonce}';`;
    return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}" nonce="${nonce}">
<title>NixOS Dry Build</title></head>
<body><div id="app"></div><script type="module" nonce="${nonce}" src="${script}"></script></body></html>`;
  }

  private post(msg: ToWebview): void {
    if (!this.panel) return;
    if (!isToWebview(msg)) {
      this.ctx.log.error(`dry-build: refusing to post an invalid ${(msg as { type: string }).type} message`);
      return;
    }
    void this.panel.webview.postMessage(msg);
  }

  /** Every host of every flake's nixosConfigurations, from the outputs listing (which never evaluates the hosts). */
  async listHosts(): Promise<HostEntry[]> {
    const out: HostEntry[] = [];
    this.flakesByKey = new Map();
    if (!this.ctx.trusted) return out;
    for (const flake of await this.ctx.flakes()) {
      const s = await this.outputs.ensure(flake);
      const cat = s.model?.categories.find((c) => c.name === 'nixosConfigurations');
      if (!cat) continue;
      this.flakesByKey.set(flake.uri.fsPath, flake);
      for (const leaf of cat.leaves) out.push({ flake: fitText(flake.uri.fsPath, LIMITS.path), flakeLabel: fitText(flake.label, LIMITS.name), host: leaf.name });
    }
    this.hosts = fitList(out.filter((h) => h.host.length <= LIMITS.name), LIMITS.hosts);
    return this.hosts;
  }

  private async sendHosts(): Promise<void> {
    this.post({ type: 'hosts', hosts: [], loading: true });
    const hosts = await this.listHosts();
    this.post({ type: 'hosts', hosts, selected: this.selected(hosts) });
  }

  private selected(hosts: HostEntry[]): { flake: string; host: string } | undefined {
    const s = this.ctx.extension.workspaceState.get<{ flake: string; host: string }>(SELECTED_KEY);
    return s && hosts.some((h) => h.flake === s.flake && h.host === s.host) ? s : undefined;
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isToExtension(raw)) {
      this.ctx.log.warn('dry-build: ignored an invalid message from the webview');
      return;
    }
    const m: ToExtension = raw;
    switch (m.type) {
      case 'ready': {
        if (m.protocolVersion !== PROTOCOL_VERSION) this.ctx.log.warn(`dry-build: webview protocol ${m.protocolVersion}, expected ${PROTOCOL_VERSION}`);
        const hosts = this.hosts.length ? this.hosts : await this.listHosts();
        this.post({ type: 'init', protocolVersion: PROTOCOL_VERSION, hosts, selected: this.selected(hosts), runs: this.runs.map((r) => this.snapshot(r)).slice(0, LIMITS.runs) });
        return;
      }
      case 'select':
        if (this.knownHost(m.flake, m.host)) await this.ctx.extension.workspaceState.update(SELECTED_KEY, { flake: m.flake, host: m.host });
        return;
      case 'run': {
        const flake = this.knownHost(m.flake, m.host);
        if (!flake) {
          this.post({ type: 'notice', level: 'error', text: 'That host is not in the list any more; refresh the list.' });
          return;
        }
        void this.dryBuild(flake, m.host);
        return;
      }
      case 'cancel':
        this.runs.find((r) => r.state.runId === m.runId)?.abort?.abort();
        return;
      case 'open': {
        if (!this.sentLocations.has(`${m.file}:${m.line}:${m.column}`)) return;
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(m.file));
        const pos = new vscode.Position(Math.max(0, m.line - 1), Math.max(0, m.column - 1));
        await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
        return;
      }
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        vscode.window.setStatusBarMessage('Copied', 2000);
        return;
      case 'dismiss': {
        const i = this.runs.findIndex((r) => r.state.runId === m.runId);
        if (i >= 0 && this.runs[i].state.state !== 'evaluating') this.runs.splice(i, 1);
        return;
      }
      case 'clear':
        for (let i = this.runs.length - 1; i >= 0; i--) if (this.runs[i].state.state !== 'evaluating') this.runs.splice(i, 1);
        return;
    }
  }

  private knownHost(flakeKey: string, host: string): Flake | undefined {
    return this.hosts.some((h) => h.flake === flakeKey && h.host === host) ? this.flakesByKey.get(flakeKey) : undefined;
  }

  /** Dry-builds one host; the result replaces that host's earlier card and diagnostics. */
  async dryBuild(flake: Flake, host: string): Promise<DryBuildOutcome> {
    const runId = `run-${Date.now().toString(36)}-${++this.counter}`;
    const startedAt = Date.now();
    const key = flake.uri.fsPath;
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i];
      if (r.state.flake === key && r.state.host === host) {
        r.abort?.abort();
        this.runs.splice(i, 1);
      }
    }
    const entry: HostRun = {
      flake,
      abort: new AbortController(),
      state: { runId, flake: key, host, state: 'evaluating', startedAt, elapsedMs: 0, builds: [], fetches: [], errors: [], log: [] },
    };
    this.runs.unshift(entry);
    this.post({ type: 'runStarted', runId, flake: key, host, startedAt });
    const result = await runDryBuild(this.ctx, flake, host, entry.abort!.signal, (text) => {
      entry.state.progress = fitText(text, LIMITS.progress);
      this.post({ type: 'progress', runId, text: entry.state.progress });
    });
    entry.abort = undefined;
    entry.result = result;
    const { views, placed } = await this.present(flake, host, result.errors);
    const owner = `${key}#${host}`;
    this.diagnostics.set(owner, placed);
    this.startedAt.set(owner, startedAt);
    Object.assign(entry.state, {
      state: result.status,
      elapsedMs: result.elapsedMs,
      builds: fitList(result.plan.builds.map((p) => fitText(p, LIMITS.storePath)), LIMITS.items),
      fetches: fitList(result.plan.fetches.map((p) => fitText(p, LIMITS.storePath)), LIMITS.items),
      ...(result.plan.downloadBytes !== undefined ? { downloadBytes: result.plan.downloadBytes } : {}),
      ...(result.plan.unpackedBytes !== undefined ? { unpackedBytes: result.plan.unpackedBytes } : {}),
      errors: views,
      log: fitList(result.log.map((l) => fitText(l, LIMITS.logLine, 'log')), LIMITS.logLines, true),
      progress: undefined,
    });
    const s = entry.state;
    this.post({ type: 'runFinished', runId, state: result.status === 'done' ? 'done' : result.status, builds: s.builds, fetches: s.fetches, downloadBytes: s.downloadBytes, unpackedBytes: s.unpackedBytes, errors: s.errors, log: s.log, elapsedMs: s.elapsedMs });
    const outcome = { runId, result, diagnostics: placed };
    this.finished.fire(outcome);
    return outcome;
  }

  /** The flake's source and inputs in the store, so positions in inputs are labelled ("nixpkgs: lib/…"). */
  private async mapperFor(flake: Flake): Promise<{ map: Mapper; root: string }> {
    const nix = await this.ctx.requireNix();
    const json = async (sub: string[], rest: string[]) => {
      try {
        return JSON.parse((await this.ctx.runNix(sub, rest, { cwd: flake.uri.fsPath, scope: flake.folder })).stdout) as unknown;
      } catch {
        return undefined;
      }
    };
    const ref = await flakeRef(this.ctx, flake).catch(() => undefined);
    const [metadata, archive] = ref
      ? await Promise.all([json(['flake', 'metadata'], ['--json', ref]), json(['flake', 'archive'], ['--json', '--dry-run', ref])])
      : [undefined, undefined];
    return { map: await flakeMapper(this.ctx, flake, nix.storeDir, metadata, archive), root: await gitRootOf(this.ctx, flake) };
  }

  private async present(flake: Flake, host: string, errors: NixError[]): Promise<{ views: ErrorView[]; placed: PlacedDiagnostic[] }> {
    if (errors.length === 0) return { views: [], placed: [] };
    const { map, root } = await this.mapperFor(flake);
    const { placed, unplaced } = await placeDiagnostics(errors, map);
    // An error with no position in the workspace ("was accessed but has no value defined", a bare throw) goes on
    // the host's own entry in nixosConfigurations.
    if (unplaced.length) {
      const at = await this.hostPosition(flake, host, map);
      for (const e of unplaced) {
        if (!at) break;
        const d = new vscode.Diagnostic(at.range, e.message, vscode.DiagnosticSeverity.Error);
        d.source = 'nix';
        d.code = e.kind;
        placed.push({ uri: at.uri, diagnostic: d, error: e, placement: { sites: [], related: [] } });
      }
    }
    for (const p of placed) addHint(p);
    const loc = (pos: SourcePosition | undefined): { location?: Location; where?: string } => {
      if (!pos || pos.origin !== 'path') return {};
      const m = map(pos.file);
      if (m.kind === 'workspace') {
        const location = { file: fitText(m.path, LIMITS.path), label: fitText(relative(root, m.path) || m.path, LIMITS.path), line: Math.max(1, pos.line), column: Math.max(1, pos.column) };
        this.sentLocations.add(`${location.file}:${location.line}:${location.column}`);
        return { location };
      }
      if (m.kind === 'input') return { where: fitText(`${m.label.replace(/^input /, '')}: ${m.rel}:${pos.line}:${pos.column}`, LIMITS.path) };
      return { where: fitText(`${pos.file}:${pos.line}:${pos.column}`, LIMITS.path) };
    };
    const views = fitList(errors, LIMITS.errors).map((e): ErrorView => {
      const own = loc(e.position);
      // Where the error is shown in the editor, when Nix's own position is not in the workspace.
      const target = placed.find((p) => p.error === e);
      let location = own.location;
      if (!location && target) {
        const r = target.diagnostic.range;
        location = { file: target.uri.fsPath, label: relative(root, target.uri.fsPath), line: r.start.line + 1, column: r.start.character + 1 };
        this.sentLocations.add(`${location.file}:${location.line}:${location.column}`);
      }
      return {
        message: fitText(e.message, LIMITS.message, 'multiline'),
        kind: fitText(e.kind, LIMITS.name),
        ...(location ? { location } : {}),
        ...(own.where ? { where: own.where } : {}),
        trace: fitList(e.trace, LIMITS.trace).map((t) => ({ message: fitText(t.message, LIMITS.message, 'multiline'), ...loc(t.position) })),
      };
    });
    return { views, placed };
  }

  /** Where `nixosConfigurations.<host>` is defined (unsafeGetAttrPos: forces nothing). */
  private async hostPosition(flake: Flake, host: string, map: Mapper): Promise<{ uri: vscode.Uri; range: vscode.Range } | undefined> {
    try {
      const apply = `c: builtins.unsafeGetAttrPos ${formatString(host)} c`;
      const r = await this.ctx.runNix(['eval'], ['--json', `${flake.uri.fsPath}#nixosConfigurations`, '--apply', apply], { cwd: flake.uri.fsPath, scope: flake.folder });
      const pos = JSON.parse(r.stdout) as { file?: unknown; line?: unknown; column?: unknown } | null;
      if (!pos || typeof pos.file !== 'string' || typeof pos.line !== 'number') return undefined;
      const m = map(pos.file);
      if (m.kind !== 'workspace') return undefined;
      const line = pos.line - 1;
      const col = typeof pos.column === 'number' ? pos.column - 1 : 0;
      return { uri: vscode.Uri.file(m.path), range: new vscode.Range(line, col, line, col + host.length + (/^[A-Za-z_][\w'-]*$/.test(host) ? 0 : 2)) };
    } catch {
      return undefined;
    }
  }

  private snapshot(r: HostRun): RunState {
    return { ...r.state, elapsedMs: r.state.state === 'evaluating' ? Date.now() - r.state.startedAt : r.state.elapsedMs };
  }

  /** Removes the diagnostics of every dry-build of a flake (its files changed, so they may be stale). */
  /**
   * Removes the flake's dry-build diagnostics: they are stale. With `changedAt` (the changed file's modification
   * time), only those of runs that started before the change: a run started after it already saw the file.
   */
  clearFlake(flake: Flake, changedAt?: number): void {
    for (const owner of this.diagnostics.owners()) {
      if (!owner.startsWith(`${flake.uri.fsPath}#`)) continue;
      if (changedAt !== undefined && (this.startedAt.get(owner) ?? 0) > changedAt) continue;
      this.diagnostics.clear(owner);
    }
  }

  /** When the run behind each owner's diagnostics started. */
  private readonly startedAt = new Map<string, number>();

  /** The hosts of a flake that were dry-built, newest first. */
  hostsRun(flake: Flake): string[] {
    return this.runs.filter((r) => r.flake.uri.fsPath === flake.uri.fsPath && r.state.state !== 'evaluating').map((r) => r.state.host);
  }

  dispose(): void {
    for (const r of this.runs) r.abort?.abort();
    this.panel?.dispose();
    this.diagnostics.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Hints for the errors Nix users hit most, added to the diagnostic's message. */
function addHint(p: PlacedDiagnostic): void {
  const d = p.diagnostic;
  switch (p.error.kind) {
    case 'infinite-recursion':
      d.message += '\nHint: `imports` are resolved before `config` exists, so `imports = lib.optional config.… ./x.nix` recurses. Import the module unconditionally and guard its settings with `lib.mkIf`.';
      break;
    case 'option-used-but-not-defined':
      d.message += '\nHint: set this option in the host’s configuration (or give it a default where it is declared).';
      break;
    case 'conflicting-definitions':
      d.message += '\nHint: keep one definition, or give one priority with `lib.mkForce` (wins) or `lib.mkDefault` (yields).';
      break;
    default:
      break;
  }
}
