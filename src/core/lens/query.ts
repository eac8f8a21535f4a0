// The `nix eval` that asks where each buildable output of a flake is defined, for the Build CodeLens, and the reader
// of its output (nix-cli.md §9). One process per flake and system; a retry plan for the errors `tryEval` cannot catch.
// Pure: no process is started here (the runner is injected), no `vscode` import.

import { installable } from '../flake/installable';
import { formatString } from '../source';
import { stripAnsi } from '../text';

/** The output categories that hold derivations, by how their attributes are laid out. */
export type BuildableCategory = 'packages' | 'checks' | 'devShells' | 'formatter' | 'defaultPackage' | 'devShell';

/** Categories whose value per system is a set of derivations (`packages.<system>.<name>`). */
export const PER_NAME_CATEGORIES: readonly BuildableCategory[] = ['packages', 'checks', 'devShells'];
/** Categories whose value per system is one derivation (`formatter.<system>`). */
export const SINGLE_CATEGORIES: readonly BuildableCategory[] = ['formatter', 'defaultPackage', 'devShell'];
/** Every category the query asks about by default, in the order lenses list them. */
export const BUILDABLE_CATEGORIES: readonly BuildableCategory[] = [...PER_NAME_CATEGORIES, ...SINGLE_CATEGORIES];

export function isBuildableCategory(s: unknown): s is BuildableCategory {
  return typeof s === 'string' && (BUILDABLE_CATEGORIES as readonly string[]).includes(s);
}

/** A position from `builtins.unsafeGetAttrPos`: 1-based line, 1-based column (counted in bytes by Nix). */
export interface AttrPosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** `meta.position` (`"file:line"`), split. */
export interface MetaPosition {
  readonly file: string;
  readonly line: number;
}

/** What Nix said about one output. */
export interface PositionRecord {
  /** `['packages', 'x86_64-linux', 'hello']`, `['formatter', 'x86_64-linux']`. */
  readonly attrPath: readonly string[];
  /** Where the output's attribute is written in its parent set; absent when Nix knows none (`mapAttrs`-built sets). */
  readonly attrPos?: AttrPosition;
  /** `meta.position`; absent when the derivation has none, when reading it threw, or when it was not asked for. */
  readonly metaPosition?: MetaPosition;
  /** `meta.mainProgram`, for the Run lens. */
  readonly mainProgram?: string;
  /** False when `meta` was not read for this output (a retry skipped it, or an attrPos-only query). */
  readonly metaRead: boolean;
}

// --- the query ---------------------------------------------------------------------------------------------------

export interface PositionsQueryOptions {
  /**
   * The flake reference given to `builtins.getFlake`. It must be locked (see `positionsFlakeRef`) unless `impure`:
   * pure evaluation refuses unlocked references.
   */
  readonly ref: string;
  readonly system: string;
  readonly categories?: readonly BuildableCategory[];
  /** Adds `--impure` (for a flake that has no locked reference; Nix then reads the user's nixpkgs config too). */
  readonly impure?: boolean;
  /** False: only `unsafeGetAttrPos`, which forces no derivation. Default true. */
  readonly meta?: boolean;
  /** Outputs whose `meta` is not read (they failed with an error `tryEval` does not catch). */
  readonly skipMeta?: readonly (readonly string[])[];
  /**
   * Per-category mode, the last resort when `getFlake` cannot lock the flake (its lock file needs changes, which
   * `getFlake` never makes, while `nix eval <installable> --no-write-lock-file` locks in memory): the query is
   * `nix eval <flakeRef>#<category>.<system> --apply …` for the first of `categories` only, one process each.
   */
  readonly installableRef?: string;
}

/** What the query's `builtins.trace` markers start with: `trace: nix-flakes-lens: reading ["packages",…]`. */
const MARKER = 'nix-flakes-lens:';
const MARKER_LINE = /^(?:trace: )?nix-flakes-lens: (reading|read) (\[.*\])\s*$/;

/**
 * The output whose `meta` the query was reading when it failed, from the markers on its stderr: the last one it
 * started and did not finish. Nix 2.8 also shows it on stdout (see `readPositionsOutput`); newer versions print
 * nothing on stdout when the evaluation fails.
 */
