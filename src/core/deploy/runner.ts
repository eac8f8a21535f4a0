// Runs deployment steps (plan.ts) one after another: each step's command through the process layer (or, for a
// terminal step, through the editor's terminal), its output read into the state, progress reported per step, and
// cancellation checked before every step. Steps that change the target (profile, activation) are never stopped
// halfway: cancelling before them leaves the target as it was. No `vscode` import.
import { CancelledError, ExitError, run, RunError, type RunResult } from '../nix/process';
import { parseLogLine } from '../log/internalJson';
import { isUnsignedRefusal } from '../nix/sign';
import { stripAnsi, truncate } from '../text';
import type { Command, DeployState, Step, StepId } from './plan';

export type DeployProgress =
  | { type: 'start'; step: StepId; title: string; index: number; total: number; command: Command }
  | { type: 'skipped'; step: StepId; title: string; index: number; total: number }
  | { type: 'done'; step: StepId; title: string; index: number; total: number; durationMs: number }
  | { type: 'line'; step: StepId; stream: 'stdout' | 'stderr'; line: string };

/** How commands are run: the editor passes its gateway (Workspace Trust, the log); tests the process layer. */
export interface DeployIo {
  exec(
    cmd: Command,
    opts: { signal?: AbortSignal; onStdoutLine?: (l: string) => void; onStderrLine?: (l: string) => void },
  ): Promise<RunResult>;
  /** Runs a terminal step where the user sees it and can type; resolves with its exit code. Default: exec. */
  terminal?(cmd: Command, step: Step): Promise<{ exitCode: number; output?: string[] }>;
}

export interface RunStepsOptions {
  signal?: AbortSignal;
  onProgress?: (p: DeployProgress) => void;
  io?: DeployIo;
  /** The environment commands start from (the default io only); each command's `env` is added on top. */
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
  /** The target's name in messages (default "the target"). */
  target?: string;
}

export type DeployErrorKind =
  'unsigned' | 'host-key' | 'auth' | 'unreachable' | 'sudo-password' | 'not-found' | 'activation-failed' | 'failed';

/** A step failed: which one, why in words a person can act on, and the command's output. */
export class DeployError extends Error {
  constructor(
    readonly step: StepId,
    readonly kind: DeployErrorKind,
    message: string,
    readonly command: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

/** The default io: the process layer, with `env` under each command's own. */
export function processIo(env: NodeJS.ProcessEnv = process.env, log?: (m: string) => void): DeployIo {
  return {
    exec: (cmd, opts) =>
      run(cmd.file, cmd.args, {
        env: { ...env, ...cmd.env },
        signal: opts.signal,
        onStdoutLine: opts.onStdoutLine,
        onStderrLine: opts.onStderrLine,
        keepStdout: true,
        log,
      }),
  };
}

/** stderr lines as text: internal-json records reduced to their messages, escapes and control characters gone. */
export function readableOutput(lines: readonly string[], max = 40): string {
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('@nix ')) {
      const ev = parseLogLine(line);
      if (ev.kind === 'msg' && ev.level <= 1) out.push(ev.msg);
      else if (ev.kind === 'result' && ev.result.type === 'buildLogLine') out.push(ev.result.line);
    } else out.push(line);
  }
  return truncate(stripAnsi(out.slice(-max).join('\n')), 8000);
}

const SIGN_HELP =
  'sign them with a key the target trusts (nix key generate-secret --key-name NAME > key.sec; nix key convert-secret-to-public < key.sec, ' +
  "added to trusted-public-keys in the target's nix.conf; then nix store sign -r --key-file key.sec <path>, or set the host's signing key file), " +
  'or make the user that connects a trusted user on the target (trusted-users in its nix.conf)';

