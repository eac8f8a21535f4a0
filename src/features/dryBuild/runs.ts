// The dry-builds of NixOS hosts and home-manager configurations: runs one after another, a card per configuration
// (a new run of one replaces its card, its diagnostics and cancels what is left of the old one), errors placed in the
// user's files within a time bound, and what the panel and other features see of them. The panel (panel.ts) shows
// the cards; messages.ts answers it.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { OwnedDiagnostics, type PlacedDiagnostic } from '../../workspace/diagnostics';
import { fitText, hostRef, kindOf, LIMITS, sameHost, type ConfigKind, type HostEntry, type RunState } from '../../protocol/dryBuild';
import { DryBuildPanel } from './panel';
import { CATEGORY, HostList } from './hosts';
import { panelMessages, type PanelRuns } from './messages';
import { runDryBuild, type DryBuildResult } from './runner';
import { Deadline, errorMapper, hostPosition } from './lookups';
import { presentErrors, type Presented } from './present';
import { cardResult, type LookupMiss } from './result';

interface HostRun {
  state: RunState;
  flake: Flake;
  /** Until the run is over (its lookups included): a new run of the configuration, Cancel or dispose abort it. */
  abort?: AbortController;
  result?: DryBuildResult;
  /** The locations this run's card links to (`file:line:column`). */
  locations: Set<string>;
}

/** What tests and other features can observe of a finished run. */
export interface DryBuildOutcome {
  runId: string;
  result: DryBuildResult;
  diagnostics: PlacedDiagnostic[];
  /** What its card shows. */
  card: RunState;
}

export class DryBuilds implements vscode.Disposable, PanelRuns {
  private readonly runs: HostRun[] = [];
  readonly diagnostics = new OwnedDiagnostics('nix-dry-build');
  private readonly finished = new vscode.EventEmitter<DryBuildOutcome>();
  readonly onDidFinish = this.finished.event;
  private readonly hosts: HostList;
  private readonly panel: DryBuildPanel;
  private counter = 0;
  /** When the run behind each owner's diagnostics started. */
  private readonly startedAt = new Map<string, number>();
  /**
   * The time a failed run may take to place its errors (the flake's sources in the store, the host's position):
   * after it, the card shows the errors as Nix printed them.
   */
  lookupTimeoutMs = 30_000;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {
    this.hosts = new HostList(ctx, outputs);
    this.panel = new DryBuildPanel(
      ctx,
      panelMessages(ctx, this.hosts, this, (m) => this.panel.post(m)),
    );
  }

  /** Shows the panel (creating it if needed) and optionally selects a configuration (a NixOS host by default). */
  async show(select?: { flake: Flake; host: string; kind?: ConfigKind }): Promise<void> {
    this.panel.show();
    if (select) await this.hosts.remember(hostRef(select.flake.uri.fsPath, select.host, select.kind ?? 'nixos'));
    this.panel.post({ type: 'hosts', hosts: [], loading: true });
    const hosts = await this.hosts.list();
    this.panel.post({ type: 'hosts', hosts, selected: this.hosts.selected(hosts) });
  }

  /** Restores a panel after a window reload (WebviewPanelSerializer). */
  revive(panel: vscode.WebviewPanel): void {
    this.panel.revive(panel);
  }

  /**
   * Every host of every flake's nixosConfigurations and every configuration of its homeConfigurations (`kind:
   * 'home'`), from the outputs listing (which evaluates none of them).
   */
  listHosts(): Promise<HostEntry[]> {
    return this.hosts.list();
  }

  // --- PanelRuns: what the webview's messages act on

  cards(): RunState[] {
    return this.runs.map((r) => ({
      ...r.state,
      elapsedMs: r.state.state === 'evaluating' ? Date.now() - r.state.startedAt : r.state.elapsedMs,
    }));
  }

  start(flake: Flake, host: string, kind: ConfigKind): void {
    void this.dryBuild(flake, host, kind);
  }

  cancel(runId: string): void {
    this.runs.find((r) => r.state.runId === runId)?.abort?.abort();
  }

