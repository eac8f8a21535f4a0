// Deployments from the editor, on the core's steps (src/core/deploy): build with progress, the closure diff in the
// Deploy view, a modal confirmation naming the host, the action and the diff, then copy, profile and activation (in
// a terminal), and a message with the generation; a failure shows the output and offers a rollback. Also the
// generations of a target with rollback, home-manager configurations (build, diff, activate) and a host's VM and
// images. Every process goes through the gateway (ctx.exec, ctx.openTerminal); nothing runs in Restricted Mode.
import * as vscode from 'vscode';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Ctx } from '../../context';
import { flakeRef } from '../../workspace/mapping';
import {
  checkInput,
  closeSharedCommand,
  configSharesConnections,
  controlDir,
  DeployError,
  deploySteps,
  generationsStep,
  nixosRebuildSteps,
  parseBuildJson,
  parseDiffClosures,
  optionsChooseSharing,
  parseBuildProducts,
  rollbackSteps,
  runSteps,
  sharingOptions,
  sshConfigCommand,
  summarizeDiff,
  vmDiskImage,
  type Command,
  type DeployAction,
  type DeployInput,
  type DeployIo,
  type DeployProgress,
  type DeployState,
  type Generation,
  type SshAddress,
  type Step,
} from '../../core/deploy';
import { CancelledError } from '../../core/nix/process';
import { nixArgs, nixEnv, type NixCommandOptions } from '../../core/nix/args';
import { parseLogLine } from '../../core/log/internalJson';
import { which } from '../../core/nix/detect';
import { rebuildFlavor } from '../../core/nix/rebuild';
import { installable } from '../../core/flake/installable';
import { stripAnsi } from '../../core/text';
import { formatBytes } from '../../core/format';
import type { ApplyAction, DeployView, DeployViewAction } from '../../protocol/deploy';
import { DeployPanel } from './panel';
import { hostSettings, type ConfigRef } from './hosts';
import { runInTerminal } from './terminal';

/** What the user is asked and shown. Replaceable (the in-host tests answer for the user). */
export interface DeployUi {
  /** A modal confirmation; true: go ahead. */
  confirm(q: { title: string; detail: string; button: string; view: DeployView }): Promise<boolean>;
  /** A generation to roll back to (from a listing); undefined: none. */
  pickGeneration(gens: readonly Generation[], c: ConfigRef, target: string): Promise<Generation | undefined>;
  /** One of a host's VM and image outputs. */
  pickImage(choices: readonly ImageChoice[], c: ConfigRef): Promise<ImageChoice | undefined>;
}

export interface ImageChoice {
  label: string;
  /** The attribute path under `config.system.build`. */
  attr: string[];
  run?: boolean;
}

export type OutcomeStatus = 'done' | 'declined' | 'cancelled' | 'failed';

export interface DeployOutcome {
  status: OutcomeStatus;
  config: string;
  action: DeployViewAction | 'rollback' | 'image';
  state: DeployState;
  /** What the user was told. */
  message: string;
  /** For a failure: the step, the kind of failure and the output. */
  error?: { step?: string; kind?: string; output?: string };
  /** An image build: the output path. */
  path?: string;
  /** An image build: the image files in it (from `nix-support/hydra-build-products`); Run VM: the VM's disk. */
  files?: string[];
}

const ACTION_WORD: Record<string, string> = {
  switch: 'Switch',
  boot: 'Boot',
  test: 'Test',
  'dry-activate': 'Dry Activate',
  build: 'Build',
  activate: 'Activate',
  preview: 'Preview',
  image: 'Build VM or image',
};
const PREVIEW_ACTIONS: ApplyAction[] = ['switch', 'boot', 'test', 'dry-activate'];

