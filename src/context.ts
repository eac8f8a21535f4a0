// The extension's context: owns every disposable, the log, the settings, the detected Nix and the flakes found in
// the workspace. Features get it and register what they need through it.
import * as vscode from 'vscode';
import { affects, settings, Settings } from './config';
import { detectNix, DetectResult, NixInstallation } from './core/nix/detect';
import { describe } from './core/nix/version';
import { displayCommand, NIX_CONFIG_ENV, nixArgs, nixEnv } from './core/nix/args';
import { CancelledError, ExitError, run, RunOptions, RunResult } from './core/nix/process';
import { applyMutations, EnvOverlay, type EnvMutation } from './core/flake/devShell';
import { discoverFlakes, Flake } from './workspace/flakes';

export type State = 'noFlake' | 'nixMissing' | 'nixTooOld' | 'ready';

/** A finished nix run, as the log shows it: kept for "what just ran?" (the last RECENT_RUNS). */
export interface RecentRun {
  command: string;
  startedAt: number;
  /** `ok`, `cancelled`, `exit N`, `not started`. */
  outcome: string;
  stderrTail: string[];
}

const RECENT_RUNS = 40;

/** The nix configuration a terminal of ours inherits from the extension host's environment. */
const NIX_ENV = new Set(NIX_CONFIG_ENV);

/** What the gateway throws in a folder the user has not trusted. */
export class RestrictedError extends Error {
  static readonly MESSAGE =
    'Restricted Mode: no process is started in a folder that is not trusted. Trust the folder to evaluate its flakes.';
  constructor() {
    super(RestrictedError.MESSAGE);
    this.name = 'RestrictedError';
  }
}

/**
 * How a process is started through the gateway. `devShell: false` keeps the active dev shell's environment away from
 * it (the extension's own git runs).
 */
export type ExecOptions = RunOptions & { devShell?: boolean };

