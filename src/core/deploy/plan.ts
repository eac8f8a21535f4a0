// The steps of a NixOS deployment with Nix alone, as data: each step is the command it runs (an argument array and
// the environment it adds, made from what earlier steps found) and how its output is read. The runner (runner.ts)
// runs them; the editor shows them, asks between the preview and the apply steps, and runs terminal steps (sudo
// prompts, activation output) in a terminal. No `vscode` import; no shell here: a command for a target is ssh's
// argument array, with the remote command quoted for the remote shell by remoteCommand().
//
//   preview: build the toplevel (here, or on the build host through `--builders ssh-ng://…`), find the system the
//            target runs, the closure diff between the two
//   apply:   sign (when a key is set), copy (`nix copy --to ssh-ng://…`), set the profile (switch, boot), activate
//            (`<toplevel>/bin/switch-to-configuration <action>`), read the generations
import { dirname, join } from 'node:path';
import { nixArgs, type NixCommandOptions } from '../nix/args';
import { nixosRebuildDeployArgs, type RebuildFlavor } from '../nix/rebuild';
import { signArgs } from '../nix/sign';
import { nixosToplevelInstallable } from '../flake/installable';
import { diffClosures, parseDiffClosures, parsePathInfo, type ClosureDiff, type PathInfo } from './diff';
import { checkProfilePath, generationLink, listGenerationsArgs, parseGenerations, SYSTEM_PROFILE, type Generation } from './generations';
import { nixSshOpts, sshDestination, sshOptionsFor, sshStoreUri, type Checked, type CheckedHost, type SshAddress } from './host';

export type DeployAction = 'switch' | 'boot' | 'test' | 'dry-activate' | 'build';
export const DEPLOY_ACTIONS: readonly DeployAction[] = ['switch', 'boot', 'test', 'dry-activate', 'build'];

/** What a deployment needs to know. */
export interface DeployInput {
  /** The local nix (absolute, or `nix` on PATH); nix-env is taken from beside it for a local profile. */
  nix: string;
  flakeRef: string;
  /** The name under `nixosConfigurations`. */
  hostName: string;
  action: DeployAction;
  host: CheckedHost;
  /** ssh options for every connection (ssh's argument array and NIX_SSHOPTS), e.g. `['-F', '/path/ssh_config']`. */
  sshOptions?: readonly string[];
  /** The system profile on the target (default /nix/var/nix/profiles/system). */
  profile?: string;
  /** Options of every nix command (offline, the user's extra arguments). */
  nixOptions?: NixCommandOptions;
  /** `--log-format internal-json` for the build, so the editor can show build progress (default true). */
  internalJsonBuild?: boolean;
  /** The systems the build host builds for (its line in `--builders`); default: Nix's (this machine's). */
  buildHostSystems?: readonly string[];
}

/** One process: no shell. `env` is added to the runner's environment. */
export interface Command {
  file: string;
  args: string[];
  env?: Record<string, string>;
}

export type StepId =
  | 'build'
  | 'current'
  | 'closure-before'
  | 'closure-after'
  | 'diff'
  | 'sign'
  | 'copy'
  | 'profile'
  | 'activate'
  | 'generations'
  | 'switch-generation'
  | 'nixos-rebuild';

/** What the steps found, filled in as they run. */
export interface DeployState {
  /** The built toplevel (the store path activated). */
  toplevel?: string;
  drvPath?: string;
  /** The system the target runs now; null when it has none (a first deployment). */
  current?: string | null;
  /** The current system's closure, when read. */
  closureBefore?: PathInfo[];
  diff?: ClosureDiff;
  generations?: Generation[];
  /** The generation the profile points at after the deployment (switch, boot, rollback). */
  generation?: number;
}

export interface Step {
  id: StepId;
  title: string;
  /** Run in the user's terminal by the editor: password prompts reach the user, the output stays visible. */
  terminal: boolean;
  /** Whether cancelling may stop it. Steps that change the target (profile, activation) run to their end. */
  cancellable: boolean;
  /** Exit codes that are not failures (their stdout is read as for 0). */
  okExitCodes?: readonly number[];
  /** The command, from what earlier steps found; undefined: nothing to do (the step is skipped). */
  command(state: DeployState): Command | undefined;
  /** Reads the step's stdout into the state. */
  parse?(stdout: string, state: DeployState): void;
}

/** Quotes one argument for a POSIX shell (what ssh hands the remote command to). */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An argument array as the one remote command string ssh sends: every argument quoted. */
export function remoteCommand(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}

