// The `nix` task type: tasks offered per buildable output, per app and per flake ("flake check"), and tasks written by
// hand in tasks.json, run in a pseudoterminal through the extension's process layer (no shell, the gateway's trust
// check and log, `--no-write-lock-file` unless the task says otherwise). Nix's output goes to the terminal; its
// errors go to Problems at the workspace files (store paths mapped back, as for builds), which a problem matcher
// on the terminal text could not do for a flake read from its copy in the store.
import * as vscode from 'vscode';
import { join, relative } from 'node:path';
import { RestrictedError, type Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { attrPosition, flakeMapper, flakeRef } from '../../workspace/mapping';
import type { OutputsService } from '../../workspace/outputs';
import { OwnedDiagnostics, placeDiagnostics, type PlacedDiagnostic } from '../../workspace/diagnostics';
import { derivationPosition } from '../../workspace/build';
import { CancelledError, ExitError } from '../../core/nix/process';
import { parseNixErrors } from '../../core/errors/fromLog';
import { allLeaves } from '../../core/flake/show';
import { formatAttrPath, parseAttrPath, shortInstallable } from '../../core/flake/installable';
import { checkTaskDefinition, taskInvocation, taskLabel, type NixTaskDefinition } from '../../core/nix/task';
import { quoteForDisplay } from '../../core/nix/args';
import { stripAnsi } from '../../core/text';

/** A finished task run (for the extension's tests and other extensions). */
export interface TaskRun {
  name: string;
  /** The nix arguments after the experimental-features flag. */
  command: string;
  exitCode: number;
  /** Where its errors were placed. */
  problems: { uri: vscode.Uri; message: string; line: number }[];
}

export class NixTasks implements vscode.TaskProvider, vscode.Disposable {
  readonly diagnostics = new OwnedDiagnostics('nix-task');
  readonly runs: TaskRun[] = [];
  private readonly finished = new vscode.EventEmitter<TaskRun>();
  readonly onDidFinish = this.finished.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {}

  async provideTasks(): Promise<vscode.Task[]> {
    if (!this.ctx.trusted) return [];
    const nix = await this.ctx.nix();
    const system = nix.ok ? nix.nix.system : undefined;
    const flakes = await this.ctx.flakes();
    const tasks: vscode.Task[] = [];
    for (const flake of flakes) {
      const s = await this.outputs.ensure(flake);
      const dir = relative(flake.folder.uri.fsPath, flake.uri.fsPath).split('\\').join('/');
      const base = dir ? { flake: dir } : {};
      const label = flakes.filter((f) => f.folder === flake.folder).length > 1 ? flake.label : undefined;
      const add = (def: NixTaskDefinition, group?: vscode.TaskGroup) => {
        const t = this.task(def, flake.folder, taskLabel(def, label));
        if (group) t.group = group;
        tasks.push(t);
      };
      add({ type: 'nix', command: 'flake check', ...base }, vscode.TaskGroup.Test);
      for (const leaf of s.model ? allLeaves(s.model) : []) {
        if (leaf.kind === 'omitted' || (leaf.system && !s.systems.includes(leaf.system))) continue;
        const path = leaf.buildAttrPath ?? leaf.attrPath;
        if (leaf.buildable) {
          const short = leaf.buildAttrPath ? formatAttrPath(path) : undefined;
          const installable = short?.ok ? `.#${short.value}` : shortInstallable('.', path, { system, command: 'build' });
          add(
            { type: 'nix', command: 'build', installable, ...base },
            leaf.attrPath[0] === 'checks' ? vscode.TaskGroup.Test : vscode.TaskGroup.Build,
          );
        }
        if (leaf.kind === 'app')
          add({ type: 'nix', command: 'run', installable: shortInstallable('.', leaf.attrPath, { system, command: 'run' }), ...base });
      }
    }
    return tasks;
  }

  /** A task from tasks.json: checked, then run like the offered ones. */
  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const checked = checkTaskDefinition(task.definition);
    const t = new vscode.Task(
      task.definition,
      folder,
      task.name,
      'nix',
      this.execution(task.definition, folder, task.name),
      task.problemMatchers,
    );
    if (!checked.ok) this.ctx.log.warn(`task ${task.name}: ${checked.message}`);
    return t;
  }

  private task(def: NixTaskDefinition, folder: vscode.WorkspaceFolder, name: string): vscode.Task {
    return new vscode.Task(def, folder, name, 'nix', this.execution(def, folder, name), []);
  }

  private execution(def: unknown, folder: vscode.WorkspaceFolder, name: string): vscode.CustomExecution {
    return new vscode.CustomExecution(async () => new NixTaskTerminal(this.ctx, this, def, folder, name));
  }

  /** Runs a task definition in a pseudoterminal of our own (as VS Code would), for the extension's tests. */
  terminal(def: unknown, folder: vscode.WorkspaceFolder, name: string): vscode.Pseudoterminal {
    return new NixTaskTerminal(this.ctx, this, def, folder, name);
  }

  finish(run: TaskRun): void {
    this.runs.push(run);
    if (this.runs.length > 20) this.runs.splice(0, this.runs.length - 20);
    this.finished.fire(run);
  }

  dispose(): void {
    this.diagnostics.dispose();
    this.finished.dispose();
  }
}

