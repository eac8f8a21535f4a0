// The flake's formatter (`formatter.<system>`): the arguments of its one evaluation and build, which program it runs
// (as `nix fmt` chooses it), the key its resolution is kept by, and running that program on a document's text.
// No `vscode` import.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CancelledError, ExitError, RunError, type RunOptions, type RunResult } from '../nix/process';
import { stripAnsi, truncate } from '../text';
import { installable } from './installable';

/** The formatter's installable: `<ref>#formatter.<system>`. */
export function formatterInstallable(flakeRef: string, system: string): string | undefined {
  const r = installable(flakeRef, ['formatter', system]);
  return r.ok ? r.value : undefined;
}

/** What `nix eval --json … --apply` reads from the formatter to find its program (as `nix fmt`/`nix run` do). */
export const FORMATTER_INFO_EXPR =
  'd: { isDrv = (d.type or null) == "derivation"; mainProgram = d.meta.mainProgram or null; pname = d.pname or null; name = d.name or null; }';

/** `nix eval` arguments for the formatter's program name. */
export function formatterInfoArgs(inst: string): string[] {
  return ['--json', inst, '--apply', FORMATTER_INFO_EXPR];
}

/** `nix build` arguments: the formatter built and kept alive by a GC root at `outLink`; the result as JSON. */
export function formatterBuildArgs(inst: string, outLink: string): string[] {
  return ['--json', '--out-link', outLink, inst];
}

/**
 * The name part of a derivation name (Nix's DrvName): everything before the first `-` that is not followed by a
 * letter. `nixfmt-1.0` → `nixfmt`, `treefmt-nix-wrapped` → `treefmt-nix-wrapped`.
 */
export function drvNameWithoutVersion(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '-' && i + 1 < name.length && !/[a-zA-Z]/.test(name[i + 1] ?? '')) return name.slice(0, i);
  }
  return name;
}

/** A program name from the flake (untrusted): one path component, printable. */
function programName(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '' || v === '.' || v === '..' || v.length > 255) return undefined;
  return /^[^/\0-\x1f]+$/.test(v) ? v : undefined;
}

export type FormatterInfo = { ok: true; program: string } | { ok: false; message: string };

/** The program `nix fmt` runs: `meta.mainProgram`, else `pname`, else the derivation name without its version. */
export function readFormatterInfo(json: unknown): FormatterInfo {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: 'the formatter could not be read' };
  const o = json as Record<string, unknown>;
  if (o.isDrv !== true) return { ok: false, message: 'the formatter output is not a derivation' };
  const program =
    programName(o.mainProgram) ??
    programName(o.pname) ??
    programName(typeof o.name === 'string' ? drvNameWithoutVersion(o.name) : undefined);
  return program ? { ok: true, program } : { ok: false, message: 'the formatter has no program name (meta.mainProgram, pname or name)' };
}

/** `nix fmt` on a copy of the document: the fallback when the formatter's program cannot be found by name. */
export function nixFmtArgs(): string[] {
  return ['--'];
}

/** The formatter's program in its built output. */
export function formatterProgram(outPath: string, program: string): string {
  return join(outPath, 'bin', program);
}

/** True when nix said the flake has no such output (`does not provide attribute`). */
export function isMissingFormatter(stderr: string): boolean {
  return /does not provide attribute/.test(stderr);
}

/**
 * The key a resolved formatter is kept by: flake.nix and flake.lock as they are (a formatter changes with them), the
 * system, and the nix that built it. Any other change keeps the formatter.
 */
export function formatterCacheKey(parts: {
  flakeNix: string | undefined;
  flakeLock: string | undefined;
  system: string;
  nix: string;
}): string {
  const h = createHash('sha256');
  for (const [k, v] of [
    ['nix', parts.nix],
    ['system', parts.system],
    ['flake.nix', parts.flakeNix],
    ['flake.lock', parts.flakeLock],
  ] as const) {
    h.update(`${k}\0${v === undefined ? '\u0001missing' : v}\0`);
  }
  return h.digest('hex');
}

/** The file name of a flake's GC root (one per flake folder and system: a new build replaces the old root). */
export function gcRootName(flakeDir: string, system: string): string {
  return `formatter-${createHash('sha256').update(`${flakeDir}\0${system}`).digest('hex').slice(0, 32)}`;
}

/**
 * How the program is given a document: `stdin` (no arguments: text in, text out — nixfmt, alejandra,
 * nixpkgs-fmt), `file` (a copy in a private temporary folder, formatted in place and read back), `treefmt`
 * (`treefmt --stdin <path>`: the path only chooses the formatter, nothing is written).
 */