export function failedOutput(stderr: string): string[] | undefined {
  let open: string | undefined;
  for (const raw of stderr.split('\n')) {
    const m = MARKER_LINE.exec(stripAnsi(raw));
    if (!m) continue;
    if (m[1] === 'reading') open = m[2];
    else if (open === m[2]) open = undefined;
  }
  if (open === undefined) return undefined;
  try {
    const path: unknown = JSON.parse(open);
    return Array.isArray(path) && path.length > 0 && path.every((x) => typeof x === 'string') ? (path as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Lets shared by both forms of the query: the record of one output. */
function prelude(o: PositionsQueryOptions): string[] {
  const list = (xs: readonly string[]) => `[ ${xs.map(formatString).join(' ')} ]`;
  const skip = (o.skipMeta ?? []).map((p) => list(p)).join(' ');
  return [
    `  system = ${formatString(o.system)};`,
    `  singles = ${list(SINGLE_CATEGORIES)};`,
    `  skip = [ ${skip} ];`,
    '  try = e: let r = builtins.tryEval e; in if r.success then r.value else null;',
    '  isSet = v: let r = builtins.tryEval (builtins.isAttrs v); in r.success && r.value;',
    '  str = v: if builtins.isString v then v else null;',
    '  pos = name: set: let p = builtins.unsafeGetAttrPos name set; in',
    '    if p == null then null else { inherit (p) file line column; };',
    '  meta = v: let m = v.meta or null; in if builtins.isAttrs m then m else { };',
    // Reading `meta` can fail in ways `tryEval` does not catch; markers on stderr around it name the output it was
    // reading (`failedOutput`), whatever Nix prints on stdout before it fails.
    ...((o.meta ?? true)
      ? [
          `  guard = path: m: let id = builtins.toJSON path; in builtins.trace "${MARKER} reading \${id}"`,
          `    (builtins.seq m.metaPosition (builtins.seq m.mainProgram (builtins.trace "${MARKER} read \${id}" m)));`,
          '  record = path: name: set: { attrPath = path; attrPos = pos name set; }',
          '    // (if builtins.elem path skip then { } else guard path { metaPosition = try (str ((meta set.${name}).position or null)); mainProgram = try (str ((meta set.${name}).mainProgram or null)); });',
        ]
      : ['  record = path: name: set: { attrPath = path; attrPos = pos name set; };']),
    // The records of one category, given its value (`packages`) or, for `perSystem`, its system's value.
    '  records = c: top: if !(isSet top) || !(top ? ${system}) then [ ]',
    '    else if builtins.elem c singles then [ (record [ c system ] system top) ]',
    '    else let set = top.${system}; in',
    '      if isSet set then map (n: record [ c system n ] n set) (builtins.attrNames set) else [ ];',
  ];
}

/**
 * The Nix expression of the query. It evaluates to a list, one record per output, in category order and then by
 * name: `{ attrPath; attrPos; metaPosition; mainProgram; }`. A missing category or system gives no records; a
 * category, system set or output that `throw`s or fails an `assert` is guarded by `tryEval`. In per-category mode
 * it is the function given to `--apply`.
 */
export function positionsExpression(o: PositionsQueryOptions): string {
  const categories = o.categories ?? BUILDABLE_CATEGORIES;
  if (o.installableRef !== undefined) {
    const c = categories[0] ?? 'packages';
    const perName = !SINGLE_CATEGORIES.includes(c);
    // `#packages.<system>` gives the system's set: wrap it back into `{ <system> = …; }` (attrPos needs only the set).
    const top = perName ? '{ ${system} = v; }' : 'v';
    return ['let', ...prelude(o), `in v: records ${formatString(c)} ${top}`].join('\n');
  }
  const list = `[ ${categories.map(formatString).join(' ')} ]`;
  return [
    'let',
    `  flake = builtins.getFlake ${formatString(o.ref)};`,
    ...prelude(o),
    `in builtins.concatMap (c: records c (flake.\${c} or null)) ${list}`,
  ].join('\n');
}

/**
 * The arguments of the query after `nix` (and the global flags the caller adds, e.g. with
 * `nixArgs([], positionsQuery(o), { flakeOptions: false, offline })`):
 * `eval --json --no-write-lock-file [--impure] --expr <expression>`, or in per-category mode
 * `eval --json --no-write-lock-file <flakeRef>#packages.<system> --apply <function>`. No shell is involved.
 */
export function positionsQuery(o: PositionsQueryOptions): string[] {
  const head = ['eval', '--json', '--no-write-lock-file', ...(o.impure ? ['--impure'] : [])];
  if (o.installableRef !== undefined) {
    const c = (o.categories ?? BUILDABLE_CATEGORIES)[0] ?? 'packages';
    // A single (`formatter`) is read through its parent set, so that `unsafeGetAttrPos <system>` works. Nix tries
    // `packages.<system>.formatter` first: a package named like a category would shadow it (accepted).
    const path = SINGLE_CATEGORIES.includes(c) ? [c] : [c, o.system];
    const target = installable(o.installableRef, path);
    return [...head, target.ok ? target.value : `${o.installableRef}#${path.join('.')}`, '--apply', positionsExpression(o)];
  }
  return [...head, '--expr', positionsExpression(o)];
}

/** The reference the query evaluates, and whether it needs `--impure`. */
export interface PositionsRef {
  readonly ref: string;
  readonly impure: boolean;
  /** The unlocked URL, for an impure retry when Nix refuses the locked reference (`RetryOptions.impureRef`). */
  readonly unlocked?: string;
}

/**
 * The reference to give `builtins.getFlake`, from `nix flake metadata --json`:
 *  - `path:<store path>?lastModified=…&narHash=…&rev=…&revCount=…`: locked by its hash, so pure evaluation accepts
 *    it, also for a dirty Git tree; the same store path as `nix build .#…` uses (so positions map by hash) and the
 *    same `self.rev`/`self.lastModified`. Not for a flake in a subdirectory: 2.8's `path:` has no `dir`.
 *  - else the locked URL (`git+file:///repo?dir=sub&ref=main&rev=…`) when it has a `rev` (a clean tree);
 *  - else the unlocked URL with `impure` (a dirty subflake on 2.8), or `fallbackRef` when metadata is unusable.
 */
export function positionsFlakeRef(metadata: unknown, fallbackRef?: string): PositionsRef | undefined {
  const meta = asRecord(metadata);
  const locked = asRecord(meta?.locked);
  const url = meta?.url;
  const unlocked = typeof meta?.resolvedUrl === 'string' ? meta.resolvedUrl : typeof url === 'string' ? url : fallbackRef;
  const withUnlocked = unlocked !== undefined ? { unlocked } : {};
  const path = meta?.path;
  const narHash = locked?.narHash;
  const dir = locked?.dir;
  if (typeof path === 'string' && path.startsWith('/') && typeof narHash === 'string' && (dir === undefined || dir === '')) {
    const query: string[] = [];
    for (const key of ['lastModified', 'narHash', 'rev', 'revCount'] as const) {
      const v = locked?.[key];
      if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) query.push(`${key}=${encodeURIComponent(String(v))}`);
    }
    return { ref: `path:${path}?${query.join('&')}`, impure: false, ...withUnlocked };
  }
  if (typeof url === 'string' && /[?&]rev=[0-9a-f]{40}\b/.test(url)) return { ref: url, impure: false, ...withUnlocked };
  return unlocked ? { ref: unlocked, impure: true } : undefined;
}

// --- reading the output --------------------------------------------------------------------------------------------

/** The query's output, read. */
export interface PositionsOutput {
  /** The records that were printed in full. */
  readonly records: PositionRecord[];
  /** The whole output was one JSON list. */
  readonly complete: boolean;
  /**
   * The output whose record was cut short: Nix 2.8 prints JSON as it evaluates, so when an error `tryEval` does not
   * catch aborts the evaluation, stdout ends inside the record of the output that failed (its `attrPath` comes first).
   */
  readonly failedAt?: readonly string[];
}

/** Reads the query's stdout. Garbage gives no records, never a throw; a cut-short list gives the records before the cut. */
export function readPositionsOutput(stdout: string): PositionsOutput {
  const text = typeof stdout === 'string' ? stdout.trim() : '';
  if (text === '') return { records: [], complete: false };
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? { records: readRecords(value), complete: true } : { records: [], complete: false };
  } catch {
    // A cut-short list: `[{…},{…},{"attrPath":[…],"attrPos":{…},"mainProgram":}]`.
  }
  if (!text.startsWith('[')) return { records: [], complete: false };
  const records: PositionRecord[] = [];
  let failedAt: string[] | undefined;
  for (const element of topLevelObjects(text)) {
    let value: unknown;
    try {
      value = JSON.parse(element);
    } catch {
      failedAt = leadingAttrPath(element);
      break;
    }
    const r = readRecord(value);
    if (r) records.push(r);
  }
  return { records, complete: false, ...(failedAt ? { failedAt } : {}) };
}

/** The records of the query's stdout (see `readPositionsOutput`). */
export function readPositions(stdout: string): PositionRecord[] {
  return readPositionsOutput(stdout).records;
}

function readRecords(list: unknown[]): PositionRecord[] {
  const out: PositionRecord[] = [];
  for (const v of list) {
    const r = readRecord(v);
    if (r) out.push(r);
  }
  return out;
}

function readRecord(v: unknown): PositionRecord | undefined {
  const rec = asRecord(v);
  const path = rec?.attrPath;
  if (!rec || !Array.isArray(path) || path.length === 0 || !path.every((s) => typeof s === 'string')) return undefined;
  const attrPos = readAttrPos(rec.attrPos);
  const metaPosition = readMetaPosition(rec.metaPosition);
  const mainProgram = typeof rec.mainProgram === 'string' && rec.mainProgram !== '' ? rec.mainProgram : undefined;
  return {
    attrPath: path as string[],
    ...(attrPos ? { attrPos } : {}),
    ...(metaPosition ? { metaPosition } : {}),
    ...(mainProgram ? { mainProgram } : {}),
    metaRead: 'metaPosition' in rec || 'mainProgram' in rec,
  };
}

function isLineNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1;
}

