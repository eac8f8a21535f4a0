// The NixOS dry-builds: runs one after another, a card per host (a new run of a host replaces its card, its
// diagnostics and cancels what is left of the old one), errors placed in the user's files within a time bound, and
// what the panel and other features see of them. The panel (panel.ts) shows the cards; messages.ts answers it.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { OwnedDiagnostics, type PlacedDiagnostic } from '../../workspace/diagnostics';
import { fitText, LIMITS, type HostEntry, type RunState } from '../../protocol/dryBuild';
import { DryBuildPanel } from './panel';
import { HostList } from './hosts';
import { panelMessages, type PanelRuns } from './messages';
import { runDryBuild, type DryBuildResult } from './runner';
import { Deadline, errorMapper, hostPosition } from './lookups';
import { presentErrors, type Presented } from './present';
import { cardResult, type LookupMiss } from './result';

interface HostRun {
  state: RunState;
  flake: Flake;
  /** Until the run is over (its lookups included): a new run of the host, Cancel or dispose abort it. */
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
    outputs: OutputsService,
  ) {
    this.hosts = new HostList(ctx, outputs);
    this.panel = new DryBuildPanel(
      ctx,
      panelMessages(ctx, this.hosts, this, (m) => this.panel.post(m)),
    );
  }

  /** Shows the panel (creating it if needed) and optionally selects a host. */
  async show(select?: { flake: Flake; host: string }): Promise<void> {
    this.panel.show();
    if (select) await this.hosts.remember({ flake: select.flake.uri.fsPath, host: select.host });
    this.panel.post({ type: 'hosts', hosts: [], loading: true });
    const hosts = await this.hosts.list();
    this.panel.post({ type: 'hosts', hosts, selected: this.hosts.selected(hosts) });
  }

  /** Restores a panel after a window reload (WebviewPanelSerializer). */
  revive(panel: vscode.WebviewPanel): void {
    this.panel.revive(panel);
  }

  /** Every host of every flake's nixosConfigurations, from the outputs listing (which never evaluates the hosts). */
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

  start(flake: Flake, host: string): void {
    void this.dryBuild(flake, host);
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

  /** Dry-builds one host; the result replaces that host's earlier card and diagnostics. */
  async dryBuild(flake: Flake, host: string): Promise<DryBuildOutcome> {
    const runId = `run-${Date.now().toString(36)}-${++this.counter}`;
    const startedAt = Date.now();
    const key = flake.uri.fsPath;
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i]!;
      if (r.state.flake === key && r.state.host === host) {
        r.abort?.abort();
        this.runs.splice(i, 1);
      }
    }
    const abort = new AbortController();
    const entry: HostRun = {
      flake,
      abort,
      locations: new Set(),
      state: { runId, flake: key, host, state: 'evaluating', startedAt, elapsedMs: 0, builds: [], fetches: [], errors: [], log: [] },
    };
    this.runs.unshift(entry);
    // The oldest finished cards go past the limit the webview keeps.
    for (let i = this.runs.length - 1; i >= LIMITS.runs; i--) if (this.runs[i]!.state.state !== 'evaluating') this.runs.splice(i, 1);
    this.panel.post({ type: 'runStarted', runId, flake: key, host, startedAt });
    const progress = (text: string) => {
      entry.state.progress = fitText(text, LIMITS.progress);
      this.panel.post({ type: 'progress', runId, text: entry.state.progress });
    };
    const result = await runDryBuild(this.ctx, flake, host, abort.signal, progress);
    entry.result = result;
    if (result.errors.length) progress('Finding the errors’ places in your files…');
    const { views, placed, locations, miss } = await this.place(flake, host, result, abort.signal);
    entry.abort = undefined;
    const current = this.runs.includes(entry);
    const owner = `${key}#${host}`;
    // A run replaced by a newer one of the same host leaves that one's diagnostics alone.
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
   * of the host, Cancel) or the panel closes. Whatever they did not find, the errors are shown.
   */
  private async place(
    flake: Flake,
    host: string,
    result: DryBuildResult,
    runSignal: AbortSignal,
  ): Promise<Presented & { miss?: LookupMiss }> {
    if (result.errors.length === 0) return { views: [], placed: [], locations: [] };
    const deadline = new Deadline(this.lookupTimeoutMs, [runSignal, this.panel.signal]);
    try {
      const { map, root } = await errorMapper(this.ctx, flake, deadline.signal);
      const presented = await presentErrors(result.errors, map, root, () => hostPosition(this.ctx, flake, host, map, deadline.signal));
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

  /** The hosts of a flake that were dry-built, newest first. */
  hostsRun(flake: Flake): string[] {
    return this.runs.filter((r) => r.flake.uri.fsPath === flake.uri.fsPath && r.state.state !== 'evaluating').map((r) => r.state.host);
  }

  dispose(): void {
    for (const r of this.runs) r.abort?.abort();
    this.panel.dispose();
    this.diagnostics.dispose();
    this.finished.dispose();
  }
}
