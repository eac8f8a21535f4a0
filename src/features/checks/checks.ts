// Flake checks in the Testing view: a test per flake, and below it "flake check" (`nix flake check --no-build`) and
// one test per `checks.<system>.<name>`, made from the outputs service as soon as the outputs are known. A check runs
// as a build with progress (its log in the test output) and is cancelled with the run; a failing check's message is
// its builder's last lines at its definition, an evaluation error fails it at its file and line. A second profile
// builds every selected check in one `nix build --keep-going`; continuous runs re-run the checks of a flake whose
// file is saved.
import * as vscode from 'vscode';
import { RestrictedError, type Ctx } from '../../context';
import { flakesHolding, type Flake } from '../../workspace/flakes';
import { attrPosition, flakeMapper, flakeRef, type Mapper } from '../../workspace/mapping';
import type { OutputsService } from '../../workspace/outputs';
import { placeDiagnostics } from '../../workspace/diagnostics';
import { derivationPosition, lineLocation, runNixBuild } from '../../workspace/build';
import { CancelledError, ExitError } from '../../core/nix/process';
import {
  checksOf,
  drvPathsApply,
  flakeCheckArgs,
  POSITIONS_APPLY,
  readCheckPositions,
  readDrvPaths,
  readFlakeCheck,
  readKeepGoing,
  type FlakeCheck,
} from '../../core/flake/checks';
import { installable } from '../../core/flake/installable';
import type { NixError } from '../../core/errors/types';
import { stripAnsi } from '../../core/text';

type ItemData =
  | { kind: 'flake'; flake: Flake }
  | { kind: 'flakeCheck'; flake: Flake }
  | { kind: 'check'; flake: Flake; check: FlakeCheck; position?: vscode.Location };

/** The last outcome of a test, as the extension reported it (for its own tests and other extensions). */
export interface CheckResult {
  state: 'passed' | 'failed' | 'skipped' | 'errored';
  messages: { text: string; location?: vscode.Location }[];
  /** When it was reported (ms since the epoch). */
  at: number;
}

const FLAKE_CHECK_LABEL = 'flake check';

export class FlakeChecks implements vscode.Disposable {
  readonly controller: vscode.TestController;
  /** Builds the selected checks one after the other, each with its own progress. */
  readonly runProfile: vscode.TestRunProfile;
  /** Builds the selected checks in one `nix build --keep-going`. */
  readonly keepGoingProfile: vscode.TestRunProfile;
  /** The last outcome per test id. */
  readonly results = new Map<string, CheckResult>();
  private readonly data = new WeakMap<vscode.TestItem, ItemData>();
  /** The cache key the positions of a flake's checks were read for. */
  private readonly positionsFor = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {
    this.controller = vscode.tests.createTestController('nixFlakeChecks', 'Nix Flake Checks');
    this.controller.resolveHandler = (item) => this.resolve(item);
    this.controller.refreshHandler = async () => {
      for (const flake of await this.ctx.flakes()) await this.outputs.evaluate(flake, { force: true });
    };
    this.runProfile = this.controller.createRunProfile(
      'Build',
      vscode.TestRunProfileKind.Run,
      (r, t) => this.run(r, t, false),
      true,
      undefined,
      true,
    );
    this.keepGoingProfile = this.controller.createRunProfile(
      'Build All (--keep-going)',
      vscode.TestRunProfileKind.Run,
      (r, t) => this.run(r, t, true),
      false,
    );
    this.disposables.push(
      this.outputs.onDidChange((flake) => {
        if (flake) void this.sync(flake);
      }),
      this.ctx.onDidChangeState(() => void this.syncFlakes()),
    );
    void this.syncFlakes();
  }

  /** The test of a flake (created when missing). */
  flakeItem(flake: Flake): vscode.TestItem {
    const id = flake.uri.toString();
    let item = this.controller.items.get(id);
    if (!item) {
      item = this.controller.createTestItem(id, flake.label, vscode.Uri.joinPath(flake.uri, 'flake.nix'));
      item.canResolveChildren = true;
      this.data.set(item, { kind: 'flake', flake });
      this.controller.items.add(item);
    }
    return item;
  }

