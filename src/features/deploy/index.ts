// Wires deployments: the commands on NixOS hosts (Switch, Boot, Test, Dry Activate, Build, What Would Change?,
// Generations and rollback, VM and images, deployment settings) and on home-manager configurations (Build, What
// Would Change?, Activate), from the Outputs tree's context menu and the palette (with a pick). Each command returns
// its outcome (for callers and tests). Nothing runs in Restricted Mode.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { OutputsService } from '../../workspace/outputs';
import type { DeployAction } from '../../core/deploy';
import { Deployments } from './deploy';
import { configureHost, resolveConfig } from './hosts';

export type { Deployments, DeployOutcome, DeployUi } from './deploy';

const RESTRICTED = 'Restricted Mode: trust this folder to deploy its hosts.';

export function registerDeploy(ctx: Ctx, outputs: OutputsService): Deployments {
  const d = ctx.register(new Deployments(ctx));
  const guarded =
    (verb: string, kind: 'nixos' | 'home', fn: (c: NonNullable<Awaited<ReturnType<typeof resolveConfig>>>) => Promise<unknown>) =>
    async (arg?: unknown) => {
      if (!ctx.trusted) {
        void vscode.window.showWarningMessage(RESTRICTED);
        return undefined;
      }
      const c = await resolveConfig(ctx, outputs, arg, kind, verb);
      return c ? fn(c) : undefined;
    };
  const host = (command: string, action: DeployAction | 'preview', verb: string) =>
    vscode.commands.registerCommand(
      command,
      guarded(verb, 'nixos', (c) => d.deploy(c, action)),
    );
  ctx.register(
    host('nixFlakes.deploy.switch', 'switch', 'Switch'),
    host('nixFlakes.deploy.boot', 'boot', 'Boot'),
    host('nixFlakes.deploy.test', 'test', 'Test'),
    host('nixFlakes.deploy.dryActivate', 'dry-activate', 'Dry Activate'),
    host('nixFlakes.deploy.build', 'build', 'Build Host'),
    host('nixFlakes.deploy.preview', 'preview', 'What Would Change?'),
    vscode.commands.registerCommand(
      'nixFlakes.deploy.generations',
      guarded('Generations and Rollback', 'nixos', (c) => d.rollback(c)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.deploy.images',
      guarded('Build VM or Image', 'nixos', (c) => d.image(c)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.deploy.configure',
      guarded('Deployment Settings', 'nixos', (c) => configureHost(ctx, c)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.home.build',
      guarded('Build Home Configuration', 'home', (c) => d.home(c, 'build')),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.home.preview',
      guarded('What Would Change?', 'home', (c) => d.home(c, 'preview')),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.home.activate',
      guarded('Activate Home Configuration', 'home', (c) => d.home(c, 'activate')),
    ),
  );
  return d;
}