function readAttrPos(v: unknown): AttrPosition | undefined {
  const p = asRecord(v);
  if (!p || typeof p.file !== 'string' || p.file === '' || !isLineNumber(p.line)) return undefined;
  return { file: p.file, line: p.line, column: isLineNumber(p.column) ? p.column : 1 };
}

/** `"/nix/store/…-source/pkgs/hello.nix:42"` → file and line. */
export function parseMetaPosition(v: unknown): MetaPosition | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(.+):(\d+)$/.exec(v);
  if (!m) return undefined;
  const line = Number(m[2]);
  return isLineNumber(line) ? { file: m[1]!, line } : undefined;
}

const readMetaPosition = parseMetaPosition;

/** The texts of the top-level `{…}` elements of a JSON list, as far as they are balanced. */
function topLevelObjects(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0 && c === '{') start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && start >= 0) {
        out.push(text.slice(start, i + 1));
        start = -1;
      }
      if (depth < 0) break;
    }
  }
  if (start >= 0) out.push(text.slice(start));
  return out;
}

/** The `attrPath` a cut-short record starts with. */
function leadingAttrPath(element: string): string[] | undefined {
  const m = /^\{\s*"attrPath"\s*:\s*(\[[^\]]*\])/.exec(element);
  if (!m) return undefined;
  try {
    const path: unknown = JSON.parse(m[1]!);
    return Array.isArray(path) && path.length > 0 && path.every((s) => typeof s === 'string') ? (path as string[]) : undefined;
  } catch {
    return undefined;
  }
}

