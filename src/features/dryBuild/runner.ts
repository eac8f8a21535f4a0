// Runs one dry-build: what `nixos-rebuild dry-build --flake <flake>#<host>` runs underneath (`nix build --dry-run`
// of the host's toplevel, with internal-json logs and traces, never writing flake.lock), or the real nixos-rebuild
// where the setting asks for it; for a home-manager configuration, `nix build --dry-run` of its activation package
// (what `home-manager build` builds). Returns the plan (what would be built and fetched) and the errors.
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { CancelledError, ExitError, RunError, type DroppedLines, type RunResult, type Truncation } from '../../core/nix/process';
import { nixEnv } from '../../core/nix/args';
import { which } from '../../core/nix/detect';
import { parseLogLine } from '../../core/log/internalJson';
import { DryRunPlanParser, type DryRunPlan } from '../../core/log/dryRun';
import { errorsFromEvents, parseNixErrors } from '../../core/errors/fromLog';
import type { NixError } from '../../core/errors/types';
import { MessageLog } from '../../core/log/messages';
import { Verbosity } from '../../core/log/types';
import { installable, nixosToplevelInstallable } from '../../core/flake/installable';
import { nixosRebuildArgs } from '../../core/nix/rebuild';
import { flakeRef } from '../../workspace/mapping';
import { stripAnsi } from '../../core/text';
import type { ConfigKind } from '../../protocol/dryBuild';

export interface DryBuildResult {
  status: 'done' | 'failed' | 'cancelled';
  plan: DryRunPlan;
  errors: NixError[];
  /** The last lines of output, ANSI-free. */
  log: string[];
  elapsedMs: number;
  /** Which command ran: `nix build --dry-run …` or `nixos-rebuild dry-build …` (never for a home configuration). */
  command: string;
  /** What the run left out to stay within its bounds; absent when nothing was. */
  lost?: RunLoss;
}

/** What a run did not keep: every buffer has a bound, and reaching it is said. */
export interface RunLoss {
  /** Lines of output before the last `LOG_TAIL` in `log`. */
  logLines?: number;
  /** Nix's messages (errors and warnings, read for the errors) beyond what the run keeps (`MessageLog`). */
  messages?: number;
  /** Of those, error messages. */
  errorMessages?: number;
  /** What the process layer left out (oldest stderr lines, long lines cut). */
  truncated?: Truncation;
  /** Lines a line handler failed on. */
  dropped?: DroppedLines;
}

const LOG_TAIL = 200;
/** The messages kept for the errors: errors and warnings only (the informational ones are not read). */
const MESSAGES = { maxErrors: 200, maxOthers: 2000, maxChars: 16 * 1024 * 1024 };

/** The installable a dry-build of a configuration builds: a host's toplevel, a home configuration's activation package. */
export function dryBuildInstallable(ref: string, host: string, kind: ConfigKind): ReturnType<typeof installable> {
  return kind === 'home' ? installable(ref, ['homeConfigurations', host, 'activationPackage']) : nixosToplevelInstallable(ref, host);
}

