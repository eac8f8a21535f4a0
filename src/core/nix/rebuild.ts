// The argument list of `nixos-rebuild` for a flake's host, with the guarantees every nix command of the extension
// has: the lock file is never written unless asked, `--offline` and the user's `--option`s go along, and the host
// name is checked before it reaches a command line. No `vscode` import.
import { nixosToplevelInstallable, type InstallableResult } from '../flake/installable';
import { sanitizeExtraArgs } from './args';

export interface RebuildOptions {
  offline?: boolean;
  /** The user's extra nix arguments; nixos-rebuild passes on only `--option NAME VALUE`, so only those are kept. */
  extraArgs?: readonly string[];
  /** Let nix write flake.lock (a run the user started to update it); default: `--no-write-lock-file`. */
  writeLockFile?: boolean;
}

/**
 * `nixos-rebuild <action> --flake <ref>#<host> …`. Fails for a host name no attribute path can hold (nixos-rebuild
 * puts it between quotes in `nixosConfigurations."<host>"`).
 */
export function nixosRebuildArgs(action: string, flakeRef: string, host: string, opts: RebuildOptions = {}): InstallableResult<string[]> {
  const checked = nixosToplevelInstallable(flakeRef, host);
  if (!checked.ok) return checked;
  if (/[#?\n\r\0]/.test(host)) {
    return {
      ok: false,
      error: { kind: 'unquotable-name', message: `The host name ${JSON.stringify(host)} cannot be passed to nixos-rebuild.` },
    };
  }
  const options: string[] = [];
  const extra = sanitizeExtraArgs(opts.extraArgs ?? []).args;
  for (let i = 0; i < extra.length; i++) {
    if (extra[i] === '--option' && i + 2 < extra.length) {
      options.push('--option', ...extra.slice(i + 1, i + 3));
      i += 2;
    }
  }
  return {
    ok: true,
    value: [
      action,
      '--flake',
      `${flakeRef}#${host}`,
      ...(opts.writeLockFile ? [] : ['--no-write-lock-file']),
      ...(opts.offline ? ['--offline'] : []),
      ...options,
      '--show-trace',
    ],
  };
}

/** Which nixos-rebuild: the bash script (until NixOS 25.05) or nixos-rebuild-ng (the default since 25.11). */
export type RebuildFlavor = 'bash' | 'ng';

/**
 * Tells the flavor from `nixos-rebuild --help` output: nixos-rebuild-ng's options include `--sudo` and
 * `--ask-sudo-password`; the bash script (its man page) knows only `--use-remote-sudo`.
 */
export function rebuildFlavor(helpText: string): RebuildFlavor {
  return /(?:^|[\s,[])--(?:sudo|ask-sudo-password|elevate)\b/m.test(helpText) ? 'ng' : 'bash';
}

export interface RebuildDeployOptions extends RebuildOptions {
  /** `user@host` for `--target-host` (a port goes through NIX_SSHOPTS). */
  targetHost?: string;
  /** `user@host` for `--build-host`. */
  buildHost?: string;
  /** `--use-substitutes`: the target fetches from its substituters what they have. */
  useSubstitutes?: boolean;
  /** Activate through sudo on the target: `--use-remote-sudo` (bash), `--sudo` or `--ask-sudo-password` (ng). */
  sudo?: boolean;
  /** With `sudo` on nixos-rebuild-ng: prompt for the password (`--ask-sudo-password`); else `--sudo`. */
  askSudoPassword?: boolean;
  flavor?: RebuildFlavor;
}

const SSH_DESTINATION = /^[A-Za-z0-9_.][A-Za-z0-9._-]*@?[A-Za-z0-9_[\]:.%-]*$/;

/**
 * `nixos-rebuild <action> --flake <ref>#<host> --target-host … --build-host … [--use-substitutes] [sudo flag] …`:
 * nixosRebuildArgs with the deployment options. A host address that starts with `-`, holds whitespace or anything
 * but an `user@host` address is refused.
 */
export function nixosRebuildDeployArgs(
  action: string,
  flakeRef: string,
  host: string,
  opts: RebuildDeployOptions = {},
): InstallableResult<string[]> {
  const base = nixosRebuildArgs(action, flakeRef, host, opts);
  if (!base.ok) return base;
  const extra: string[] = [];
  for (const [flag, value] of [
    ['--target-host', opts.targetHost],
    ['--build-host', opts.buildHost],
  ] as const) {
    if (value === undefined) continue;
    if (!SSH_DESTINATION.test(value)) {
      return {
        ok: false,
        error: { kind: 'unquotable-name', message: `The address ${JSON.stringify(value)} cannot be passed to nixos-rebuild ${flag}.` },
      };
    }
    extra.push(flag, value);
  }
  if (opts.useSubstitutes) extra.push('--use-substitutes');
  if (opts.sudo) {
    if ((opts.flavor ?? 'bash') === 'bash') extra.push('--use-remote-sudo');
    else extra.push(opts.askSudoPassword ? '--ask-sudo-password' : '--sudo');
  }
  return { ok: true, value: [...base.value.slice(0, 3), ...extra, ...base.value.slice(3)] };
}