const defaultUi: DeployUi = {
  async confirm(q) {
    return (await vscode.window.showWarningMessage(q.title, { modal: true, detail: q.detail }, q.button)) === q.button;
  },
  async pickGeneration(gens, c, target) {
    const items = [...gens].reverse().map((g) => ({
      label: `Generation ${g.number}${g.current ? ' (current)' : ''}`,
      description: g.time ? new Date(g.time).toLocaleString() : undefined,
      detail: g.toplevel,
      g,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Generations of ${c.name} on ${target}`,
      placeHolder: 'Choose a generation to roll back to',
    });
    return picked?.g;
  },
  async pickImage(choices, c) {
    const picked = await vscode.window.showQuickPick(
      choices.map((x) => ({ label: x.label, description: `config.system.build.${x.attr.join('.')}`, x })),
      { title: `VM and images of ${c.name}`, placeHolder: 'Choose what to build' },
    );
    return picked?.x;
  },
};

/** The profile home-manager keeps its generations in: the XDG one, or the older per-user one. */
function homeProfiles(): string[] {
  const home = process.env.HOME ?? '';
  const state = process.env.XDG_STATE_HOME || join(home, '.local', 'state');
  const user = process.env.USER ?? '';
  return [join(state, 'nix', 'profiles', 'home-manager'), ...(user ? [`/nix/var/nix/profiles/per-user/${user}/home-manager`] : [])];
}

export class Deployments implements vscode.Disposable {
  readonly panel: DeployPanel;
  ui: DeployUi = defaultUi;
  /** Configurations with a deployment running (one at a time each). */
  private readonly running = new Set<string>();

  constructor(private readonly ctx: Ctx) {
    this.panel = new DeployPanel(ctx, (view, action) => void this.fromView(view, action));
  }

  dispose(): void {
    this.panel.dispose();
  }

  private lastConfigs = new Map<string, ConfigRef>();

  private key(c: ConfigRef): string {
    return `${c.flake.uri.toString()}#${c.kind}.${c.name}`;
  }

  /** A button of the view: the same deployment, with its confirmation. */
  private async fromView(view: DeployView, action: ApplyAction): Promise<void> {
    const c = [...this.lastConfigs.values()].find(
      (x) => x.name === view.config && x.kind === view.kind && x.flake.label === view.flakeLabel,
    );
    if (!c) return;
    if (c.kind === 'home') await this.home(c, 'activate');
    else if (action !== 'activate') await this.deploy(c, action);
  }

  private io(target: string): DeployIo {
    return {
      exec: (cmd, opts) =>
        this.ctx.exec(cmd.file, cmd.args, {
          env: { ...nixEnv(process.env), ...cmd.env },
          signal: opts.signal,
          onStdoutLine: opts.onStdoutLine,
          onStderrLine: opts.onStderrLine,
          keepStdout: true,
        }),
      terminal: (cmd: Command, step: Step) => runInTerminal(this.ctx, cmd, `${step.title} · ${target}`, true),
    };
  }

  /** Runs steps under a progress notification; `cancellable` steps stop on its Cancel. */
  private withProgress(
    title: string,
    steps: readonly Step[],
    state: DeployState,
    target: string,
    onStep: (title: string) => void,
    signal?: AbortSignal,
  ): Promise<DeployState> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        const outer = () => ac.abort();
        signal?.addEventListener('abort', outer);
        if (signal?.aborted) ac.abort();
        let last = 0;
        try {
          return await runSteps(steps, state, {
            signal: ac.signal,
            io: this.io(target),
            target,
            log: (m) => this.ctx.log.info(m),
            onProgress: (p: DeployProgress) => {
              if (p.type === 'start') {
                const note = steps[p.index]?.cancellable === false ? ' (cannot be cancelled now)' : '';
                progress.report({ message: `${p.title} (${p.index + 1}/${p.total})${note}` });
                onStep(p.title);
              } else if (p.type === 'line' && p.step === 'build' && p.stream === 'stderr') {
                const ev = parseLogLine(p.line);
                const now = Date.now();
                if (ev.kind === 'start' && ev.text && now - last > 250) {
                  last = now;
                  progress.report({ message: stripAnsi(ev.text).slice(0, 160) });
                }
              }
            },
          });
        } finally {
          sub.dispose();
          signal?.removeEventListener('abort', outer);
        }
      }),
    );
  }

  /**
   * The ssh options of one deployment with one shared connection per host (unless the user's options or ssh_config
   * share connections already), and how to close those connections when it ends.
   */
  private async sharedConnections(
    sshOptions: string[],
    hosts: (SshAddress | undefined)[],
  ): Promise<{ sshOptions: string[]; close: () => Promise<void> }> {
    const addresses = hosts.filter((h): h is SshAddress => h !== undefined);
    const none = { sshOptions, close: async () => undefined };
    if (addresses.length === 0 || optionsChooseSharing(sshOptions)) return none;
    const dir = await controlDir();
    if (!dir) return none;
    for (const a of addresses) {
      const cmd = sshConfigCommand(sshOptions, a);
      const r = await this.ctx.exec(cmd.file, cmd.args, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      if (!r || configSharesConnections(r.stdout)) return none;
    }
    const shared = [...sshOptions, ...sharingOptions(dir)];
    return {
      sshOptions: shared,
      close: async () => {
        for (const a of addresses) {
          const cmd = closeSharedCommand(shared, a);
          await this.ctx.exec(cmd.file, cmd.args, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        }
      },
    };
  }

  private async base(c: ConfigRef): Promise<{ nix: string; ref: string; nixOptions: { offline: boolean; extraArgs: string[] } }> {
    const nix = await this.ctx.requireNix();
    const ref = await flakeRef(this.ctx, c.flake);
    const s = this.ctx.settings(c.flake.folder);
    return { nix: nix.path, ref, nixOptions: { offline: s.offline, extraArgs: s.extraArgs } };
  }

  private refuse(c: ConfigRef, action: DeployOutcome['action'], message: string): DeployOutcome {
    void vscode.window.showErrorMessage(message);
    return { status: 'failed', config: c.name, action, state: {}, message };
  }

  private failed(
    c: ConfigRef,
    action: DeployOutcome['action'],
    e: unknown,
    state: DeployState,
    target: string,
    view?: DeployView,
  ): DeployOutcome {
    if (e instanceof CancelledError) {
      const message = `Cancelled: ${c.name} on ${target} is unchanged.`;
      if (view) this.panel.update({ ...view, phase: 'cancelled', message });
      void vscode.window.showInformationMessage(message);
      return { status: 'cancelled', config: c.name, action, state, message };
    }
    const err = e as Error;
    const message = err instanceof DeployError ? err.message : `${ACTION_WORD[action] ?? action} of ${c.name} failed: ${err.message}`;
    const output = err instanceof DeployError ? err.output : undefined;
    this.ctx.log.error(`deploy ${c.name} (${action}): ${message}`);
    if (output) this.ctx.log.error(output);
    if (view) this.panel.update({ ...view, phase: 'failed', message: output ? `${message}\n\n${output}` : message });
    const rollback = err instanceof DeployError && err.kind === 'activation-failed' && c.kind === 'nixos' ? ['Roll Back…'] : [];
    void vscode.window.showErrorMessage(message, 'Show Output', ...rollback).then((a) => {
      if (a === 'Show Output') this.ctx.log.show();
      if (a === 'Roll Back…') void this.rollback(c);
    });
    return {
      status: 'failed',
      config: c.name,
      action,
      state,
      message,
      error: err instanceof DeployError ? { step: err.step, kind: err.kind, output: err.output } : { output: err.message },
    };
  }

  /** Confirmation text: the host, the action, where, and what changes. */
  private confirmation(
    c: ConfigRef,
    action: string,
    target: string,
    state: DeployState,
  ): { title: string; detail: string; button: string } {
    const button = ACTION_WORD[action] ?? action;
    const lines = [`Flake: ${c.flake.label}`];
    if (state.diff) lines.push(`Changes: ${summarizeDiff(state.diff).text}`);
    else if (state.current === null) lines.push(`${target} runs no system of this kind yet: a first deployment.`);
    else lines.push('No closure diff was made.');
    if (state.toplevel) lines.push(`New: ${state.toplevel}`);
    if (state.current) lines.push(`Now: ${state.current}`);
    return { title: `${button} ${c.name} on ${target}?`, detail: lines.join('\n'), button };
  }

  private view(c: ConfigRef, action: DeployViewAction, target: string, state: DeployState, extra: Partial<DeployView>): DeployView {
    return {
      kind: c.kind,
      config: c.name,
      flakeLabel: c.flake.label,
      target,
      action,
      phase: 'building',
      ...(state.current !== undefined ? { current: state.current } : {}),
      ...(state.toplevel ? { toplevel: state.toplevel } : {}),
      ...(state.diff ? { diff: state.diff, summary: summarizeDiff(state.diff).text } : {}),
      actions: [],
      ...extra,
    };
  }

  /**
   * Deploys a NixOS host: `preview` (build and diff only, shown in the view), `build`, or an activation (`switch`,
   * `boot`, `test`, `dry-activate`) after the confirmation.
   */
  async deploy(c: ConfigRef, action: DeployAction | 'preview', signal?: AbortSignal): Promise<DeployOutcome> {
    if (!this.ctx.trusted) return this.refuse(c, action, 'Restricted Mode: trust this folder to deploy its hosts.');
    const key = this.key(c);
    if (this.running.has(key)) {
      const message = `A deployment of ${c.name} is running already.`;
      void vscode.window.showInformationMessage(message);
      return { status: 'failed', config: c.name, action, state: {}, message };
    }
    this.running.add(key);
    this.lastConfigs.set(key, c);
    try {
      return await this.deployUnlocked(c, action, signal);
    } finally {
      this.running.delete(key);
    }
  }

  private async deployUnlocked(c: ConfigRef, action: DeployAction | 'preview', signal?: AbortSignal): Promise<DeployOutcome> {
    const settings = hostSettings(this.ctx, c);
    if (!settings.ok) return this.refuse(c, action, settings.message);
    const target = settings.value.host.target?.text ?? 'this machine';
    const state: DeployState = {};
    let view = this.view(c, action, target, state, {});
    const { host } = settings.value;
    const shared = host.useNixosRebuild
      ? { sshOptions: settings.value.sshOptions, close: async () => undefined }
      : await this.sharedConnections(settings.value.sshOptions, [host.target, host.build]);
    try {
      const b = await this.base(c);
      const input: DeployInput = {
        nix: b.nix,
        flakeRef: b.ref,
        hostName: c.name,
        action: action === 'preview' ? 'build' : action,
        host,
        sshOptions: shared.sshOptions,
        nixOptions: b.nixOptions,
      };
      const checked = checkInput(input);
      if (!checked.ok) return this.refuse(c, action, checked.message);
      if (settings.value.host.useNixosRebuild && action !== 'preview') return await this.viaNixosRebuild(c, input, target, signal);
      const plan = deploySteps(input);
      this.panel.show(view);
      const word = ACTION_WORD[action] ?? action;
      await this.withProgress(
        `${word} ${c.name}${action === 'build' || action === 'preview' ? '' : ` on ${target}`}`,
        plan.preview,
        state,
        target,
        (step) => this.panel.update((view = { ...view, step, phase: /Compare|closure|current/i.test(step) ? 'comparing' : 'building' })),
        signal,
      );
      view = this.view(c, action, target, state, { phase: 'confirming' });
      if (action === 'preview' || action === 'build') {
        const message =
          action === 'preview'
            ? `${state.diff ? summarizeDiff(state.diff).text : state.current === null ? `${target} runs no system yet` : 'no diff'}: nothing was changed on ${target}.`
            : `Built ${c.name}: ${state.toplevel}`;
        this.panel.update({ ...view, phase: 'done', message, actions: action === 'preview' ? PREVIEW_ACTIONS : [] });
        void vscode.window.showInformationMessage(
          action === 'preview' ? `What would change on ${c.name} (${target}): ${message}` : message,
        );
        return { status: 'done', config: c.name, action, state, message };
      }
      this.panel.update(view);
      if (signal?.aborted) throw new CancelledError('before the confirmation', []);
      if (!(await this.ui.confirm({ ...this.confirmation(c, action, target, state), view }))) {
        const message = `Not deployed: ${c.name} on ${target} is unchanged.`;
        this.panel.update({ ...view, phase: 'declined', message });
        return { status: 'declined', config: c.name, action, state, message };
      }
      view = { ...view, phase: 'applying' };
      this.panel.update(view);
      await this.withProgress(
        `${word} ${c.name} on ${target}`,
        plan.apply,
        state,
        target,
        (step) => this.panel.update((view = { ...view, step })),
        signal,
      );
      const message = successMessage(c.name, action, target, state.generation);
      this.panel.update({ ...view, phase: 'done', message, ...(state.generation ? { generation: state.generation } : {}) });
      void vscode.window
        .showInformationMessage(message, ...(action === 'switch' || action === 'boot' ? ['Generations…'] : []))
        .then((a) => {
          if (a) void this.rollback(c);
        });
      return { status: 'done', config: c.name, action, state, message };
    } catch (e) {
      return this.failed(c, action, e, state, target, view);
    } finally {
      await shared.close();
    }
  }

  private async viaNixosRebuild(c: ConfigRef, input: DeployInput, target: string, signal?: AbortSignal): Promise<DeployOutcome> {
    const program = await which('nixos-rebuild');
    if (!program)
      return this.refuse(
        c,
        input.action,
        'nixos-rebuild was not found on PATH; set nixFlakes.deploy.method to "nix" to deploy with Nix alone.',
      );
    const help = await this.ctx.exec(program, ['--help'], { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.stdout + r.stderrLines.join('\n'),
      () => '',
    );
    const steps = nixosRebuildSteps(input, rebuildFlavor(help), program);
    if (!steps.ok) return this.refuse(c, input.action, steps.message);
    const state: DeployState = {};
    const view = this.view(c, input.action, target, state, {
      phase: 'confirming',
      message: 'nixos-rebuild builds, copies and activates in one run: no closure diff before.',
    });
    if (input.action !== 'build' && !(await this.ui.confirm({ ...this.confirmation(c, input.action, target, state), view }))) {
      return {
        status: 'declined',
        config: c.name,
        action: input.action,
        state,
        message: `Not deployed: ${c.name} on ${target} is unchanged.`,
      };
    }
    try {
      await this.withProgress(`nixos-rebuild ${input.action} ${c.name}`, steps.value, state, target, () => undefined, signal);
      const message = `nixos-rebuild ${input.action} of ${c.name} on ${target} finished.`;
      void vscode.window.showInformationMessage(message);
      return { status: 'done', config: c.name, action: input.action, state, message };
    } catch (e) {
      return this.failed(c, input.action, e, state, target);
    }
  }

  /** The generations of a host's target (time, toplevel, current). */
  async generations(c: ConfigRef, signal?: AbortSignal): Promise<{ generations: Generation[]; target: string }> {
    const settings = hostSettings(this.ctx, c);
    if (!settings.ok) throw new Error(settings.message);
    const target = settings.value.host.target?.text ?? 'this machine';
    const state = await runSteps(
      [generationsStep({ host: settings.value.host, sshOptions: settings.value.sshOptions })],
      {},
      { io: this.io(target), signal, target },
    );
    return { generations: state.generations ?? [], target };
  }

  /** Lists the generations; the one picked (or `number`) becomes current again after a confirmation. */
  async rollback(c: ConfigRef, number?: number, signal?: AbortSignal): Promise<DeployOutcome> {
    if (!this.ctx.trusted) return this.refuse(c, 'rollback', 'Restricted Mode: trust this folder to deploy its hosts.');
    const settings = hostSettings(this.ctx, c);
    if (!settings.ok) return this.refuse(c, 'rollback', settings.message);
    const target = settings.value.host.target?.text ?? 'this machine';
    const state: DeployState = {};
    try {
      const { generations } = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Generations of ${c.name}` },
        () => this.generations(c, signal),
      );
      if (generations.length === 0) {
        const message = `${target} has no system generations yet.`;
        void vscode.window.showInformationMessage(message);
        return { status: 'declined', config: c.name, action: 'rollback', state, message };
      }
      const g = number !== undefined ? generations.find((x) => x.number === number) : await this.ui.pickGeneration(generations, c, target);
      if (!g) return { status: 'declined', config: c.name, action: 'rollback', state, message: 'No generation chosen.' };
      if (g.current) {
        const message = `Generation ${g.number} is the current one on ${target}.`;
        void vscode.window.showInformationMessage(message);
        return { status: 'declined', config: c.name, action: 'rollback', state, message };
      }
      const view = this.view(c, 'switch', target, state, { phase: 'confirming', toplevel: g.toplevel });
      const ok = await this.ui.confirm({
        title: `Roll ${c.name} on ${target} back to generation ${g.number}?`,
        detail: `Its system: ${g.toplevel}\nIt is activated with switch-to-configuration switch.`,
        button: 'Roll Back',
        view,
      });
      if (!ok)
        return {
          status: 'declined',
          config: c.name,
          action: 'rollback',
          state,
          message: `Not rolled back: ${c.name} on ${target} is unchanged.`,
        };
      const nix = await this.ctx.requireNix();
      const shared = await this.sharedConnections(settings.value.sshOptions, [settings.value.host.target]);
      try {
        await this.withProgress(
          `Roll back ${c.name} on ${target}`,
          rollbackSteps({ nix: nix.path, host: settings.value.host, sshOptions: shared.sshOptions }, g.number),
          state,
          target,
          () => undefined,
          signal,
        );
      } finally {
        await shared.close();
      }
      const message = `Rolled ${c.name} on ${target} back to generation ${state.generation ?? g.number}.`;
      void vscode.window.showInformationMessage(message);
      return { status: 'done', config: c.name, action: 'rollback', state, message };
    } catch (e) {
      return this.failed(c, 'rollback', e, state, target);
    }
  }

  /** home-manager: build the activation package, diff it against the current generation, activate it in a terminal. */
  async home(c: ConfigRef, action: 'build' | 'preview' | 'activate', signal?: AbortSignal): Promise<DeployOutcome> {
    if (!this.ctx.trusted) return this.refuse(c, action, 'Restricted Mode: trust this folder to build its configurations.');
    const target = 'this machine';
    const state: DeployState = {};
    const key = this.key(c);
    this.lastConfigs.set(key, c);
    let view = this.view(c, action, target, state, {});
    try {
      const b = await this.base(c);
      const inst = installable(b.ref, ['homeConfigurations', c.name, 'activationPackage']);
      if (!inst.ok) return this.refuse(c, action, inst.error.message);
      const steps: Step[] = [buildStep(b, inst.value, 'Build the activation package')];
      if (action !== 'build') {
        steps.push(
          {
            id: 'current',
            title: 'Find the current generation',
            terminal: false,
            cancellable: true,
            okExitCodes: [1],
            command: () => ({ file: 'readlink', args: ['-e', ...homeProfiles()] }),
            parse: (stdout, s) => {
              s.current = stdout.split('\n').find((l) => l.startsWith('/')) ?? null;
            },
          },
          {
            id: 'diff',
            title: 'Compare with the current generation',
            terminal: false,
            cancellable: true,
            command: (s) =>
              s.current && s.toplevel
                ? {
                    file: b.nix,
                    args: nixArgs(['store', 'diff-closures'], [s.current, s.toplevel], { ...b.nixOptions, flakeOptions: false }),
                  }
                : undefined,
            parse: (stdout, s) => {
              s.diff = parseDiffClosures(stdout);
            },
          },
        );
      }
      if (action !== 'build') this.panel.show(view);
      await this.withProgress(
        `${ACTION_WORD[action]} ${c.name} (home-manager)`,
        steps,
        state,
        target,
        (step) => this.panel.update((view = { ...view, step })),
        signal,
      );
      view = this.view(c, action, target, state, { phase: 'confirming' });
      if (action !== 'activate') {
        const message =
          action === 'build'
            ? `Built ${c.name}: ${state.toplevel}`
            : `${state.diff ? summarizeDiff(state.diff).text : 'no current generation'}: nothing was activated.`;
        this.panel.update({ ...view, phase: 'done', message, actions: action === 'preview' ? ['activate'] : [] });
        void vscode.window.showInformationMessage(message);
        return { status: 'done', config: c.name, action, state, message };
      }
      this.panel.update(view);
      if (!(await this.ui.confirm({ ...this.confirmation(c, 'activate', target, state), view }))) {
        const message = `Not activated: ${c.name} is unchanged.`;
        this.panel.update({ ...view, phase: 'declined', message });
        return { status: 'declined', config: c.name, action, state, message };
      }
      const activate: Step = {
        id: 'activate',
        title: 'Activate',
        terminal: true,
        cancellable: false,
        command: (s) => (s.toplevel ? { file: `${s.toplevel}/activate`, args: [] } : undefined),
      };
      view = { ...view, phase: 'applying' };
      await this.withProgress(`Activate ${c.name} (home-manager)`, [activate], state, target, () => undefined, signal);
      const message = `Activated ${c.name} (home-manager).`;
      this.panel.update({ ...view, phase: 'done', message });
      void vscode.window.showInformationMessage(message);
      return { status: 'done', config: c.name, action, state, message };
    } catch (e) {
      return this.failed(c, action, e, state, target, view);
    }
  }

  /** The VM and images a host offers (`config.system.build.{vm,vmWithBootLoader,isoImage,sdImage,images.*}`). */
  async imageChoices(c: ConfigRef, signal?: AbortSignal): Promise<ImageChoice[]> {
    const b = await this.base(c);
    const names = async (attr: string[]): Promise<string[]> => {
      const inst = installable(b.ref, ['nixosConfigurations', c.name, 'config', 'system', 'build', ...attr]);
      if (!inst.ok) throw new Error(inst.error.message);
      const v = await this.ctx.nixJson(['eval'], ['--json', inst.value, '--apply', 'builtins.attrNames'], {
        scope: c.flake.folder,
        cwd: c.flake.uri.fsPath,
        signal,
      });
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length <= 256) : [];
    };
    const top = await names([]);
    const out: ImageChoice[] = [];
    if (top.includes('vm')) out.push({ label: 'Build VM', attr: ['vm'] }, { label: 'Run VM', attr: ['vm'], run: true });
    if (top.includes('vmWithBootLoader')) out.push({ label: 'Build VM with boot loader', attr: ['vmWithBootLoader'] });
    if (top.includes('isoImage')) out.push({ label: 'Build ISO', attr: ['isoImage'] });
    if (top.includes('sdImage')) out.push({ label: 'Build SD card image', attr: ['sdImage'] });
    if (top.includes('images')) for (const v of await names(['images'])) out.push({ label: `Build image: ${v}`, attr: ['images', v] });
    return out;
  }

  /** Builds one of a host's VM or images (and runs the VM in a terminal). */
  async image(c: ConfigRef, choice?: ImageChoice, signal?: AbortSignal): Promise<DeployOutcome> {
    if (!this.ctx.trusted) return this.refuse(c, 'image', 'Restricted Mode: trust this folder to build its hosts.');
    const state: DeployState = {};
    try {
      if (!choice) {
        const choices = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Looking for the VM and images of ${c.name}` },
          () => this.imageChoices(c, signal),
        );
        if (choices.length === 0) {
          const message = `${c.name} offers no VM or image (config.system.build.vm, isoImage, images.*).`;
          void vscode.window.showInformationMessage(message);
          return { status: 'declined', config: c.name, action: 'image', state, message };
        }
        choice = await this.ui.pickImage(choices, c);
        if (!choice) return { status: 'declined', config: c.name, action: 'image', state, message: 'Nothing chosen.' };
      }
      const picked = choice;
      const b = await this.base(c);
      const inst = installable(b.ref, ['nixosConfigurations', c.name, 'config', 'system', 'build', ...picked.attr]);
      if (!inst.ok) return this.refuse(c, 'image', inst.error.message);
      const step = buildStep(b, inst.value, picked.label);
      await this.withProgress(`${picked.label} of ${c.name}`, [step], state, 'this machine', () => undefined, signal);
      const path = state.toplevel ?? '';
      if (picked.run) {
        const bin = join(path, 'bin');
        const script = (await readdir(bin).catch(() => [] as string[])).find((f) => /^run-.*-vm$/.test(f));
        if (!script) return this.refuse(c, 'image', `The VM of ${c.name} has no bin/run-*-vm script (${bin}).`);
        // The VM's disk (`./<host>.qcow2` by default) is kept in the extension's storage, never in the repository.
        const disk = vmDiskImage(this.ctx.extension.globalStorageUri.fsPath, c.flake.uri.fsPath, c.name);
        await mkdir(dirname(disk), { recursive: true });
        this.ctx
          .openTerminal({
            name: `VM ${c.name}`,
            shellPath: join(bin, script),
            shellArgs: [],
            cwd: c.flake.uri.fsPath,
            env: { NIX_DISK_IMAGE: disk },
          })
          .show();
        const message = `Running the VM of ${c.name} (its disk: ${disk}).`;
        return { status: 'done', config: c.name, action: 'image', state, message, path, files: [disk] };
      }
      // The image file itself when the output names it (nixpkgs' image builders do), else the output.
      const products = parseBuildProducts(
        await readFile(join(path, 'nix-support', 'hydra-build-products'), 'utf8').catch(() => ''),
        path,
      ).map((p) => p.path);
      const sizes = await Promise.all(
        products.map((f) =>
          stat(f).then(
            (s) => ` (${formatBytes(s.size)})`,
            () => '',
          ),
        ),
      );
      const shown = products.length ? products.map((f, i) => `${f}${sizes[i]}`).join(', ') : path;
      const message = `${picked.label} of ${c.name}: ${shown}`;
      const copied = products[0] ?? path;
      void vscode.window.showInformationMessage(message, 'Copy Path').then((a) => a && vscode.env.clipboard.writeText(copied));
      return { status: 'done', config: c.name, action: 'image', state, message, path, files: products };
    } catch (e) {
      return this.failed(c, 'image', e, state, 'this machine');
    }
  }
}

