// The one process layer: every external command goes through run(). Argument arrays only (never a shell),
// output streamed line by line into bounded buffers, cancellation by AbortSignal (SIGTERM to the whole process group
// first, SIGKILL after a grace period), typed errors. No `vscode` import.
//
// Nix output is untrusted input: every buffer has a bound, in characters. The stderr tail (`maxStderr`), kept stdout
// (`maxStdout`) and every single line (`maxLine`; kept stdout: `maxStdout`) — a line is cut at its bound while it
// arrives, so a 200 MB line costs no more memory than the bound. Hitting a bound is never silent: it is said through
// `log` when it happens and in the result (`truncated`). A line callback that throws costs that line only: the run
// goes on, and the result says how many lines were dropped and why (`dropped`).
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { displayCommand } from './args';
import { splitLines } from '../log/lines';
import { stripAnsi, truncate } from '../text';

export interface RunOptions {
  cwd?: string;
  /** Environment for the child; inherits process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /**
   * Aborting sends SIGTERM to the run's process group (the program and everything it started: nixos-rebuild's nix)
   * and waits; SIGKILL follows only after `graceMs`.
   */
  signal?: AbortSignal;
  /** Milliseconds between SIGTERM and SIGKILL on cancellation. Nix uses them to stop its builders. */
  graceMs?: number;
  /** Called with each stdout line as it arrives (stdout is then not kept unless `keepStdout`). */
  onStdoutLine?: (line: string) => void;
  /** Called with each stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
  /** Keep stdout even when `onStdoutLine` is given. */
  keepStdout?: boolean;
  /** Upper bound on kept stdout, in characters (default 64 MiB); over it, the run fails (ExitError). */
  maxStdout?: number;
  /** Upper bound on kept stderr, in characters (default 4 MiB): the lines within its last `maxStderr` bytes. */
  maxStderr?: number;
  /**
   * Upper bound on one line given to a callback or kept from stderr, in characters (default 8 MiB). A longer line is
   * cut there and ends with `… (N more characters)`. Kept stdout lines are bounded by `maxStdout` instead.
   */
  maxLine?: number;
  /** Every command line is reported here before it starts, its outcome when it ends, and every bound it hit. */
  log?: (message: string) => void;
  /** Written to the program's stdin, which is then closed (default: stdin is empty). */
  input?: string;
  /** Keep stdout exactly as it came (`\r\n` and the last newline kept), e.g. a formatter's output. */
  rawStdout?: boolean;
}

/** What a run left out to stay within its bounds. */
export interface Truncation {
  /** Oldest stderr lines dropped to keep the tail within `maxStderr`. */
  stderrLines: number;
  /** Lines longer than their bound, cut (stdout and stderr). */
  longLines: number;
  /** Stdout was over `maxStdout` (the run then fails). */
  stdout: boolean;
}

/** Lines a callback threw on: they are unread by it; the run went on. */
export interface DroppedLines {
  lines: number;
  /** The first error, as `Name: message`. */
  firstError: string;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  /** Kept stderr lines (the last ones when over the bound). */
  stderrLines: string[];
  durationMs: number;
  /** Set when a bound was hit: what was left out. */
  truncated?: Truncation;
  /** Set when `onStdoutLine` or `onStderrLine` threw. */
  dropped?: DroppedLines;
}

/** Base class of everything run() throws. */
export class RunError extends Error {
  /** Set when a bound was hit before the run ended (see RunResult). */
  truncated?: Truncation;
  /** Set when a line callback threw (see RunResult). */
  dropped?: DroppedLines;
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

/**
 * The end of a byte stream: at least its last `max` bytes (and at most one piece more) are kept, as the pieces
 * themselves, in a queue with a moving start that is compacted when half of it is dropped. Each piece is handled O(1)
 * times, however many lines it holds (`Array.shift` per dropped line made 12 MB of short lines quadratic), nothing is
 * allocated per line, and the bytes stay outside the JavaScript heap (kept strings cost the garbage collector a
 * fifth of the throughput).
 */
class ByteTail {
  private pieces: Buffer[] = [];
  private start = 0;
  private size = 0;
  /** Bytes dropped from the start. */
  dropped = 0;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    if (b.length === 0) return;
    this.pieces.push(b);
    this.size += b.length;
    let head = this.pieces[this.start];
    while (head !== undefined && this.size - head.length >= this.max) {
      const n = head.length;
      this.pieces[this.start++] = EMPTY;
      this.size -= n;
      this.dropped += n;
      head = this.pieces[this.start];
    }
    if (this.start > 64 && this.start * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.start);
      this.start = 0;
    }
  }
  /** The last `max` bytes (fewer when fewer came), decoded. */
  text(): string {
    const all = Buffer.concat(this.pieces.slice(this.start));
    return (all.length > this.max ? all.subarray(all.length - this.max) : all).toString('utf8');
  }
  /** Whether bytes before the text were dropped. */
  get cut(): boolean {
    return this.dropped > 0 || this.size > this.max;
  }
}
const EMPTY = Buffer.alloc(0);