  /** The flakes of the workspace as tests; flakes already evaluated get their checks now. */
  private async syncFlakes(): Promise<void> {
    if (!this.ctx.trusted) return;
    const flakes = await this.ctx.flakes();
    const ids = new Set(flakes.map((f) => f.uri.toString()));
    this.controller.items.forEach((item) => {
      if (!ids.has(item.id)) this.controller.items.delete(item.id);
    });
    for (const flake of flakes) {
      this.flakeItem(flake);
      if (this.outputs.get(flake).model) await this.sync(flake);
    }
  }

  private async resolve(item: vscode.TestItem | undefined): Promise<void> {
    if (!this.ctx.trusted) return;
    if (!item) {
      await this.syncFlakes();
      for (const flake of await this.ctx.flakes()) void this.outputs.ensure(flake).then(() => this.sync(flake));
      return;
    }
    const d = this.data.get(item);
    if (d?.kind === 'flake') {
      await this.outputs.ensure(d.flake);
      await this.sync(d.flake);
    }
  }

  /** The children of a flake's test from its current listing: "flake check", then each check. */
  async sync(flake: Flake): Promise<void> {
    const s = this.outputs.get(flake);
    if (!s.model || !this.ctx.trusted) return;
    const parent = this.flakeItem(flake);
    const file = vscode.Uri.joinPath(flake.uri, 'flake.nix');
    const children: vscode.TestItem[] = [];
    const existing = (id: string) => parent.children.get(id);
    const fc = existing(`${parent.id}#flake-check`) ?? this.controller.createTestItem(`${parent.id}#flake-check`, FLAKE_CHECK_LABEL, file);
    fc.description = 'nix flake check --no-build';
    this.data.set(fc, { kind: 'flakeCheck', flake });
    children.push(fc);
    const checks = checksOf(s.model, s.systems);
    const several = new Set(checks.map((c) => c.system)).size > 1;
    for (const check of checks) {
      const id = `${parent.id}#checks/${check.system}/${check.name}`;
      const item = existing(id) ?? this.controller.createTestItem(id, check.name, file);
      item.description = several ? check.system : undefined;
      const old = this.data.get(item);
      this.data.set(item, { kind: 'check', flake, check, position: old?.kind === 'check' ? old.position : undefined });
      children.push(item);
    }
    parent.children.replace(children);
    parent.canResolveChildren = false;
    if (checks.length && s.cacheKey !== this.positionsFor.get(parent.id)) {
      this.positionsFor.set(parent.id, s.cacheKey ?? '');
      const reading = this.readPositions(flake, children).catch((e) =>
        this.ctx.log.warn(`positions of the checks of ${flake.label}: ${(e as Error).message}`),
      );
      this.reading.add(reading);
      void reading.finally(() => this.reading.delete(reading));
    }
  }

  private readonly reading = new Set<Promise<void>>();

  /** Resolves when no position query of the checks is running (they follow each new listing). */
  async whenIdle(): Promise<void> {
    while (this.reading.size) await Promise.all([...this.reading]);
  }

  /** Where each check is written (one evaluation per system that forces no check), for Go to Test and failures. */
  private async readPositions(flake: Flake, items: readonly vscode.TestItem[]): Promise<void> {
    const ref = await flakeRef(this.ctx, flake);
    const mapper = await flakeMapper(this.ctx, flake, (await this.ctx.requireNix()).storeDir);
    const bySystem = new Map<string, vscode.TestItem[]>();
    for (const item of items) {
      const d = this.data.get(item);
      if (d?.kind === 'check') bySystem.set(d.check.system, [...(bySystem.get(d.check.system) ?? []), item]);
    }
    for (const [system, group] of bySystem) {
      const inst = installable(ref, ['checks', system]);
      if (!inst.ok) continue;
      const json = await this.ctx
        .nixJson(['eval'], ['--json', inst.value, '--apply', POSITIONS_APPLY], {
          cwd: flake.uri.fsPath,
          scope: flake.folder,
          signal: AbortSignal.timeout(60_000),
        })
        .catch(() => undefined);
      const positions = readCheckPositions(json);
      for (const item of group) {
        const d = this.data.get(item);
        const p = d?.kind === 'check' ? positions.get(d.check.name) : undefined;
        if (!d || d.kind !== 'check' || !p) continue;
        const at = await lineLocation(mapper, p.file, p.line, p.column);
        if (!at) continue;
        d.position = at;
        item.range = at.range;
      }
    }
  }

