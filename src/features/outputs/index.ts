// Wires the Flake Outputs view: the service, the tree, auto-refresh on file changes, diagnostics of failed
// evaluations, and the Build / Run / Develop / Copy actions on its items and in the palette.
import * as vscode from 'vscode';
import { affects } from '../../config';
import { dirname } from 'node:path';
import { RestrictedError, type Ctx } from '../../context';
import type { Flake } from '../../flakes';
import { OutputsService } from './service';
import { LeafNode, Node, OutputsProvider, registerOutputsView, targetOf, OutputTarget } from './view';
import { Builds } from '../build/build';
import { flakeMapper, flakeRef, OwnedDiagnostics, placeDiagnostics } from '../diagnostics';
import { installable, shortInstallable } from '../../core/flake/installable';
import { allLeaves, OutputLeaf } from '../../core/flake/show';
import { EXPERIMENTAL, sanitizeExtraArgs } from '../../core/nix/args';

export interface Outputs {
  service: OutputsService;
  builds: Builds;
  view: vscode.TreeView<Node>;
  provider: OutputsProvider;
}

export function registerOutputs(ctx: Ctx): Outputs {
  const service = ctx.register(new OutputsService(ctx));
  const builds = ctx.register(new Builds(ctx));
  const { provider, view } = registerOutputsView(ctx, service);
  const evalDiagnostics = ctx.register(new OwnedDiagnostics('nix-flake-outputs'));

  // Failed evaluations go to Problems, at the workspace file; a good one clears its flake's entries.
  ctx.register(
    service.onDidChange(async (flake) => {
      if (!flake) return;
      const s = service.get(flake);
      if (s.evaluating) return;
      const nix = await ctx.nix();
      if (!nix.ok) return;
      const { placed } = await placeDiagnostics(s.errors, await flakeMapper(ctx, flake, nix.nix.storeDir));
      evalDiagnostics.set(flake.uri.toString(), placed);
    }),
  );

  // Auto-refresh: flake.nix, flake.lock and .nix files; debounced per flake in the service.
  const watcher = ctx.register(vscode.workspace.createFileSystemWatcher('**/{*.nix,flake.lock}'));
  const onFile = async (uri: vscode.Uri) => {
    if (!ctx.trusted || !ctx.settings(uri).autoRefresh) return;
    if (/\/(\.git|node_modules|result[^/]*)\//.test(uri.path)) return;
    if (uri.path.endsWith('/flake.nix')) ctx.forgetFlakes();
    for (const flake of await affectedFlakes(ctx, uri)) service.schedule(flake);
  };
  ctx.register(watcher.onDidChange(onFile), watcher.onDidCreate(onFile), watcher.onDidDelete(onFile));
  // Settings that change what nix lists (they are part of the cache key): the flakes they apply to are refreshed.
  ctx.register(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!ctx.trusted || !affects(e, 'nixPath', 'extraArgs', 'offline', 'systems')) return;
      for (const flake of await ctx.flakes()) {
        if (service.get(flake).evaluatedKey !== undefined && (e.affectsConfiguration('nixFlakes', flake.folder) || affects(e, 'nixPath'))) service.schedule(flake);
      }
    }),
  );

  const pickTarget = async (arg: unknown, what: 'build' | 'run' | 'develop'): Promise<OutputTarget | undefined> => {
    if (arg instanceof LeafNode) return targetOf(arg);
    if (isTarget(arg)) return arg;
    return quickPick(ctx, service, builds, what);
  };

  ctx.register(
    vscode.commands.registerCommand('nixFlakes.refresh', async () => {
      ctx.forgetFlakes();
      await ctx.updateState();
      const flakes = await ctx.flakes();
      await Promise.all(flakes.map((f) => service.evaluate(f, { force: true })));
      provider.refresh();
    }),
    vscode.commands.registerCommand('nixFlakes.build', async (arg?: unknown) => {
      const t = await pickTarget(arg, 'build');
      if (!t) return undefined;
      return builds.build({ flake: t.flake, attrPath: t.attrPath, display: t.display });
    }),
    vscode.commands.registerCommand('nixFlakes.run', async (arg?: unknown) => {
      const t = await pickTarget(arg, 'run');
      if (t) return openTerminal(ctx, t, 'run');
      return undefined;
    }),
    vscode.commands.registerCommand('nixFlakes.develop', async (arg?: unknown) => {
      const t = await pickTarget(arg, 'develop');
      if (t) return openTerminal(ctx, t, 'develop');
      return undefined;
    }),
    vscode.commands.registerCommand('nixFlakes.copyInstallable', async (arg?: unknown) => {
      const t = arg instanceof LeafNode ? targetOf(arg) : isTarget(arg) ? arg : await quickPick(ctx, service, builds, 'build');
      if (!t) return undefined;
      await vscode.env.clipboard.writeText(t.display);
      vscode.window.setStatusBarMessage(`Copied ${t.display}`, 3000);
      return t.display;
    }),
    vscode.commands.registerCommand('nixFlakes.showBuildLog', () => builds.output.show(true)),
  );
  return { service, builds, view, provider };
}