/**
 * The last lines of `tail` that fit in `max` characters (a newline counted after each), at least one; each line cut
 * at `lineMax`. A first line whose start was dropped is left out, unless it is the only one.
 */
function tailLines(tail: ByteTail, max: number, lineMax: number): string[] {
  const lines = splitLines(tail.text());
  const first = tail.cut && lines.length > 1 ? 1 : 0;
  const out: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= first; i--) {
    const line = lines[i]!;
    const l = line.length > lineMax ? truncate(line, lineMax) : line;
    if (out.length > 0 && size + l.length + 1 > max) break;
    out.push(l);
    size += l.length + 1;
  }
  return out.reverse();
}

/** What a LineSplitter reports: each line (cut at its bound) or only its length, and the decoded text. */
export interface LineHandlers {
  /** Each line, cut at the splitter's bound, with its full length. */
  line?: (line: string, length: number) => void;
  /** Each line's full length, when `line` is not wanted (nothing is sliced or kept per line then). */
  length?: (length: number) => void;
  /** The decoded text, piece by piece, as it arrives. */
  text?: (s: string) => void;
  /** The bytes, piece by piece, as they arrive. */
  bytes?: (b: Buffer) => void;
}

/**
 * Splits a byte stream into lines (UTF-8; `\n` or `\r\n`; a last line without a newline counts). A line is cut at
 * `max` characters while it arrives: the rest is counted, not kept, so memory stays bounded however long it is.
 */
export class ByteLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  /** The start of the current line (at most `max` characters; only when lines are wanted), and its full length. */
  private partial = '';
  private partialLength = 0;
  /** The last character seen was `\r` (for the lengths of lines that are not kept). */
  private lastCR = false;
  /** Lines seen. */
  lines = 0;
  constructor(
    private readonly max: number,
    private readonly on: LineHandlers,
  ) {}

  write(chunk: Buffer): void {
    this.on.bytes?.(chunk);
    this.feed(this.decoder.write(chunk));
  }

  end(): void {
    this.feed(this.decoder.end());
    if (this.partialLength > 0) {
      // A last line without a newline: a `\r` that ends it goes too, as with `\r\n` (and as splitLines does).
      const length = this.lastCR ? this.partialLength - 1 : this.partialLength;
      this.emit(this.partial.length > length ? this.partial.slice(0, length) : this.partial, length);
    }
    this.partial = '';
    this.partialLength = 0;
  }

  private feed(s: string): void {
    if (s.length === 0) return;
    this.on.text?.(s);
    const onLine = this.on.line;
    const max = this.max;
    let from = 0;
    let nl = s.indexOf('\n');
    // The common case first: whole lines within this piece, each sliced once and handed on.
    if (onLine && this.partialLength === 0) {
      while (nl >= 0) {
        const end = nl > from && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        this.lines++;
        onLine(end - from > max ? s.slice(from, from + max) : s.slice(from, end), end - from);
        from = nl + 1;
        nl = s.indexOf('\n', from);
      }
    }
    for (; nl >= 0; nl = s.indexOf('\n', from)) {
      const cr = nl > from ? s.charCodeAt(nl - 1) === 13 : this.partialLength > 0 && this.lastCR;
      if (this.partialLength === 0 && onLine) {
        const end = cr ? nl - 1 : nl;
        this.emit(end - from > max ? s.slice(from, from + max) : s.slice(from, end), end - from);
      } else {
        const length = this.partialLength + (nl - from) - (cr ? 1 : 0);
        if (onLine && nl > from) this.append(s, from, nl);
        let line = this.partial;
        if (cr && line.length > length) line = line.slice(0, length);
        this.emit(line, length);
        this.partial = '';
        this.partialLength = 0;
      }
      from = nl + 1;
    }
    if (from < s.length) {
      if (onLine) this.append(s, from, s.length);
      else this.partialLength += s.length - from;
      this.lastCR = s.charCodeAt(s.length - 1) === 13;
    }
  }

  private append(s: string, from: number, to: number): void {
    const room = this.max - this.partial.length;
    if (room > 0) this.partial += to - from <= room ? s.slice(from, to) : s.slice(from, from + room);
    this.partialLength += to - from;
  }

  private emit(line: string, length: number): void {
    this.lines++;
    if (this.on.line) this.on.line(line, length);
    else this.on.length?.(length);
  }
}