/** "Switched web on testhost to generation 5." */
export function successMessage(name: string, action: DeployAction, target: string, generation?: number): string {
  const gen = generation !== undefined ? `generation ${generation}` : 'the new generation';
  switch (action) {
    case 'switch':
      return `Switched ${name} on ${target} to ${gen}.`;
    case 'boot':
      return `${name} on ${target} boots ${gen} next time (not activated now).`;
    case 'test':
      return `Activated ${name} on ${target} until the next boot (test): no new generation.`;
    case 'dry-activate':
      return `Dry activation of ${name} on ${target} finished: the terminal shows what would change.`;
    case 'build':
      return `Built ${name}.`;
  }
}

/** A step that builds one installable here, with progress records, and keeps its `out` as the state's toplevel. */
function buildStep(b: { nix: string; nixOptions: NixCommandOptions }, installable: string, title: string): Step {
  return {
    id: 'build',
    title,
    terminal: false,
    cancellable: true,
    command: () => ({
      file: b.nix,
      args: nixArgs(['build'], ['--json', '--no-link', '--log-format', 'internal-json', '-v', installable], {
        ...b.nixOptions,
        flakeOptions: true,
      }),
    }),
    parse: (stdout, s) => {
      s.toplevel = parseBuildJson(stdout).out;
    },
  };
}