/** What `nixJson` throws when nix's stdout is not JSON. */
export class NotJsonError extends Error {
  constructor(readonly command: string) {
    super(`nix printed output that is not JSON (${command})`);
    this.name = 'NotJsonError';
  }
}

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  private nixPromise: Promise<DetectResult> | undefined;
  private flakesPromise: Promise<Flake[]> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  /** Fires when the detected Nix, the flakes or the trust state change. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.register(vscode.window.createOutputChannel('Nix Flakes', { log: true }));
    this.register(this.stateEmitter);
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affects(e, 'nixPath')) {
          this.nixPromise = undefined;
          void this.updateState();
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.updateState()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.flakesPromise = undefined;
        void this.updateState();
      }),
    );
  }

  register<T extends vscode.Disposable>(...items: [T, ...vscode.Disposable[]]): T {
    this.disposables.push(...items);
    return items[0];
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  settings(scope?: vscode.ConfigurationScope): Settings {
    return settings(scope);
  }

  /** The detected Nix, detected once (again after nixPath changes). Never evaluates workspace code. */
  nix(): Promise<DetectResult> {
    // Restricted Mode starts no process at all, not even `nix --version`.
    if (!this.trusted) return Promise.resolve({ ok: false, reason: 'restricted', message: RestrictedError.MESSAGE });
    if (this.nixPromise) return this.nixPromise;
    const probe: Promise<DetectResult> = detectNix(settings().nixPath, { run: (file, args, opts) => this.exec(file, args, opts) }).then(
      (r) => {
        if (r.ok) this.log.info(`Using ${describe(r.nix.version)} at ${r.nix.path} (system ${r.nix.system})`);
        else this.log.warn(r.message);
        // A probe that failed or timed out is asked again next time; what nix answered is kept.
        if (!r.ok && r.reason === 'failed' && this.nixPromise === probe) this.nixPromise = undefined;
        return r;
      },
    );
    this.nixPromise = probe;
    return probe;
  }

  /** Forgets the detected Nix: the next nix() looks for it again (installed or upgraded since). */
  forgetNix(): void {
    this.nixPromise = undefined;
  }

  /** The flakes in the workspace (found by their flake.nix), cached until folders change or refresh(). */
  flakes(): Promise<Flake[]> {
    this.flakesPromise ??= discoverFlakes();
    return this.flakesPromise;
  }

  forgetFlakes(): void {
    this.flakesPromise = undefined;
  }

  /**
   * The one gateway for every process the extension starts (nix, git, nixos-rebuild): refuses in Restricted Mode
   * (git runs a repository's `core.fsmonitor`, nix evaluates its code), logs the command line and its outcome, and
   * keeps it in `recentRuns`.
   */
  async exec(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    if (!this.trusted) throw new RestrictedError();
    const { devShell, ...runOpts } = opts;
    const shellEnv = devShell === false || opts.env !== undefined ? undefined : this.folderEnvironment(opts.cwd);
    if (shellEnv) opts = { ...runOpts, env: shellEnv };
    else opts = runOpts;
    const record = (outcome: string, stderr: readonly string[]) => {
      this.recentRuns.push({ command: displayCommand(file, args), startedAt, outcome, stderrTail: stderr.slice(-12) });
      if (this.recentRuns.length > RECENT_RUNS) this.recentRuns.splice(0, this.recentRuns.length - RECENT_RUNS);
    };
    const startedAt = Date.now();
    try {
      const r = await run(file, args, { ...opts, log: opts.log ?? ((m) => this.log.info(m)) });
      record('ok', r.stderrLines);
      return r;
    } catch (e) {
      if (e instanceof CancelledError) record('cancelled', e.stderrLines);
      else if (e instanceof ExitError) record(e.signal ? `killed by ${e.signal}` : `exit ${e.exitCode}`, e.stderrLines);
      else record(`not started: ${(e as Error).message}`, []);
      throw e;
    }
  }

  /** git, through the gateway (never with a dev shell's environment: it reads the repository for the extension). */
  git(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.exec('git', args, { ...opts, devShell: false });
  }

  /**
   * The dev shell applied to each workspace folder (by its path): the changes it makes to the environment of the
   * processes the extension starts in that folder (`exec` with a `cwd` inside it and no `env` of its own). nix itself
   * never gets them: `runNix` gives nix its own environment, so that an evaluation does not depend on which shell is
   * active (a shell's PATH could hold another git or ssh for nix to fetch with, its variables other nix settings), and
   * the cache keys stay true.
   */
  private readonly folderEnvs = new Map<string, readonly EnvMutation[]>();

  setFolderEnvironment(folder: vscode.WorkspaceFolder, mutations: readonly EnvMutation[] | undefined): void {
    if (mutations?.length) this.folderEnvs.set(folder.uri.fsPath, mutations);
    else this.folderEnvs.delete(folder.uri.fsPath);
  }

  /** The environment of a process started in `cwd` when a dev shell is applied to its folder; else undefined. */
  folderEnvironment(cwd: string | undefined): Record<string, string> | undefined {
    if (!cwd || this.folderEnvs.size === 0) return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(cwd));
    const mutations = folder && this.folderEnvs.get(folder.uri.fsPath);
    return mutations ? applyMutations(this.hostOverlay.original(), mutations) : undefined;
  }

  /**
   * A dev shell's changes applied to the extension host's own environment (undefined: the original back), so that
   * what other extensions start afterwards (language servers, debug adapters) inherits them. nix and the folders'
   * processes still start from the original environment.
   */
  setHostEnvironment(mutations: readonly EnvMutation[] | undefined): void {
    if (mutations?.length) this.hostOverlay.apply(mutations);
    else this.hostOverlay.restore();
  }

  /** The variables a dev shell has changed in the extension host's environment. */
  hostEnvironmentChanges(): string[] {
    return this.hostOverlay.names();
  }

  /** The extension host's environment without a dev shell's changes (a copy). */
  originalEnvironment(): NodeJS.ProcessEnv {
    return this.hostOverlay.original();
  }

  private readonly hostOverlay = new EnvOverlay(process.env);

  /**
   * Runs nix with the user's settings for `scope`, through the gateway. Refuses in Restricted Mode: nothing is
   * evaluated in a folder the user has not trusted.
   */
  async runNix(
    subcommand: string[],
    rest: string[],
    opts: RunOptions & { scope?: vscode.ConfigurationScope; writeLockFile?: boolean; flakeOptions?: boolean } = {},
  ): Promise<RunResult> {
    if (!this.trusted) throw new RestrictedError();
    const nix = await this.requireNix();
    const s = settings(opts.scope);
    const args = nixArgs(subcommand, rest, {
      writeLockFile: opts.writeLockFile,
      offline: s.offline,
      extraArgs: s.extraArgs,
      flakeOptions: opts.flakeOptions,
    });
    return this.exec(nix.path, args, { ...opts, env: nixEnv(opts.env ?? this.originalEnvironment()), devShell: false });
  }

  /** Runs nix (as `runNix`) and reads its stdout as JSON; bad JSON throws an Error that says so. */
  async nixJson(
    subcommand: string[],
    rest: string[],
    opts: RunOptions & { scope?: vscode.ConfigurationScope; flakeOptions?: boolean } = {},
  ): Promise<unknown> {
    const r = await this.runNix(subcommand, rest, opts);
    try {
      return JSON.parse(r.stdout) as unknown;
    } catch {
      throw new NotJsonError(r.command);
    }
  }

  /** A terminal that runs a program itself (no shell in between), through the same trust check and log. */
  openTerminal(options: vscode.TerminalOptions & { shellPath: string; shellArgs: string[] }): vscode.Terminal {
    if (!this.trusted) throw new RestrictedError();
    this.log.info(`terminal: ${displayCommand(options.shellPath, options.shellArgs)}`);
    this.recentRuns.push({
      command: `terminal: ${displayCommand(options.shellPath, options.shellArgs)}`,
      startedAt: Date.now(),
      outcome: 'terminal',
      stderrTail: [],
    });
    return vscode.window.createTerminal(options);
  }

  /**
   * A terminal running nix itself (`nix run`, `nix develop`: runs the user started, so nix may write flake.lock), with
   * the user's settings for `scope` and the nix configuration the extension runs with (terminals otherwise get
   * their environment from the user's shell).
   */
  async openNixTerminal(
    subcommand: string[],
    rest: string[],
    options: Omit<vscode.TerminalOptions, 'shellPath' | 'shellArgs' | 'env'> & { scope?: vscode.ConfigurationScope },
  ): Promise<vscode.Terminal> {
    if (!this.trusted) throw new RestrictedError();
    const nix = await this.requireNix();
    const s = settings(options.scope);
    const args = nixArgs(subcommand, rest, { writeLockFile: true, offline: s.offline, extraArgs: s.extraArgs });
    const env = Object.fromEntries(
      Object.entries(this.originalEnvironment()).filter(([k, v]) => NIX_ENV.has(k) && v !== undefined),
    ) as Record<string, string>;
    const { scope: _scope, ...terminal } = options;
    return this.openTerminal({ ...terminal, shellPath: nix.path, shellArgs: args, env });
  }

  async requireNix(): Promise<NixInstallation> {
    const r = await this.nix();
    if (!r.ok) throw new Error(r.message);
    return r.nix;
  }

  /** The value last given to the `nixFlakes.state` context key (undefined in Restricted Mode or before it is known). */
  state: State | undefined;

  /** The git work tree root of each flake folder (it does not change while the window is open). */
  readonly gitRoots = new Map<string, Promise<string>>();

  /** Nix's answers about flakes' sources, per flake, question and state of its files (workspace/flakeInfo.ts). */
  readonly flakeAnswers = new Map<string, { key: string; answer: Promise<unknown> }>();

  /** The last processes started through the gateway (nix, git, terminals), newest last (bounded). */
  readonly recentRuns: RecentRun[] = [];

  /** Recomputes the `nixFlakes.state` context key that gates views, welcome content and palette entries. */
  async updateState(): Promise<State | undefined> {
    if (!this.trusted) {
      this.state = undefined;
      await vscode.commands.executeCommand('setContext', 'nixFlakes.state', undefined);
      this.stateEmitter.fire();
      return undefined;
    }
    const flakes = await this.flakes();
    let state: State;
    if (flakes.length === 0) state = 'noFlake';
    else {
      const nix = await this.nix();
      state = nix.ok ? 'ready' : nix.reason === 'too-old' ? 'nixTooOld' : 'nixMissing';
    }
    this.state = state;
    await vscode.commands.executeCommand('setContext', 'nixFlakes.state', state);
    this.stateEmitter.fire();
    return state;
  }

  dispose(): void {
    this.hostOverlay.restore();
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (e) {
        console.error(e);
      }
    }
  }
}
