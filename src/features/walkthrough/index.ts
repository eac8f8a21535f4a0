// The walkthrough "Get started with Nix Flakes" (package.json, contributes.walkthroughs): VS Code completes its steps
// by itself when a context key becomes true. This sets the keys that only the extension knows: `nixFlakes.nixFound`
// (a Nix 2.8+ detected), `nixFlakes.flakeFound` (a flake in the workspace), `nixFlakes.outputsSeen` (the Flake
// Outputs view shown), `nixFlakes.built` (a build succeeded), `nixFlakes.dryBuilt` (a dry-build finished).
//
// VS Code reads the walkthroughs when its walkthrough service starts, which may be only when a walkthrough is first
// opened (with the welcome page off at startup), and a key that is already true then never completes its step in
// that window: the service counts it as seen without completing anything. So the keys are set only once a
// walkthrough or the welcome page has been shown, after the service has started: from then on, each key becomes
// true when its milestone is reached, and the ones reached before become true at that moment.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';

export type Milestone = 'nixFound' | 'flakeFound' | 'outputsSeen' | 'built' | 'dryBuilt';

/** What the walkthrough's steps complete on, as the extension has set it. */
export interface Walkthrough {
  /** The milestones reached in this window. */
  reached(): ReadonlySet<Milestone>;
  /** Whether the context keys are set (a walkthrough or the welcome page has been shown in this window). */
  published(): boolean;
  /** Fires each time something completes a milestone (again when it already was). */
  onDidReach: vscode.Event<Milestone>;
}

/** The events the milestones come from: a build's and a dry-build's outcome, the outputs view. */
export interface WalkthroughSources {
  onDidBuild: vscode.Event<{ status: string }>;
  onDidDryBuild: vscode.Event<{ result: { status: string } }>;
  outputsView: Pick<vscode.TreeView<unknown>, 'visible' | 'onDidChangeVisibility'>;
}

/**
 * The walkthrough's editor or the welcome page, which both start the walkthrough service: a tab without an input the
 * API knows, named after the walkthrough's extension ("Walkthrough: Nix Flakes") or the welcome page.
 */
export function isWalkthroughTab(tab: { label: string; input: unknown }, displayName: string): boolean {
  return tab.input === undefined && (tab.label.endsWith(displayName) || tab.label === 'Welcome');
}

export function registerWalkthrough(ctx: Ctx, sources: WalkthroughSources): Walkthrough {
  const reached = new Set<Milestone>();
  const keys = new Map<Milestone, boolean>();
  const emitter = ctx.register(new vscode.EventEmitter<Milestone>());
  let published = false;
  const displayName = String(ctx.extension.extension.packageJSON.displayName ?? 'Nix Flakes');

  const publish = (m: Milestone) => {
    const value = reached.has(m);
    if (!published || keys.get(m) === value) return;
    keys.set(m, value);
    void vscode.commands.executeCommand('setContext', `nixFlakes.${m}`, value);
  };
  const reach = (m: Milestone, value: boolean) => {
    if (value) emitter.fire(m);
    if (value) reached.add(m);
    else reached.delete(m);
    publish(m);
  };
  const watchTabs = () => {
    if (published || !vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => isWalkthroughTab(t, displayName)))) return;
    published = true;
    for (const m of reached) publish(m);
  };

  // Nix found and a flake open: asked whenever the state changes (nixPath, trust, folders). With no flake the state
  // does not detect Nix, so ask here; in Restricted Mode nothing is started and nothing is known.
  const detect = async () => {
    if (!ctx.trusted) return;
    reach('flakeFound', (await ctx.flakes()).length > 0);
    reach('nixFound', (await ctx.nix()).ok);
  };
  ctx.register(
    ctx.onDidChangeState(() => void detect()),
    sources.onDidBuild((o) => o.status === 'built' && reach('built', true)),
    sources.onDidDryBuild((o) => o.result.status === 'done' && reach('dryBuilt', true)),
    sources.outputsView.onDidChangeVisibility((e) => e.visible && reach('outputsSeen', true)),
    vscode.window.tabGroups.onDidChangeTabs(watchTabs),
  );
  if (sources.outputsView.visible) reach('outputsSeen', true);
  watchTabs();
  void detect();
  return { reached: () => reached, published: () => published, onDidReach: emitter.event };
}