export type FormatterMode = 'stdin' | 'file' | 'treefmt';

/** The mode a program is tried with first. */
export function initialMode(program: string): FormatterMode | undefined {
  return basename(program) === 'treefmt' ? 'treefmt' : undefined;
}

export type FormatOutcome = { ok: true; text: string; mode: FormatterMode } | { ok: false; message: string; mode?: FormatterMode };

export interface FormatOptions {
  /** The document's file name (the copy in `file` mode has it, so the formatter picks the same rules). */
  fileName: string;
  /** The document's path relative to the flake (for `treefmt --stdin`), and the flake's folder (its cwd). */
  relPath: string;
  flakeDir: string;
  /** A private, empty temporary folder (the cwd of a run, so a formatter never sees a user's files). */
  scratch: string;
  /** The mode learned earlier; undefined: try stdin, then a file. */
  mode?: FormatterMode;
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
  /**
   * Arguments before the file in `file` mode, and the folder that mode runs in (default: the copy's): `nix fmt` as
   * the fallback is `nix … fmt -- <copy>` in the flake's folder.
   */
  fileArgs?: readonly string[];
  fileCwd?: string;
  /** How the program runs (the extension's gateway). */
  run: (file: string, args: readonly string[], opts: RunOptions) => Promise<RunResult>;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * Runs the formatter's program on `text`. Its output is the result only when it exits 0; otherwise the outcome says
 * why (the end of its stderr). A cancel through `signal` throws CancelledError; a run past the time limit is an
 * outcome that says so. With no mode known, stdin is tried first and a file copy after it (the mode that worked is
 * returned, to be kept).
 */
export async function formatText(program: string, text: string, opts: FormatOptions): Promise<FormatOutcome> {
  const mode = opts.mode ?? initialMode(program);
  if (mode) return runMode(program, text, mode, opts);
  const viaStdin = await runMode(program, text, 'stdin', opts);
  // Nothing out for something in: the program did not read stdin (it may have formatted its empty cwd).
  if (viaStdin.ok && (viaStdin.text !== '' || text.trim() === '')) return viaStdin;
  const viaFile = await runMode(program, text, 'file', opts);
  if (viaFile.ok || viaStdin.ok) return viaFile;
  return { ok: false, message: viaStdin.message };
}

async function runMode(program: string, text: string, mode: FormatterMode, opts: FormatOptions): Promise<FormatOutcome> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const bound = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, bound]) : bound;
  const common: RunOptions = { signal, graceMs: 1000, maxStdout: MAX_OUTPUT, maxStderr: 64 * 1024, rawStdout: true };
  try {
    if (mode === 'stdin') {
      const r = await opts.run(program, [], { ...common, cwd: opts.scratch, input: text });
      return { ok: true, text: r.stdout, mode };
    }
    if (mode === 'treefmt') {
      const r = await opts.run(program, ['--stdin', opts.relPath], { ...common, cwd: opts.flakeDir, input: text });
      return { ok: true, text: r.stdout, mode };
    }
    const dir = await mkdtemp(join(opts.scratch, 'file-'));
    try {
      const file = join(dir, safeFileName(opts.fileName));
      await writeFile(file, text);
      await opts.run(program, [...(opts.fileArgs ?? []), file], { ...common, cwd: opts.fileCwd ?? dir });
      return { ok: true, text: await readFile(file, 'utf8'), mode };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } catch (e) {
    if (e instanceof CancelledError) {
      if (opts.signal?.aborted) throw e;
      return { ok: false, message: `the formatter did not finish within ${Math.round(timeoutMs / 1000)} s`, mode };
    }
    return { ok: false, message: failureMessage(e), mode };
  }
}

/** A file name safe to create in the scratch folder: the base name, else `file.nix`. */
function safeFileName(name: string): string {
  const b = basename(name).replace(/[\0-\x1f]/g, '');
  return b && b !== '.' && b !== '..' ? b : 'file.nix';
}

/** What a failed run says: the end of its stderr (its own message), else how it ended. */
export function failureMessage(e: unknown): string {
  if (e instanceof ExitError) {
    const tail = stripAnsi(e.stderrLines.slice(-12).join('\n')).trim();
    const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.exitCode}`;
    return tail ? truncate(tail, 2000) : `the formatter ${how}`;
  }
  if (e instanceof RunError) return e.message;
  return (e as Error).message ?? String(e);
}
