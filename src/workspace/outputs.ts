// Evaluates each flake's outputs (`nix flake show --json`) and keeps the result: the last good listing survives a
// broken edit, a failing listing falls back to one guarded evaluation per category, results are cached by a cheap
// key so a reload with nothing changed runs no nix, and refreshes from file changes are debounced, coalesced and
// cancel evaluations started for an older state.
import { stripAnsi } from '../core/text';
import * as vscode from 'vscode';
import { NotJsonError, type Ctx } from '../context';
import type { Flake } from './flakes';
import { CancelledError, ExitError } from '../core/nix/process';
import { parseNixErrors } from '../core/errors/fromLog';
import type { NixError } from '../core/errors/types';
import { FlakeShowModel, parseFlakeShow } from '../core/flake/show';
import { NixWarning, parseFlakeShowWarnings } from '../core/flake/warnings';
import { flakeCacheKey } from '../core/flake/cacheKey';
import { listGuarded, showJsonFromListing, STANDARD_CATEGORIES } from '../core/flake/guarded';
import { formatAttrPath } from '../core/flake/installable';
import { describe } from '../core/nix/version';
import { flakeRef } from './mapping';

export interface FlakeOutputs {
  /** The last good listing (kept when a later evaluation fails). */
  model?: FlakeShowModel;
  /** From the guarded per-category listing: attribute paths (joined by NUL) that failed, with a message. */
  broken: Map<string, string>;
  /** The model came from the guarded listing because `nix flake show` failed. */
  partial: boolean;
  /** Errors of the last evaluation (empty when it succeeded). */
  errors: NixError[];
  /** Warnings of the last evaluation, with explanations (untrusted flake configuration, …). */
  warnings: NixWarning[];
  evaluating: boolean;
  fromCache: boolean;
  /** The systems whose outputs the model holds. */
  systems: string[];
  /** The key of the state the model was evaluated for (git HEAD, changed files, flake.lock, settings). */
  cacheKey?: string;
  /** The key of the state the last finished evaluation saw, whether it succeeded or failed. */
  evaluatedKey?: string;
}

interface CacheEntry {
  key: string;
  stdout: string;
  warnings: string;
  /** The names listed for the outputs `nix flake show` has no schema for (`expandUnknown`), by category. */
  unknown?: Record<string, string[]>;
  /** Such categories whose names could not be listed then: listed again when the entry is used. */
  unlisted?: string[];
}

const CACHE_PREFIX = 'nixFlakes.outputs:';
/** Quiet time after the last change before evaluating. */
const DEBOUNCE_MS = 400;
/** Scheduled evaluations of one flake start at least this far apart, so a burst of saves costs at most two. */
const MIN_INTERVAL_MS = 2500;

interface Scheduled {
  timer: NodeJS.Timeout;
  /** Settles when the scheduled evaluation has finished (or was dropped on dispose). */
  done: Promise<void>;
  settle: () => void;
}

export class OutputsService implements vscode.Disposable {
  private readonly state = new Map<string, FlakeOutputs>();
  private readonly running = new Map<string, { ac: AbortController; done: Promise<void> }>();
  private readonly timers = new Map<string, Scheduled>();
  private readonly lastStart = new Map<string, number>();
  private readonly changed = new vscode.EventEmitter<Flake | undefined>();
  readonly onDidChange = this.changed.event;
  /** How many `nix flake show` runs were started, per flake (for the refresh-storm guarantee). */
  readonly evaluations = new Map<string, number>();

  constructor(private readonly ctx: Ctx) {}

  get(flake: Flake): FlakeOutputs {
    const k = flake.uri.toString();
    let s = this.state.get(k);
    if (!s) {
      s = { broken: new Map(), partial: false, errors: [], warnings: [], evaluating: false, fromCache: false, systems: [] };
      this.state.set(k, s);
    }
    return s;
  }

  /** The result for a flake, evaluating it first if it never was. */
  async ensure(flake: Flake): Promise<FlakeOutputs> {
    const s = this.get(flake);
    if (!s.model && !s.evaluating && s.errors.length === 0) await this.evaluate(flake);
    return this.get(flake);
  }

