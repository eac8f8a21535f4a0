// A flake's dev shell as an environment for the editor: the `nix print-dev-env --json` run that makes it (with a GC
// root), reading its output (untrusted: bounded and checked), which variables are applied and how (PATH-like
// variables prepended as `nix develop` does, build-only variables dropped as it does), the environment that results
// for a process, and the cache record the environment is applied from on reopen. No `vscode` import.
import { createHash } from 'node:crypto';
import { existsSync, readlinkSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { writeFileAtomic } from '../fs/atomic';
import type { RunResult } from '../nix/process';
import { installable } from './installable';
import type { FlakeShowModel, OutputLeaf } from './show';
import { allLeaves } from './show';

/**
 * What `nix develop` never takes from the derivation (`ignoreVars` in src/nix/develop.cc, the same in 2.8 and 2.34):
 * the build sandbox's home, temporary folders, log descriptor, terminal and shell state.
 */
export const IGNORED_VARS: ReadonlySet<string> = new Set([
  'BASHOPTS',
  'HOME',
  'NIX_BUILD_TOP',
  'NIX_ENFORCE_PURITY',
  'NIX_LOG_FD',
  'NIX_REMOTE',
  'PPID',
  'SHELLOPTS',
  'SSL_CERT_FILE',
  'TEMP',
  'TEMPDIR',
  'TERM',
  'TMP',
  'TMPDIR',
  'TZ',
  'UID',
]);

/**
 * The shell's own state, which get-env.sh leaves in when it is exported (`OLDPWD` is, empty): a new shell sets these
 * itself, so they are not applied either.
 */
const SHELL_STATE: ReadonlySet<string> = new Set(['OLDPWD', 'PWD', 'SHLVL', '_']);

/**
 * Variables the shell's value is put in front of the user's (`nix develop`: PATH, and XDG_DATA_DIRS from 2.10);
 * every other variable replaces the user's value.
 */
export const PREPENDED_VARS: readonly string[] = ['PATH', 'XDG_DATA_DIRS'];

/** What a derivation without a PATH of its own has (no stdenv): not a path at all. */
const PATH_NOT_SET = '/path-not-set';

/** Bounds on what is read from nix (its output is untrusted input). */
export const DEV_ENV_LIMITS = {
  /** The whole JSON text. A large stdenv shell is ~100 kB. */
  maxBytes: 32 * 1024 * 1024,
  /** Variables (of any type) in the output. */
  maxVariables: 50_000,
  /** One applied value. */
  maxValue: 1024 * 1024,
  /** All applied values together. */
  maxTotal: 8 * 1024 * 1024,
};

/** The variables a dev shell sets, as applied (names sorted), and what was left out. */
export interface DevEnv {
  variables: Record<string, string>;
  /** Exported variables left out because they only make sense inside a build (or are the shell's own state). */
  dropped: string[];
  /** Exported variables left out because they are not usable as environment variables (bad name, NUL, too long). */
  invalid: string[];
}

export type ReadDevEnv = { ok: true; env: DevEnv } | { ok: false; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads `nix print-dev-env --json` (2.8 and newer: `{bashFunctions, variables, structuredAttrs?}`): the exported
 * string variables, less those `nix develop` drops (`IGNORED_VARS`), the derivation's outputs (`out`… are paths of
 * an unbuilt derivation), the shell's own state, and a PATH that is not set. Bash functions, unexported, array and
 * associative variables cannot reach another process's environment and are ignored.
 */
export function readDevEnv(text: string): ReadDevEnv {
  if (text.length > DEV_ENV_LIMITS.maxBytes)
    return { ok: false, message: `the dev shell's environment is larger than ${DEV_ENV_LIMITS.maxBytes} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'nix print-dev-env printed output that is not JSON' };
  }
  if (!isObject(json) || !isObject(json.variables)) return { ok: false, message: 'nix print-dev-env printed no variables' };
  const vars = json.variables;
  const names = Object.keys(vars);
  if (names.length > DEV_ENV_LIMITS.maxVariables)
    return { ok: false, message: `the dev shell has more than ${DEV_ENV_LIMITS.maxVariables} variables` };
  const exported = (name: string): string | undefined => {
    const v = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    return isObject(v) && v.type === 'exported' && typeof v.value === 'string' ? v.value : undefined;
  };
  const outputs = new Set((exported('outputs') ?? 'out').split(/\s+/).filter(Boolean));
  const variables: Record<string, string> = {};
  const dropped: string[] = [];
  const invalid: string[] = [];
  let total = 0;
  for (const name of names.sort()) {
    const value = exported(name);
    if (value === undefined) continue;
    if (IGNORED_VARS.has(name) || SHELL_STATE.has(name) || outputs.has(name) || (name === 'PATH' && value === PATH_NOT_SET)) {
      dropped.push(name);
      continue;
    }
    if (!NAME.test(name) || name === '__proto__' || value.includes('\0') || value.length > DEV_ENV_LIMITS.maxValue) {
      invalid.push(name.slice(0, 100));
      continue;
    }
    total += name.length + value.length;
    if (total > DEV_ENV_LIMITS.maxTotal)
      return { ok: false, message: `the dev shell's variables are larger than ${DEV_ENV_LIMITS.maxTotal} bytes` };
    variables[name] = value;
  }
  return { ok: true, env: { variables, dropped, invalid } };
}

/** How one variable is applied: its value replaces the user's, or is put in front of it (with the separator). */
export interface EnvMutation {
  name: string;
  op: 'replace' | 'prepend';
  /** For `prepend`, the shell's value with the `:` that separates it from the user's. */
  value: string;
}

/**
 * The changes a dev shell makes, in the form VS Code's environment variable collection takes them: PATH and
 * XDG_DATA_DIRS prepended (`nix develop` puts the shell's value before the user's), the rest replaced.
 */
export function envMutations(env: DevEnv): EnvMutation[] {
  return Object.entries(env.variables).map(([name, value]) =>
    PREPENDED_VARS.includes(name) && value !== '' ? { name, op: 'prepend', value: `${value}:` } : { name, op: 'replace', value },
  );
}

/** The environment a process gets: `base` with the mutations applied (a prepend onto nothing is the shell's value). */
export function applyMutations(
  base: Readonly<Record<string, string | undefined>>,
  mutations: readonly EnvMutation[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = v;
  for (const m of mutations)
    out[m.name] = m.op === 'prepend' && out[m.name] ? `${m.value}${out[m.name]}` : m.op === 'prepend' ? m.value.slice(0, -1) : m.value;
  return out;
}

/**
 * A live environment (the extension host's `process.env`) changed by a dev shell and put back: `apply` restores
 * what an earlier `apply` changed, then applies the new mutations, remembering each variable's original value;
 * `restore` puts every original back (a variable that did not exist is removed again).
 */
export class EnvOverlay {
  private readonly saved = new Map<string, string | undefined>();

  constructor(private readonly target: Record<string, string | undefined>) {}

  apply(mutations: readonly EnvMutation[]): void {
    this.restore();
    const base = { ...this.target };
    const next = applyMutations(base, mutations);
    for (const m of mutations) {
      this.saved.set(m.name, base[m.name]);
      this.target[m.name] = next[m.name];
    }
  }

  restore(): void {
    for (const [name, value] of this.saved) {
      if (value === undefined) delete this.target[name];
      else this.target[name] = value;
    }
    this.saved.clear();
  }

  /** The environment as it would be without the changes (a copy). */
  original(): Record<string, string | undefined> {
    const out = { ...this.target };
    for (const [name, value] of this.saved) {
      if (value === undefined) delete out[name];
      else out[name] = value;
    }
    return out;
  }

  /** The variables currently changed. */
  names(): string[] {
    return [...this.saved.keys()];
  }
}

/** The installable of a dev shell: `<ref>#devShells.<system>.<name>`. */
export function devShellInstallable(flakeRef: string, system: string, name: string): string | undefined {
  const r = installable(flakeRef, ['devShells', system, name]);
  return r.ok ? r.value : undefined;
}

/** `nix print-dev-env` arguments: the environment as JSON, its derivation kept alive by the profile at `profile`. */
export function printDevEnvArgs(inst: string, profile: string): string[] {
  return ['--json', '--profile', profile, inst];
}

/** The dev shells a flake's listing shows for `system` (`devShells.<system>.*`), by name. */
export function devShellsOf(model: FlakeShowModel | undefined, system: string): OutputLeaf[] {
  if (!model) return [];
  return allLeaves(model)
    .filter((l) => l.attrPath.length === 3 && l.attrPath[0] === 'devShells' && l.attrPath[1] === system && l.kind !== 'omitted')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The file name of a dev shell's profile (its GC root) and cache record: one per flake folder, shell and system. */
export function devShellId(flakeDir: string, system: string, name: string): string {
  return `devshell-${createHash('sha256').update(`${flakeDir}\0${system}\0${name}`).digest('hex').slice(0, 32)}`;
}

/** What the cache key of a dev shell adds to the flake's state: the shell and the nix (and settings) that made it. */
export function devShellKeyParts(parts: {
  nix: string;
  system: string;
  name: string;
  extraArgs: readonly string[];
  offline: boolean;
}): string[] {
  return ['devShell', parts.nix, parts.system, parts.name, parts.extraArgs.join('\0'), String(parts.offline)];
}

/**
 * A dev shell's cache record: the state of the flake it was made for (`key`, see flakeCacheKey), the profile that
 * keeps it alive, and nix's output as it came (read again, and so checked again, when applied).
 */
export interface DevShellRecord {
  version: 1;
  key: string;
  installable: string;
  profile: string;
  json: string;
}

/** A cache record from its file (written by us, but a file on disk: checked). */
export function readDevShellRecord(text: string): DevShellRecord | undefined {
  if (text.length > DEV_ENV_LIMITS.maxBytes + 64 * 1024) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v) || v.version !== 1) return undefined;
  const { key, installable: inst, profile, json } = v;
  if (typeof key !== 'string' || typeof inst !== 'string' || typeof profile !== 'string' || typeof json !== 'string') return undefined;
  return { version: 1, key, installable: inst, profile, json };
}

export function writeDevShellRecord(r: Omit<DevShellRecord, 'version'>): string {
  return JSON.stringify({ version: 1, key: r.key, installable: r.installable, profile: r.profile, json: r.json } satisfies DevShellRecord);
}

/**
 * The older generations of a profile that `nix print-dev-env --profile` leaves behind (`<name>-<N>-link`, each a GC
 * root), given the folder's entries and the generation the profile now points to: removing them lets the garbage
 * collector take the environments no shell uses any more.
 */
export function oldProfileGenerations(name: string, entries: readonly string[], current: string): string[] {
  const re = new RegExp(`^${name.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`)}-(\\d+)-link$`);
  return entries.filter((e) => re.test(e) && e !== current);
}

/** A dev shell ready to apply: its record, the environment read from it, and the changes it makes. */
export interface LoadedDevShell {
  record: DevShellRecord;
  env: DevEnv;
  mutations: EnvMutation[];
}

/**
 * The cached dev shell in `file` (its record), when the record reads and its profile (the GC root that keeps what
 * it names alive) is still there; undefined otherwise. No process: this is what applies a shell on reopen.
 */
export async function readCachedDevShell(file: string): Promise<LoadedDevShell | undefined> {
  const record = readDevShellRecord(await readFile(file, 'utf8').catch(() => ''));
  if (!record || !existsSync(record.profile)) return undefined;
  const env = readDevEnv(record.json);
  return env.ok ? { record, env: env.env, mutations: envMutations(env.env) } : undefined;
}

export interface EvaluateDevShellOptions {
  installable: string;
  /** The profile (GC root) nix links the environment to; its record goes beside it (`<profile>.json`). */
  profile: string;
  /** Runs `nix print-dev-env` with these arguments (the extension's gateway, with the user's settings). */
  printDevEnv: (args: string[]) => Promise<RunResult>;
}

export type EvaluatedDevShell = ({ ok: true; json: string } & Omit<LoadedDevShell, 'record'>) | { ok: false; message: string };

/**
 * Evaluates a dev shell (`nix print-dev-env --json --profile`) and reads it: what is applied. Saving it for the next
 * time (`saveDevShell`) comes after, off the way of the user. A nix that fails throws (its ExitError, for the caller
 * to place the error).
 */
export async function evaluateDevShell(opts: EvaluateDevShellOptions): Promise<EvaluatedDevShell> {
  const r = await opts.printDevEnv(printDevEnvArgs(opts.installable, opts.profile));
  const env = readDevEnv(r.stdout);
  if (!env.ok) return env;
  return { ok: true, json: r.stdout, env: env.env, mutations: envMutations(env.env) };
}

/**
 * Saves an evaluated shell as the cache record beside its profile (written atomically), for the state `key` of the
 * flake it was evaluated for (undefined: no state known, never current), and removes the profile's older
 * generations.
 */
export async function saveDevShell(opts: {
  installable: string;
  profile: string;
  json: string;
  key: string | undefined;
}): Promise<DevShellRecord> {
  const record: DevShellRecord = { version: 1, key: opts.key ?? '', installable: opts.installable, profile: opts.profile, json: opts.json };
  await writeFileAtomic(`${opts.profile}.json`, writeDevShellRecord(record));
  await dropOldGenerations(opts.profile);
  return record;
}

/** Removes a profile's older generations (each a GC root); the current one stays. */
export async function dropOldGenerations(profile: string): Promise<void> {
  let current: string;
  try {
    current = readlinkSync(profile);
  } catch {
    return;
  }
  const dir = dirname(profile);
  for (const old of oldProfileGenerations(basename(profile), await readdir(dir), current)) await rm(`${dir}/${old}`, { force: true });
}