// --- retries -----------------------------------------------------------------------------------------------------

/** How a run of the query ended. */
export interface PositionsRun {
  /** null when the process was killed. */
  readonly exitCode: number | null;
  readonly stdout: string;
  /** When given, an impure retry is made only if it tells of a reference or lock problem, not of an evaluation error. */
  readonly stderr?: string;
}

/** stderr of a run that failed before evaluating the outputs: `getFlake` refused the reference, or fetching failed. */
const REFERENCE_PROBLEM = /getFlake|unlocked|narHash|hash mismatch|does not exist|No such file|not a valid|unsupported|cannot fetch/i;

/**
 * stderr of a run whose flake needs lock file changes, which `getFlake` never makes (pure or impure): 2.8 says
 * `cannot update flake input 'x' in pure mode`, 2.26 and 2.34 `cannot update unlocked flake input 'x' in pure mode`.
 */
const LOCK_PROBLEM =
  /requires lock file changes|cannot update (?:unlocked )?flake input|no-update-lock-file|lock file (?:needs|is out of date)/i;

export interface RetryOptions {
  /** The reference for an impure retry, when the locked one could not be evaluated at all (`PositionsRef.unlocked`). */
  readonly impureRef?: string;
  /** The user's flake reference, for the per-category mode when the flake's lock file needs changes. */
  readonly flakeRef?: string;
  /** How many outputs may have their `meta` skipped one by one before giving up on `meta` altogether. Default 3. */
  readonly maxSkips?: number;
}