function isTarget(x: unknown): x is OutputTarget {
  const t = x as OutputTarget;
  return !!t && typeof t === 'object' && Array.isArray(t.attrPath) && !!t.flake && typeof t.display === 'string';
}

/** Flakes a changed file can affect: those whose folder contains it, else every flake of its workspace folder. */
async function affectedFlakes(ctx: Ctx, uri: vscode.Uri): Promise<Flake[]> {
  const flakes = await ctx.flakes();
  const inside = flakes.filter((f) => uri.fsPath.startsWith(`${f.uri.fsPath}/`) || dirname(uri.fsPath) === f.uri.fsPath);
  if (inside.length) return inside;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  return flakes.filter((f) => f.folder === folder);
}

function leafFits(leaf: OutputLeaf, what: 'build' | 'run' | 'develop'): boolean {
  if (leaf.kind === 'omitted') return false;
  return what === 'build' ? leaf.buildable : what === 'run' ? !!leaf.runnable : leaf.developable;
}

async function quickPick(ctx: Ctx, service: OutputsService, builds: Builds, what: 'build' | 'run' | 'develop'): Promise<OutputTarget | undefined> {
  if (!ctx.trusted) {
    void vscode.window.showWarningMessage('Restricted Mode: trust this folder to evaluate its flakes.');
    return undefined;
  }
  type Item = vscode.QuickPickItem & { target: OutputTarget; key: string };
  const recent = builds.recent();
  const items = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Listing flake outputs' }, async () => {
    const out: Item[] = [];
    const flakes = await ctx.flakes();
    for (const flake of flakes) {
      const s = await service.ensure(flake);
      if (!s.model) continue;
      for (const leaf of allLeaves(s.model)) {
        if (!leafFits(leaf, what) || (leaf.system && !s.systems.includes(leaf.system))) continue;
        const attrPath = leaf.buildAttrPath ?? leaf.attrPath;
        const display = shortInstallable('.', leaf.attrPath, { system: leaf.system, command: what });
        out.push({
          label: display,
          description: [leaf.derivationName, flakes.length > 1 ? flake.label : undefined].filter(Boolean).join(' · '),
          detail: leaf.description,
          target: { flake, attrPath, display },
          key: `${flake.uri.toString()}#${attrPath.join('\0')}`,
        });
      }
    }
    return out;
  });
  const rank = (i: Item) => {
    const r = recent.indexOf(i.key);
    return r < 0 ? Number.MAX_SAFE_INTEGER : r;
  };
  items.sort((a, b) => rank(a) - rank(b));
  for (const i of items) if (rank(i) !== Number.MAX_SAFE_INTEGER) i.description = `${i.description ? `${i.description} · ` : ''}recently built`;
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`No output to ${what} was found in the workspace's flakes.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: `Nix: ${what}`, placeHolder: `Choose an output to ${what}`, matchOnDescription: true, matchOnDetail: true });
  return picked?.target;
}

const NIX_ENV = new Set(['NIX_CONFIG', 'NIX_PATH', 'NIX_REMOTE', 'NIX_USER_CONF_FILES', 'NIX_CONF_DIR', 'NIX_SSL_CERT_FILE', 'NIX_STORE_DIR']);

/** Run and Develop open a terminal running nix itself (no shell in between), in the flake's folder. */
async function openTerminal(ctx: Ctx, t: OutputTarget, what: 'run' | 'develop'): Promise<vscode.Terminal | undefined> {
  if (!ctx.trusted) {
    void vscode.window.showWarningMessage(RestrictedError.MESSAGE);
    return undefined;
  }
  const nix = await ctx.requireNix();
  let ref: string;
  try {
    ref = await flakeRef(ctx, t.flake);
  } catch (e) {
    void vscode.window.showErrorMessage((e as Error).message);
    return undefined;
  }
  const inst = installable(ref, t.attrPath);
  if (!inst.ok) {
    void vscode.window.showErrorMessage(inst.error.message);
    return undefined;
  }
  const s = ctx.settings(t.flake.folder);
  const args = [...EXPERIMENTAL, what, ...(s.offline ? ['--offline'] : []), ...sanitizeExtraArgs(s.extraArgs).args, inst.value];
  // Terminals get their environment from the user's shell; the nix configuration the extension runs with goes along.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => NIX_ENV.has(k) && v !== undefined)) as Record<string, string>;
  const term = ctx.openTerminal({ name: `nix ${what} ${t.display}`, cwd: t.flake.uri, shellPath: nix.path, shellArgs: args, env, iconPath: new vscode.ThemeIcon(what === 'run' ? 'play' : 'terminal') });
  term.show();
  return term;
}
