// Flake Inputs: registers the view (inputs from flake.lock, no nix), the update commands (updates.ts), the
// "one nixpkgs" warnings on flake.nix (diagnostics.ts), the follows quick fix (followsFix.ts) and navigation.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import { Locks } from './model';
import { InputsProvider } from './view';
import { registerLockDiagnostics } from './diagnostics';
import { registerFollowsFix } from './followsFix';
import { registerNavigation } from './navigation';
import { registerUpdates, type Updates } from './updates';

export { registerRelockOffer } from './followsFix';
export type { UpdateOutcome } from './updates';

export interface Inputs extends Updates {
  locks: Locks;
  provider: InputsProvider;
}

export function registerInputs(ctx: Ctx): Inputs {
  const locks = ctx.register(new Locks(ctx));
  const provider = new InputsProvider(ctx, locks);
  ctx.register(vscode.window.createTreeView('nixFlakes.inputs', { treeDataProvider: provider, showCollapseAll: true }));
  registerLockDiagnostics(ctx, locks);
  registerFollowsFix(ctx);
  registerNavigation(ctx, locks);
  return { locks, provider, ...registerUpdates(ctx, locks) };
}
