// Typed access to the extension's settings, read per resource (multi-root). The only place that knows their names.
import * as vscode from 'vscode';

export const SECTION = 'nixFlakes';

export interface Settings {
  /** Machine-scoped: a repository's settings cannot change it. */
  nixPath: string;
  /** Machine-scoped: a repository's settings cannot inject flags. */
  extraArgs: string[];
  offline: boolean;
  systems: string[];
  autoRefresh: boolean;
  /** `nix` (nix build --dry-run, works anywhere) or `nixos-rebuild` (the real script, where installed). */
  dryBuildCommand: 'nix' | 'nixos-rebuild';
  /** Re-run the last dry-build of a flake when one of its files is saved. */
  dryBuildOnSave: boolean;
  /** Build lenses above derivations. */
  codeLensEnabled: boolean;
  /** More builder function names the lenses recognise (besides mkDerivation, buildGoModule, …). */
  codeLensBuilders: string[];
  /** Machine-scoped: builds leave `result-<name>` links in the flake's folder. */
  buildOutLinks: boolean;
  /** Machine-scoped: updates commit flake.lock (`--commit-lock-file`). */
  commitLockFile: boolean;
  /**
   * How each NixOS host of the workspace is deployed (`nixFlakes.hosts.<name>`): target host, build host, substitutes
   * on the target, sudo. Raw values (a workspace file is untrusted input): checked by the deploy core before use.
   */
  hosts: Record<string, unknown>;
  /** Machine-scoped: `nix` (the steps with Nix alone) or `nixos-rebuild` (the real program, where installed). */
  deployMethod: 'nix' | 'nixos-rebuild';
  /** Machine-scoped: options for every ssh connection of a deployment (and NIX_SSHOPTS), e.g. `["-F", "~/.ssh/deploy_config"]`. */
  deploySshOptions: string[];
  /** Machine-scoped: a secret key file the closure is signed with before it is copied to a target. */
  deploySigningKeyFile: string;
  /** Format Document on .nix files uses the flake's `formatter.<system>`. */
  formatterEnabled: boolean;
  /** Machine-scoped: the secret key file offered for signing an offline medium (empty: chosen when exporting). */
  airgapSigningKeyFile: string;
  /** Machine-scoped: public keys trusted for imports from offline media, besides nix.conf's (needs a trusted user). */
  airgapTrustedPublicKeys: string[];
  /** Machine-scoped: how an offline medium's files are compressed. */
  airgapCompression: 'zstd' | 'xz' | 'none';
  /** Per folder: a dev shell whose flake changed is evaluated again at once (else it is shown as stale). */
  devShellAutoReload: boolean;
  /** Machine-scoped: the active dev shell is also applied to the extension host's own environment. */
  devShellApplyToExtensionHost: boolean;
}

export function settings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    nixPath: c.get<string>('nixPath', '') ?? '',
    extraArgs: strings(c.get('extraArgs')),
    offline: c.get<boolean>('offline', false) === true,
    systems: strings(c.get('systems')),
    autoRefresh: c.get<boolean>('autoRefresh', true) !== false,
    dryBuildCommand: c.get<string>('dryBuild.command') === 'nixos-rebuild' ? 'nixos-rebuild' : 'nix',
    dryBuildOnSave: c.get<boolean>('dryBuild.runOnSave', false) === true,
    codeLensEnabled: c.get<boolean>('codeLens.enabled', true) !== false,
    codeLensBuilders: strings(c.get('codeLens.builders')),
    buildOutLinks: c.get<boolean>('build.outLinks', false) === true,
    commitLockFile: c.get<boolean>('inputs.commitLockFile', false) === true,
    hosts: plainObject(c.get('hosts')),
    deployMethod: c.get<string>('deploy.method') === 'nixos-rebuild' ? 'nixos-rebuild' : 'nix',
    deploySshOptions: strings(c.get('deploy.sshOptions')),
    deploySigningKeyFile: typeof c.get('deploy.signingKeyFile') === 'string' ? (c.get<string>('deploy.signingKeyFile') ?? '') : '',
    formatterEnabled: c.get<boolean>('formatter.enabled', true) !== false,
    airgapSigningKeyFile: typeof c.get('airgap.signingKeyFile') === 'string' ? (c.get<string>('airgap.signingKeyFile') ?? '') : '',
    airgapTrustedPublicKeys: strings(c.get('airgap.trustedPublicKeys')),
    airgapCompression: ((v) => (v === 'xz' || v === 'none' ? v : 'zstd'))(c.get('airgap.compression')),
    devShellAutoReload: c.get<boolean>('devShell.autoReload', false) === true,
    devShellApplyToExtensionHost: c.get<boolean>('devShell.applyToExtensionHost', false) === true,
  };
}

function plainObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {};
}

/** The dev shell settings as written (for change events). */
export const DEV_SHELL_SETTINGS = {
  autoReload: `${SECTION}.devShell.autoReload`,
  applyToExtensionHost: `${SECTION}.devShell.applyToExtensionHost`,
} as const;

/** True when a configuration change touches one of the given settings. */
export function affects(e: vscode.ConfigurationChangeEvent, ...names: (keyof Settings)[]): boolean {
  return names.some((n) => e.affectsConfiguration(`${SECTION}.${n}`));
}
