// How the airgap core runs nix: through an `exec` the caller gives (the editor's gateway: Workspace Trust, the log;
// tests: the process layer), with the user's nix options. Failures become AirgapErrors whose kind says what to do.
// No `vscode` import.
import { nixArgs, nixEnv, type NixCommandOptions } from '../nix/args';
import { CancelledError, RunError, type RunOptions, type RunResult } from '../nix/process';
import { isUnsignedRefusal } from '../nix/sign';
import { readableOutput } from '../deploy/runner';

export type Exec = (file: string, args: readonly string[], opts: RunOptions) => Promise<RunResult>;

export interface NixRunner {
  /** The nix program (absolute, or `nix` on PATH). */
  nix: string;
  exec: Exec;
  /** The user's options for every nix command (offline, extra arguments). */
  options?: NixCommandOptions;
  /** The environment nix starts from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export type AirgapErrorKind =
  /** A store refused paths not signed by a key it trusts (the deploy core's `unsigned`). */
  | 'unsigned'
  /** A file of the medium does not match its .narinfo (tampered with, or damaged). */
  | 'corrupt'
  /** The medium lacks a path it should hold. */
  | 'incomplete'
  | 'failed';

export class AirgapError extends Error {
  constructor(
    readonly kind: AirgapErrorKind,
    message: string,
    readonly command: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'AirgapError';
  }
}

const CORRUPT =
  /hash mismatch|NAR hash|decompression failed|Failed to open archive|bad archive|input compressed with|doesn't match checksum|not a valid NAR|unexpected end-of-file|bad NAR|NAR info file .* is corrupt|signature .* is invalid/i;
const INCOMPLETE = /does not exist in binary cache|is not valid|not found in binary cache|No such file or directory/;

/** Words for a failed nix command of an export, an import or a readiness check. */
export function classifyAirgapFailure(output: string, what: string): { kind: AirgapErrorKind; message: string } {
  if (isUnsignedRefusal(output)) {
    return {
      kind: 'unsigned',
      message: `${what}: the store refused paths that are not signed by a key it trusts. Add the medium's public key (in its manifest) to trusted-public-keys in nix.conf, or to nixFlakes.airgap.trustedPublicKeys when you are a trusted user.`,
    };
  }
  if (CORRUPT.test(output))
    return {
      kind: 'corrupt',
      message: `${what}: a file of the medium does not match what its .narinfo says (changed or damaged); nothing of it was imported.`,
    };
  if (INCOMPLETE.test(output)) return { kind: 'incomplete', message: `${what}: the medium lacks a store path it should hold.` };
  return {
    kind: 'failed',
    message: `${what} failed: ${output
      .split('\n')
      .filter((l) => l.trim())
      .slice(-3)
      .join(' ')}`,
  };
}

/** Runs nix; a failure (other than a cancel) becomes an AirgapError. */
export async function runNix(
  r: NixRunner,
  sub: string[],
  rest: string[],
  opts: RunOptions & { flakeOptions?: boolean; what: string },
): Promise<RunResult> {
  const { flakeOptions, what, ...runOpts } = opts;
  const args = nixArgs(sub, rest, { ...r.options, flakeOptions: flakeOptions ?? false });
  try {
    return await r.exec(r.nix, args, { ...runOpts, env: nixEnv(r.env ?? process.env) });
  } catch (e) {
    if (e instanceof CancelledError || !(e instanceof RunError)) throw e;
    const output = readableOutput(e.stderrLines);
    const c = classifyAirgapFailure(output, what);
    throw new AirgapError(c.kind, c.message, e.command, output);
  }
}