  /** Schedules an evaluation after a quiet period; a newer schedule replaces an older one. */
  schedule(flake: Flake): void {
    const k = flake.uri.toString();
    const previous = this.timers.get(k);
    if (previous) clearTimeout(previous.timer);
    // A change makes a running evaluation stale: cancel it now rather than wait for it.
    this.running.get(k)?.ac.abort();
    const delay = Math.max(DEBOUNCE_MS, (this.lastStart.get(k) ?? 0) + MIN_INTERVAL_MS - Date.now());
    let settle = () => {};
    const done = previous?.done ?? new Promise<void>((r) => (settle = r));
    const entry: Scheduled = {
      done,
      settle: previous?.settle ?? settle,
      timer: setTimeout(() => {
        this.timers.delete(k);
        this.lastStart.set(k, Date.now());
        void this.evaluate(flake).finally(entry.settle);
      }, delay),
    };
    this.timers.set(k, entry);
  }

  /**
   * Evaluates now (a refresh the user asked for skips the cache). Resolves when the flake's outputs are current: an
   * evaluation cancelled because the files changed meanwhile waits for the one that replaced it.
   */
  async evaluate(flake: Flake, opts: { force?: boolean } = {}): Promise<void> {
    // Restricted Mode: nothing is evaluated, and no git runs either (git runs a repository's core.fsmonitor).
    if (!this.ctx.trusted) return;
    const k = flake.uri.toString();
    this.running.get(k)?.ac.abort();
    const ac = new AbortController();
    const s = this.get(flake);
    let cancelled = false;
    const done = (async () => {
      try {
        await this.evaluateInto(flake, s, ac.signal, opts.force ?? false);
      } catch (e) {
        if (e instanceof CancelledError) cancelled = true;
        else {
          s.errors = [{ kind: 'other', message: (e as Error).message, trace: [], raw: String(e) }];
          this.ctx.log.error(`outputs of ${flake.label}: ${(e as Error).message}`);
        }
      } finally {
        if (this.running.get(k)?.ac === ac) {
          this.running.delete(k);
          s.evaluating = false;
          this.changed.fire(flake);
        }
      }
    })();
    this.running.set(k, { ac, done });
    s.evaluating = true;
    this.changed.fire(flake);
    await done;
    if (cancelled && !this.disposed) await this.whenIdle(flake);
  }

  /** Resolves when no evaluation of the flake is running or scheduled. */
  async whenIdle(flake: Flake): Promise<FlakeOutputs> {
    const k = flake.uri.toString();
    for (;;) {
      const next = this.timers.get(k)?.done ?? this.running.get(k)?.done;
      if (!next || this.disposed) return this.get(flake);
      await next;
    }
  }

  /** The key of the flake's current state on disk (undefined outside git: then nothing is cached). */
  async currentKey(flake: Flake, signal?: AbortSignal): Promise<string | undefined> {
    const nix = await this.ctx.requireNix();
    const settings = this.ctx.settings(flake.folder);
    const systems = settings.systems.length ? settings.systems : [nix.system];
    const extra = [describe(nix.version), systems.join(','), settings.extraArgs.join(' '), String(settings.offline)];
    return flakeCacheKey(flake.uri.fsPath, { extra, signal, run: (f, a, o) => this.ctx.exec(f, a, o) });
  }

  private async evaluateInto(flake: Flake, s: FlakeOutputs, signal: AbortSignal, force: boolean): Promise<void> {
    const nix = await this.ctx.requireNix();
    const settings = this.ctx.settings(flake.folder);
    const systems = settings.systems.length ? settings.systems : [nix.system];
    const foreign = systems.some((x) => x !== nix.system);
    const key = await this.currentKey(flake, signal);
    try {
      await this.evaluateKey(flake, s, signal, force, key, systems, foreign);
    } finally {
      if (!signal.aborted) s.evaluatedKey = key;
    }
  }