  /** The tests a request runs: the leaves below what it includes (everything when it names nothing), minus what it excludes. */
  private leaves(request: vscode.TestRunRequest): vscode.TestItem[] {
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const out: vscode.TestItem[] = [];
    const visit = (item: vscode.TestItem) => {
      if (excluded.has(item.id)) return;
      if (item.children.size === 0 && this.data.get(item)?.kind !== 'flake') out.push(item);
      item.children.forEach(visit);
    };
    if (request.include) request.include.forEach(visit);
    else this.controller.items.forEach(visit);
    return out;
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, keepGoing: boolean): Promise<void> {
    if (request.continuous) {
      this.watch(request, token);
      return;
    }
    await this.execute(request, token, keepGoing);
  }

  /** Runs the tests of a request in a new test run. */
  async execute(request: vscode.TestRunRequest, token: vscode.CancellationToken, keepGoing = false): Promise<void> {
    const run = this.controller.createTestRun(request, undefined, true);
    const items = this.leaves(request);
    for (const item of items) run.enqueued(item);
    const ac = new AbortController();
    const sub = token.onCancellationRequested(() => ac.abort());
    try {
      if (!this.ctx.trusted) {
        run.appendOutput(`${RestrictedError.MESSAGE}\r\n`);
        for (const item of items) this.report(run, item, 'skipped');
        return;
      }
      const byFlake = new Map<Flake, vscode.TestItem[]>();
      for (const item of items) {
        const d = this.data.get(item);
        if (d) byFlake.set(d.flake, [...(byFlake.get(d.flake) ?? []), item]);
      }
      for (const [flake, group] of byFlake) {
        const checks = group.filter((i) => this.data.get(i)?.kind === 'check');
        if (keepGoing && checks.length > 1 && !ac.signal.aborted) await this.runKeepGoing(run, flake, checks, ac.signal);
        for (const item of keepGoing && checks.length > 1 ? group.filter((i) => !checks.includes(i)) : group) {
          if (ac.signal.aborted) this.report(run, item, 'skipped');
          else if (this.data.get(item)?.kind === 'flakeCheck') await this.runFlakeCheck(run, item, flake, ac.signal);
          else await this.runCheck(run, item, ac.signal);
        }
      }
    } finally {
      sub.dispose();
      run.end();
    }
  }

  /** Continuous run: each save of a file of a flake re-runs that flake's tests of the request (one run at a time). */
  private watch(request: vscode.TestRunRequest, token: vscode.CancellationToken): void {
    let running: Promise<void> | undefined;
    const pending = new Map<string, vscode.TestItem>();
    const kick = () => {
      if (running || pending.size === 0) return;
      const include = [...pending.values()];
      pending.clear();
      running = this.execute(new vscode.TestRunRequest(include, undefined, request.profile), token).finally(() => {
        running = undefined;
        if (!token.isCancellationRequested) kick();
      });
    };
    const sub = vscode.workspace.onDidSaveTextDocument(async (doc) => {
      if (!this.ctx.trusted || token.isCancellationRequested) return;
      const flakes = flakesHolding(await this.ctx.flakes(), doc.uri, { orFolder: true });
      for (const item of this.leaves(request)) {
        const d = this.data.get(item);
        if (d && flakes.some((f) => f.uri.toString() === d.flake.uri.toString())) pending.set(item.id, item);
      }
      kick();
    });
    token.onCancellationRequested(() => sub.dispose());
  }

  private report(
    run: vscode.TestRun,
    item: vscode.TestItem,
    state: CheckResult['state'],
    messages: vscode.TestMessage[] = [],
    duration?: number,
  ): void {
    if (state === 'passed') run.passed(item, duration);
    else if (state === 'failed') run.failed(item, messages, duration);
    else if (state === 'errored') run.errored(item, messages, duration);
    else run.skipped(item);
    const text = (m: vscode.TestMessage) => (typeof m.message === 'string' ? m.message : m.message.value);
    this.results.set(item.id, { state, messages: messages.map((m) => ({ text: text(m), location: m.location })), at: Date.now() });
  }

