// Registers building: the Build command (tree items, Build lenses, the palette's pick of an output), the build log
// and the builds' status-bar item.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { OutputsService } from '../../workspace/outputs';
import { asTarget, pickOutput } from '../../workspace/targets';
import { Builds } from './build';

export type { BuildOutcome, BuildRequest } from './build';
export { Builds } from './build';

export function registerBuild(ctx: Ctx, outputs: OutputsService): Builds {
  const builds = ctx.register(new Builds(ctx));
  ctx.register(
    vscode.commands.registerCommand('nixFlakes.build', async (arg?: unknown) => {
      const t = asTarget(arg) ?? (await pickOutput(ctx, outputs, 'build'));
      if (!t) return undefined;
      return builds.build({ flake: t.flake, attrPath: t.attrPath, display: t.display });
    }),
    vscode.commands.registerCommand('nixFlakes.showBuildLog', () => builds.output.show(true)),
  );
  return builds;
}