/**
 * Kept stdout as its lines joined with `\n` (the lines splitLines gives): `\r\n` read as `\n`, without the newline
 * (or `\r`) that ends the last line.
 */
function stdoutText(pieces: readonly string[]): string {
  let text = pieces.length === 1 ? pieces[0]! : pieces.join('');
  if (text.includes('\r\n')) text = text.replace(/\r\n/g, '\n');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

let processesStarted = 0;
/** How many processes run() has started in this extension host (the guarantee "typing starts no process"). */
export function startedProcesses(): number {
  return processesStarted;
}

const DEFAULT_MAX_STDOUT = 64 * 1024 * 1024;
const DEFAULT_MAX_STDERR = 4 * 1024 * 1024;
const DEFAULT_MAX_LINE = 8 * 1024 * 1024;
const DEFAULT_GRACE_MS = 5000;

/** Signals the process group led by `child` (it was started detached, so its pid is the group's id). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    // The group is gone (ESRCH); or, where groups are not available, the child alone.
    try {
      return child.kill(signal);
    } catch {
      return false;
    }
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * Runs `file` with `args` (no shell, stdin empty unless `input` is given, in a process group of its own) and resolves
 * when it exits with status 0 and its output is read. Throws SpawnError, ExitError or CancelledError; every error
 * carries the command line and stderr.
 */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = displayCommand(file, args);
  const started = Date.now();
  const log = opts.log;
  log?.(`$ ${command}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);
  if (opts.signal?.aborted) throw new CancelledError(command, []);

  const maxStdout = opts.maxStdout ?? DEFAULT_MAX_STDOUT;
  const maxStderr = opts.maxStderr ?? DEFAULT_MAX_STDERR;
  const maxLine = opts.maxLine ?? DEFAULT_MAX_LINE;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const keep = !opts.onStdoutLine || opts.keepStdout === true;
  const onStdout = opts.onStdoutLine;
  const onStderr = opts.onStderrLine;

  const stderrTail = new ByteTail(maxStderr);
  const stdoutPieces: string[] = [];
  let stdoutSize = 0;
  const truncation: Truncation = { stderrLines: 0, longLines: 0, stdout: false };
  let dropped: DroppedLines | undefined;
  let droppedFirstOn = '';

  const cutLine = (line: string, length: number, max: number): string => {
    if (length <= max) return line;
    countLong(length, max);
    return `${line.slice(0, max)}… (${length - max} more characters)`;
  };
  const countLong = (length: number, max: number): void => {
    if (length > max && truncation.longLines++ === 0) log?.(`  a line of ${length} characters was cut to ${max} (bound of one line)`);
  };
  /** A line handler threw: the line is unread by it, the run goes on. */
  const failed = (e: unknown, stream: string): void => {
    if (!dropped) {
      dropped = { lines: 0, firstError: errorText(e) };
      droppedFirstOn = stream;
      log?.(`  the ${stream} line handler failed (${truncate(dropped.firstError, 300)}); that line is skipped, the run goes on`);
    }
    dropped.lines++;
  };

  // Stdout: kept as the text itself (up to maxStdout, else not at all), split into lines only for a callback.
  const stdoutSplitter = new ByteLineSplitter(maxLine, {
    text: keep
      ? (s) => {
          if (truncation.stdout) return;
          stdoutSize += s.length;
          if (stdoutSize > maxStdout) {
            truncation.stdout = true;
            stdoutPieces.length = 0;
            log?.(`  output over ${maxStdout} characters: the rest is not kept`);
          } else stdoutPieces.push(s);
        }
      : undefined,
    line: onStdout
      ? (line, length) => {
          try {
            onStdout(length <= maxLine ? line : cutLine(line, length, maxLine));
          } catch (e) {
            failed(e, 'stdout');
          }
        }
      : undefined,
  });
  // Stderr: its last bytes kept (split into lines at the end), each line given to the callback as it arrives.
  const stderrBound = Math.min(maxLine, maxStderr);
  let stderrOver = false;
  const stderrSplitter = new ByteLineSplitter(stderrBound, {
    bytes: (b) => {
      stderrTail.push(b);
      if (!stderrOver && stderrTail.cut) {
        stderrOver = true;
        log?.(`  stderr over ${maxStderr} bytes: keeping the last lines`);
      }
    },
    line: onStderr
      ? (line, length) => {
          try {
            onStderr(length <= stderrBound ? line : cutLine(line, length, stderrBound));
          } catch (e) {
            failed(e, 'stderr');
          }
        }
      : undefined,
    length: (length) => countLong(length, stderrBound),
  });

  processesStarted++;
  let child: ChildProcess;
  try {
    child = spawn(file, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // A process group of its own, so that cancelling reaches everything it started.
      detached: true,
      windowsHide: true,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    log?.(`  could not start: ${code ?? errorText(e)}`);
    throw new SpawnError(command, code, file);
  }

  let cancelled = false;
  let killedAfterGrace = false;
  let closed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    // Until its output is closed: the program may have exited while what it started still writes.
    if (closed || cancelled) return;
    cancelled = true;
    signalGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => {
      killedAfterGrace = signalGroup(child, 'SIGKILL') || killedAfterGrace;
    }, graceMs);
  };

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { spawnError: NodeJS.ErrnoException }>(
    (resolve) => {
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        if (opts.signal?.aborted) onAbort();
      });
      child.once('error', (e: NodeJS.ErrnoException) => {
        if (!spawned) resolve({ spawnError: e });
      });
      if (child.stdin) {
        // A program that exits without reading all of its input closes the pipe: that is its business (EPIPE ignored).
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input);
      }
      child.stdout?.on('data', (b: Buffer) => stdoutSplitter.write(b));
      child.stderr?.on('data', (b: Buffer) => stderrSplitter.write(b));
      child.once('close', (code, signal) => {
        closed = true;
        stdoutSplitter.end();
        stderrSplitter.end();
        resolve({ code, signal });
      });
    },
  );
  opts.signal?.removeEventListener('abort', onAbort);
  if (killTimer) {
    // The program is gone; members of its group that outlive it still get SIGKILL when the grace period ends.
    let alive = false;
    try {
      alive = child.pid !== undefined && process.kill(-child.pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) clearTimeout(killTimer);
    else killTimer.unref();
  }
  const durationMs = Date.now() - started;
  const stderrLines = tailLines(stderrTail, maxStderr, stderrBound);
  truncation.stderrLines = Math.max(0, stderrSplitter.lines - stderrLines.length);
  const truncated = truncation.stderrLines > 0 || truncation.longLines > 0 || truncation.stdout ? truncation : undefined;
  const notes = [
    ...(truncation.stderrLines
      ? [`${plural(truncation.stderrLines, 'stderr line', 'stderr lines')} dropped (over ${maxStderr} bytes)`]
      : []),
    ...(truncation.longLines
      ? [
          `${plural(truncation.longLines, 'line', 'lines')} longer than ${stderrBound === maxLine ? maxLine : `${maxLine} (on stderr ${stderrBound})`} characters ${truncation.longLines === 1 ? 'was' : 'were'} cut`,
        ]
      : []),
    ...(dropped
      ? [
          `a line handler failed on ${plural(dropped.lines, 'line', 'lines')} (first, on ${droppedFirstOn}: ${truncate(dropped.firstError, 300)})`,
        ]
      : []),
  ];
  const noted = notes.length ? `; ${notes.join('; ')}` : '';
  const withLoss = <E extends RunError>(e: E): E => {
    if (truncated) e.truncated = truncated;
    if (dropped) e.dropped = dropped;
    return e;
  };

  if ('spawnError' in outcome) {
    const code = outcome.spawnError.code;
    log?.(`  could not start: ${code ?? outcome.spawnError.message}`);
    throw new SpawnError(command, code, file);
  }
  if (cancelled) {
    log?.(`  cancelled after ${durationMs} ms${killedAfterGrace ? ' (killed after the grace period)' : ''}${noted}`);
    throw withLoss(new CancelledError(command, stderrLines));
  }
  const stdout = opts.rawStdout ? stdoutPieces.join('') : stdoutText(stdoutPieces);
  if (outcome.code !== 0 || outcome.signal) {
    log?.(`  ${outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`} after ${durationMs} ms${noted}`);
    throw withLoss(new ExitError(command, outcome.code ?? undefined, outcome.signal ?? undefined, stderrLines, stdout));
  }
  if (truncation.stdout) {
    log?.(`  output over ${maxStdout} characters after ${durationMs} ms${noted}`);
    throw withLoss(new ExitError(command, 0, undefined, [...stderrLines, `output larger than ${maxStdout} characters`], ''));
  }
  log?.(`  done in ${durationMs} ms${noted}`);
  return { command, exitCode: 0, stdout, stderrLines, durationMs, ...(truncated ? { truncated } : {}), ...(dropped ? { dropped } : {}) };
}
