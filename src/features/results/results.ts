// What a build produced, in the editor: Open Result (the output's files in the Build Results view, read through a
// read-only file system over the store, so YAML opens as YAML; a single file opens directly; an image archive opens
// its inspector), Diff with HEAD (the output built from the committed revision and from the working tree, both
// without writing flake.lock, shown in the changes editor; multi-document YAML per resource), Diff with Previous
// Build (the last different result of the same output), Compare Image With… (two image archives, layers and config).
// Builds go through the shared runner; every process through the context's gateway. Each command returns its outcome
// (for callers and tests).
import * as vscode from 'vscode';
import { readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Ctx } from '../../context';
import type { OutputsService } from '../../workspace/outputs';
import { runNixBuild } from '../../workspace/build';
import { gitRootOf, flakeRef } from '../../workspace/mapping';
import { asTarget, pickOutput, type OutputTarget } from '../../workspace/targets';
import { rememberResult } from '../../workspace/results';
import { installable } from '../../core/flake/installable';
import { storePathName } from '../../core/nix/store';
import { diffResults, revisionFlakeRef, type TreeDiff } from '../../core/results/tree';
import {
  diffImages,
  imageDiffMarkdown,
  imageMarkdown,
  looksLikeImage,
  readImageArchive,
  type ImageDiff,
  type ImageInfo,
} from '../../core/results/image';
import { ResultFiles, resultUri, SCHEME } from './files';
import { Reports } from './reports';

export interface ResultOutcome {
  status: 'opened' | 'failed' | 'cancelled';
  outPath?: string;
  /** How it was shown: the Build Results view, a document, the image inspector. */
  shownAs?: 'tree' | 'document' | 'image';
  image?: ImageInfo;
  /** The inspector's document (`nix-result-view:`), for an image. */
  report?: string;
  message?: string;
}

export interface DiffOutcome {
  status: 'same' | 'different' | 'failed' | 'cancelled' | 'no-previous' | 'not-git';
  before?: string;
  after?: string;
  /** The changes shown (files; YAML resources per file). */
  diff?: TreeDiff;
  /** What the changes editor was given: a label per entry. */
  shown?: string[];
  message?: string;
  /** Milliseconds the builds took (both, concurrently). */
  buildMs?: number;
}

export interface ImageCompareOutcome {
  status: 'compared' | 'failed' | 'cancelled';
  diff?: ImageDiff;
  /** The comparison's document (`nix-result-view:`). */
  report?: string;
  message?: string;
}

/** One build of a diff: the first output's store path, or why not. */
type BuildOutcome = { path?: string; status: 'built' | 'failed' | 'cancelled'; message?: string };