  private async evaluateKey(
    flake: Flake,
    s: FlakeOutputs,
    signal: AbortSignal,
    force: boolean,
    key: string | undefined,
    systems: string[],
    foreign: boolean,
  ): Promise<void> {
    const nix = await this.ctx.requireNix();
    const cacheId = CACHE_PREFIX + flake.uri.toString();
    const cached = this.ctx.extension.workspaceState.get<CacheEntry>(cacheId);
    // An entry without `unknown` was written before names were kept: a miss, so that they are listed once.
    if (!force && key && cached?.key === key && cached.unknown) {
      const parsed = parseFlakeShow(cached.stdout, { system: nix.system });
      if (parsed.ok) {
        this.ctx.log.info(`outputs of ${flake.label}: unchanged, shown from the cache`);
        for (const [category, names] of Object.entries(cached.unknown ?? {})) expandCategory(parsed.model, category, names);
        if (cached.unlisted?.length) {
          // Names that could not be listed last time (a failure, not the flake): asked again, and kept when listed.
          const again = await this.expandUnknown(flake, parsed.model, signal, new Set(cached.unlisted));
          await this.ctx.extension.workspaceState.update(cacheId, {
            ...cached,
            unknown: { ...cached.unknown, ...again.listed },
            unlisted: again.unlisted,
          } satisfies CacheEntry);
        }
        Object.assign(s, {
          model: parsed.model,
          partial: false,
          broken: new Map(),
          errors: [],
          warnings: parseFlakeShowWarnings(cached.warnings),
          fromCache: true,
          systems,
          cacheKey: key,
        });
        return;
      }
    }
    const k = flake.uri.toString();
    this.evaluations.set(k, (this.evaluations.get(k) ?? 0) + 1);
    const args = ['--json', ...(foreign && nix.caps.allSystems ? ['--all-systems'] : []), await flakeRef(this.ctx, flake)];
    try {
      const r = await this.ctx.runNix(['flake', 'show'], args, { cwd: flake.uri.fsPath, signal, scope: flake.folder });
      const stderr = r.stderrLines.join('\n');
      const warnings = parseFlakeShowWarnings(stderr);
      const parsed = parseFlakeShow(r.stdout, { system: nix.system, warnings });
      if (!parsed.ok) throw new Error(parsed.error.message);
      const { listed: unknown, unlisted } = await this.expandUnknown(flake, parsed.model, signal);
      for (const w of warnings) if (w.kind !== 'omitted') this.ctx.log.warn(`${flake.label}: ${w.text} — ${w.explanation}`);
      Object.assign(s, {
        model: parsed.model,
        partial: false,
        broken: new Map(),
        errors: [],
        warnings,
        fromCache: false,
        systems,
        cacheKey: key,
      });
      if (key)
        await this.ctx.extension.workspaceState.update(cacheId, {
          key,
          stdout: r.stdout,
          warnings: stderr,
          unknown,
          unlisted,
        } satisfies CacheEntry);
    } catch (e) {
      if (!(e instanceof ExitError)) throw e;
      let stderr = e.stderrLines.join('\n');
      // Before 2.23 the eval cache answers a failure it remembers without its position ("cached failure of
      // attribute …"): ask once more without the cache, for the error with its place.
      if (!nix.caps.evalCacheKeepsErrors && /cached failure of attribute/.test(stripAnsi(stderr))) {
        try {
          await this.ctx.runNix(['flake', 'show'], ['--no-eval-cache', ...args], { cwd: flake.uri.fsPath, signal, scope: flake.folder });
        } catch (again) {
          if (!(again instanceof ExitError)) throw again;
          stderr = again.stderrLines.join('\n');
        }
      }
      s.errors = parseNixErrors(stderr);
      if (s.errors.length === 0) s.errors = [{ kind: 'other', message: e.stderrTail(8) || e.message, trace: [], raw: stderr }];
      s.warnings = parseFlakeShowWarnings(stderr);
      s.fromCache = false;
      this.ctx.log.warn(`nix flake show failed for ${flake.label}; listing each category on its own`);
      await this.listGuarded(flake, s, systems, signal);
    }
  }

