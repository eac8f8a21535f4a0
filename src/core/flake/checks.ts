// A flake's checks (`checks.<system>.<name>`): which the listing holds, the evaluations that give their derivations
// and positions, `nix flake check --no-build` read, and the outcome of one `nix build --keep-going` of several
// checks read from its errors. No `vscode` import.
import { parseNixErrors } from '../errors/fromLog';
import type { NixError } from '../errors/types';
import { formatString } from '../source';
import { stripAnsi } from '../text';
import { splitLines } from '../log/lines';
import type { FlakeShowModel } from './show';

/** One check of a flake. */
export interface FlakeCheck {
  system: string;
  name: string;
  /** `['checks', system, name]`. */
  attrPath: string[];
}

/**
 * The checks of a listing for the given systems, sorted by system and name. Only derivations (and leaves whose
 * kind Nix did not say, as a guarded listing gives them) count: an omitted check of another system is not one.
 */
export function checksOf(model: FlakeShowModel, systems: readonly string[]): FlakeCheck[] {
  const category = model.categories.find((c) => c.name === 'checks');
  if (!category) return [];
  const out: FlakeCheck[] = [];
  for (const leaf of category.leaves) {
    const [, system, name, ...rest] = leaf.attrPath;
    if (system === undefined || name === undefined || rest.length > 0) continue;
    if (!systems.includes(system)) continue;
    if (leaf.kind !== 'derivation' && leaf.kind !== 'unknown') continue;
    out.push({ system, name, attrPath: ['checks', system, name] });
  }
  return out.sort((a, b) => a.system.localeCompare(b.system) || a.name.localeCompare(b.name));
}

/** The key of a check within its flake: `<system>/<name>` (a name may hold dots; a system holds no `/`). */
export function checkKey(c: Pick<FlakeCheck, 'system' | 'name'>): string {
  return `${c.system}/${c.name}`;
}

/**
 * The `--apply` function that turns `checks.<system>` into `{ <name> = <drvPath>; }` for the given names only (the
 * others are not evaluated), for `nix eval --json`.
 */
export function drvPathsApply(names: readonly string[]): string {
  return `cs: builtins.listToAttrs (map (n: { name = n; value = cs.\${n}.drvPath; }) [ ${names.map(formatString).join(' ')} ])`;
}

/**
 * The `--apply` function that gives where each check of `checks.<system>` is written: the position of its name
 * (`unsafeGetAttrPos`, which forces none of the checks), and its `meta.position` when the derivation has one as a
 * plain attribute (only read when present; an error there leaves it out).
 */
export const POSITIONS_APPLY =
  'cs: builtins.mapAttrs (n: c: { attr = builtins.unsafeGetAttrPos n cs; meta = let p = builtins.tryEval (if builtins.isAttrs c && c ? meta && builtins.isAttrs c.meta && c.meta ? position && builtins.isString c.meta.position then c.meta.position else null); in if p.success then p.value else null; }) cs';

/** A position as Nix gives it: file, 1-based line and column. */
export interface CheckPosition {
  file: string;
  line: number;
  column: number;
}

/** `{ <name>: <drvPath> }` from `nix eval --json`; anything that is not a store derivation path is left out. */
export function readDrvPaths(json: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!json || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [name, v] of Object.entries(json)) if (typeof v === 'string' && /^\/\S+\.drv$/.test(v)) out.set(name, v);
  return out;
}

/**
 * Where each check is written, from the JSON of POSITIONS_APPLY: `meta.position` (`/path:LINE`) when the
 * derivation has one, else the position of its name. Untrusted input: wrong shapes are skipped.
 */
