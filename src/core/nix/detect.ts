// Finding the nix binary and what it is. No `vscode` import.
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { capabilities, describe, MIN_VERSION, NixCapabilities, NixVersion, parseNixVersion } from './version';
import { CancelledError, run, RunOptions, SpawnError } from './process';

export interface NixInstallation {
  /** Absolute path of the binary that was run. */
  path: string;
  version: NixVersion;
  caps: NixCapabilities;
  /** `System type:` of `nix --version -vv`, e.g. `x86_64-linux`. */
  system: string;
  /** `Store directory:`, normally `/nix/store`. */
  storeDir: string;
}

export type DetectResult =
  | { ok: true; nix: NixInstallation }
  | { ok: false; reason: 'not-found' | 'too-old' | 'unrecognised' | 'failed' | 'restricted'; message: string; version?: NixVersion };

/** The Nix system name of this machine as Node sees it, for when nix does not say. */
export function hostSystem(arch: string = process.arch, platform: string = process.platform): string {
  const a = ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
  return `${a}-${platform}`;
}

/** Looks `name` up on PATH (or checks an explicit path); undefined when not found or not executable. */
export async function which(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates =
    isAbsolute(name) || name.includes('/')
      ? [name]
      : pathEnv
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Parses the output of `nix --version -vv`. */
export function parseVersionOutput(out: string): { version?: NixVersion; system?: string; storeDir?: string } {
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(out)?.[1];
  return { version: parseNixVersion(out), system: field('System type'), storeDir: field('Store directory') };
}

/**
 * Finds and identifies nix: the configured path if any, else `nix` on PATH. Never throws.
 */
export async function detectNix(
  configuredPath: string | undefined,
  opts: Pick<RunOptions, 'env' | 'log' | 'signal'> & {
    /** How long `nix --version` may take (default 20 s): a nix that hangs (a stuck daemon socket, a network home) must not hold every feature. */
    timeoutMs?: number;
    /** Runs the probe (default: the process layer's `run`); the extension passes its gateway. */
    run?: typeof run;
  } = {},
): Promise<DetectResult> {
  const wanted = configuredPath?.trim() || 'nix';
  const path = await which(wanted, opts.env?.PATH ?? process.env.PATH);
  if (!path) {
    return {
      ok: false,
      reason: 'not-found',
      message: configuredPath?.trim()
        ? `The configured nix (${wanted}) does not exist or is not executable. Fix the setting nixFlakes.nixPath.`
        : 'nix was not found on PATH. Install Nix 2.8 or newer, or set nixFlakes.nixPath to the nix binary.',
    };
  }
  let out: string;
  try {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const bound = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, bound]) : bound;
    const r = await (opts.run ?? run)(path, ['--version', '-vv'], { env: opts.env, log: opts.log, signal, maxStdout: 1 << 20 });
    out = r.stdout;
  } catch (e) {
    if (e instanceof SpawnError) return { ok: false, reason: 'not-found', message: `${path} could not be started (${e.code}).` };
    if (e instanceof CancelledError && !opts.signal?.aborted) {
      return {
        ok: false,
        reason: 'failed',
        message: `${path} --version did not answer within ${Math.round((opts.timeoutMs ?? 20_000) / 1000)} s; it was stopped. Check that nix works in a terminal (a stuck nix-daemon?), then run "Nix: Show Nix Version".`,
      };
    }
    return { ok: false, reason: 'failed', message: `${path} --version failed: ${(e as Error).message}` };
  }
  const parsed = parseVersionOutput(out);
  if (!parsed.version) {
    return { ok: false, reason: 'unrecognised', message: `${path} --version printed no version: ${out.split('\n')[0] ?? ''}` };
  }
  const caps = capabilities(parsed.version);
  if (!caps.supported) {
    return {
      ok: false,
      reason: 'too-old',
      version: parsed.version,
      message: `${describe(parsed.version)} is too old: flakes need Nix ${MIN_VERSION.major}.${MIN_VERSION.minor} or newer.`,
    };
  }
  return {
    ok: true,
    nix: { path, version: parsed.version, caps, system: parsed.system ?? hostSystem(), storeDir: parsed.storeDir ?? '/nix/store' },
  };
}
