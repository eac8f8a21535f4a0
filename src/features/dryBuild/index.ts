// Wires the dry-build of NixOS hosts and home-manager configurations: the panel (and its restoration after a reload),
// the commands that open it from the palette, the Outputs tree and the view title, the quick fixes, and the
// diagnostics' lifetime (replaced by the next run of the same configuration, removed when the flake's files change,
// optionally re-run on save).
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { asTarget } from '../../workspace/targets';
import { DryBuilds } from './runs';
import { VIEW_TYPE } from './panel';
import { DryBuildFixes, ErrorIndex, registerGitAddIntent } from './fixes';
import type { ConfigKind } from '../../protocol/dryBuild';

export type { DryBuilds, DryBuildOutcome } from './runs';

export function registerDryBuild(ctx: Ctx, outputs: OutputsService): DryBuilds {
  const dry = ctx.register(new DryBuilds(ctx, outputs));
  const errors = new ErrorIndex();
  ctx.register(
    dry.onDidFinish((o) => {
      for (const p of o.diagnostics) errors.set(p.uri, p.diagnostic, p.error);
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => dry.revive(panel),
    }),
    vscode.languages.registerCodeActionsProvider({ language: 'nix', scheme: 'file' }, new DryBuildFixes(errors), {
      providedCodeActionKinds: DryBuildFixes.kinds,
    }),
    vscode.commands.registerCommand('nixFlakes.home.dryBuild', (arg?: unknown) =>
      vscode.commands.executeCommand('nixFlakes.dryBuild', arg),
    ),
    vscode.commands.registerCommand('nixFlakes.dryBuild', async (arg?: unknown) => {
      const output = asTarget(arg);
      const config = output ? configOf(output.attrPath, output.kind === 'nixos-configuration') : undefined;
      if (output && config) {
        await dry.show({ flake: output.flake, ...config });
        return dry.dryBuild(output.flake, config.host, config.kind);
      }
      // A caller's `{ flake, host }` (a NixOS host) or `{ flake, home }` (a home-manager configuration).
      const target = arg as { flake?: Flake; host?: unknown; home?: unknown } | undefined;
      const named =
        typeof target?.home === 'string' ? { host: target.home, kind: 'home' as const } : { host: target?.host, kind: 'nixos' as const };
      if (target?.flake && typeof named.host === 'string') {
        await dry.show({ flake: target.flake, host: named.host, kind: named.kind });
        return dry.dryBuild(target.flake, named.host, named.kind);
      }
      await dry.show();
      return undefined;
    }),
  );
  registerGitAddIntent(ctx, (uri) => {
    void (async () => {
      for (const flake of await ctx.flakes()) if (uri.fsPath.startsWith(`${flake.uri.fsPath}/`)) dry.clearFlake(flake);
    })();
  });

  // A change to a flake's files makes its dry-build diagnostics stale; with runOnSave, dry-build again.
  const watcher = ctx.register(vscode.workspace.createFileSystemWatcher('**/{*.nix,flake.lock}'));
  // Events arrive a moment after the change: a run started after the file was written already saw it.
  const changed = async (uri: vscode.Uri, deleted = false) => {
    const mtime = deleted ? undefined : (await stat(uri.fsPath).catch(() => undefined))?.mtimeMs;
    for (const flake of await ctx.flakes()) {
      if (uri.fsPath.startsWith(`${flake.uri.fsPath}/`)) dry.clearFlake(flake, mtime);
    }
  };
  ctx.register(
    watcher.onDidChange((u) => changed(u)),
    watcher.onDidCreate((u) => changed(u)),
    watcher.onDidDelete((u) => changed(u, true)),
  );
  ctx.register(
    vscode.workspace.onDidSaveTextDocument(async (doc) => {
      if (doc.languageId !== 'nix' && !doc.uri.path.endsWith('/flake.lock')) return;
      if (!ctx.trusted || !ctx.settings(doc.uri).dryBuildOnSave) return;
      for (const flake of await ctx.flakes()) {
        if (!doc.uri.fsPath.startsWith(`${flake.uri.fsPath}/`)) continue;
        const last = dry.hostsRun(flake)[0];
        if (last) void dry.dryBuild(flake, last.host, last.kind);
      }
    }),
  );
  return dry;
}

/**
 * The configuration of a tree item's target: `nixosConfigurations.<host>[.config.system.build.toplevel]` (when the
 * item is a NixOS configuration) or `homeConfigurations.<name>[.activationPackage]`.
 */
function configOf(attrPath: readonly string[], nixos: boolean): { host: string; kind: ConfigKind } | undefined {
  const name = attrPath[1];
  if (name === undefined) return undefined;
  if (nixos && attrPath[0] === 'nixosConfigurations') return { host: name, kind: 'nixos' };
  if (attrPath[0] === 'homeConfigurations') return { host: name, kind: 'home' };
  return undefined;
}