/**
 * The next query after a run, or undefined when there is nothing more to try. After a failure:
 *  - when the output that failed is known (from the markers on stderr, or from the JSON 2.8 prints as it goes), the
 *    same query skipping that output's `meta`
 *    (it then gets its lens from `attrPos` only), up to `maxSkips` outputs;
 *  - when stderr says the lock file needs changes and `flakeRef` is known: per-category mode, one
 *    `nix eval <flakeRef>#<category>.<system> --apply …` per category (a missing category just fails);
 *  - when nothing at all was printed and an impure reference is known, the query on that reference (`getFlake`
 *    refused the locked one; with `stderr`, only when it says so);
 *  - else the attrPos-only query, which forces no derivation; after that, nothing.
 * In per-category mode, the next category follows each run (after the skips of its own broken outputs).
 */
export function nextPositionsQuery(
  prev: PositionsQueryOptions,
  run: PositionsRun,
  opts: RetryOptions = {},
): PositionsQueryOptions | undefined {
  const out = readPositionsOutput(run.stdout);
  const skipped = prev.skipMeta ?? [];
  const failed = run.exitCode !== 0 ? (out.failedAt ?? (run.stderr !== undefined ? failedOutput(run.stderr) : undefined)) : undefined;
  const metaOn = prev.meta ?? true;
  const canSkip =
    run.exitCode !== 0 &&
    metaOn &&
    failed !== undefined &&
    skipped.length < (opts.maxSkips ?? 3) &&
    !skipped.some((p) => samePath(p, failed));
  if (canSkip) return { ...prev, skipMeta: [...skipped, failed] };
  if (prev.installableRef !== undefined) {
    const rest = (prev.categories ?? BUILDABLE_CATEGORIES).slice(1);
    return rest.length > 0 ? { ...prev, categories: rest } : undefined;
  }
  if (run.exitCode === 0) return undefined;
  const nothing = run.stdout.trim() === '';
  if (nothing && opts.flakeRef !== undefined && run.stderr !== undefined && LOCK_PROBLEM.test(run.stderr)) {
    return { ...prev, installableRef: opts.flakeRef, impure: false, categories: prev.categories ?? BUILDABLE_CATEGORIES };
  }
  if (!prev.impure && opts.impureRef && nothing && (run.stderr === undefined || REFERENCE_PROBLEM.test(run.stderr))) {
    return { ...prev, ref: opts.impureRef, impure: true };
  }
  if (metaOn) return { ...prev, meta: false, skipMeta: [] };
  return undefined;
}

/** The result of `queryPositions`. */
export interface PositionsResult {
  readonly records: PositionRecord[];
  /** The last run succeeded (in per-category mode: at least one category did). */
  readonly ok: boolean;
  /** Processes started. */
  readonly runs: number;
  /** The last query run (its `skipMeta`, `meta`, `impure` and `installableRef` tell how much was given up). */
  readonly query: PositionsQueryOptions;
}

/**
 * Runs the query, and the retries `nextPositionsQuery` plans, through `exec` (which runs `nix` with the given
 * arguments after the caller's global flags). Usually one process. The records of all runs are merged by output:
 * a later run's record replaces an earlier one, except that a record without `meta` never replaces one with it (an
 * output the attrPos-only retry covers keeps what an earlier, failed run printed in full for it).
 */
export async function queryPositions(
  first: PositionsQueryOptions,
  exec: (args: string[]) => Promise<PositionsRun>,
  opts: RetryOptions & { maxRuns?: number } = {},
): Promise<PositionsResult> {
  const maxRuns = opts.maxRuns ?? 12;
  const merged = new Map<string, PositionRecord>();
  let query = first;
  let runs = 0;
  let ok = false;
  for (;;) {
    const run = await exec(positionsQuery(query));
    runs++;
    const out = readPositionsOutput(run.stdout);
    for (const r of out.records) {
      const key = JSON.stringify(r.attrPath);
      const known = merged.get(key);
      if (!known || r.metaRead || !known.metaRead) merged.set(key, r);
    }
    const succeeded = run.exitCode === 0 && out.complete;
    ok = query.installableRef !== undefined ? ok || succeeded : succeeded;
    const next = runs < maxRuns ? nextPositionsQuery(query, run, opts) : undefined;
    if (!next) return { records: [...merged.values()], ok, runs, query };
    query = next;
  }
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
