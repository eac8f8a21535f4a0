// Which configuration a deploy command acts on (a tree item, a caller's `{ flake, host }` or `{ flake, home }`, or a
// pick from the palette), and how it is deployed: `nixFlakes.hosts.<name>` of its folder, checked by the core, with
// the machine-scoped settings (the method, the ssh options, the signing key) that a repository cannot set.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { asTarget } from '../../workspace/targets';
import { checkHostSettings, checkSshOptions, parseSshAddress, type Checked, type CheckedHost } from '../../core/deploy';

/** A NixOS host (`nixosConfigurations.<name>`) or a home-manager configuration (`homeConfigurations.<name>`). */
export interface ConfigRef {
  flake: Flake;
  kind: 'nixos' | 'home';
  name: string;
}

const CATEGORY = { nixos: 'nixosConfigurations', home: 'homeConfigurations' } as const;

/** The configuration a command's argument stands for, when it is one of `kind`. */
export function configOf(arg: unknown, kind: ConfigRef['kind']): ConfigRef | undefined {
  const t = asTarget(arg);
  if (t) {
    const name = t.attrPath[1];
    return t.attrPath[0] === CATEGORY[kind] && name !== undefined ? { flake: t.flake, kind, name } : undefined;
  }
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { flake?: Partial<Flake>; host?: unknown; home?: unknown };
  const name = kind === 'nixos' ? a.host : a.home;
  const flake = a.flake;
  if (
    typeof name !== 'string' ||
    name === '' ||
    !flake ||
    !(flake.uri instanceof vscode.Uri) ||
    !flake.folder ||
    typeof flake.label !== 'string'
  )
    return undefined;
  return { flake: flake as Flake, kind, name };
}

/** Every configuration of `kind` in the workspace's flakes, from the outputs listing (which evaluates none of them). */
export async function listConfigs(ctx: Ctx, outputs: OutputsService, kind: ConfigRef['kind']): Promise<ConfigRef[]> {
  const out: ConfigRef[] = [];
  for (const flake of await ctx.flakes()) {
    const s = await outputs.ensure(flake);
    const cat = s.model?.categories.find((c) => c.name === CATEGORY[kind]);
    for (const leaf of cat?.leaves ?? []) {
      const name = leaf.attrPath[1];
      if (name !== undefined && leaf.kind !== 'omitted') out.push({ flake, kind, name });
    }
  }
  return out;
}

/** The configuration of the argument, or one the user picks (none: undefined, after saying why). */
export async function resolveConfig(
  ctx: Ctx,
  outputs: OutputsService,
  arg: unknown,
  kind: ConfigRef['kind'],
  verb: string,
): Promise<ConfigRef | undefined> {
  const given = configOf(arg, kind);
  if (given) return given;
  const all = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Listing flake outputs' }, () =>
    listConfigs(ctx, outputs, kind),
  );
  const what = kind === 'nixos' ? 'NixOS host' : 'home-manager configuration';
  if (all.length === 0) {
    void vscode.window.showInformationMessage(`No ${what} (${CATEGORY[kind]}) was found in the workspace's flakes.`);
    return undefined;
  }
  const many = new Set(all.map((c) => c.flake.uri.toString())).size > 1;
  const picked = await vscode.window.showQuickPick(
    all.map((c) => ({
      label: c.name,
      description: [many ? c.flake.label : undefined, describeTarget(ctx, c)].filter(Boolean).join(' · '),
      config: c,
    })),
    { title: `Nix: ${verb}`, placeHolder: `Choose a ${what}` },
  );
  return picked?.config;
}

/** The raw settings of one configuration (`nixFlakes.hosts.<name>` of its folder). */
function rawSettings(ctx: Ctx, c: ConfigRef): unknown {
  const hosts = ctx.settings(c.flake.folder).hosts;
  return Object.prototype.hasOwnProperty.call(hosts, c.name) ? hosts[c.name] : undefined;
}

/** Keys a workspace may set for a host; the others (which program runs, a key file) are machine settings. */
const WORKSPACE_KEYS = ['targetHost', 'buildHost', 'substituteOnTarget', 'sudo'];

/**
 * How a configuration is deployed: the workspace's `nixFlakes.hosts.<name>` (only its target host, build host,
 * substitutes and sudo), checked, with the machine-scoped method and signing key; and the machine-scoped ssh options.
 */
