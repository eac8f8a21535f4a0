// The walkthrough "Get started with Nix Flakes" (package.json, contributes.walkthroughs): VS Code completes its steps
// by itself on context keys, a view opened or a command run. This sets the keys that only the extension knows:
// `nixFlakes.nixFound` (a Nix 2.8+ was detected), `nixFlakes.built` (a build succeeded), `nixFlakes.dryBuilt` (a
// dry-build finished). The step of a folder with a flake reads `nixFlakes.state`, the outputs step the view.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';

export type Milestone = 'nixFound' | 'built' | 'dryBuilt';

/** What the walkthrough's steps complete on, as the extension has set it. */
export interface Walkthrough {
  /** The milestones reached in this window (their context keys are true). */
  reached(): ReadonlySet<Milestone>;
  /** Fires each time something completes a milestone (again when it already was). */
  onDidReach: vscode.Event<Milestone>;
}

/** The events the milestones come from: a build's and a dry-build's outcome. */
export interface WalkthroughSources {
  onDidBuild: vscode.Event<{ status: string }>;
  onDidDryBuild: vscode.Event<{ result: { status: string } }>;
}

export function registerWalkthrough(ctx: Ctx, sources: WalkthroughSources): Walkthrough {
  const reached = new Set<Milestone>();
  const emitter = ctx.register(new vscode.EventEmitter<Milestone>());
  const reach = (m: Milestone, value: boolean) => {
    if (value) emitter.fire(m);
    if (value === reached.has(m)) return;
    if (value) reached.add(m);
    else reached.delete(m);
    void vscode.commands.executeCommand('setContext', `nixFlakes.${m}`, value);
  };
  // Nix found: asked whenever the state changes (nixPath, trust, folders). With no flake the state does not detect
  // Nix, so ask here; in Restricted Mode nothing is started and nothing is known.
  const detect = async () => {
    if (!ctx.trusted) return;
    const r = await ctx.nix();
    reach('nixFound', r.ok);
  };
  ctx.register(
    ctx.onDidChangeState(() => void detect()),
    sources.onDidBuild((o) => o.status === 'built' && reach('built', true)),
    sources.onDidDryBuild((o) => o.result.status === 'done' && reach('dryBuilt', true)),
  );
  void detect();
  return { reached: () => reached, onDidReach: emitter.event };
}