  dismiss(runId: string | undefined): void {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i]!;
      if (r.state.state !== 'evaluating' && (runId === undefined || r.state.runId === runId)) this.runs.splice(i, 1);
    }
  }

  sent(file: string, line: number, column: number): boolean {
    const key = `${file}:${line}:${column}`;
    return this.runs.some((r) => r.locations.has(key));
  }

  // ---

  /**
   * Dry-builds one NixOS host (`kind: 'home'`: one home-manager configuration); the result replaces that
   * configuration's earlier card and diagnostics.
   */
  async dryBuild(flake: Flake, host: string, kind: ConfigKind = 'nixos'): Promise<DryBuildOutcome> {
    const runId = `run-${Date.now().toString(36)}-${++this.counter}`;
    const startedAt = Date.now();
    const key = flake.uri.fsPath;
    const ref = hostRef(key, host, kind);
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i]!;
      if (sameHost(r.state, ref)) {
        r.abort?.abort();
        this.runs.splice(i, 1);
      }
    }
    const abort = new AbortController();
    const entry: HostRun = {
      flake,
      abort,
      locations: new Set(),
      state: { runId, ...ref, state: 'evaluating', startedAt, elapsedMs: 0, builds: [], fetches: [], errors: [], log: [] },
    };
    this.runs.unshift(entry);
    // The oldest finished cards go past the limit the webview keeps.
    for (let i = this.runs.length - 1; i >= LIMITS.runs; i--) if (this.runs[i]!.state.state !== 'evaluating') this.runs.splice(i, 1);
    this.panel.post({ type: 'runStarted', runId, ...ref, startedAt });
    const progress = (text: string) => {
      entry.state.progress = fitText(text, LIMITS.progress);
      this.panel.post({ type: 'progress', runId, text: entry.state.progress });
    };
    const result = await runDryBuild(this.ctx, flake, host, kind, abort.signal, progress);
    entry.result = result;
    if (result.errors.length) progress('Finding the errors’ places in your files…');
    const { views, placed, locations, miss } = await this.place(flake, host, kind, result, abort.signal);
    entry.abort = undefined;
    const current = this.runs.includes(entry);
    const owner = `${key}#${JSON.stringify([kind, host])}`;
    // A run replaced by a newer one of the same configuration leaves that one's diagnostics alone.
    if (current) {
      this.diagnostics.set(owner, placed);
      this.startedAt.set(owner, startedAt);
    }
    entry.locations = new Set(locations);
    const card = cardResult(result, views, miss);
    Object.assign(entry.state, { state: result.status, elapsedMs: result.elapsedMs, ...card, progress: undefined });
    if (current) this.panel.post({ type: 'runFinished', runId, state: result.status, elapsedMs: result.elapsedMs, ...card });
    const outcome = { runId, result, diagnostics: placed, card: { ...entry.state } };
    this.finished.fire(outcome);
    return outcome;
  }

  /**
   * Places a run's errors: the lookups are bounded by `lookupTimeoutMs` and stop when the run is aborted (a new run
   * of the configuration, Cancel) or the panel closes. Whatever they did not find, the errors are shown.
   */
  private async place(
    flake: Flake,
    host: string,
    kind: ConfigKind,
    result: DryBuildResult,
    runSignal: AbortSignal,
  ): Promise<Presented & { miss?: LookupMiss }> {
    if (result.errors.length === 0) return { views: [], placed: [], locations: [] };
    const deadline = new Deadline(this.lookupTimeoutMs, [runSignal, this.panel.signal]);
    try {
      const key = await this.outputs.currentKey(flake, deadline.signal).catch(() => undefined);
      const { map, root } = await errorMapper(this.ctx, flake, deadline.signal, key);
      const presented = await presentErrors(result.errors, map, root, () =>
        hostPosition(this.ctx, flake, [CATEGORY[kind], host], map, deadline.signal),
      );
      const miss = deadline.miss();
      return miss ? { ...presented, miss } : presented;
    } catch (e) {
      // No mapping at all (no nix, say): the errors as Nix printed them.
      this.ctx.log.warn(`dry-build: the errors of ${host} could not be placed: ${(e as Error).message}`);
      return presentErrors(
        result.errors,
        () => ({ kind: 'none' }),
        flake.uri.fsPath,
        async () => undefined,
      );
    } finally {
      deadline.dispose();
    }
  }

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

  /** The configurations of a flake that were dry-built, newest first. */
  hostsRun(flake: Flake): { host: string; kind: ConfigKind }[] {
    return this.runs
      .filter((r) => r.flake.uri.fsPath === flake.uri.fsPath && r.state.state !== 'evaluating')
      .map((r) => ({ host: r.state.host, kind: kindOf(r.state) }));
  }

  dispose(): void {
    for (const r of this.runs) r.abort?.abort();
    this.panel.dispose();
    this.diagnostics.dispose();
    this.finished.dispose();
  }
}