/**
 * `ssh <options> [-p port] [-t] -o BatchMode=yes -- <user@host> '<quoted command>'`. BatchMode (never a prompt that
 * nobody can answer) is left out for terminal commands, which get `-t` for sudo's password prompt instead.
 */
export function sshCommand(
  common: readonly string[],
  to: SshAddress,
  remote: readonly string[],
  opts: { terminal?: boolean; tty?: boolean } = {},
): Command {
  return {
    file: 'ssh',
    args: [
      ...sshOptionsFor(common, to),
      ...(opts.tty ? ['-t'] : []),
      ...(opts.terminal ? [] : ['-o', 'BatchMode=yes']),
      '--',
      sshDestination(to),
      remoteCommand(remote),
    ],
  };
}

function nixTool(nix: string, name: string): string {
  return nix.includes('/') ? join(dirname(nix), name) : name;
}

function localNix(input: DeployInput, sub: string[], rest: string[], flake = false): Command {
  return { file: input.nix, args: nixArgs(sub, rest, { ...input.nixOptions, flakeOptions: flake }) };
}

/** A command that changes the system: on the target over ssh, or here; through sudo when set. */
function onTarget(input: DeployInput, args: readonly string[], opts: { terminal: boolean }): Command {
  const sudo = input.host.sudo ? ['sudo', '--'] : [];
  if (input.host.target)
    return sshCommand(input.sshOptions ?? [], input.host.target, [...sudo, ...args], {
      terminal: opts.terminal,
      tty: opts.terminal && input.host.sudo,
    });
  const [file = '', ...rest] = [...sudo, ...args];
  return { file, args: rest };
}

/** A command that only reads: on the target over ssh, or here; never sudo. */
function readOnTarget(input: DeployInput, args: readonly string[]): Command {
  if (input.host.target) return sshCommand(input.sshOptions ?? [], input.host.target, args);
  const [file = '', ...rest] = args;
  return { file, args: rest };
}

const STORE_PATH = /^\/[A-Za-z0-9._+/-]+$/;

/** Reads `nix build --json` output: the `out` path of the first result. */
export function parseBuildJson(stdout: string): { drvPath?: string; out: string } {
  const v: unknown = JSON.parse(stdout);
  const first = Array.isArray(v) ? (v[0] as { drvPath?: unknown; outputs?: Record<string, unknown> } | undefined) : undefined;
  const out = first?.outputs?.out;
  if (typeof out !== 'string' || !STORE_PATH.test(out)) throw new Error('nix build --json gave no output path');
  return { out, ...(typeof first?.drvPath === 'string' ? { drvPath: first.drvPath } : {}) };
}

export function checkInput(input: DeployInput): Checked<DeployInput> {
  const profile = input.profile ?? SYSTEM_PROFILE;
  const bad = checkProfilePath(profile);
  if (bad) return { ok: false, message: bad };
  if (!nixosToplevelInstallable(input.flakeRef, input.hostName).ok)
    return { ok: false, message: `The host name ${JSON.stringify(input.hostName)} cannot be built.` };
  if (!DEPLOY_ACTIONS.includes(input.action)) return { ok: false, message: `Unknown action ${JSON.stringify(input.action)}.` };
  return { ok: true, value: input };
}

/** Build the toplevel: here, or on the build host (`--max-jobs 0 --builders ssh-ng://…`: nothing builds here). */
export function buildStep(input: DeployInput): Step {
  const installable = nixosToplevelInstallable(input.flakeRef, input.hostName);
  const b = input.host.build;
  return {
    id: 'build',
    title: b ? `Build on ${b.text}` : 'Build',
    terminal: false,
    cancellable: true,
    command: () => {
      if (!installable.ok) throw new Error(installable.error.message);
      const rest = ['--json', '--no-link'];
      if (input.internalJsonBuild !== false) rest.push('--log-format', 'internal-json', '-v');
      const cmd = localNix(
        input,
        ['build'],
        [
          ...rest,
          ...(b
            ? [
                '--max-jobs',
                '0',
                '--builders',
                [sshStoreUri(b), ...(input.buildHostSystems?.length ? [input.buildHostSystems.join(',')] : [])].join(' '),
              ]
            : []),
          installable.value,
        ],
        true,
      );
      if (b) cmd.env = { NIX_SSHOPTS: nixSshOpts(input.sshOptions ?? [], b) };
      return cmd;
    },
    parse: (stdout, state) => {
      const r = parseBuildJson(stdout);
      state.toplevel = r.out;
      if (r.drvPath) state.drvPath = r.drvPath;
    },
  };
}