export function hostSettings(ctx: Ctx, c: ConfigRef): Checked<{ host: CheckedHost; sshOptions: string[] }> {
  const raw = rawSettings(ctx, c);
  let workspace: unknown = raw;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    const ignored = Object.keys(r).filter((k) => !WORKSPACE_KEYS.includes(k));
    if (ignored.length)
      ctx.log.warn(
        `nixFlakes.hosts.${c.name}: ignored ${ignored.join(', ')} (the method and the signing key are machine settings: nixFlakes.deploy.*)`,
      );
    workspace = Object.fromEntries(WORKSPACE_KEYS.filter((k) => Object.prototype.hasOwnProperty.call(r, k)).map((k) => [k, r[k]]));
  }
  const s = ctx.settings(c.flake.folder);
  const checked = checkHostSettings(workspace);
  if (!checked.ok) return { ok: false, message: `nixFlakes.hosts.${c.name}: ${checked.message}` };
  const key = s.deploySigningKeyFile;
  const withMachine = checkHostSettings({
    ...(workspace as object),
    useNixosRebuild: s.deployMethod === 'nixos-rebuild',
    ...(key ? { signingKeyFile: key } : {}),
  });
  if (!withMachine.ok) return { ok: false, message: `nixFlakes.deploy.signingKeyFile: ${withMachine.message}` };
  const opts = checkSshOptions(s.deploySshOptions);
  if (!opts.ok) return { ok: false, message: `nixFlakes.deploy.sshOptions: ${opts.message}` };
  return { ok: true, value: { host: withMachine.value, sshOptions: opts.value } };
}

/** "on web.example.org", "here" — where a configuration is activated, for picks and messages. */
export function describeTarget(ctx: Ctx, c: ConfigRef): string {
  if (c.kind === 'home') return 'this machine';
  const s = hostSettings(ctx, c);
  return s.ok ? (s.value.host.target?.text ?? 'this machine') : 'settings need fixing';
}

/**
 * Edits `nixFlakes.hosts.<name>` of the configuration's folder from picks: target host, build host, substitutes on
 * the target, sudo. Written only when the user accepts a value (the folder's settings file).
 */
export async function configureHost(ctx: Ctx, c: ConfigRef): Promise<boolean> {
  const raw = rawSettings(ctx, c);
  const current: Record<string, unknown> =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : {};
  type Item = vscode.QuickPickItem & { key: string };
  const str = (k: string) => (typeof current[k] === 'string' && current[k] !== '' ? (current[k] as string) : undefined);
  const items: Item[] = [
    {
      key: 'targetHost',
      label: 'Target host',
      description: str('targetHost') ?? 'this machine',
      detail: 'Where the system is activated: host, user@host, host:port or an ssh_config alias',
    },
    {
      key: 'buildHost',
      label: 'Build host',
      description: str('buildHost') ?? 'this machine',
      detail: 'Where the system is built (Nix remote building over ssh-ng://)',
    },
    {
      key: 'substituteOnTarget',
      label: 'Substitute on the target',
      description: current.substituteOnTarget === true ? 'on' : 'off',
      detail: 'The target fetches from its own binary caches what they have',
    },
    {
      key: 'sudo',
      label: 'Use sudo',
      description: current.sudo === true ? 'on' : 'off',
      detail: 'Set the profile and activate through sudo (the ssh user is not root)',
    },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `Deployment settings of ${c.name}`,
    placeHolder: 'Choose a setting to change',
  });
  if (!picked) return false;
  if (picked.key === 'targetHost' || picked.key === 'buildHost') {
    const what = picked.key === 'targetHost' ? 'The target host' : 'The build host';
    const value = await vscode.window.showInputBox({
      title: `${picked.label} of ${c.name}`,
      value: str(picked.key) ?? '',
      prompt: 'Empty: this machine',
      validateInput: (v) => {
        if (v === '') return undefined;
        const a = parseSshAddress(v, what);
        return a.ok ? undefined : a.message;
      },
    });
    if (value === undefined) return false;
    if (value === '') delete current[picked.key];
    else current[picked.key] = value;
  } else {
    current[picked.key] = current[picked.key] !== true;
  }
  const config = vscode.workspace.getConfiguration('nixFlakes', c.flake.folder);
  const all = { ...(config.inspect<Record<string, unknown>>('hosts')?.workspaceFolderValue ?? {}) };
  all[c.name] = current;
  await config.update('hosts', all, vscode.ConfigurationTarget.WorkspaceFolder);
  return true;
}
