// Build with live progress: `nix build --log-format internal-json -v`, read line by line into the core's progress
// state, shown in a cancellable notification and a status-bar item; the whole log in an output channel, build lines
// prefixed by the derivation name; failures in Problems at the right file and line.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { RestrictedError, type Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { recentTargets, rememberTarget, targetKey } from '../../workspace/targets';
import { CancelledError, ExitError } from '../../core/nix/process';
import { parseLogLine } from '../../core/log/internalJson';
import { BuildProgress, statusText } from '../../core/log/progress';
import { MessageLog } from '../../core/log/messages';
import { storePathName } from '../../core/nix/store';
import { buildArgs, describeLeftOut, outLinkName, readBuildOutputs } from '../../core/nix/build';
import { formatDuration } from '../../core/format';
import { errorsFromEvents, parseNixErrors } from '../../core/errors/fromLog';
import type { NixError } from '../../core/errors/types';
import { installable } from '../../core/flake/installable';
import { stripAnsi } from '../../core/text';
import { flakeMapper, flakeRef, Mapper } from '../../workspace/mapping';
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
    const promise = Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Building ${req.display}`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        cancel = () => ac.abort();
        token.onCancellationRequested(() => ac.abort());
        return this.run(req, ac.signal, (text) => progress.report({ message: text }));
      },
    ));
    const entry: Running = { request: req, promise, cancel: () => cancel() };
    this.running.set(k, entry);
    void promise.finally(() => {
      this.running.delete(k);
      this.updateStatus();
    });
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
    const progress = new BuildProgress();
    const messages = new MessageLog();
    const started = Date.now();
    const names = new Map<string, string>();
    let last = 0;
    const tick = (force = false) => {
      const now = Date.now();
      if (!force && now - last < UI_INTERVAL_MS) return;
      last = now;
      const snap = progress.snapshot();
      const text = `${statusText(snap)} · ${formatDuration(now - started)}`;
      report(text);
      this.currentStatus.set(keyOf(req), `${req.display}: ${text}`);
      this.updateStatus();
    };
    const timer = setInterval(() => tick(true), 1000);
    this.output.appendLine(`\n── ${new Date().toLocaleTimeString()} nix build ${inst.value}`);
    try {
      const r = await this.ctx.runNix(['build'], buildArgs(inst.value, { outLink: links ? outLinkName(req.attrPath) : undefined }), {
        cwd: req.flake.uri.fsPath,
        scope: req.flake.folder,
        signal,
        writeLockFile: true,
        onStderrLine: (line) => {
          const ev = parseLogLine(line);
          progress.feed(ev);
          if (ev.kind === 'start' && ev.activity === 'Build') {
            const drv = typeof ev.fields?.[0] === 'string' ? ev.fields[0] : '';
            names.set(ev.id, storePathName(drv));
            this.output.appendLine(`building ${drv}`);
          } else if (ev.kind === 'result' && (ev.result.type === 'buildLogLine' || ev.result.type === 'postBuildLogLine')) {
            this.output.appendLine(`${names.get(ev.id) ?? '?'}> ${stripAnsi(ev.result.line)}`);
          } else if (ev.kind === 'result' && ev.result.type === 'setPhase') {
            this.output.appendLine(`${names.get(ev.id) ?? '?'}> [${ev.result.phase}]`);
          } else if (ev.kind === 'msg') {
            if (ev.level <= 1 || /^(these|this) /.test(stripAnsi(ev.msg))) this.output.appendLine(stripAnsi(ev.msg));
            messages.add(ev);
          } else if (ev.kind === 'plain') {
            this.output.appendLine(stripAnsi(ev.text));
          }
          tick();
        },
      });
      const outputs = readBuildOutputs(r.stdout);
      this.diagnostics.clear(keyOf(req));
      this.output.appendLine(`built in ${formatDuration(Date.now() - started)}: ${Object.values(outputs).join(' ')}`);
      const leftOut = describeLeftOut(r);
      if (leftOut) this.output.appendLine(leftOut);
      const paths = Object.values(outputs);
      void vscode.window.showInformationMessage(`Built ${req.display}: ${paths.join(', ')}`, 'Copy Path', 'Show Log').then((a) => {
        if (a === 'Copy Path') void vscode.env.clipboard.writeText(paths.join('\n'));
        if (a === 'Show Log') this.output.show(true);
      });
      return { status: 'built', outputs, errors: [], lastLines: [] };
    } catch (e) {
      if (e instanceof CancelledError) {
        this.output.appendLine(`cancelled after ${formatDuration(Date.now() - started)}`);
        void vscode.window.showInformationMessage(`Build of ${req.display} cancelled.`);
        return { status: 'cancelled', outputs: {}, errors: [], lastLines: [] };
      }
      if (!(e instanceof ExitError)) throw e;
      let errors = errorsFromEvents(messages.events());
      if (errors.length === 0) errors = parseNixErrors(e.stderrLines.join('\n'));
      const snap = progress.snapshot();
      const lastLines = snap.failed.flatMap((f) => f.lastLines).slice(-10);
      const nix = await this.ctx.requireNix();
      const mapper = await flakeMapper(this.ctx, req.flake, nix.storeDir);
      const { placed, unplaced } = await placeDiagnostics(errors, mapper);
      // A failing builder has no source position: show it where the derivation is defined (meta.position).
      const builderFailure = unplaced.find((x) => x.kind === 'builder-failed' || x.kind === 'dependency-failed');
      if (builderFailure) {
        const at = await this.definitionOf(req, inst.value, mapper);
        if (at) {
          const d = new vscode.Diagnostic(at.range, `${builderFailure.message}${lastLines.length ? `\n${lastLines.slice(-10).join('\n')}` : ''}`, vscode.DiagnosticSeverity.Error);
          d.source = 'nix';
          d.code = builderFailure.kind;
          placed.push({ uri: at.uri, diagnostic: d, error: builderFailure, placement: { sites: [], related: [] } });
        }
      }
      this.diagnostics.set(keyOf(req), placed);
      const first = errors[0]?.message ?? e.stderrTail(3);
      this.output.appendLine(`failed after ${formatDuration(Date.now() - started)}: ${first}`);
      const leftOut = describeLeftOut(e, messages.dropped);
      if (leftOut) this.output.appendLine(leftOut);
      const tail = lastLines.length ? `\n${lastLines.slice(-5).join('\n')}` : '';
      void vscode.window.showErrorMessage(`Build of ${req.display} failed: ${first}${tail}`, 'Show Log', ...(placed.length ? ['Show Problems'] : [])).then((a) => {
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

  /** Where the built derivation is defined: its meta.position (set by mkDerivation), mapped to a workspace file. */
  private async definitionOf(req: BuildRequest, inst: string, mapper: Mapper): Promise<{ uri: vscode.Uri; range: vscode.Range } | undefined> {
    try {
      const r = await this.ctx.runNix(['eval'], ['--raw', inst, '--apply', 'd: let p = builtins.tryEval (d.meta.position or ""); in if p.success then p.value else ""'], {
        cwd: req.flake.uri.fsPath,
        scope: req.flake.folder,
      });
      const m = /^(.*):(\d+)$/.exec(r.stdout.trim());
      if (!m) return undefined;
      const mapped = mapper(m[1]!);
      if (mapped.kind !== 'workspace') return undefined;
      const line = Number(m[2]) - 1;
      const text = (await readFile(mapped.path, 'utf8').catch(() => '')).split(/\r?\n/)[line] ?? '';
      const start = text.length - text.trimStart().length;
      return { uri: vscode.Uri.file(mapped.path), range: new vscode.Range(line, start, line, Math.max(start + 1, text.trimEnd().length)) };
    } catch {
      return undefined;
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
  }
}

function keyOf(req: BuildRequest): string {
  return targetKey(req);
}