export async function runDryBuild(
  ctx: Ctx,
  flake: Flake,
  host: string,
  kind: ConfigKind,
  signal: AbortSignal,
  onProgress: (text: string) => void,
): Promise<DryBuildResult> {
  const started = Date.now();
  const plan = new DryRunPlanParser();
  const log: string[] = [];
  let logDropped = 0;
  const keep = (line: string) => {
    log.push(line);
    if (log.length > LOG_TAIL) {
      log.shift();
      logDropped++;
    }
  };
  const mode = ctx.settings(flake.folder).dryBuildCommand;
  const messages = new MessageLog(MESSAGES);
  /** What was left out, from the log tail, the message log and the process layer's result or error. */
  const lost = (r?: Pick<RunResult, 'truncated' | 'dropped'>): { lost?: RunLoss } => {
    const l: RunLoss = {
      ...(logDropped ? { logLines: logDropped } : {}),
      ...(messages.dropped ? { messages: messages.dropped } : {}),
      ...(messages.droppedErrors ? { errorMessages: messages.droppedErrors } : {}),
      ...(r?.truncated ? { truncated: r.truncated } : {}),
      ...(r?.dropped ? { dropped: r.dropped } : {}),
    };
    return Object.keys(l).length ? { lost: l } : {};
  };
  let last = 0;
  const progress = (text: string) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    onProgress(text.length > 200 ? `${text.slice(0, 200)}…` : text);
  };
  const empty = (): DryRunPlan => ({ builds: [], fetches: [], unbuildable: [] });

  try {
    const ref = await flakeRef(ctx, flake);
    let command: string;
    if (mode === 'nixos-rebuild' && kind === 'nixos') {
      const rebuild = await which('nixos-rebuild');
      if (!rebuild)
        throw new Error('nixos-rebuild was not found on PATH; set nixFlakes.dryBuild.command to "nix" to use nix build --dry-run.');
      const s = ctx.settings(flake.folder);
      const args = nixosRebuildArgs('dry-build', ref, host, { offline: s.offline, extraArgs: s.extraArgs });
      if (!args.ok) throw new Error(args.error.message);
      const r = await ctx.exec(rebuild, args.value, {
        cwd: flake.uri.fsPath,
        env: nixEnv(),
        signal,
        onStderrLine: (line) => {
          const text = stripAnsi(line);
          keep(text);
          plan.feed(text);
          if (text.trim()) progress(text.trim());
        },
      });
      command = r.command;
      return { status: 'done', plan: plan.plan ?? empty(), errors: [], log, elapsedMs: Date.now() - started, command, ...lost(r) };
    }
    const inst = dryBuildInstallable(ref, host, kind);
    if (!inst.ok) throw new Error(inst.error.message);
    // A diagnostics run: before 2.23 the eval cache answers a failure it remembers without its position.
    const noEvalCache = (await ctx.requireNix()).caps.evalCacheKeepsErrors ? [] : ['--no-eval-cache'];
    const r = await ctx.runNix(
      ['build'],
      ['--dry-run', '--log-format', 'internal-json', '-v', '--show-trace', ...noEvalCache, inst.value],
      {
        cwd: flake.uri.fsPath,
        scope: flake.folder,
        signal,
        onStderrLine: (line) => {
          const ev = parseLogLine(line);
          if (ev.kind === 'msg') {
            const text = stripAnsi(ev.msg);
            if (ev.level <= Verbosity.Warn) messages.add(ev);
            if (ev.level <= 1 || !/^evaluating file /.test(text)) keep(text);
            for (const l of text.split('\n')) plan.feed(l);
            if (ev.level >= 3) progress(text.split('\n')[0]!);
          } else if (ev.kind === 'start' && ev.text) {
            progress(stripAnsi(ev.text));
          } else if (ev.kind === 'plain') {
            keep(stripAnsi(ev.text));
          }
        },
      },
    );
    command = r.command;
    return { status: 'done', plan: plan.plan ?? empty(), errors: [], log, elapsedMs: Date.now() - started, command, ...lost(r) };
  } catch (e) {
    const elapsedMs = Date.now() - started;
    const loss = lost(e instanceof RunError ? e : undefined);
    if (e instanceof CancelledError)
      return { status: 'cancelled', plan: plan.plan ?? empty(), errors: [], log, elapsedMs, command: e.command, ...loss };
    if (e instanceof ExitError) {
      let errors = errorsFromEvents(messages.messages());
      if (errors.length === 0) errors = parseNixErrors(e.stderrLines.join('\n'));
      if (errors.length === 0)
        errors = [{ kind: 'other', message: stripAnsi(e.stderrTail(5)) || e.message, trace: [], raw: e.stderrTail(20) }];
      return { status: 'failed', plan: plan.plan ?? empty(), errors, log, elapsedMs, command: e.command, ...loss };
    }
    const message = (e as Error).message;
    keep(message);
    return {
      status: 'failed',
      plan: empty(),
      errors: [{ kind: 'other', message, trace: [], raw: message }],
      log,
      elapsedMs,
      command: '',
      ...lost(),
    };
  }
}
