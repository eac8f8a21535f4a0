// One `nix build` with progress, shared by everything that builds (the Build command, flake checks): run with
// `--log-format internal-json -v`, read line by line into the core's progress state, the log passed on line by line
// (build lines prefixed by the derivation name), cancelled through an AbortSignal; the result with the run's errors
// and the failing builders' last lines. What to show of it is the caller's.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import type { Ctx } from '../context';
import type { Flake } from './flakes';
import type { Mapper } from './mapping';
import { CancelledError, ExitError } from '../core/nix/process';
import { parseLogLine } from '../core/log/internalJson';
import { BuildProgress, type FailedBuild, type ProgressSnapshot } from '../core/log/progress';
import { MessageLog } from '../core/log/messages';
import { storePathName } from '../core/nix/store';
import { buildArgs, describeLeftOut, readBuildOutputs } from '../core/nix/build';
import { errorsFromEvents, parseNixErrors } from '../core/errors/fromLog';
import type { NixError } from '../core/errors/types';
import { stripAnsi } from '../core/text';

export interface NixBuildRun {
  status: 'built' | 'failed' | 'cancelled';
  /** Output name → store path (built only). */
  outputs: Record<string, string>;
  /** The run's errors (failed only). */
  errors: NixError[];
  /** The failed builds, each with the end of its log. */
  failed: FailedBuild[];
  /** The failing derivations' last log lines (at most 10). */
  lastLines: string[];
  /** What the run left out to stay within its bounds, for the log. */
  leftOut?: string;
  /** The first error's message, or the end of stderr (failed only). */
  summary: string;
}

export interface NixBuildOptions {
  signal?: AbortSignal;
  /** `--keep-going`: build whatever can be built. */
  keepGoing?: boolean;
  /** A `result` link of this name in the flake's folder (else `--no-link`). */
  outLink?: string;
  /** Runs the user started may write flake.lock. */
  writeLockFile?: boolean;
  /** Called with the progress after each line (callers throttle what they show). */
  onProgress?: (snapshot: ProgressSnapshot) => void;
  /** The log, line by line, as people read it. */
  onLog?: (line: string) => void;
}

/** Builds installables of a flake with progress; throws only what is not nix failing (nix missing, Restricted Mode). */
export async function runNixBuild(
  ctx: Ctx,
  flake: Flake,
  installables: readonly string[],
  opts: NixBuildOptions = {},
): Promise<NixBuildRun> {
  const progress = new BuildProgress();
  const messages = new MessageLog();
  const names = new Map<string, string>();
  const log = opts.onLog ?? (() => {});
  try {
    const r = await ctx.runNix(['build'], buildArgs(installables, { outLink: opts.outLink, keepGoing: opts.keepGoing }), {
      cwd: flake.uri.fsPath,
      scope: flake.folder,
      signal: opts.signal,
      writeLockFile: opts.writeLockFile,
      onStderrLine: (line) => {
        const ev = parseLogLine(line);
        progress.feed(ev);
        if (ev.kind === 'start' && ev.activity === 'Build') {
          const drv = typeof ev.fields?.[0] === 'string' ? ev.fields[0] : '';
          names.set(ev.id, storePathName(drv));
          log(`building ${drv}`);
        } else if (ev.kind === 'result' && (ev.result.type === 'buildLogLine' || ev.result.type === 'postBuildLogLine')) {
          log(`${names.get(ev.id) ?? '?'}> ${stripAnsi(ev.result.line)}`);
        } else if (ev.kind === 'result' && ev.result.type === 'setPhase') {
          log(`${names.get(ev.id) ?? '?'}> [${ev.result.phase}]`);
        } else if (ev.kind === 'msg') {
          if (ev.level <= 1 || /^(these|this) /.test(stripAnsi(ev.msg))) log(stripAnsi(ev.msg));
          messages.add(ev);
        } else if (ev.kind === 'plain') {
          log(stripAnsi(ev.text));
        }
        opts.onProgress?.(progress.snapshot());
      },
    });
    return {
      status: 'built',
      outputs: readBuildOutputs(r.stdout),
      errors: [],
      failed: [],
      lastLines: [],
      leftOut: describeLeftOut(r),
      summary: '',
    };
  } catch (e) {
    if (e instanceof CancelledError)
      return { status: 'cancelled', outputs: {}, errors: [], failed: progress.snapshot().failed, lastLines: [], summary: 'cancelled' };
    if (!(e instanceof ExitError)) throw e;
    let errors = errorsFromEvents(messages.events());
    if (errors.length === 0) errors = parseNixErrors(e.stderrLines.join('\n'));
    const failed = progress.snapshot().failed;
    return {
      status: 'failed',
      outputs: {},
      errors,
      failed,
      lastLines: failed.flatMap((f) => f.lastLines).slice(-10),
      leftOut: describeLeftOut(e, messages.dropped),
      summary: errors[0]?.message ?? e.stderrTail(3),
    };
  }
}

/**
 * Where a derivation is defined: its meta.position (set by mkDerivation), mapped to a workspace file; undefined when
 * it has none, it is outside the workspace, or the evaluation fails.
 */
export async function derivationPosition(
  ctx: Ctx,
  flake: Flake,
  installable: string,
  mapper: Mapper,
  signal?: AbortSignal,
): Promise<vscode.Location | undefined> {
  try {
    const r = await ctx.runNix(
      ['eval'],
      ['--raw', installable, '--apply', 'd: let p = builtins.tryEval (d.meta.position or ""); in if p.success then p.value else ""'],
      {
        cwd: flake.uri.fsPath,
        scope: flake.folder,
        signal,
      },
    );
    const m = /^(.*):(\d+)$/.exec(r.stdout.trim());
    if (!m) return undefined;
    return await lineLocation(mapper, m[1]!, Number(m[2]));
  } catch {
    return undefined;
  }
}

/** A 1-based line of a file Nix names, mapped to the workspace: the line without its indentation. */
export async function lineLocation(mapper: Mapper, file: string, line1: number, column1?: number): Promise<vscode.Location | undefined> {
  const mapped = mapper(file);
  if (mapped.kind !== 'workspace') return undefined;
  const line = line1 - 1;
  const text = (await readFile(mapped.path, 'utf8').catch(() => '')).split(/\r?\n/)[line] ?? '';
  const start = column1 !== undefined ? column1 - 1 : text.length - text.trimStart().length;
  return new vscode.Location(vscode.Uri.file(mapped.path), new vscode.Range(line, start, line, Math.max(start + 1, text.trimEnd().length)));
}
