// The one process layer: every external command goes through run(). Argument arrays only (never a shell),
// output streamed line by line into bounded buffers, cancellation by AbortSignal with SIGTERM first, typed errors.
// No `vscode` import.
import { execa } from 'execa';
import { displayCommand } from './args';
import { stripAnsi, truncate } from '../text';

export interface RunOptions {
  cwd?: string;
  /** Environment for the child; inherits process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Aborting sends SIGTERM and waits; SIGKILL follows only after `graceMs`. */
  signal?: AbortSignal;
  /** Milliseconds between SIGTERM and SIGKILL on cancellation. Nix uses them to stop its builders. */
  graceMs?: number;
  /** Called with each stdout line as it arrives (stdout is then not kept unless `keepStdout`). */
  onStdoutLine?: (line: string) => void;
  /** Called with each stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
  /** Keep stdout even when `onStdoutLine` is given. */
  keepStdout?: boolean;
  /** Upper bound on kept stdout, in characters (default 64 MiB). */
  maxStdout?: number;
  /** Upper bound on kept stderr, in characters (default 4 MiB); the tail is always kept. */
  maxStderr?: number;
  /** Every command line is reported here before it starts, and its outcome when it ends. */
  log?: (message: string) => void;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  /** Kept stderr lines (the last ones when over the bound). */
  stderrLines: string[];
  durationMs: number;
}

/** Base class of everything run() throws. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly stderrLines: string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
  /** The last lines of stderr, for messages: without escapes or control characters. */
  stderrTail(lines = 20): string {
    return stripAnsi(this.stderrLines.slice(-lines).join('\n'));
  }
}

/** The program could not be started (not found, not executable). */
export class SpawnError extends RunError {
  constructor(
    command: string,
    readonly code: string | undefined,
    readonly file: string,
  ) {
    super(code === 'ENOENT' ? `${file} was not found` : `${file} could not be started (${code ?? 'unknown error'})`, command);
  }
}

/** The program ran and exited with a non-zero status (or was killed by a signal nobody asked for). */
export class ExitError extends RunError {
  constructor(
    command: string,
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    stderrLines: string[],
    readonly stdout: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const tail = stripAnsi(stderrLines.slice(-5).join('\n'));
    super(`${command} ${how}${tail ? `:\n${truncate(tail, 2000)}` : ''}`, command, stderrLines);
  }
}

/** The run was cancelled through its AbortSignal; the process has exited. */
export class CancelledError extends RunError {
  constructor(command: string, stderrLines: string[]) {
    super('cancelled', command, stderrLines);
  }
}

/** Keeps at most `max` characters of lines, dropping the oldest. */
class BoundedLines {
  readonly lines: string[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  push(line: string): void {
    const l = line.length > this.max ? truncate(line, this.max) : line;
    this.lines.push(l);
    this.size += l.length + 1;
    while (this.size > this.max && this.lines.length > 1) {
      this.size -= this.lines.shift()!.length + 1;
      this.dropped++;
    }
  }
}

let processesStarted = 0;
/** How many processes run() has started in this extension host (the guarantee "typing starts no process"). */
export function startedProcesses(): number {
  return processesStarted;
}

const DEFAULT_MAX_STDOUT = 64 * 1024 * 1024;
const DEFAULT_MAX_STDERR = 4 * 1024 * 1024;

/**
 * Runs `file` with `args` (no shell) and resolves when it exits with status 0.
 * Throws SpawnError, ExitError or CancelledError; every error carries the command line and stderr.
 */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = displayCommand(file, args);
  const started = Date.now();
  opts.log?.(`$ ${command}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);
  if (opts.signal?.aborted) throw new CancelledError(command, []);

  const stderr = new BoundedLines(opts.maxStderr ?? DEFAULT_MAX_STDERR);
  const stdoutLines: string[] = [];
  let stdoutSize = 0;
  const maxStdout = opts.maxStdout ?? DEFAULT_MAX_STDOUT;
  let stdoutOverflow = false;
  const keep = !opts.onStdoutLine || opts.keepStdout;
  const onStderr = opts.onStderrLine;
  const onStdout = opts.onStdoutLine;

  processesStarted++;
  const sub = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: opts.env === undefined,
    stdin: 'ignore',
    cancelSignal: opts.signal,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: opts.graceMs ?? 5000,
    reject: false,
    buffer: false,
    stdout: {
      transform: function* (line: unknown) {
        const s = String(line);
        if (keep && !stdoutOverflow) {
          stdoutSize += s.length + 1;
          if (stdoutSize > maxStdout) stdoutOverflow = true;
          else stdoutLines.push(s);
        }
        onStdout?.(s);
      },
    },
    stderr: {
      transform: function* (line: unknown) {
        const s = String(line);
        stderr.push(s);
        onStderr?.(s);
      },
    },
  });
  const r = await sub;
  const durationMs = Date.now() - started;

  if (r.isCanceled || (opts.signal?.aborted && r.exitCode !== 0)) {
    opts.log?.(`  cancelled after ${durationMs} ms${r.isForcefullyTerminated ? ' (killed after the grace period)' : ''}`);
    throw new CancelledError(command, stderr.lines);
  }
  const spawnCode = (r as { code?: string }).code;
  if (r.failed && r.exitCode === undefined && !r.signal) {
    opts.log?.(`  could not start: ${spawnCode ?? r.shortMessage}`);
    throw new SpawnError(command, spawnCode, file);
  }
  const stdout = stdoutLines.join('\n');
  if (r.exitCode !== 0 || r.signal) {
    opts.log?.(`  ${r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`} after ${durationMs} ms`);
    throw new ExitError(command, r.exitCode, r.signal, stderr.lines, stdout);
  }
  if (stdoutOverflow) {
    opts.log?.(`  output over ${maxStdout} characters after ${durationMs} ms`);
    throw new ExitError(command, 0, undefined, [...stderr.lines, `output larger than ${maxStdout} characters`], '');
  }
  opts.log?.(`  done in ${durationMs} ms`);
  return { command, exitCode: 0, stdout, stderrLines: stderr.lines, durationMs };
}
