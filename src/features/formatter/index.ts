// Format Document for .nix files with the flake's own formatter (`formatter.<system>` of the flake holding the
// file). The formatter is resolved once per state of flake.nix and flake.lock — one evaluation for its program, one
// build that leaves a GC root in the extension's storage — and then its program runs directly on the document's
// text: no nix per format after the first. A formatter that fails shows its message; nothing is edited. There is no
// range formatting: the formatters flakes use format whole files.
import * as vscode from 'vscode';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { RestrictedError, type Ctx } from '../../context';
import { flakesHolding, type Flake } from '../../workspace/flakes';
import { flakeRef } from '../../workspace/mapping';
import { CancelledError, ExitError } from '../../core/nix/process';
import { readBuildOutputs } from '../../core/nix/build';
import { describe } from '../../core/nix/version';
import { nixArgs, nixEnv } from '../../core/nix/args';
import {
  failureMessage,
  formatterBuildArgs,
  formatterCacheKey,
  formatterInfoArgs,
  formatterInstallable,
  formatterProgram,
  formatText,
  gcRootName,
  isMissingFormatter,
  nixFmtArgs,
  readFormatterInfo,
  type FormatterMode,
} from '../../core/flake/formatter';

/** A flake's formatter, resolved: its program (and how it takes a document, once known), or why there is none. */
type Resolution = { ok: true; program: string; mode?: FormatterMode; nixFmt?: boolean } | { ok: false; missing: boolean; message: string };

interface Stored {
  key: string;
  program: string;
  mode?: FormatterMode;
}

const STORE_PREFIX = 'nixFlakes.formatter:';
/** Evaluating and building a formatter may download it: a bound well above that. */
const RESOLVE_TIMEOUT_MS = 10 * 60_000;

export class FlakeFormatter implements vscode.DocumentFormattingEditProvider, vscode.Disposable {
  private readonly resolved = new Map<string, { key: string; promise: Promise<Resolution> }>();
  /** Flakes told they have no formatter, by key (said once per state, not at every save). */
  private readonly told = new Set<string>();
  private scratch: Promise<string> | undefined;
  private scratchDir: string | undefined;
  /** Resolutions that ran nix (for tests and the log). */
  resolutions = 0;

  constructor(private readonly ctx: Ctx) {}

