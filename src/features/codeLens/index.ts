// "Build" lenses above derivations in .nix files. Instant and syntactic from the core scanner while nothing is
// known; exact once the flake has been evaluated: one positions query per flake evaluation (keyed like the Outputs
// tree's cache, so an unchanged flake costs no nix at all), placed on the expression that defines each output.
// Providing lenses is cheap (a cached scan per document version); commands are filled in on resolve; typing never
// starts nix.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { RestrictedError, type Ctx } from '../../context';
import { flakesHolding, type Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { flakeAnswer } from '../../workspace/flakeInfo';
import { attrPosition, flakeMapper, flakeRef } from '../../workspace/mapping';
import { ExitError } from '../../core/nix/process';
import { DEFAULT_BUILDERS, LineIndex } from '../../core/source';
import {
  positionsFlakeRef,
  queryPositions,
  reconcile,
  semanticLenses,
  syntacticLenses,
  type PositionRecord,
  type ReconciledLens,
  type SemanticLens,
  type SyntacticLens,
} from '../../core/lens';

interface FlakeLenses {
  key?: string;
  /** Workspace file → lenses placed by evaluation. */
  byFile: Map<string, SemanticLens[]>;
}

interface StoredPositions {
  key: string;
  records: PositionRecord[];
  ref: string;
}

class NixLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly lens: ReconciledLens | SyntacticLens,
    readonly flake: Flake,
    readonly action: 'build' | 'develop' | 'run' | 'copy',
  ) {
    super(range);
  }
}

const STORE_KEY = 'nixFlakes.lensPositions:';
/** A positions query that takes longer than this is stopped (a flake that never finishes evaluating). */
const LENS_QUERY_TIMEOUT_MS = 5 * 60_000;

