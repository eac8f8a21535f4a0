// Wires the Flake Outputs view: the service, the tree, auto-refresh on file changes, diagnostics of failed
// evaluations, and the Build / Run / Develop / Copy actions on its items and in the palette.
import * as vscode from 'vscode';
import { affects } from '../../config';
import { RestrictedError, type Ctx } from '../../context';
import { flakesHolding } from '../../workspace/flakes';
import { OutputsService } from '../../workspace/outputs';
import { flakeMapper, flakeRef } from '../../workspace/mapping';
import { OwnedDiagnostics, placeDiagnostics } from '../../workspace/diagnostics';
import { asTarget, pickOutput, type OutputTarget } from '../../workspace/targets';
import { Node, OutputsProvider, registerOutputsView } from './view';
import { installable } from '../../core/flake/installable';

export interface Outputs {
  service: OutputsService;
  view: vscode.TreeView<Node>;
  provider: OutputsProvider;
}

export function registerOutputs(ctx: Ctx): Outputs {
  const service = ctx.register(new OutputsService(ctx));
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
    for (const flake of flakesHolding(await ctx.flakes(), uri, { orFolder: true })) service.schedule(flake);
  };
  ctx.register(watcher.onDidChange(onFile), watcher.onDidCreate(onFile), watcher.onDidDelete(onFile));
  // Settings that change what nix lists (they are part of the cache key): the flakes they apply to are refreshed.
  ctx.register(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!ctx.trusted || !affects(e, 'nixPath', 'extraArgs', 'offline', 'systems')) return;
      for (const flake of await ctx.flakes()) {
        if (service.get(flake).evaluatedKey !== undefined && (e.affectsConfiguration('nixFlakes', flake.folder) || affects(e, 'nixPath')))
          service.schedule(flake);
      }
    }),
  );

  const pickTarget = async (arg: unknown, what: 'run' | 'develop' | 'build'): Promise<OutputTarget | undefined> =>
    asTarget(arg) ?? pickOutput(ctx, service, what);

  ctx.register(
    vscode.commands.registerCommand('nixFlakes.refresh', async () => {
      ctx.forgetFlakes();
      await ctx.updateState();
      const flakes = await ctx.flakes();
      await Promise.all(flakes.map((f) => service.evaluate(f, { force: true })));
      provider.refresh();
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
      const t = await pickTarget(arg, 'build');
      if (!t) return undefined;
      await vscode.env.clipboard.writeText(t.display);
      vscode.window.setStatusBarMessage(`Copied ${t.display}`, 3000);
      return t.display;
    }),
  );
  return { service, view, provider };
}

/** Run and Develop open a terminal running nix itself (no shell in between), in the flake's folder. */
async function openTerminal(ctx: Ctx, t: OutputTarget, what: 'run' | 'develop'): Promise<vscode.Terminal | undefined> {
  try {
    const inst = installable(await flakeRef(ctx, t.flake), t.attrPath);
    if (!inst.ok) throw new Error(inst.error.message);
    const term = await ctx.openNixTerminal([what], [inst.value], {
      name: `nix ${what} ${t.display}`,
      cwd: t.flake.uri,
      scope: t.flake.folder,
      iconPath: new vscode.ThemeIcon(what === 'run' ? 'play' : 'terminal'),
    });
    term.show();
    return term;
  } catch (e) {
    if (e instanceof RestrictedError) void vscode.window.showWarningMessage(e.message);
    else void vscode.window.showErrorMessage((e as Error).message);
    return undefined;
  }
}
