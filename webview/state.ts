// The panel's whole state: what the extension sent (validated) plus how each card is shown.
// Kept in `vscode.setState()` so that hiding and reloading the panel loses nothing.

import {
  isToWebview,
  kindOf,
  LIMITS,
  PROTOCOL_VERSION,
  sameHost,
  type HostEntry,
  type HostRef,
  type NoticeMessage,
  type RunState,
  type ToWebview,
} from '../src/protocol/dryBuild';

/** How one result card is shown. */
export interface CardView {
  open: boolean;
  filter: string;
  buildsOpen: boolean;
  fetchesOpen: boolean;
  /** How many items of each list are rendered (more on "Show more"). */
  buildsShown: number;
  fetchesShown: number;
  logOpen: boolean;
  /** Indexes of errors whose trace is expanded. */
  traceOpen: number[];
  /** Local clock (Date.now()) at which the run started, for the live elapsed time. */
  t0: number;
}

export interface UiState {
  v: 1;
  hosts: HostEntry[];
  selected?: HostRef;
  loading: boolean;
  /** Newest first, at most one per configuration (flake, name and kind). */
  runs: RunState[];
  views: Record<string, CardView>;
  notice?: Pick<NoticeMessage, 'level' | 'text'>;
}

export const PAGE = 200;
const MAX_FILTER = 200;

export function emptyState(): UiState {
  return { v: 1, hosts: [], loading: true, runs: [], views: Object.create(null) as Record<string, CardView> };
}

export function defaultView(run: Pick<RunState, 'elapsedMs'>, now: number): CardView {
  return {
    open: true,
    filter: '',
    buildsOpen: true,
    fetchesOpen: true,
    buildsShown: PAGE,
    fetchesShown: PAGE,
    logOpen: false,
    traceOpen: [],
    t0: now - run.elapsedMs,
  };
}

export { sameHost };

export function hostKey(h: HostRef): string {
  return JSON.stringify([h.flake, h.host, kindOf(h)]);
}