  /**
   * `nix flake show` reports outputs it has no schema for (homeConfigurations, darwinConfigurations, lib…) as one
   * `unknown` leaf. List their names with one cheap evaluation each (attribute names only, nothing forced); returns
   * them by category, for the cache, with the categories whose listing failed (`only`: just these categories).
   */
  private async expandUnknown(
    flake: Flake,
    model: FlakeShowModel,
    signal: AbortSignal,
    only?: ReadonlySet<string>,
  ): Promise<{ listed: Record<string, string[]>; unlisted: string[] }> {
    const listed = Object.create(null) as Record<string, string[]>;
    const unlisted: string[] = [];
    for (const c of model.categories) {
      const single = c.leaves.length === 1 ? c.leaves[0] : undefined;
      if (!single || single.kind !== 'unknown' || single.attrPath.length !== 1 || c.name === 'lib') continue;
      if (only && !only.has(c.name)) continue;
      try {
        const names = await this.ctx.nixJson(
          ['eval'],
          [
            '--json',
            `${await flakeRef(this.ctx, flake)}#${c.name}`,
            '--apply',
            'x: if builtins.isAttrs x then builtins.attrNames x else null',
          ],
          { cwd: flake.uri.fsPath, signal, scope: flake.folder },
        );
        if (!Array.isArray(names) || names.length === 0) continue;
        const strings = names.filter((n): n is string => typeof n === 'string');
        if (expandCategory(model, c.name, strings)) listed[c.name] = strings;
      } catch (e) {
        if (e instanceof CancelledError) throw e;
        // Keep the single unknown leaf for now; the cache says to ask again.
        unlisted.push(c.name);
      }
    }
    return { listed, unlisted };
  }

  /** Lists a flake whose `nix flake show` failed with one guarded evaluation per category (core: listGuarded). */
  private async listGuarded(flake: Flake, s: FlakeOutputs, systems: string[], signal: AbortSignal): Promise<void> {
    const ref = await flakeRef(this.ctx, flake);
    const { listing, broken } = await listGuarded({
      categories: s.model?.categories.map((c) => c.name) ?? STANDARD_CATEGORIES,
      systems,
      flakeError: s.errors[0]?.message,
      evaluate: async (category, apply) => {
        try {
          return {
            ok: true,
            json: await this.ctx.nixJson(['eval'], ['--json', `${ref}#${category}`, '--apply', apply], {
              cwd: flake.uri.fsPath,
              signal,
              scope: flake.folder,
            }),
          };
        } catch (e) {
          if (e instanceof ExitError) {
            const text = e.stderrLines.join('\n');
            return {
              ok: false,
              error: parseNixErrors(text)[0]?.message ?? e.stderrTail(3),
              missing: /does not provide attribute/.test(text),
            };
          }
          if (e instanceof NotJsonError) return { ok: false, error: e.message, missing: false };
          throw e;
        }
      },
    });
    const parsed = parseFlakeShow(JSON.stringify(showJsonFromListing(listing)), {});
    if (parsed.ok && parsed.model.categories.length) {
      Object.assign(s, { model: parsed.model, partial: true, broken, systems });
      const names = [...broken.keys()].map((p) => {
        const f = formatAttrPath(p.split('\0'));
        return f.ok ? f.value : p;
      });
      this.ctx.log.info(`guarded listing of ${flake.label}: ${listing.size} outputs, broken: ${names.join(', ') || 'none'}`);
    }
  }

  private disposed = false;

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.values()) {
      clearTimeout(t.timer);
      t.settle();
    }
    for (const r of this.running.values()) r.ac.abort();
    this.changed.dispose();
  }
}

/** Replaces a category's single `unknown` leaf with one leaf per name (listed by `expandUnknown`); false if it did not. */
function expandCategory(model: FlakeShowModel, category: string, names: readonly string[]): boolean {
  const i = model.categories.findIndex((c) => c.name === category);
  if (i < 0 || names.length === 0) return false;
  const expanded = parseFlakeShow(JSON.stringify({ [category]: Object.fromEntries(names.map((n) => [n, { type: 'unknown' }])) }));
  if (!expanded.ok || !expanded.model.categories[0]) return false;
  model.categories[i] = expanded.model.categories[0];
  return true;
}
