// Entry point: builds the context, registers each feature, returns fast. Nothing runs nix until it is needed.
import * as vscode from 'vscode';
import { Ctx, RecentRun } from './context';
import { startedProcesses } from './core/nix/process';
import { describe } from './core/nix/version';
import { registerOutputs, type Outputs } from './features/outputs';
import { registerBuild, type Builds } from './features/build';
import { Inputs, registerInputs, registerRelockOffer } from './features/inputs';
import { registerDryBuild } from './features/dryBuild';
import { BuildLenses, registerCodeLens } from './features/codeLens';
import { registerDeploy, type Deployments } from './features/deploy';
import { registerFormatter } from './features/formatter';
import { registerTemplates } from './features/templates';
import { registerAirgap } from './features/airgap';
import { registerChecks, type FlakeChecks } from './features/checks';
import { registerTasks, type NixTasks } from './features/tasks';
import { registerDevShell, type DevShells } from './features/devShell';
import { registerResults } from './features/results';
import { registerWalkthrough, type Walkthrough } from './features/walkthrough';
import type { DryBuilds } from './features/dryBuild';
import type { DetectResult } from './core/nix/detect';
import type { Flake } from './workspace/flakes';
import { showNixUnavailable } from './workspace/targets';

/** What the extension exports to other extensions (and to its own in-host tests). */
export interface NixFlakesApi {
  nix(): Promise<DetectResult>;
  flakes(): Promise<Flake[]>;
  /** Resolves once the context keys reflect the workspace (flakes found, nix detected). */
  ready: Promise<void>;
  /** What the views' welcome content is chosen by: `noFlake`, `nixMissing`, `nixTooOld` or `ready`. */
  state(): string | undefined;
  /** The outputs service and builds, for integration tests and other extensions. */
  outputs: Outputs & { builds: Builds };
  inputs: Inputs;
  dryBuilds: DryBuilds;
  lenses: BuildLenses;
  /** Deployments of NixOS hosts and home-manager configurations (`ui` answers the questions a deployment asks). */
  deploy: Deployments;
  /** Flake checks in the Testing view: the test controller, its run profiles and the last result of each test. */
  checks: FlakeChecks;
  /** The `nix` task type: its provider, the runs that finished and where their errors were placed. */
  tasks: NixTasks;
  /** The dev shell applied to each workspace folder (status bar, terminals, tasks). */
  devShells: DevShells;
  /** What the walkthrough's steps complete on (the context keys the extension sets). */
  walkthrough: Walkthrough;
  /** The last nix runs with their outcome and the end of their stderr (what a failing test prints). */
  recentRuns(): readonly RecentRun[];
  /** How many processes (nix, git…) the extension has started. */
  startedProcesses(): number;
  /** Forgets Nix's kept answers about the flakes' sources (`nix flake metadata`/`archive`): the next use asks again. */
  forgetFlakeAnswers(): void;
}

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): NixFlakesApi {
  try {
    ctx = new Ctx(context);
    context.subscriptions.push(ctx);
    const c = ctx;
    const outputsView = registerOutputs(c);
    const outputs = { ...outputsView, builds: registerBuild(c, outputsView.service) };
    const inputs = registerInputs(c);
    registerRelockOffer(c);
    const dryBuilds = registerDryBuild(c, outputs.service);
    const lenses = registerCodeLens(c, outputs.service);
    const deploy = registerDeploy(c, outputs.service);
    registerFormatter(c);
    registerTemplates(c, outputs.service);
    registerAirgap(c, outputs.service);
    const checks = registerChecks(c, outputs.service);
    const tasks = registerTasks(c, outputs.service);
    const devShells = registerDevShell(c, outputs.service);
    registerResults(c, outputs.service);
    const walkthrough = registerWalkthrough(c, {
      onDidBuild: outputs.builds.onDidFinish,
      onDidDryBuild: dryBuilds.onDidFinish,
      outputsView: outputs.view,
    });
    c.register(
      vscode.commands.registerCommand('nixFlakes.showLog', () => c.log.show()),
      vscode.commands.registerCommand('nixFlakes.openSettings', () =>
        vscode.commands.executeCommand('workbench.action.openSettings', '@ext:nix-flakes.nix-flakes'),
      ),
      vscode.commands.registerCommand('nixFlakes.showNixVersion', async () => {
        let r = await c.nix();
        // Not found or too old: look again (it may have been installed since; the welcome's Detect Nix Again).
        if (!r.ok && r.reason !== 'restricted') {
          c.forgetNix();
          r = await c.nix();
          if (r.ok) await c.updateState();
        }
        if (r.ok) {
          const text = `${describe(r.nix.version)} at ${r.nix.path} (${r.nix.system})`;
          void vscode.window.showInformationMessage(text);
          return text;
        }
        if (r.reason === 'restricted') void vscode.window.showWarningMessage(r.message);
        else showNixUnavailable(r.message);
        return r.message;
      }),
    );
    const ready = c.updateState().then(
      () => undefined,
      (e) => reportActivationError(c, e),
    );
    return {
      nix: () => c.nix(),
      flakes: () => c.flakes(),
      ready,
      state: () => c.state,
      outputs,
      inputs,
      dryBuilds,
      lenses,
      deploy,
      checks,
      tasks,
      devShells,
      walkthrough,
      recentRuns: () => c.recentRuns,
      startedProcesses,
      forgetFlakeAnswers: () => c.flakeAnswers.clear(),
    };
  } catch (e) {
    if (ctx) reportActivationError(ctx, e);
    else void vscode.window.showErrorMessage(`Nix Flakes failed to start: ${(e as Error).message}`);
    throw e;
  }
}

function reportActivationError(c: Ctx, e: unknown): void {
  const err = e as Error;
  c.log.error(`activation failed: ${err.stack ?? err}`);
  void vscode.window.showErrorMessage(`Nix Flakes failed to start: ${err.message}`, 'Show Log').then((a) => a && c.log.show());
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