export function readCheckPositions(json: unknown): Map<string, CheckPosition> {
  const out = new Map<string, CheckPosition>();
  if (!json || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [name, v] of Object.entries(json)) {
    if (!v || typeof v !== 'object') continue;
    const { attr, meta } = v as { attr?: unknown; meta?: unknown };
    const fromMeta = typeof meta === 'string' ? /^(.+):(\d+)$/.exec(meta) : null;
    if (fromMeta && Number(fromMeta[2]) > 0) {
      out.set(name, { file: fromMeta[1]!, line: Number(fromMeta[2]), column: 1 });
      continue;
    }
    if (!attr || typeof attr !== 'object') continue;
    const p = attr as { file?: unknown; line?: unknown; column?: unknown };
    if (typeof p.file !== 'string' || typeof p.line !== 'number' || !Number.isInteger(p.line) || p.line < 1) continue;
    out.set(name, {
      file: p.file,
      line: p.line,
      column: typeof p.column === 'number' && Number.isInteger(p.column) && p.column > 0 ? p.column : 1,
    });
  }
  return out;
}

/** What `nix flake check` said. */
export interface FlakeCheckReport {
  errors: NixError[];
  /** `warning: …` lines (unknown outputs, …), without the prefix. */
  warnings: string[];
}

/** The arguments after `nix flake check` that evaluate every output without building anything. */
export function flakeCheckArgs(flakeRef: string): string[] {
  return ['--no-build', flakeRef];
}

/** Reads the stderr of `nix flake check` (plain text on 2.8 and 2.34 alike). */
export function readFlakeCheck(stderr: string): FlakeCheckReport {
  const warnings: string[] = [];
  for (const line of splitLines(stripAnsi(stderr))) {
    const m = /^(?:evaluation )?warning: (.*)$/.exec(line);
    // Nix's own complaint about a missing build group says nothing about the flake.
    if (m && !/specified in 'build-users-group'/.test(m[1]!)) warnings.push(m[1]!);
  }
  return { errors: parseNixErrors(stderr), warnings };
}

/** The outcome of one check in a `nix build --keep-going` of several. */
export type KeepGoingOutcome =
  | { status: 'passed' }
  | { status: 'failed'; error: NixError; lastLines: string[] }
  /** The run stopped (cancelled, or nix failed before building: its error) before the check was known to be built. */
  | { status: 'unknown' };

/** A failed build as the progress reader keeps it. */
export interface FailedDerivation {
  drvPath: string;
  lastLines: string[];
}

/**
 * Which checks of a `nix build --keep-going` failed, from the run's errors (`builder for '<drv>' failed`, `Cannot
 * build '<drv>'`, `N dependencies of derivation '<drv>' failed`) and the failed builds' last log lines; the other
 * checks were built when nix got to the end (`completed`: it exited, with whatever code, and was not cancelled) and
 * every error was a build failure. An error of another kind (evaluation, a store that cannot be opened) means the
 * building never started or was cut short: the checks without a failure of their own are then unknown.
 */
export function readKeepGoing(
  drvPaths: ReadonlyMap<string, string>,
  errors: readonly NixError[],
  failedBuilds: readonly FailedDerivation[],
  completed: boolean,
): Map<string, KeepGoingOutcome> {
  const byDrv = new Map<string, NixError>();
  let otherError = false;
  for (const e of errors) {
    if (e.kind === 'builder-failed' || e.kind === 'dependency-failed') {
      if (!byDrv.has(e.drvPath) || e.kind === 'builder-failed') byDrv.set(e.drvPath, e);
    } else otherError = true;
  }
  const lines = new Map(failedBuilds.map((f) => [f.drvPath, f.lastLines]));
  const out = new Map<string, KeepGoingOutcome>();
  for (const [key, drv] of drvPaths) {
    const error = byDrv.get(drv);
    if (error) out.set(key, { status: 'failed', error, lastLines: lines.get(drv) ?? [] });
    else if (lines.has(drv))
      out.set(key, {
        status: 'failed',
        error: { kind: 'builder-failed', drvPath: drv, message: `builder for '${drv}' failed`, trace: [], raw: '' },
        lastLines: lines.get(drv) ?? [],
      });
    else out.set(key, completed && !otherError ? { status: 'passed' } : { status: 'unknown' });
  }
  return out;
}
