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
    return { ok: false, error: { kind: 'unquotable-name', message: `The host name ${JSON.stringify(host)} cannot be passed to nixos-rebuild.` } };
  }
  const options: string[] = [];
  const extra = sanitizeExtraArgs(opts.extraArgs ?? []).args;
  for (let i = 0; i < extra.length; i++) {
    if (extra[i] === '--option' && i + 2 < extra.length) {
      options.push('--option', extra[i + 1], extra[i + 2]);
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