/** Words for a failed step, from its output (untrusted: only matched, never interpreted). */
export function classifyFailure(step: StepId, output: string, target?: string): { kind: DeployErrorKind; message: string } {
  const where = target ?? 'the target';
  if (isUnsignedRefusal(output)) {
    return { kind: 'unsigned', message: `${where} refused paths that are not signed by a key it trusts: ${SIGN_HELP}.` };
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(output)) {
    return {
      kind: 'host-key',
      message: `ssh could not verify the host key of ${where}: connect once with ssh in a terminal to accept it, or add it to known_hosts.`,
    };
  }
  if (/Permission denied \(/.test(output)) {
    return {
      kind: 'auth',
      message: `ssh could not log in to ${where} without a prompt: use a key (IdentityFile in ssh_config, or a key ssh already holds).`,
    };
  }
  if (/Could not resolve hostname|Connection refused|Connection timed out|No route to host|Network is unreachable/.test(output)) {
    return {
      kind: 'unreachable',
      message: `${where} cannot be reached: ${truncate(output.split('\n').find((l) => /ssh:|Connection|resolve/.test(l)) ?? '', 300)}`,
    };
  }
  if (/a terminal is required|a password is required|no tty present/.test(output)) {
    return {
      kind: 'sudo-password',
      message: `sudo on ${where} needs a password: run this step in a terminal, or allow it without one (NOPASSWD).`,
    };
  }
  if (/command not found|No such file or directory/.test(output) && (step === 'activate' || step === 'profile')) {
    return {
      kind: 'not-found',
      message: `A program the step needs is missing on ${where}: ${truncate(output.split('\n').pop() ?? '', 300)}`,
    };
  }
  if (step === 'activate')
    return {
      kind: 'activation-failed',
      message: `The activation failed; the output says why, and an earlier generation can be activated again (roll back).`,
    };
  return { kind: 'failed', message: `${step} failed` };
}

async function runStep(
  step: Step,
  cmd: Command,
  io: DeployIo,
  signal: AbortSignal | undefined,
  onProgress: RunStepsOptions['onProgress'],
): Promise<string> {
  const onStdoutLine = onProgress ? (line: string) => onProgress({ type: 'line', step: step.id, stream: 'stdout', line }) : undefined;
  const onStderrLine = onProgress ? (line: string) => onProgress({ type: 'line', step: step.id, stream: 'stderr', line }) : undefined;
  if (step.terminal && io.terminal) {
    const r = await io.terminal(cmd, step);
    if (r.exitCode !== 0 && !(step.okExitCodes ?? []).includes(r.exitCode)) {
      throw new ExitError(`${cmd.file} ${cmd.args.join(' ')}`, r.exitCode, undefined, r.output ?? [], '');
    }
    return (r.output ?? []).join('\n');
  }
  try {
    const r = await io.exec(cmd, { signal: step.cancellable ? signal : undefined, onStdoutLine, onStderrLine });
    return r.stdout;
  } catch (e) {
    if (e instanceof ExitError && e.exitCode !== undefined && (step.okExitCodes ?? []).includes(e.exitCode)) return e.stdout;
    throw e;
  }
}

/**
 * Runs `steps` in order on `state`. Throws CancelledError when cancelled (before a step, or during a cancellable one)
 * and DeployError when a step fails; the state holds what the steps before found.
 */
export async function runSteps(steps: readonly Step[], state: DeployState, opts: RunStepsOptions = {}): Promise<DeployState> {
  const io = opts.io ?? processIo(opts.env, opts.log);
  const total = steps.length;
  for (const [index, step] of steps.entries()) {
    if (opts.signal?.aborted) throw new CancelledError(`before ${step.id}`, []);
    const cmd = step.command(state);
    if (!cmd) {
      opts.onProgress?.({ type: 'skipped', step: step.id, title: step.title, index, total });
      continue;
    }
    opts.onProgress?.({ type: 'start', step: step.id, title: step.title, index, total, command: cmd });
    const started = Date.now();
    let stdout: string;
    try {
      stdout = await runStep(step, cmd, io, opts.signal, opts.onProgress);
    } catch (e) {
      if (e instanceof CancelledError || !(e instanceof RunError)) throw e;
      const output = readableOutput(e.stderrLines);
      const c = classifyFailure(step.id, output, opts.target);
      throw new DeployError(
        step.id,
        c.kind,
        c.kind === 'failed' ? `${step.title} failed: ${output.split('\n').slice(-3).join(' ') || e.message}` : c.message,
        e.command,
        output,
      );
    }
    step.parse?.(stdout, state);
    opts.onProgress?.({ type: 'done', step: step.id, title: step.title, index, total, durationMs: Date.now() - started });
  }
  return state;
}

/**
 * A whole deployment: the preview steps, `confirm` with what they found (false: stop, nothing changed), the apply
 * steps. Resolves with the state, or undefined when not confirmed.
 */
export async function deploy(
  plan: { preview: readonly Step[]; apply: readonly Step[] },
  confirm: (state: DeployState) => boolean | Promise<boolean>,
  opts: RunStepsOptions = {},
): Promise<DeployState | undefined> {
  const state: DeployState = {};
  await runSteps(plan.preview, state, opts);
  if (opts.signal?.aborted) throw new CancelledError('before the confirmation', []);
  if (!(await confirm(state))) return undefined;
  return runSteps(plan.apply, state, opts);
}
