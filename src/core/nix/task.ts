// The `nix` task type: a task definition (`tasks.json`, or one the extension offers) checked, and the nix command
// line it stands for. No `vscode` import.
import { sanitizeExtraArgs } from './args';

/** The subcommands a `nix` task may run (`command`), and whether they take an installable or flake reference. */
const COMMANDS: Record<string, { takes: 'installable' | 'flake' | 'none'; writesLock?: boolean }> = {
  build: { takes: 'installable' },
  run: { takes: 'installable' },
  develop: { takes: 'installable' },
  shell: { takes: 'installable' },
  eval: { takes: 'installable' },
  'print-dev-env': { takes: 'installable' },
  'path-info': { takes: 'installable' },
  log: { takes: 'installable' },
  fmt: { takes: 'none' },
  'flake check': { takes: 'flake' },
  'flake show': { takes: 'flake' },
  'flake metadata': { takes: 'flake' },
  'flake archive': { takes: 'flake' },
  'flake lock': { takes: 'flake', writesLock: true },
  // 2.19+ reads positional arguments as input names (the flake is the working folder's); 2.8 as a flake reference.
  'flake update': { takes: 'none', writesLock: true },
};

/** The commands a `nix` task may name, for the task definition's schema. */
export const TASK_COMMANDS: readonly string[] = Object.keys(COMMANDS);

/** A `nix` task as written in tasks.json (checked). */
export interface NixTaskDefinition {
  type: 'nix';
  command: string;
  /** `.#hello`, `.`, `#hello` (relative to the task's flake), or any other reference (`nixpkgs#hello`). */
  installable?: string;
  /** More arguments, after the installable. */
  args?: string[];
  /** Let nix write flake.lock (default: not, except for `flake lock` and `flake update`). */
  writeLockFile?: boolean;
  /** The flake's folder relative to the workspace folder, when it is not the workspace folder itself. */
  flake?: string;
}

export type TaskCheck = { ok: true; value: NixTaskDefinition } | { ok: false; message: string };

/**
 * Checks a task definition as VS Code hands it over (anything a tasks.json holds). The command is one of
 * TASK_COMMANDS; the installable one word that is not an option; the arguments strings; the flake folder a relative
 * path that stays inside the workspace folder.
 */
export function checkTaskDefinition(def: unknown): TaskCheck {
  if (!def || typeof def !== 'object' || Array.isArray(def)) return { ok: false, message: 'A nix task is an object with a "command".' };
  const d = def as Record<string, unknown>;
  if (d.type !== 'nix') return { ok: false, message: 'Not a nix task (its "type" is not "nix").' };
  const command = typeof d.command === 'string' ? d.command.trim().replace(/\s+/g, ' ') : undefined;
  if (!command || !(command in COMMANDS)) {
    return {
      ok: false,
      message: `"command" must be one of ${TASK_COMMANDS.map((c) => `"${c}"`).join(', ')}${typeof d.command === 'string' ? ` (not "${d.command}")` : ''}.`,
    };
  }
  const out: NixTaskDefinition = { type: 'nix', command };
  if (d.installable !== undefined) {
    if (typeof d.installable !== 'string' || !/^[^\s-]\S*$/.test(d.installable))
      return { ok: false, message: '"installable" must be one word that does not start with "-", e.g. ".#hello".' };
    if (COMMANDS[command]!.takes === 'none')
      return { ok: false, message: `"nix ${command}" takes no installable: give its arguments in "args".` };
    out.installable = d.installable;
  }
  if (d.args !== undefined) {
    if (!Array.isArray(d.args) || !d.args.every((a): a is string => typeof a === 'string'))
      return { ok: false, message: '"args" must be a list of strings.' };
    out.args = [...d.args];
  }
  if (d.writeLockFile !== undefined) {
    if (typeof d.writeLockFile !== 'boolean') return { ok: false, message: '"writeLockFile" must be true or false.' };
    out.writeLockFile = d.writeLockFile;
  }
  if (d.flake !== undefined) {
    const f = typeof d.flake === 'string' ? d.flake.replace(/\\/g, '/').replace(/\/+$/, '') : undefined;
    if (f === undefined || f.startsWith('/') || f.split('/').some((p) => p === '..'))
      return { ok: false, message: '"flake" must be a folder inside the workspace folder, relative to it.' };
    if (f !== '' && f !== '.') out.flake = f;
  }
  return { ok: true, value: out };
}

/** The nix command line of a task: the subcommand, its arguments, and whether nix may write flake.lock. */
export interface TaskInvocation {
  subcommand: string[];
  rest: string[];
  writeLockFile: boolean;
  /** Arguments dropped from `args` (options that would accept the flake's configuration). */
  dropped: string[];
}

/**
 * The nix command a checked task runs, for the flake whose reference is `flakeRef`: an installable relative to the
 * flake (`.#x`, `#x`, `.`) is written against that reference; any other is given as it is. Commands that take an
 * installable get the flake itself when none is given. `args` come last, without options that accept the flake's
 * configuration.
 */
export function taskInvocation(def: NixTaskDefinition, flakeRef: string): TaskInvocation {
  const spec = COMMANDS[def.command] ?? { takes: 'installable' };
  const target = (() => {
    if (spec.takes === 'none') return [];
    const i = def.installable;
    if (i === undefined || i === '.') return [flakeRef];
    if (i.startsWith('.#')) return [`${flakeRef}${i.slice(1)}`];
    if (i.startsWith('#')) return [`${flakeRef}${i}`];
    return [i];
  })();
  const { args, dropped } = sanitizeExtraArgs(def.args ?? []);
  return {
    subcommand: def.command.split(' '),
    rest: [...target, ...args],
    writeLockFile: def.writeLockFile ?? spec.writesLock === true,
    dropped,
  };
}

/** A task's name as the extension offers it: `build .#hello`, `flake check`, with the flake when there are several. */
export function taskLabel(def: Pick<NixTaskDefinition, 'command' | 'installable'>, flakeLabel?: string): string {
  return `${def.command}${def.installable ? ` ${def.installable}` : ''}${flakeLabel ? ` (${flakeLabel})` : ''}`;
}