/**
 * The system the target runs: `/run/current-system` (NixOS), else the profile (a machine whose activation does not
 * make that link). `readlink -e` prints the targets of those that exist and exits 1 when one is missing.
 */
export function currentStep(input: DeployInput): Step {
  const profile = input.profile ?? SYSTEM_PROFILE;
  return {
    id: 'current',
    title: 'Find the current system',
    terminal: false,
    cancellable: true,
    okExitCodes: [1],
    command: () => readOnTarget(input, ['readlink', '-e', '/run/current-system', profile]),
    parse: (stdout, state) => {
      const line = stdout.split('\n').find((l) => STORE_PATH.test(l) && l.length < 4096);
      state.current = line ?? null;
    },
  };
}

function pathInfoArgs(input: DeployInput, path: string, store?: SshAddress): Command {
  const cmd = localNix(input, ['path-info'], ['-r', '--json', ...(store ? ['--store', sshStoreUri(store)] : []), path]);
  if (store) cmd.env = { NIX_SSHOPTS: nixSshOpts(input.sshOptions ?? [], store) };
  return cmd;
}

/**
 * The diff steps. Here: `nix store diff-closures <current> <new>`. For a target: the current closure read from the
 * target's store and the new one from this store (`nix path-info -r --json`), compared here: nothing is copied
 * before the user agrees, and nothing from the target enters this store.
 */
export function diffSteps(input: DeployInput): Step[] {
  const target = input.host.target;
  if (!target) {
    return [
      {
        id: 'diff',
        title: 'Compare with the current system',
        terminal: false,
        cancellable: true,
        command: (s) => (s.current && s.toplevel ? localNix(input, ['store', 'diff-closures'], [s.current, s.toplevel]) : undefined),
        parse: (stdout, s) => {
          s.diff = parseDiffClosures(stdout);
        },
      },
    ];
  }
  return [
    {
      id: 'closure-before',
      title: `Read the closure ${target.text} runs`,
      terminal: false,
      cancellable: true,
      command: (s) => (s.current ? pathInfoArgs(input, s.current, target) : undefined),
      parse: (stdout, s) => {
        s.closureBefore = parsePathInfo(stdout);
      },
    },
    {
      id: 'closure-after',
      title: 'Compare with the new closure',
      terminal: false,
      cancellable: true,
      command: (s) => (s.current && s.toplevel ? pathInfoArgs(input, s.toplevel) : undefined),
      parse: (stdout, s) => {
        s.diff = diffClosures(s.closureBefore ?? [], parsePathInfo(stdout));
      },
    },
  ];
}

/** Build, find the current system, diff: what the user sees before agreeing. Changes nothing on the target. */
export function previewSteps(input: DeployInput): Step[] {
  return [buildStep(input), currentStep(input), ...diffSteps(input)];
}

/** Reads the profile's generations (time, toplevel, which is current). */
export function generationsStep(input: Pick<DeployInput, 'host' | 'sshOptions' | 'profile'>): Step {
  const profile = input.profile ?? SYSTEM_PROFILE;
  return {
    id: 'generations',
    title: 'Read the generations',
    terminal: false,
    cancellable: true,
    command: () => readOnTarget(input as DeployInput, listGenerationsArgs(profile)),
    parse: (stdout, s) => {
      s.generations = parseGenerations(stdout, profile);
      const cur = s.generations.find((g) => g.current);
      if (cur) s.generation = cur.number;
    },
  };
}

function activateStep(input: DeployInput, action: Exclude<DeployAction, 'build'>, path: (s: DeployState) => string | undefined): Step {
  return {
    id: 'activate',
    title: `Activate (${action})`,
    terminal: true,
    cancellable: false,
    command: (s) => {
      const p = path(s);
      return p ? onTarget(input, [`${p}/bin/switch-to-configuration`, action], { terminal: true }) : undefined;
    },
  };
}