/** Keeps the first run of each configuration. */
function dedupe(runs: RunState[]): RunState[] {
  const seen = new Set<string>();
  return runs.filter((r) => {
    const k = hostKey(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** What a message changed, so that only that part is re-rendered. */
export type Change =
  | { kind: 'hosts' }
  | { kind: 'all' }
  | { kind: 'run'; runId: string }
  | { kind: 'progress'; runId: string }
  | { kind: 'notice' }
  | { kind: 'none' };

/**
 * Applies a validated message to the state (in place). `now` is the local clock.
 * Returns what changed.
 */
export function apply(state: UiState, msg: ToWebview, now: number): Change {
  switch (msg.type) {
    case 'init': {
      state.hosts = msg.hosts;
      state.selected = msg.selected ?? keepSelection(state.selected, msg.hosts);
      state.loading = msg.loading ?? false;
      state.runs = dedupe(msg.runs);
      const views = Object.create(null) as Record<string, CardView>;
      for (const r of state.runs) {
        const old = state.views[r.runId];
        views[r.runId] = old ? { ...old, t0: now - r.elapsedMs } : defaultView(r, now);
      }
      state.views = views;
      return { kind: 'all' };
    }
    case 'hosts':
      state.hosts = msg.hosts;
      state.selected = msg.selected ?? keepSelection(state.selected, msg.hosts);
      state.loading = msg.loading ?? false;
      return { kind: 'hosts' };
    case 'runStarted': {
      if (state.runs.some((r) => r.runId === msg.runId)) return { kind: 'none' };
      const run: RunState = {
        runId: msg.runId,
        flake: msg.flake,
        host: msg.host,
        ...(msg.kind ? { kind: msg.kind } : {}),
        state: 'evaluating',
        startedAt: msg.startedAt,
        elapsedMs: 0,
        builds: [],
        fetches: [],
        errors: [],
        log: [],
      };
      // One card per configuration: a new run replaces its old card. The oldest cards go past the limit.
      for (const old of state.runs.filter((r) => sameHost(r, run))) delete state.views[old.runId];
      state.runs = [run, ...state.runs.filter((r) => !sameHost(r, run))];
      for (const old of state.runs.slice(LIMITS.runs)) delete state.views[old.runId];
      state.runs = state.runs.slice(0, LIMITS.runs);
      state.views[run.runId] = defaultView(run, now);
      return { kind: 'all' };
    }
    case 'progress': {
      const run = state.runs.find((r) => r.runId === msg.runId);
      if (!run || run.state !== 'evaluating') return { kind: 'none' };
      run.progress = msg.text;
      return { kind: 'progress', runId: run.runId };
    }
    case 'runFinished': {
      const i = state.runs.findIndex((r) => r.runId === msg.runId);
      const old = state.runs[i];
      if (!old) return { kind: 'none' };
      const { type: _type, ...result } = msg;
      // A new object: cards re-render their results when the run object changes.
      state.runs[i] = { ...result, flake: old.flake, host: old.host, ...(old.kind ? { kind: old.kind } : {}), startedAt: old.startedAt };
      // A failure without a parsed error: the log is all there is, so show it.
      const view = state.views[msg.runId];
      if (view && msg.state === 'failed' && msg.errors.length === 0) view.logOpen = true;
      return { kind: 'run', runId: msg.runId };
    }
    case 'notice':
      state.notice = msg.text ? { level: msg.level, text: msg.text } : undefined;
      return { kind: 'notice' };
  }
}

function keepSelection(selected: HostRef | undefined, hosts: HostEntry[]): HostRef | undefined {
  return selected && hosts.some((h) => sameHost(h, selected)) ? selected : undefined;
}

/** The configuration the picker shows: the selected one when it exists, else the first. */
export function currentHost(state: UiState): HostEntry | undefined {
  const sel = state.selected;
  return (sel && state.hosts.find((h) => sameHost(h, sel))) || state.hosts[0];
}

export function runningRun(state: UiState): RunState | undefined {
  return state.runs.find((r) => r.state === 'evaluating');
}

// ---------------------------------------------------------------------------------------------------------
// Persistence: what comes back from getState() is validated like a message, since it is data too.

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= LIMITS.items;
}

function validView(v: unknown): CardView | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const bools = ['open', 'buildsOpen', 'fetchesOpen', 'logOpen'] as const;
  if (!bools.every((k) => typeof o[k] === 'boolean')) return undefined;
  if (typeof o.filter !== 'string' || o.filter.length > MAX_FILTER) return undefined;
  if (!isCount(o.buildsShown) || !isCount(o.fetchesShown)) return undefined;
  if (!Array.isArray(o.traceOpen) || o.traceOpen.length > LIMITS.errors || !o.traceOpen.every(isCount)) return undefined;
  if (typeof o.t0 !== 'number' || !Number.isFinite(o.t0)) return undefined;
  return {
    open: o.open as boolean,
    filter: o.filter,
    buildsOpen: o.buildsOpen as boolean,
    fetchesOpen: o.fetchesOpen as boolean,
    buildsShown: o.buildsShown,
    fetchesShown: o.fetchesShown,
    logOpen: o.logOpen as boolean,
    traceOpen: o.traceOpen as number[],
    t0: o.t0,
  };
}

/** Restores a saved state, or undefined when it is missing, of another version, or malformed. */
export function restore(saved: unknown, now: number): UiState | undefined {
  if (typeof saved !== 'object' || saved === null) return undefined;
  const s = saved as Record<string, unknown>;
  if (s.v !== 1) return undefined;
  const asInit = { type: 'init', protocolVersion: PROTOCOL_VERSION, hosts: s.hosts, selected: s.selected, runs: s.runs };
  if (!isToWebview(asInit) || asInit.type !== 'init') return undefined;
  const state = emptyState();
  apply(state, asInit, now);
  state.loading = s.loading === true;
  const views = (typeof s.views === 'object' && s.views !== null ? s.views : {}) as Record<string, unknown>;
  for (const r of state.runs) {
    const v = Object.prototype.hasOwnProperty.call(views, r.runId) ? validView(views[r.runId]) : undefined;
    if (v) state.views[r.runId] = v;
  }
  if (s.notice !== undefined) {
    const n = { type: 'notice', ...(s.notice as object) };
    if (isToWebview(n) && n.type === 'notice' && n.text) state.notice = { level: n.level, text: n.text };
  }
  return state;
}

export { MAX_FILTER };