export class Results {
  readonly files: ResultFiles;
  readonly reports = new Reports();
  /** Results shown in the Build Results view, newest first. */
  readonly opened: { label: string; path: string }[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  /** The last outcomes (tests, the README's screenshot). */
  lastDiff?: DiffOutcome;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {
    this.files = new ResultFiles();
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async target(arg: unknown): Promise<OutputTarget | undefined> {
    return asTarget(arg) ?? (await pickOutput(this.ctx, this.outputs, 'build'));
  }

  /** Builds an installable with a cancellable notification; the first output's store path, or why not. */
  private async build(t: OutputTarget, ref: string, title: string, signal?: AbortSignal): Promise<BuildOutcome> {
    const inst = installable(ref, t.attrPath);
    if (!inst.ok) return { status: 'failed', message: inst.error.message };
    const r = await runNixBuild(this.ctx, t.flake, [inst.value], { signal, onLog: (l) => this.ctx.log.trace(l) });
    if (r.status !== 'built') return { status: r.status, message: r.status === 'failed' ? `${title} failed: ${r.summary}` : undefined };
    const path = r.outputs.out ?? Object.values(r.outputs)[0];
    if (!path) return { status: 'failed', message: `${title}: nix named no output path` };
    return { status: 'built', path };
  }

  private withProgress<T>(title: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_p, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        return fn(ac.signal);
      }),
    );
  }

  async open(arg?: unknown): Promise<ResultOutcome> {
    const t = await this.target(arg);
    if (!t) return { status: 'cancelled' };
    const ref = await flakeRef(this.ctx, t.flake);
    const b = await this.withProgress(`Building ${t.display}`, (signal) => this.build(t, ref, `Building ${t.display}`, signal));
    if (b.status !== 'built' || !b.path) {
      if (b.message) this.showError(b.message);
      return { status: b.status === 'cancelled' ? 'cancelled' : 'failed', message: b.message };
    }
    rememberResult(this.ctx, t, b.path);
    return this.show(t.display, b.path);
  }

  /** Shows a store path: an image's inspector, a single file's document, else the Build Results view. */
  async show(label: string, path: string): Promise<ResultOutcome> {
    const s = await stat(path);
    const entries = s.isDirectory() ? await readdir(path).catch(() => [] as string[]) : [];
    if (looksLikeImage(path, s.isDirectory(), entries)) {
      const r = await readImageArchive(path);
      if (r.ok && r.images[0]) {
        const report = await this.reports.showMarkdown(
          `${storePathName(path)}.md`,
          r.images.map((img, i) => imageMarkdown(r.images.length > 1 ? `${label} (${i + 1})` : label, img)).join('\n'),
        );
        return { status: 'opened', outPath: path, shownAs: 'image', image: r.images[0], report: report.toString() };
      }
      if (!s.isDirectory()) this.ctx.log.info(`${path} is not an image archive: ${r.ok ? 'no image' : r.error}`);
    }
    if (!s.isDirectory()) {
      await vscode.window.showTextDocument(resultUri(path), { preview: false });
      return { status: 'opened', outPath: path, shownAs: 'document' };
    }
    const at = this.opened.findIndex((o) => o.path === path);
    if (at >= 0) this.opened.splice(at, 1);
    this.opened.unshift({ label, path });
    this.opened.splice(20);
    void vscode.commands.executeCommand('setContext', 'nixFlakes.results.any', true);
    this.changed.fire();
    await vscode.commands.executeCommand('nixFlakes.results.focus');
    return { status: 'opened', outPath: path, shownAs: 'tree' };
  }

  async diffWithHead(arg?: unknown): Promise<DiffOutcome> {
    const t = await this.target(arg);
    if (!t) return this.done({ status: 'cancelled' });
    // The working tree builds while git names HEAD and its build starts: git is off the critical path.
    const notGit = (message: string) => ({ status: 'not-git' as const, message });
    const [root, workRef] = await Promise.all([gitRootOf(this.ctx, t.flake), flakeRef(this.ctx, t.flake)]);
    const noHead = `${t.flake.label} is not in a git repository with a commit: there is no HEAD to compare with.`;
    if (!existsSync(join(root, '.git'))) return this.done(notGit(noHead), true);
    let head = '';
    let refused: { status: 'not-git'; message: string } | undefined;
    const started = Date.now();
    const builds = await this.withProgress(`Diff with HEAD: building ${t.display} at HEAD and in the working tree`, (signal) => {
      const stop = new AbortController();
      const either = AbortSignal.any([signal, stop.signal]);
      const atHead = async (): Promise<BuildOutcome> => {
        try {
          head = (
            await this.ctx.git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], {
              cwd: t.flake.uri.fsPath,
              signal: AbortSignal.timeout(10_000),
            })
          ).stdout.trim();
        } catch {
          refused = notGit(noHead);
        }
        const headRef = refused ? undefined : revisionFlakeRef(t.flake.uri.fsPath, root, head);
        if (!headRef) {
          refused ??= notGit(`No flake reference for ${t.flake.label} at ${head.slice(0, 12)}.`);
          stop.abort();
          return { status: 'cancelled', message: refused.message };
        }
        return this.build(t, headRef, `Building ${t.display} at HEAD (${head.slice(0, 7)})`, either);
      };
      return Promise.all([atHead(), this.build(t, workRef, `Building ${t.display}`, either)]);
    });
    if (refused) return this.done(refused, true);
    const buildMs = Date.now() - started;
    const [before, after] = builds;
    const bad = builds.find((b) => b.status !== 'built');
    if (bad)
      return this.done(
        { status: bad.status === 'cancelled' ? 'cancelled' : 'failed', message: bad.message, buildMs },
        bad.status === 'failed',
      );
    rememberResult(this.ctx, t, after.path!);
    return this.compare(`${t.display}: HEAD (${head.slice(0, 7)}) ↔ working tree`, before.path!, after.path!, buildMs);
  }

  async diffWithPrevious(arg?: unknown): Promise<DiffOutcome> {
    const t = await this.target(arg);
    if (!t) return this.done({ status: 'cancelled' });
    const ref = await flakeRef(this.ctx, t.flake);
    const started = Date.now();
    const b = await this.withProgress(`Building ${t.display}`, (signal) => this.build(t, ref, `Building ${t.display}`, signal));
    const buildMs = Date.now() - started;
    if (b.status !== 'built' || !b.path)
      return this.done({ status: b.status === 'cancelled' ? 'cancelled' : 'failed', message: b.message, buildMs }, b.status === 'failed');
    const previous = rememberResult(this.ctx, t, b.path);
    if (!previous || !(await stat(previous).catch(() => undefined))) {
      const message = previous
        ? `The previous result of ${t.display} (${previous}) is no longer in the store.`
        : `${t.display} has no earlier, different result to compare with: this result is remembered for the next build.`;
      void vscode.window.showInformationMessage(message);
      return this.done({ status: 'no-previous', after: b.path, message, buildMs });
    }
    return this.compare(`${t.display}: previous build ↔ this build`, previous, b.path, buildMs);
  }

  /** Two results compared and shown in the changes editor. */
  async compare(title: string, before: string, after: string, buildMs?: number): Promise<DiffOutcome> {
    if (before === after) {
      void vscode.window.showInformationMessage(`${title}: the same result (${storePathName(after)}), nothing changed.`);
      return this.done({ status: 'same', before, after, buildMs, diff: { changes: [], reordered: [], truncated: false } });
    }
    const diff = await diffResults(before, after);
    if (diff.changes.length === 0) {
      const why = diff.reordered.length ? ` (${diff.reordered.join(', ')}: the same resources in another order)` : '';
      void vscode.window.showInformationMessage(`${title}: no change in the files${why}.`);
      return this.done({ status: 'same', before, after, diff, buildMs });
    }
    const entries: [vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][] = [];
    const shown: string[] = [];
    const file = (root: string, rel: string) => resultUri(rel ? `${root}/${rel}` : root);
    for (const c of diff.changes) {
      const name = c.rel || basename(after);
      if (c.resources?.length) {
        for (const r of c.resources) {
          const label = `${name} › ${r.key}`;
          const left = r.before && this.reports.document(`before/${name}/${r.key}.yaml`, `${r.before.text}\n`);
          const right = r.after && this.reports.document(`after/${name}/${r.key}.yaml`, `${r.after.text}\n`);
          entries.push([(right ?? left)!, left, right]);
          shown.push(`${label} (${r.status})`);
        }
        continue;
      }
      const left = c.status === 'added' ? undefined : file(before, c.rel);
      const right = c.status === 'removed' ? undefined : file(after, c.rel);
      entries.push([(right ?? left)!, left, right]);
      shown.push(`${name} (${c.status})`);
    }
    if (entries.length === 1 && entries[0]![1] && entries[0]![2])
      await vscode.commands.executeCommand('vscode.diff', entries[0]![1], entries[0]![2], `${title}: ${shown[0]}`);
    else await vscode.commands.executeCommand('vscode.changes', title, entries);
    return this.done({ status: 'different', before, after, diff, shown, buildMs });
  }

  async compareImages(arg?: unknown, other?: unknown): Promise<ImageCompareOutcome> {
    const a = await this.target(arg);
    if (!a) return { status: 'cancelled' };
    const b = asTarget(other) ?? (await pickOutput(this.ctx, this.outputs, 'build'));
    if (!b) return { status: 'cancelled' };
    const builds = await this.withProgress(`Building ${a.display} and ${b.display}`, async (signal) =>
      Promise.all([
        this.build(a, await flakeRef(this.ctx, a.flake), `Building ${a.display}`, signal),
        this.build(b, await flakeRef(this.ctx, b.flake), `Building ${b.display}`, signal),
      ]),
    );
    const bad = builds.find((x) => x.status !== 'built');
    if (bad) {
      if (bad.message) this.showError(bad.message);
      return { status: bad.status === 'cancelled' ? 'cancelled' : 'failed', message: bad.message };
    }
    const [ra, rb] = await Promise.all([readImageArchive(builds[0].path!), readImageArchive(builds[1].path!)]);
    if (!ra.ok || !rb.ok || !ra.images[0] || !rb.images[0]) {
      const message = `Not an image archive: ${!ra.ok ? `${a.display}: ${ra.error}` : !rb.ok ? `${b.display}: ${rb.error}` : 'no image in it'}`;
      this.showError(message);
      return { status: 'failed', message };
    }
    const diff = diffImages(ra.images[0], rb.images[0]);
    const report = await this.reports.showMarkdown(
      `${storePathName(builds[0].path!)}-vs-${storePathName(builds[1].path!)}.md`,
      imageDiffMarkdown(`${a.display} ↔ ${b.display}`, diff),
    );
    return { status: 'compared', diff, report: report.toString() };
  }

  private done(o: DiffOutcome, show = false): DiffOutcome {
    this.lastDiff = o;
    if (show && o.message) this.showError(o.message);
    return o;
  }

  private showError(message: string): void {
    void vscode.window.showErrorMessage(message, 'Show Log').then((a) => a && this.ctx.log.show());
  }
}

export { SCHEME };