/** Sign, copy, set the profile, activate, read the generations: the steps that change the target. */
export function applySteps(input: DeployInput): Step[] {
  const profile = input.profile ?? SYSTEM_PROFILE;
  const action = input.action;
  if (action === 'build') return [];
  const target = input.host.target;
  const steps: Step[] = [];
  if (input.host.signingKeyFile && target) {
    const key = input.host.signingKeyFile;
    steps.push({
      id: 'sign',
      title: 'Sign the closure',
      terminal: false,
      cancellable: true,
      command: (s) => (s.toplevel ? localNix(input, ['store', 'sign'], signArgs([s.toplevel], key)) : undefined),
    });
  }
  if (target) {
    steps.push({
      id: 'copy',
      title: `Copy to ${target.text}`,
      terminal: false,
      cancellable: true,
      command: (s) => {
        if (!s.toplevel) return undefined;
        const cmd = localNix(
          input,
          ['copy'],
          ['--to', sshStoreUri(target), ...(input.host.substituteOnTarget ? ['--substitute-on-destination'] : []), s.toplevel],
        );
        cmd.env = { NIX_SSHOPTS: nixSshOpts(input.sshOptions ?? [], target) };
        return cmd;
      },
    });
  }
  if (action === 'switch' || action === 'boot') {
    const nixEnv = target ? 'nix-env' : nixTool(input.nix, 'nix-env');
    steps.push({
      id: 'profile',
      title: 'Set the system profile',
      // With sudo the password is asked for here already: in the terminal.
      terminal: input.host.sudo,
      cancellable: false,
      command: (s) =>
        s.toplevel ? onTarget(input, [nixEnv, '-p', profile, '--set', s.toplevel], { terminal: input.host.sudo }) : undefined,
    });
  }
  steps.push(activateStep(input, action, (s) => s.toplevel));
  if (action === 'switch' || action === 'boot') steps.push(generationsStep(input));
  return steps;
}

/** Every step: the preview, then the apply steps (what `deploy()` runs with a confirmation between). */
export function deploySteps(input: DeployInput): { preview: Step[]; apply: Step[] } {
  return { preview: previewSteps(input), apply: applySteps(input) };
}

/**
 * Roll back to generation `n`: the profile points at it again (`nix-env --switch-generation`), then its toplevel is
 * activated with `switch` (or `boot`). The generation's toplevel comes from a generations listing.
 */
export function rollbackSteps(
  input: Pick<DeployInput, 'host' | 'sshOptions' | 'profile' | 'nix'>,
  n: number,
  action: 'switch' | 'boot' = 'switch',
): Step[] {
  const profile = input.profile ?? SYSTEM_PROFILE;
  const full = { ...input, action, flakeRef: '', hostName: '' } as DeployInput;
  const nixEnv = input.host.target ? 'nix-env' : nixTool(input.nix, 'nix-env');
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`No generation ${n}`);
  return [
    {
      id: 'switch-generation',
      title: `Point the profile at generation ${n}`,
      terminal: input.host.sudo,
      cancellable: false,
      command: () => onTarget(full, [nixEnv, '-p', profile, '--switch-generation', String(n)], { terminal: input.host.sudo }),
    },
    activateStep(full, action, () => generationLink(profile, n)),
    generationsStep(input),
  ];
}

/**
 * The same deployment through the real nixos-rebuild: one terminal step. NIX_SSHOPTS carries the ssh options and a
 * port (nixos-rebuild takes no port in `--target-host`); a target and a build host on two different ports cannot be
 * told apart there, and are refused.
 */
export function nixosRebuildSteps(input: DeployInput, flavor: RebuildFlavor, program = 'nixos-rebuild'): Checked<Step[]> {
  const { target, build } = input.host;
  if (target?.port !== undefined && build?.port !== undefined && target.port !== build.port) {
    return {
      ok: false,
      message: 'nixos-rebuild takes one ssh port for both hosts (NIX_SSHOPTS): the target and the build host use different ones.',
    };
  }
  const args = nixosRebuildDeployArgs(input.action, input.flakeRef, input.hostName, {
    ...input.nixOptions,
    ...(target ? { targetHost: sshDestination(target) } : {}),
    ...(build ? { buildHost: sshDestination(build) } : {}),
    useSubstitutes: input.host.substituteOnTarget,
    sudo: input.host.sudo,
    askSudoPassword: input.host.sudo,
    flavor,
  });
  if (!args.ok) return { ok: false, message: args.error.message };
  const port = target?.port !== undefined ? target : build;
  const env = target || build ? { NIX_SSHOPTS: nixSshOpts(input.sshOptions ?? [], port) } : undefined;
  return {
    ok: true,
    value: [
      {
        id: 'nixos-rebuild',
        title: `nixos-rebuild ${input.action}`,
        terminal: true,
        cancellable: false,
        command: () => ({ file: program, args: args.value, ...(env ? { env } : {}) }),
      },
    ],
  };
}