  async provideDocumentFormattingEdits(
    doc: vscode.TextDocument,
    _options: vscode.FormattingOptions,
    token: vscode.CancellationToken,
  ): Promise<vscode.TextEdit[] | undefined> {
    // Restricted Mode: no process at all (the formatter comes from the flake).
    if (!this.ctx.trusted || !this.ctx.settings(doc.uri).formatterEnabled || doc.uri.scheme !== 'file') return undefined;
    const flake = flakesHolding(await this.ctx.flakes(), doc.uri)[0];
    if (!flake) return undefined;
    const ac = new AbortController();
    const sub = token.onCancellationRequested(() => ac.abort());
    try {
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Formatting with the formatter of ${flake.label}` },
        () => this.resolve(flake),
      );
      if (!r.ok) {
        this.report(flake, r);
        return undefined;
      }
      const text = doc.getText();
      const version = doc.version;
      // The fallback, `nix fmt -- <copy>` in the flake's folder, runs nix each time (with the user's settings).
      const s = this.ctx.settings(flake.folder);
      const fallback = r.nixFmt
        ? { fileArgs: nixArgs(['fmt'], nixFmtArgs(), { offline: s.offline, extraArgs: s.extraArgs }), fileCwd: flake.uri.fsPath }
        : {};
      const out = await formatText(r.program, text, {
        ...fallback,
        fileName: doc.uri.fsPath,
        relPath: relative(flake.uri.fsPath, doc.uri.fsPath),
        flakeDir: flake.uri.fsPath,
        scratch: await this.scratchFolder(),
        mode: r.mode,
        signal: ac.signal,
        run: (file, args, opts) => this.ctx.exec(file, args, r.nixFmt ? { ...opts, env: nixEnv(process.env) } : opts),
      });
      if (out.mode && !r.mode && out.ok) this.learn(flake, r, out.mode);
      if (!out.ok) {
        this.ctx.log.warn(`formatter of ${flake.label}: ${out.message}`);
        void vscode.window
          .showErrorMessage(
            `The formatter of ${flake.label} failed on ${vscode.workspace.asRelativePath(doc.uri)}: ${out.message}`,
            'Show Log',
          )
          .then((a) => a && this.ctx.log.show());
        return [];
      }
      if (token.isCancellationRequested || doc.version !== version || out.text === text) return [];
      return [vscode.TextEdit.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(text.length)), out.text)];
    } catch (e) {
      if (e instanceof CancelledError || e instanceof RestrictedError) return undefined;
      void vscode.window.showErrorMessage(`Formatting with the formatter of ${flake.label} failed: ${(e as Error).message}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  /** The flake's formatter: the one resolved for the current flake.nix and flake.lock, else resolved now. */
  resolve(flake: Flake): Promise<Resolution> {
    return this.currentKey(flake).then((key) => {
      const k = flake.uri.fsPath;
      const cur = this.resolved.get(k);
      if (cur && cur.key === key) return cur.promise;
      const stored = this.ctx.extension.workspaceState.get<Stored>(STORE_PREFIX + k);
      const promise =
        stored && stored.key === key && existsSync(stored.program)
          ? Promise.resolve<Resolution>({ ok: true, program: stored.program, mode: stored.mode })
          : this.resolveWithNix(flake, key);
      this.resolved.set(k, { key, promise });
      // A failure other than "there is none" (a build that failed, a download) is tried again next time.
      void promise.then((r) => {
        if (!r.ok && !r.missing && this.resolved.get(k)?.promise === promise) this.resolved.delete(k);
      });
      return promise;
    });
  }

  private async currentKey(flake: Flake): Promise<string> {
    const nix = await this.ctx.requireNix();
    const s = this.ctx.settings(flake.folder);
    const read = (name: string) => readFile(join(flake.uri.fsPath, name), 'utf8').catch(() => undefined);
    const [flakeNix, flakeLock] = await Promise.all([read('flake.nix'), read('flake.lock')]);
    return formatterCacheKey({
      flakeNix,
      flakeLock,
      system: nix.system,
      nix: [describe(nix.version), nix.path, ...s.extraArgs].join('\0'),
    });
  }

  private async resolveWithNix(flake: Flake, key: string): Promise<Resolution> {
    this.resolutions++;
    const nix = await this.ctx.requireNix();
    const inst = formatterInstallable(await flakeRef(this.ctx, flake), nix.system);
    if (!inst) return { ok: false, missing: false, message: 'the flake reference cannot be written' };
    const opts = { cwd: flake.uri.fsPath, scope: flake.folder, signal: AbortSignal.timeout(RESOLVE_TIMEOUT_MS) };
    try {
      const info = readFormatterInfo(await this.ctx.nixJson(['eval'], formatterInfoArgs(inst), opts));
      // A formatter whose program is not found by its name is left to `nix fmt` (which says what it thinks of it).
      const viaNixFmt = (why: string): Resolution => {
        this.ctx.log.warn(`formatter of ${flake.label}: ${why}; formatting through nix fmt`);
        return { ok: true, program: nix.path, mode: 'file', nixFmt: true };
      };
      if (!info.ok) return viaNixFmt(info.message);
      const roots = join(this.ctx.extension.globalStorageUri.fsPath, 'gcroots');
      await mkdir(roots, { recursive: true });
      const built = await this.ctx.runNix(['build'], formatterBuildArgs(inst, join(roots, gcRootName(flake.uri.fsPath, nix.system))), opts);
      const out = readBuildOutputs(built.stdout).out;
      if (!out) return { ok: false, missing: false, message: 'nix build printed no output path for the formatter' };
      const program = formatterProgram(out, info.program);
      if (!existsSync(program)) return viaNixFmt(`the formatter has no program ${info.program} (looked for ${program})`);
      this.ctx.log.info(`formatter of ${flake.label}: ${program}`);
      void this.ctx.extension.workspaceState.update(STORE_PREFIX + flake.uri.fsPath, { key, program } satisfies Stored);
      return { ok: true, program };
    } catch (e) {
      if (e instanceof ExitError && isMissingFormatter(e.stderrLines.join('\n'))) {
        return { ok: false, missing: true, message: `${flake.label} has no formatter for ${nix.system} (formatter.${nix.system})` };
      }
      if (e instanceof CancelledError) return { ok: false, missing: false, message: 'resolving the formatter took too long' };
      return { ok: false, missing: false, message: failureMessage(e) };
    }
  }

  /** Keeps the way the program takes a document, for this state of the flake (and after a reload). */
  private learn(flake: Flake, r: Extract<Resolution, { ok: true }>, mode: FormatterMode): void {
    r.mode = mode;
    const k = STORE_PREFIX + flake.uri.fsPath;
    const stored = this.ctx.extension.workspaceState.get<Stored>(k);
    if (stored?.program === r.program) void this.ctx.extension.workspaceState.update(k, { ...stored, mode });
  }

  private report(flake: Flake, r: Extract<Resolution, { ok: false }>): void {
    if (r.missing) {
      const key = `${flake.uri.fsPath}\0${this.resolved.get(flake.uri.fsPath)?.key ?? ''}`;
      if (this.told.has(key)) return;
      this.told.add(key);
      void vscode.window.showInformationMessage(`${r.message}: there is nothing to format this file with.`);
      return;
    }
    this.ctx.log.warn(`formatter of ${flake.label}: ${r.message}`);
    void vscode.window
      .showErrorMessage(`The formatter of ${flake.label} could not be built: ${r.message}`, 'Show Log')
      .then((a) => a && this.ctx.log.show());
  }

  private scratchFolder(): Promise<string> {
    this.scratch ??= mkdtemp(join(tmpdir(), 'nix-flakes-fmt-')).then((d) => (this.scratchDir = d));
    return this.scratch;
  }

  dispose(): void {
    if (this.scratchDir) rmSync(this.scratchDir, { recursive: true, force: true });
  }
}

export function registerFormatter(ctx: Ctx): FlakeFormatter {
  const formatter = ctx.register(new FlakeFormatter(ctx));
  ctx.register(vscode.languages.registerDocumentFormattingEditProvider({ language: 'nix', scheme: 'file' }, formatter));
  return formatter;
}