export class BuildLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly perFlake = new Map<string, FlakeLenses>();
  private readonly scans = new Map<string, { version: number; lenses: SyntacticLens[] }>();
  private readonly running = new Map<string, Promise<void>>();
  /** How many positions queries (nix processes) ran per flake, for tests and the log. */
  private readonly queryCounts = new Map<string, number>();

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {
    ctx.register(
      this.changed,
      outputs.onDidChange((flake) => {
        if (!flake) return;
        const s = outputs.get(flake);
        // Also after a failed listing: the positions query guards each output, so a broken package costs only its lens.
        if (!s.evaluating && s.model) void this.evaluate(flake);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.scans.delete(d.uri.toString())),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('nixFlakes.codeLens') && this.changed.fire()),
    );
  }

  private builders(scope?: vscode.ConfigurationScope): readonly string[] {
    const extra = this.ctx.settings(scope).codeLensBuilders;
    return extra.length ? [...DEFAULT_BUILDERS, ...extra] : DEFAULT_BUILDERS;
  }

  /** Ranges only, from the scan of this document version. */
  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!this.ctx.trusted || !this.ctx.settings(doc.uri).codeLensEnabled) return [];
    const flake = await this.flakeOf(doc.uri);
    if (!flake) return [];
    const key = doc.uri.toString();
    let scan = this.scans.get(key);
    if (!scan || scan.version !== doc.version) {
      const isFlakeNix = doc.uri.path.endsWith('/flake.nix');
      scan = { version: doc.version, lenses: syntacticLenses(doc.getText(), { isFlakeNix, builders: this.builders(doc) }) };
      this.scans.set(key, scan);
    }
    const semantic = this.perFlake.get(flake.uri.toString());
    const reconciled = reconcile(scan.lenses, semantic ? (semantic.byFile.get(doc.uri.fsPath) ?? []) : undefined, doc.getText());
    const idx = new LineIndex(doc.getText());
    const out: NixLens[] = [];
    for (const lens of reconciled) {
      const p = idx.positionAt(lens.range.start);
      const range = new vscode.Range(p.line, p.character, p.line, p.character);
      if (lens.state === 'pending') {
        if (lens.guess?.attrPath || lens.guess?.isPackage) out.push(new NixLens(range, lens, flake, 'build'));
        continue;
      }
      const first = lens.installables[0];
      if (!first) continue;
      if (first.command === 'develop') out.push(new NixLens(range, lens, flake, 'develop'));
      out.push(new NixLens(range, lens, flake, 'build'));
      if (first.runnable) out.push(new NixLens(range, lens, flake, 'run'));
      out.push(new NixLens(range, lens, flake, 'copy'));
    }
    return out;
  }

  /** Fills in the command of a lens. */
  async resolveCodeLens(lens: NixLens): Promise<vscode.CodeLens> {
    const nix = await this.ctx.nix();
    const system = nix.ok ? nix.nix.system : 'x86_64-linux';
    const l = lens.lens;
    if (!('state' in l) || l.state === 'pending') {
      const guess = 'guess' in l ? l.guess : undefined;
      const attrPath = guess?.attrPath ? [...guess.attrPath] : ['packages', system, guess?.name ?? 'default'];
      const display = `.#${guess?.name ?? attrPath.join('.')}`;
      lens.command = {
        title: `$(tools) Build ${display}`,
        command: 'nixFlakes.build',
        arguments: [{ flake: lens.flake, attrPath, display }],
        tooltip: 'Not evaluated yet: guessed from the source',
      };
      return lens;
    }
    const all = l.installables;
    const first = all[0];
    if (!first) return lens;
    const others = all.slice(1).map((i) => i.buildDisplay);
    const also = others.length ? ` (also ${others.join(', ')})` : '';
    const target = (i: (typeof all)[number], display: string) => ({ flake: lens.flake, attrPath: [...i.attrPath], display });
    switch (lens.action) {
      case 'develop':
        lens.command = {
          title: `$(terminal) Develop ${first.display}`,
          command: 'nixFlakes.develop',
          arguments: [target(first, first.display)],
        };
        break;
      case 'build':
        lens.command = {
          title: `$(tools) Build ${first.buildDisplay}${also}`,
          command: 'nixFlakes.build',
          arguments: [target(first, first.buildDisplay)],
          tooltip: all.map((i) => i.installable).join('\n'),
        };
        break;
      case 'run':
        lens.command = {
          title: `$(play) Run`,
          command: 'nixFlakes.run',
          arguments: [{ ...target(first, first.buildDisplay), attrPath: [...first.attrPath] }],
          tooltip: first.mainProgram ? `runs ${first.mainProgram}` : undefined,
        };
        break;
      case 'copy':
        lens.command = {
          title: '$(copy) Copy',
          command: 'nixFlakes.copyInstallable',
          arguments: [target(first, first.buildDisplay)],
          tooltip: `Copy ${first.buildDisplay}`,
        };
        break;
    }
    return lens;
  }

  private async flakeOf(uri: vscode.Uri): Promise<Flake | undefined> {
    return flakesHolding(await this.ctx.flakes(), uri)[0];
  }

  /** Asks Nix where each output is defined: once per flake evaluation, or from the store when nothing changed. Never rejects. */
  evaluate(flake: Flake): Promise<void> {
    if (!this.ctx.trusted) return Promise.resolve();
    const k = flake.uri.toString();
    const running = this.running.get(k);
    if (running) return running;
    // A failure (no nix, a query that fails) keeps the syntactic lenses; it is logged, never left unhandled.
    const p = this.doEvaluate(flake)
      .catch((e: unknown) => this.ctx.log.warn(`lenses of ${flake.label}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => this.running.delete(k));
    this.running.set(k, p);
    return p;
  }

  private async doEvaluate(flake: Flake): Promise<void> {
    const nix = await this.ctx.requireNix();
    const cacheKey = this.outputs.get(flake).cacheKey;
    const k = flake.uri.toString();
    if (cacheKey && this.perFlake.get(k)?.key === cacheKey) return;
    const stored = this.ctx.extension.workspaceState.get<StoredPositions>(STORE_KEY + k);
    let records: PositionRecord[];
    let metadata: unknown;
    if (cacheKey && stored?.key === cacheKey) {
      records = stored.records;
      metadata = undefined;
    } else {
      const folderRef = await flakeRef(this.ctx, flake);
      metadata = await flakeAnswer(this.ctx, flake, 'metadata', folderRef, {
        key: cacheKey,
        signal: AbortSignal.timeout(LENS_QUERY_TIMEOUT_MS),
      });
      const ref = positionsFlakeRef(metadata, folderRef);
      if (!ref) return;
      const result = await queryPositions(
        { ref: ref.ref, impure: ref.impure, system: nix.system },
        async (args) => {
          this.queryCounts.set(k, (this.queryCounts.get(k) ?? 0) + 1);
          try {
            const r = await this.ctx.runNix([], args, {
              flakeOptions: false,
              scope: flake.folder,
              cwd: flake.uri.fsPath,
              signal: AbortSignal.timeout(LENS_QUERY_TIMEOUT_MS),
            });
            return { exitCode: 0, stdout: r.stdout, stderr: r.stderrLines.join('\n') };
          } catch (e) {
            if (e instanceof ExitError) return { exitCode: e.exitCode ?? 1, stdout: e.stdout, stderr: e.stderrLines.join('\n') };
            return { exitCode: null, stdout: '', stderr: String(e) };
          }
        },
        { impureRef: ref.unlocked, flakeRef: folderRef },
      );
      records = result.records;
      this.ctx.log.info(
        `lenses of ${flake.label}: ${records.length} outputs located in ${result.runs} nix process${result.runs === 1 ? '' : 'es'}`,
      );
      if (!result.ok && records.length === 0) return; // keep the syntactic lenses
      if (cacheKey)
        await this.ctx.extension.workspaceState.update(STORE_KEY + k, { key: cacheKey, records, ref: ref.ref } satisfies StoredPositions);
    }
    const map = await flakeMapper(this.ctx, flake, nix.storeDir, metadata);
    // Read every file the records point at (asynchronously, once), then place the lenses.
    const texts = new Map<string, string>();
    await Promise.all(
      [...new Set(records.flatMap((r) => [r.attrPos?.file, r.metaPosition?.file]).filter((f): f is string => !!f))].map(async (f) => {
        const m = map(f);
        if (m.kind === 'workspace' && !texts.has(m.path)) texts.set(m.path, await readFile(m.path, 'utf8').catch(() => ''));
      }),
    );
    const placed = semanticLenses({
      records,
      map,
      sources: (p) => texts.get(p),
      flakeRef: flake.uri.fsPath,
      system: nix.system,
      builders: this.builders(flake.folder),
    });
    // Outputs the listing found broken (they throw, or do not evaluate) get no lens: only they lose theirs.
    const broken = this.outputs.get(flake).broken;
    const byFile = new Map<string, SemanticLens[]>();
    for (const [file, lenses] of placed) {
      const kept = lenses
        .map((l) => ({ ...l, installables: l.installables.filter((i) => !broken.has(i.attrPath.join('\0'))) }))
        .filter((l) => l.installables.length > 0);
      byFile.set(file, kept);
    }
    this.perFlake.set(k, { key: cacheKey, byFile });
    this.changed.fire();
  }

  /** How many positions queries ran for this flake. */
  queries(flake: Flake): number {
    return this.queryCounts.get(flake.uri.toString()) ?? 0;
  }

  /** The lenses placed by evaluation, per file, for tests. */
  placed(flake: Flake): Map<string, SemanticLens[]> | undefined {
    return this.perFlake.get(flake.uri.toString())?.byFile;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerCodeLens(ctx: Ctx, outputs: OutputsService): BuildLenses {
  const lenses = ctx.register(new BuildLenses(ctx, outputs));
  ctx.register(
    vscode.languages.registerCodeLensProvider({ language: 'nix', scheme: 'file' }, lenses),
    vscode.commands.registerCommand('nixFlakes.revealDefinition', (arg?: unknown) => revealDefinition(ctx, lenses, arg)),
  );
  return lenses;
}

/**
 * Opens the expression that defines an output of the Outputs tree: where the lenses placed it (packages, checks,
 * dev shells, formatters), or `unsafeGetAttrPos` of the name in its parent set (NixOS hosts and the rest).
 */
async function revealDefinition(ctx: Ctx, lenses: BuildLenses, arg: unknown): Promise<vscode.Location | undefined> {
  const node = arg as { flake?: Flake; leaf?: { attrPath: string[] } } | undefined;
  if (!node?.flake || !node.leaf) return undefined;
  if (!ctx.trusted) {
    void vscode.window.showWarningMessage(RestrictedError.MESSAGE);
    return undefined;
  }
  const { flake, leaf } = node as { flake: Flake; leaf: { attrPath: string[] } };
  const want = leaf.attrPath.join('\0');
  await lenses.evaluate(flake);
  for (const [file, list] of lenses.placed(flake) ?? []) {
    const hit = list.find((l) => l.installables.some((i) => i.attrPath.join('\0') === want));
    if (!hit) continue;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const start = doc.positionAt(hit.range.start);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, start) });
    return new vscode.Location(doc.uri, start);
  }
  // The attribute's position in its parent set: forces nothing.
  const at = await attrPosition(ctx, flake, leaf.attrPath);
  if (at) {
    await vscode.window.showTextDocument(at.uri, { selection: at.range });
    return at;
  }
  void vscode.window.showInformationMessage(`Nix does not know where ${leaf.attrPath.join('.')} is defined in your files.`);
  return undefined;
}
