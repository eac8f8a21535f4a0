// Build with live progress (the shared runner in workspace/build.ts), shown in a cancellable notification and a
// status-bar item; the whole log in an output channel, build lines prefixed by the derivation name; failures in
// Problems at the right file and line.
import { rememberResult } from '../../workspace/results';
import * as vscode from 'vscode';
import { RestrictedError, type Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { recentTargets, rememberTarget, targetKey } from '../../workspace/targets';
import { derivationPosition, runNixBuild } from '../../workspace/build';
import { BuildProgress, statusText, type ProgressSnapshot } from '../../core/log/progress';
import { outLinkName } from '../../core/nix/build';
import { formatDuration } from '../../core/format';
import type { NixError } from '../../core/errors/types';
import { installable } from '../../core/flake/installable';
import { flakeMapper, flakeRef } from '../../workspace/mapping';
import { OwnedDiagnostics, placeDiagnostics } from '../../workspace/diagnostics';

export interface BuildRequest {
  flake: Flake;
  attrPath: string[];
  /** For titles: `.#hello`. */
  display: string;
}

export interface BuildOutcome {
  status: 'built' | 'failed' | 'cancelled';
  /** Output name → store path. */
  outputs: Record<string, string>;
  errors: NixError[];
  /** The failing derivations' last log lines. */
  lastLines: string[];
}

interface Running {
  request: BuildRequest;
  promise: Promise<BuildOutcome>;
  cancel: () => void;
}

const UI_INTERVAL_MS = 150;

export class Builds implements vscode.Disposable {
  private readonly running = new Map<string, Running>();
  readonly output: vscode.OutputChannel;
  readonly diagnostics = new OwnedDiagnostics('nix-build');
  private readonly status: vscode.StatusBarItem;
  private readonly finished = new vscode.EventEmitter<BuildOutcome>();
  /** Fires with the outcome of each build started here (built, failed or cancelled). */
  readonly onDidFinish = this.finished.event;

  constructor(private readonly ctx: Ctx) {
    this.output = vscode.window.createOutputChannel('Nix Build');
    this.status = vscode.window.createStatusBarItem('nixFlakes.build', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'Nix Build';
    this.status.command = 'nixFlakes.showBuildLog';
  }

  isRunning(req: BuildRequest): boolean {
    return this.running.has(keyOf(req));
  }

  /** Recently built outputs (their keys), newest first (the palette's pick list ranks by it). */
  recent(): string[] {
    return recentTargets(this.ctx);
  }

  /** Builds, or shows the running build of the same output. */
  build(req: BuildRequest): Promise<BuildOutcome> {
    if (!this.ctx.trusted) {
      void vscode.window.showWarningMessage(RestrictedError.MESSAGE);
      return Promise.resolve({ status: 'failed', outputs: {}, errors: [], lastLines: [] });
    }
    const k = keyOf(req);
    const existing = this.running.get(k);
    if (existing) {
      void vscode.window.showInformationMessage(`${req.display} is already being built.`, 'Show Log', 'Cancel').then((a) => {
        if (a === 'Show Log') this.output.show(true);
        if (a === 'Cancel') existing.cancel();
      });
      return existing.promise;
    }
    let cancel = () => {};
    const promise = Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Building ${req.display}`, cancellable: true },
        (progress, token) => {
          const ac = new AbortController();
          cancel = () => ac.abort();
          token.onCancellationRequested(() => ac.abort());
          return this.run(req, ac.signal, (text) => progress.report({ message: text }));
        },
      ),
    );
    const entry: Running = { request: req, promise, cancel: () => cancel() };
    this.running.set(k, entry);
    void promise.finally(() => {
      this.running.delete(k);
      this.updateStatus();
    });
    promise.then(
      (o) => this.finished.fire(o),
      () => undefined,
    );
    rememberTarget(this.ctx, req);
    return promise;
  }

  /** Cancels every running build (on deactivation, and from the status bar). */
  cancelAll(): void {
    for (const r of this.running.values()) r.cancel();
  }

  private async run(req: BuildRequest, signal: AbortSignal, report: (text: string) => void): Promise<BuildOutcome> {
    let ref: string;
    try {
      ref = await flakeRef(this.ctx, req.flake);
    } catch (e) {
      void vscode.window.showErrorMessage((e as Error).message);
      return { status: 'failed', outputs: {}, errors: [], lastLines: [] };
    }
    const inst = installable(ref, req.attrPath);
    if (!inst.ok) {
      void vscode.window.showErrorMessage(inst.error.message);
      return { status: 'failed', outputs: {}, errors: [], lastLines: [] };
    }
    const links = this.ctx.settings(req.flake.folder).buildOutLinks;
    const started = Date.now();
    let last = 0;
    // Before nix reports anything, the status of an empty run.
    let snap: ProgressSnapshot = new BuildProgress().snapshot();
    const tick = (force = false) => {
      const now = Date.now();
      if (!force && now - last < UI_INTERVAL_MS) return;
      last = now;
      const text = `${statusText(snap)} · ${formatDuration(now - started)}`;
      report(text);
      this.currentStatus.set(keyOf(req), `${req.display}: ${text}`);
      this.updateStatus();
    };
    const timer = setInterval(() => tick(true), 1000);
    this.output.appendLine(`\n── ${new Date().toLocaleTimeString()} nix build ${inst.value}`);
    try {
      const r = await runNixBuild(this.ctx, req.flake, [inst.value], {
        signal,
        outLink: links ? outLinkName(req.attrPath) : undefined,
        writeLockFile: true,
        onLog: (line) => this.output.appendLine(line),
        onProgress: (s) => {
          snap = s;
          tick();
        },
      });
      if (r.status === 'built') {
        const outputs = r.outputs;
        this.diagnostics.clear(keyOf(req));
        this.output.appendLine(`built in ${formatDuration(Date.now() - started)}: ${Object.values(outputs).join(' ')}`);
        if (r.leftOut) this.output.appendLine(r.leftOut);
        const paths = Object.values(outputs);
        const main = outputs.out ?? paths[0];
        if (main) rememberResult(this.ctx, req, main);
        const target = { flake: req.flake, attrPath: req.attrPath, display: req.display };
        void vscode.window
          .showInformationMessage(`Built ${req.display}: ${paths.join(', ')}`, 'Open Result', 'Copy Path', 'Show Log')
          .then((a) => {
            if (a === 'Open Result') void vscode.commands.executeCommand('nixFlakes.results.open', target);
            if (a === 'Copy Path') void vscode.env.clipboard.writeText(paths.join('\n'));
            if (a === 'Show Log') this.output.show(true);
          });
        return { status: 'built', outputs, errors: [], lastLines: [] };
      }
      if (r.status === 'cancelled') {
        this.output.appendLine(`cancelled after ${formatDuration(Date.now() - started)}`);
        void vscode.window.showInformationMessage(`Build of ${req.display} cancelled.`);
        return { status: 'cancelled', outputs: {}, errors: [], lastLines: [] };
      }
      const { errors, lastLines } = r;
      const nix = await this.ctx.requireNix();
      const mapper = await flakeMapper(this.ctx, req.flake, nix.storeDir);
      const { placed, unplaced } = await placeDiagnostics(errors, mapper);
      // A failing builder has no source position: show it where the derivation is defined (meta.position).
      const builderFailure = unplaced.find((x) => x.kind === 'builder-failed' || x.kind === 'dependency-failed');
      if (builderFailure) {
        const at = await derivationPosition(this.ctx, req.flake, inst.value, mapper);
        if (at) {
          const d = new vscode.Diagnostic(
            at.range,
            `${builderFailure.message}${lastLines.length ? `\n${lastLines.slice(-10).join('\n')}` : ''}`,
            vscode.DiagnosticSeverity.Error,
          );
          d.source = 'nix';
          d.code = builderFailure.kind;
          placed.push({ uri: at.uri, diagnostic: d, error: builderFailure, placement: { sites: [], related: [] } });
        }
      }
      this.diagnostics.set(keyOf(req), placed);
      const first = r.summary;
      this.output.appendLine(`failed after ${formatDuration(Date.now() - started)}: ${first}`);
      if (r.leftOut) this.output.appendLine(r.leftOut);
      const tail = lastLines.length ? `\n${lastLines.slice(-5).join('\n')}` : '';
      void vscode.window
        .showErrorMessage(`Build of ${req.display} failed: ${first}${tail}`, 'Show Log', ...(placed.length ? ['Show Problems'] : []))
        .then((a) => {
          if (a === 'Show Log') this.output.show(true);
          if (a === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
        });
      return { status: 'failed', outputs: {}, errors, lastLines };
    } finally {
      clearInterval(timer);
      this.currentStatus.delete(keyOf(req));
      this.updateStatus();
    }
  }

  private readonly currentStatus = new Map<string, string>();

  private updateStatus(): void {
    const texts = [...this.currentStatus.values()];
    if (texts.length === 0) {
      this.status.hide();
      return;
    }
    this.status.text = `$(sync~spin) ${texts.length > 1 ? `${texts.length} builds · ` : ''}${texts[0]}`;
    this.status.tooltip = texts.join('\n');
    this.status.show();
  }

  dispose(): void {
    this.cancelAll();
    this.output.dispose();
    this.diagnostics.dispose();
    this.status.dispose();
    this.finished.dispose();
  }
}

function keyOf(req: BuildRequest): string {
  return targetKey(req);
}