/** Exit code reported for a task that was stopped. */
const CANCELLED = 130;

class NixTaskTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private readonly ac = new AbortController();

  constructor(
    private readonly ctx: Ctx,
    private readonly owner: NixTasks,
    private readonly def: unknown,
    private readonly folder: vscode.WorkspaceFolder,
    private readonly name: string,
  ) {}

  open(): void {
    void this.start().then(
      (code) => this.closer.fire(code),
      (e) => {
        this.line(`${(e as Error).message}`);
        this.closer.fire(1);
      },
    );
  }

  close(): void {
    this.ac.abort();
  }

  handleInput(data: string): void {
    // Ctrl+C stops nix, as in a terminal.
    if (data.includes('\x03')) this.ac.abort();
  }

  private line(text: string): void {
    this.writer.fire(`${stripAnsi(text).split(/\r?\n/).join('\r\n')}\r\n`);
  }

  private async start(): Promise<number> {
    if (!this.ctx.trusted) {
      this.line(RestrictedError.MESSAGE);
      return 1;
    }
    const checked = checkTaskDefinition(this.def);
    if (!checked.ok) {
      this.line(`This nix task cannot run: ${checked.message}`);
      return 2;
    }
    const def = checked.value;
    const dir = def.flake ? join(this.folder.uri.fsPath, def.flake) : this.folder.uri.fsPath;
    const flake: Flake = (await this.ctx.flakes()).find((f) => f.uri.fsPath === dir) ?? {
      uri: vscode.Uri.file(dir),
      folder: this.folder,
      label: def.flake ?? this.folder.name,
    };
    const inv = taskInvocation(def, await flakeRef(this.ctx, flake));
    const shown = ['nix', ...inv.subcommand, ...(inv.writeLockFile ? [] : ['--no-write-lock-file']), ...inv.rest]
      .map(quoteForDisplay)
      .join(' ');
    this.line(`> ${shown}`);
    if (inv.dropped.length) this.line(`(left out: ${inv.dropped.join(' ')}: a task does not accept the flake's configuration)`);
    const key = `${this.folder.uri.toString()}#${this.name}`;
    const finish = (exitCode: number, placed: PlacedDiagnostic[] = []) => {
      this.owner.diagnostics.set(key, placed);
      this.owner.finish({
        name: this.name,
        command: shown,
        exitCode,
        problems: placed.map((p) => ({ uri: p.uri, message: p.diagnostic.message, line: p.diagnostic.range.start.line })),
      });
      return exitCode;
    };
    try {
      await this.ctx.runNix(inv.subcommand, inv.rest, {
        cwd: flake.uri.fsPath,
        scope: flake.folder,
        signal: this.ac.signal,
        writeLockFile: inv.writeLockFile,
        onStdoutLine: (l) => this.line(l),
        onStderrLine: (l) => this.line(l),
      });
      return finish(0);
    } catch (e) {
      if (e instanceof CancelledError) {
        this.line('stopped');
        return finish(CANCELLED);
      }
      if (!(e instanceof ExitError)) throw e;
      const placed = await this.place(flake, def, inv.rest[0], e.stderrLines.join('\n')).catch(() => []);
      if (placed.length)
        this.line(
          `${placed.length} problem${placed.length === 1 ? '' : 's'} in ${[...new Set(placed.map((p) => vscode.workspace.asRelativePath(p.uri)))].join(', ')}`,
        );
      return finish(e.exitCode ?? 1, placed);
    }
  }

  /** Nix's errors at the workspace files; a failing builder at its derivation's meta.position or attribute. */
  private async place(flake: Flake, def: NixTaskDefinition, target: string | undefined, stderr: string): Promise<PlacedDiagnostic[]> {
    const errors = parseNixErrors(stderr);
    const mapper = await flakeMapper(this.ctx, flake, (await this.ctx.requireNix()).storeDir);
    const { placed, unplaced } = await placeDiagnostics(errors, mapper);
    const builder = unplaced.find((x) => x.kind === 'builder-failed' || x.kind === 'dependency-failed');
    if (builder && target && def.installable && /^\.?#/.test(def.installable)) {
      const path = parseAttrPath(def.installable.replace(/^\.?#/, ''));
      const at =
        (await derivationPosition(this.ctx, flake, target, mapper)) ??
        (path.ok && path.value.length > 1 ? await attrPosition(this.ctx, flake, path.value, { mapper }) : undefined);
      if (at) {
        const d = new vscode.Diagnostic(at.range, builder.message, vscode.DiagnosticSeverity.Error);
        d.source = 'nix';
        d.code = builder.kind;
        placed.push({ uri: at.uri, diagnostic: d, error: builder, placement: { sites: [], related: [] } });
      }
    }
    return placed;
  }
}

export function registerTasks(ctx: Ctx, outputs: OutputsService): NixTasks {
  const tasks = ctx.register(new NixTasks(ctx, outputs));
  ctx.register(vscode.tasks.registerTaskProvider('nix', tasks));
  return tasks;
}
