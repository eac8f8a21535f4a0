// A flake output chosen by the user — a tree item, a palette pick or a caller's argument — and the palette's pick
// list of outputs. Shared by the features that act on outputs (build, run, develop, dry-build, copy).
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { allLeaves, type OutputKind, type OutputLeaf } from '../core/flake/show';
import { shortInstallable } from '../core/flake/installable';
import type { Flake } from './flakes';
import type { OutputsService } from './outputs';

/** What Build, Run, Develop, Dry-build and Copy need from a tree item or any other caller. */
export interface OutputTarget {
  flake: Flake;
  attrPath: string[];
  /** Shown in titles and terminal names: `.#hello`. */
  display: string;
  /** What the output is, when known (a tree item or a pick knows it; a caller's argument may not). */
  kind?: OutputKind;
}

/** A tree item (or anything else) that stands for one output. */
export interface HasOutputTarget {
  outputTarget(): OutputTarget;
}

/** The target of one listed output. */
export function targetOfLeaf(flake: Flake, leaf: OutputLeaf, command?: 'build' | 'run' | 'develop'): OutputTarget {
  return {
    flake,
    attrPath: leaf.buildAttrPath ?? leaf.attrPath,
    display: shortInstallable('.', leaf.attrPath, { system: leaf.system, command }),
    kind: leaf.kind,
  };
}

/**
 * The output a command's argument stands for: an item of the Outputs tree, or an `OutputTarget` given by a caller
 * (another extension, a test) — checked, since a command can be called with anything.
 */
export function asTarget(arg: unknown): OutputTarget | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const source = arg as Partial<HasOutputTarget>;
  if (typeof source.outputTarget === 'function') return source.outputTarget();
  const t = arg as Partial<OutputTarget>;
  const flake = t.flake as Partial<Flake> | undefined;
  if (!flake || !(flake.uri instanceof vscode.Uri) || !flake.folder || typeof flake.label !== 'string') return undefined;
  if (!Array.isArray(t.attrPath) || t.attrPath.length === 0 || !t.attrPath.every((p) => typeof p === 'string')) return undefined;
  if (typeof t.display !== 'string') return undefined;
  return { flake: flake as Flake, attrPath: t.attrPath, display: t.display, kind: t.kind };
}

/** The key outputs are remembered by (recently built first in the pick list). */
export function targetKey(t: Pick<OutputTarget, 'flake' | 'attrPath'>): string {
  return `${t.flake.uri.toString()}#${t.attrPath.join('\0')}`;
}

const RECENT_KEY = 'nixFlakes.recentBuilds';

/** Recently built outputs (their `targetKey`), newest first. */
export function recentTargets(ctx: Ctx): string[] {
  return ctx.extension.workspaceState.get<string[]>(RECENT_KEY, []);
}

export function rememberTarget(ctx: Ctx, t: OutputTarget): void {
  const k = targetKey(t);
  void ctx.extension.workspaceState.update(RECENT_KEY, [k, ...recentTargets(ctx).filter((r) => r !== k)].slice(0, 20));
}

export type OutputAction = 'build' | 'run' | 'develop';

function fits(leaf: OutputLeaf, what: OutputAction): boolean {
  if (leaf.kind === 'omitted') return false;
  return what === 'build' ? leaf.buildable : what === 'run' ? !!leaf.runnable : leaf.developable;
}

/** The palette's pick of an output to build, run or develop, recently built ones first. */
export async function pickOutput(ctx: Ctx, service: OutputsService, what: OutputAction): Promise<OutputTarget | undefined> {
  if (!ctx.trusted) {
    void vscode.window.showWarningMessage('Restricted Mode: trust this folder to evaluate its flakes.');
    return undefined;
  }
  // No usable Nix: say so once, with what to do, instead of an empty list of outputs.
  const nix = await ctx.nix();
  if (!nix.ok) {
    showNixUnavailable(nix.message);
    return undefined;
  }
  type Item = vscode.QuickPickItem & { target: OutputTarget; rank: number };
  const recent = recentTargets(ctx);
  const items = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Listing flake outputs' }, async () => {
    const out: Item[] = [];
    const flakes = await ctx.flakes();
    for (const flake of flakes) {
      const s = await service.ensure(flake);
      if (!s.model) continue;
      for (const leaf of allLeaves(s.model)) {
        if (!fits(leaf, what) || (leaf.system && !s.systems.includes(leaf.system))) continue;
        const target = targetOfLeaf(flake, leaf, what);
        const r = recent.indexOf(targetKey(target));
        const description = [leaf.derivationName, flakes.length > 1 ? flake.label : undefined, r >= 0 ? 'recently built' : undefined]
          .filter(Boolean)
          .join(' · ');
        out.push({ label: target.display, description, detail: leaf.description, target, rank: r < 0 ? Number.MAX_SAFE_INTEGER : r });
      }
    }
    return out;
  });
  items.sort((a, b) => a.rank - b.rank);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`No output to ${what} was found in the workspace's flakes.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Nix: ${what}`,
    placeHolder: `Choose an output to ${what}`,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.target;
}

/** The walkthrough's step that says how to install Nix on each platform. */
const INSTALL_STEP = 'nix-flakes.nix-flakes#nixFlakes.getStarted';

/** Nix missing or too old, said once: its message, how to install it, where to set its path. */
export function showNixUnavailable(message: string): void {
  void vscode.window.showErrorMessage(message, 'How to Install Nix', 'Open Settings').then((a) => {
    if (a === 'How to Install Nix') void vscode.commands.executeCommand('workbench.action.openWalkthrough', INSTALL_STEP);
    if (a === 'Open Settings') void vscode.commands.executeCommand('nixFlakes.openSettings');
  });
}