  private output(run: vscode.TestRun, item: vscode.TestItem | undefined): (line: string) => void {
    // The output is a terminal: every line break a message holds is written as one.
    return (line) => run.appendOutput(`${stripAnsi(line).split(/\r?\n/).join('\r\n')}\r\n`, undefined, item);
  }

  private async runCheck(run: vscode.TestRun, item: vscode.TestItem, signal: AbortSignal): Promise<void> {
    const d = this.data.get(item);
    if (d?.kind !== 'check') return;
    run.started(item);
    const started = Date.now();
    try {
      const inst = installable(await flakeRef(this.ctx, d.flake), d.check.attrPath);
      if (!inst.ok) return this.report(run, item, 'errored', [new vscode.TestMessage(inst.error.message)]);
      const out = this.output(run, item);
      out(`nix build ${inst.value}`);
      const r = await runNixBuild(this.ctx, d.flake, [inst.value], { signal, onLog: out });
      if (r.status === 'built') return this.report(run, item, 'passed', [], Date.now() - started);
      if (r.status === 'cancelled') return this.report(run, item, 'skipped');
      this.report(run, item, 'failed', await this.failure(d, inst.value, r.errors, r.lastLines, signal), Date.now() - started);
    } catch (e) {
      this.report(run, item, 'errored', [new vscode.TestMessage((e as Error).message)], Date.now() - started);
    }
  }

  /** All the checks of one flake in one `nix build --keep-going`; one by one when their derivations do not evaluate. */
  private async runKeepGoing(run: vscode.TestRun, flake: Flake, items: vscode.TestItem[], signal: AbortSignal): Promise<void> {
    const out = this.output(run, undefined);
    const ref = await flakeRef(this.ctx, flake);
    const drvs = new Map<string, string>();
    const insts: string[] = [];
    const bySystem = new Map<string, vscode.TestItem[]>();
    for (const item of items) {
      const d = this.data.get(item);
      if (d?.kind === 'check') bySystem.set(d.check.system, [...(bySystem.get(d.check.system) ?? []), item]);
    }
    try {
      for (const [system, group] of bySystem) {
        const names = group.map((i) => this.data.get(i)).flatMap((d) => (d?.kind === 'check' ? [d.check.name] : []));
        const inst = installable(ref, ['checks', system]);
        if (!inst.ok) throw new Error(inst.error.message);
        const found = readDrvPaths(
          await this.ctx.nixJson(['eval'], ['--json', inst.value, '--apply', drvPathsApply(names)], {
            cwd: flake.uri.fsPath,
            scope: flake.folder,
            signal,
          }),
        );
        for (const item of group) {
          const d = this.data.get(item);
          const drv = d?.kind === 'check' ? found.get(d.check.name) : undefined;
          const i = d?.kind === 'check' ? installable(ref, d.check.attrPath) : undefined;
          if (!drv || !i?.ok) throw new Error(`no derivation for ${item.label}`);
          drvs.set(item.id, drv);
          insts.push(i.value);
        }
      }
    } catch (e) {
      if (e instanceof CancelledError) {
        for (const item of items) this.report(run, item, 'skipped');
        return;
      }
      // An evaluation error: each check gets its own (and its own error) when built alone.
      out(
        `The checks' derivations do not evaluate (${e instanceof ExitError ? stripAnsi(e.stderrTail(3)) : (e as Error).message}): building them one by one.`,
      );
      for (const item of items) {
        if (signal.aborted) this.report(run, item, 'skipped');
        else await this.runCheck(run, item, signal);
      }
      return;
    }
    for (const item of items) run.started(item);
    const started = Date.now();
    out(`nix build --keep-going ${insts.join(' ')}`);
    const r = await runNixBuild(this.ctx, flake, insts, { signal, keepGoing: true, onLog: out });
    const outcomes = readKeepGoing(drvs, r.errors, r.failed, r.status !== 'cancelled');
    for (const item of items) {
      const o = r.status === 'built' ? { status: 'passed' as const } : outcomes.get(item.id);
      const d = this.data.get(item);
      if (o?.status === 'passed') this.report(run, item, 'passed', [], Date.now() - started);
      else if (o?.status === 'failed' && d?.kind === 'check') {
        const inst = installable(ref, d.check.attrPath);
        this.report(
          run,
          item,
          'failed',
          await this.failure(d, inst.ok ? inst.value : '', [o.error], o.lastLines, signal),
          Date.now() - started,
        );
      } else if (r.status === 'cancelled') this.report(run, item, 'skipped');
      else this.report(run, item, 'errored', [new vscode.TestMessage(r.summary || 'nix build stopped before this check was built')]);
    }
  }

  private async runFlakeCheck(run: vscode.TestRun, item: vscode.TestItem, flake: Flake, signal: AbortSignal): Promise<void> {
    run.started(item);
    const started = Date.now();
    const out = this.output(run, item);
    try {
      const ref = await flakeRef(this.ctx, flake);
      out(`nix flake check ${flakeCheckArgs(ref).join(' ')}`);
      await this.ctx.runNix(['flake', 'check'], flakeCheckArgs(ref), {
        cwd: flake.uri.fsPath,
        scope: flake.folder,
        signal,
        onStderrLine: out,
      });
      this.report(run, item, 'passed', [], Date.now() - started);
    } catch (e) {
      if (e instanceof CancelledError) return this.report(run, item, 'skipped');
      if (!(e instanceof ExitError)) return this.report(run, item, 'errored', [new vscode.TestMessage((e as Error).message)]);
      const report = readFlakeCheck(e.stderrLines.join('\n'));
      const mapper = await flakeMapper(this.ctx, flake, (await this.ctx.requireNix()).storeDir);
      const { placed, unplaced } = await placeDiagnostics(report.errors, mapper);
      const messages = placed.map((p) => located(p.diagnostic.message, new vscode.Location(p.uri, p.diagnostic.range)));
      const at = new vscode.Location(vscode.Uri.joinPath(flake.uri, 'flake.nix'), new vscode.Position(0, 0));
      for (const u of unplaced) messages.push(located(u.message, at));
      if (messages.length === 0) messages.push(located(stripAnsi(e.stderrTail(10)) || e.message, at));
      this.report(run, item, 'failed', messages, Date.now() - started);
    }
  }

  /**
   * The messages of a failed check: evaluation errors at their file and line; a failing builder's last lines at the
   * check's definition (its meta.position, else where its name is written).
   */
  private async failure(
    d: Extract<ItemData, { kind: 'check' }>,
    inst: string,
    errors: readonly NixError[],
    lastLines: readonly string[],
    signal: AbortSignal,
  ): Promise<vscode.TestMessage[]> {
    let mapper: Mapper | undefined;
    try {
      mapper = await flakeMapper(this.ctx, d.flake, (await this.ctx.requireNix()).storeDir);
    } catch {
      mapper = undefined;
    }
    const messages: vscode.TestMessage[] = [];
    const { placed, unplaced } = mapper ? await placeDiagnostics(errors, mapper) : { placed: [], unplaced: [...errors] };
    for (const p of placed) messages.push(located(p.diagnostic.message, new vscode.Location(p.uri, p.diagnostic.range)));
    if (unplaced.length || messages.length === 0) {
      const definition =
        (mapper && inst ? await derivationPosition(this.ctx, d.flake, inst, mapper, signal) : undefined) ??
        d.position ??
        (await attrPosition(this.ctx, d.flake, d.check.attrPath, { signal, mapper }));
      const first = unplaced[0]?.message ?? errors[0]?.message ?? 'the build failed';
      const text = [first, ...(lastLines.length ? ['', ...lastLines.slice(-10)] : [])].join('\n');
      const m = new vscode.TestMessage(text);
      if (definition) m.location = definition;
      messages.unshift(m);
    }
    return messages;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.controller.dispose();
  }
}

function located(text: string, location: vscode.Location): vscode.TestMessage {
  const m = new vscode.TestMessage(text);
  m.location = location;
  return m;
}
