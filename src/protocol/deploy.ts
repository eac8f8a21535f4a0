// The messages between the "Deploy" webview (what a deployment of a NixOS or home-manager configuration would change,
// and how far it got) and the extension, with their run-time validators. Shared by both sides: no `vscode` import,
// no DOM, no Node APIs.
//
// Everything here may come from Nix (names, versions, store paths, messages) or a workspace's settings (host names,
// addresses) and is untrusted: the webview renders it with `textContent` only. Both sides drop any message that
// does not validate.

/** Bumped on any incompatible change; `ready` and `show` carry it and must match. */
export const DEPLOY_PROTOCOL_VERSION = 1;

/** Bounds checked by the validators. The extension cuts its data to these (`fitDeployView`). */
export const DEPLOY_LIMITS = {
  /** A configuration, flake or package name, an address, a step title. */
  name: 256,
  /** A store path. */
  path: 4096,
  /** Changes in one diff (Nix's diff-closures has no bound; the core keeps at most 10 000). */
  changes: 10_000,
  /** Versions of one package on one side. */
  versions: 50,
  /** One version string. */
  version: 100,
  /** A message (may be multi-line). */
  message: 16_000,
  /** Sizes in bytes. */
  bytes: Number.MAX_SAFE_INTEGER,
  /** A generation number. */
  generation: 1_000_000_000,
} as const;

/** What the view is about. `preview`: the diff alone ("What would change on web?"), nothing is applied. */
export type DeployViewAction = 'preview' | 'switch' | 'boot' | 'test' | 'dry-activate' | 'build' | 'activate';
export const DEPLOY_VIEW_ACTIONS: readonly DeployViewAction[] = ['preview', 'switch', 'boot', 'test', 'dry-activate', 'build', 'activate'];

/** The actions the view may ask for (a button of a preview); the extension asks for confirmation again. */
export type ApplyAction = 'switch' | 'boot' | 'test' | 'dry-activate' | 'activate';
export const APPLY_ACTIONS: readonly ApplyAction[] = ['switch', 'boot', 'test', 'dry-activate', 'activate'];

/**
 * Where a deployment is: building and comparing (the preview), waiting for the user's confirmation, applying,
 * finished (`done`, `failed`, `cancelled`; `declined`: the user said no, nothing changed).
 */
export type DeployPhase = 'building' | 'comparing' | 'confirming' | 'applying' | 'done' | 'failed' | 'cancelled' | 'declined';
export const DEPLOY_PHASES: readonly DeployPhase[] = [
  'building',
  'comparing',
  'confirming',
  'applying',
  'done',
  'failed',
  'cancelled',
  'declined',
];

export interface ChangeView {
  name: string;
  /** Versions only before (`''`: a path without a version). */
  before: string[];
  after: string[];
  sizeDelta?: number;
  kind: 'added' | 'removed' | 'changed' | 'size';
}

export interface DiffView {
  changes: ChangeView[];
  sizeDelta: number;
  sizeBefore?: number;
  sizeAfter?: number;
  /** Changes left out to stay within bounds (by Nix's output reader or by this protocol). */
  omitted: number;
}

export interface DeployView {
  /** `nixosConfigurations.<config>` or `homeConfigurations.<config>`. */
  kind: 'nixos' | 'home';
  config: string;
  flakeLabel: string;
  /** Where it is activated: an address, or `this machine`. */
  target: string;
  action: DeployViewAction;
  phase: DeployPhase;
  /** The step running now (its title). */
  step?: string;
  /** The system (or generation) the target runs; null: none (a first deployment). */
  current?: string | null;
  /** The new toplevel (or activation package). */
  toplevel?: string;
  diff?: DiffView;
  /** "1 changed, 1 added, +36.0 KiB". */
  summary?: string;
  /** Success or failure text. */
  message?: string;
  /** The generation the profile points at after a switch or boot. */
  generation?: number;
  /** Actions offered as buttons (a preview of a host that can be deployed). */
  actions: ApplyAction[];
}

export type ToWebview = { type: 'show'; version: number; view: DeployView };
export type ToExtension = { type: 'ready'; version: number } | { type: 'apply'; action: ApplyAction };

// ---------------------------------------------------------------------------------------------------------
// Validators: plain checks, no prototype lookups (own properties only), every string and list bounded.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(o: Obj, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

function isSize(v: unknown): v is number {
  return isInt(v, -DEPLOY_LIMITS.bytes, DEPLOY_LIMITS.bytes);
}

function oneOf<T extends string>(v: unknown, list: readonly T[]): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}

function isVersions(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= DEPLOY_LIMITS.versions && v.every((x) => isText(x, DEPLOY_LIMITS.version));
}

export function isChangeView(v: unknown): v is ChangeView {
  if (!isObj(v)) return false;
  const size = own(v, 'sizeDelta');
  return (
    isText(own(v, 'name'), DEPLOY_LIMITS.name) &&
    isVersions(own(v, 'before')) &&
    isVersions(own(v, 'after')) &&
    (size === undefined || isSize(size)) &&
    oneOf(own(v, 'kind'), ['added', 'removed', 'changed', 'size'] as const)
  );
}

export function isDiffView(v: unknown): v is DiffView {
  if (!isObj(v)) return false;
  const changes = own(v, 'changes');
  const before = own(v, 'sizeBefore');
  const after = own(v, 'sizeAfter');
  return (
    Array.isArray(changes) &&
    changes.length <= DEPLOY_LIMITS.changes &&
    changes.every(isChangeView) &&
    isSize(own(v, 'sizeDelta')) &&
    (before === undefined || isInt(before, 0, DEPLOY_LIMITS.bytes)) &&
    (after === undefined || isInt(after, 0, DEPLOY_LIMITS.bytes)) &&
    isInt(own(v, 'omitted'), 0, DEPLOY_LIMITS.bytes)
  );
}

export function isDeployView(v: unknown): v is DeployView {
  if (!isObj(v)) return false;
  const opt = (k: string, check: (x: unknown) => boolean) => {
    const x = own(v, k);
    return x === undefined || check(x);
  };
  const actions = own(v, 'actions');
  return (
    oneOf(own(v, 'kind'), ['nixos', 'home'] as const) &&
    isText(own(v, 'config'), DEPLOY_LIMITS.name) &&
    isText(own(v, 'flakeLabel'), DEPLOY_LIMITS.name) &&
    isText(own(v, 'target'), DEPLOY_LIMITS.name) &&
    oneOf(own(v, 'action'), DEPLOY_VIEW_ACTIONS) &&
    oneOf(own(v, 'phase'), DEPLOY_PHASES) &&
    opt('step', (x) => isText(x, DEPLOY_LIMITS.name)) &&
    opt('current', (x) => x === null || isText(x, DEPLOY_LIMITS.path)) &&
    opt('toplevel', (x) => isText(x, DEPLOY_LIMITS.path)) &&
    opt('diff', isDiffView) &&
    opt('summary', (x) => isText(x, DEPLOY_LIMITS.name)) &&
    opt('message', (x) => isText(x, DEPLOY_LIMITS.message)) &&
    opt('generation', (x) => isInt(x, 1, DEPLOY_LIMITS.generation)) &&
    Array.isArray(actions) &&
    actions.length <= APPLY_ACTIONS.length &&
    actions.every((a) => oneOf(a, APPLY_ACTIONS))
  );
}

export function isDeployToWebview(v: unknown): v is ToWebview {
  return isObj(v) && own(v, 'type') === 'show' && own(v, 'version') === DEPLOY_PROTOCOL_VERSION && isDeployView(own(v, 'view'));
}

export function isDeployToExtension(v: unknown): v is ToExtension {
  if (!isObj(v)) return false;
  const type = own(v, 'type');
  if (type === 'ready') return own(v, 'version') === DEPLOY_PROTOCOL_VERSION;
  if (type === 'apply') return oneOf(own(v, 'action'), APPLY_ACTIONS);
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Fitting data to the bounds (the extension's side).

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text cut to `max` characters (an ellipsis marks the cut), control characters removed, newlines kept when asked. */
export function fitDeployText(s: string, max: number, multiline = false): string {
  let t = s.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\r\n?/g, '\n');
  t = multiline ? t.replace(/\t/g, '  ').replace(CONTROL, '') : t.replace(/[\t\n]/g, ' ').replace(CONTROL, '');
  if (t.length <= max) return t;
  let cut = Math.max(0, max - 1);
  const code = t.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${t.slice(0, cut)}…`;
}

function clampSize(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.max(-DEPLOY_LIMITS.bytes, Math.min(DEPLOY_LIMITS.bytes, Math.round(n)));
}

/** A diff (the core's `ClosureDiff`) within the bounds: names and versions cut, changes past the limit counted. */
export function fitDiff(d: DiffView): DiffView {
  const changes = d.changes.slice(0, DEPLOY_LIMITS.changes).map((c): ChangeView => ({
    name: fitDeployText(c.name, DEPLOY_LIMITS.name),
    before: c.before.slice(0, DEPLOY_LIMITS.versions).map((x) => fitDeployText(x, DEPLOY_LIMITS.version)),
    after: c.after.slice(0, DEPLOY_LIMITS.versions).map((x) => fitDeployText(x, DEPLOY_LIMITS.version)),
    ...(c.sizeDelta !== undefined ? { sizeDelta: clampSize(c.sizeDelta) } : {}),
    kind: c.kind,
  }));
  return {
    changes,
    sizeDelta: clampSize(d.sizeDelta),
    ...(d.sizeBefore !== undefined ? { sizeBefore: Math.max(0, clampSize(d.sizeBefore)) } : {}),
    ...(d.sizeAfter !== undefined ? { sizeAfter: Math.max(0, clampSize(d.sizeAfter)) } : {}),
    omitted: Math.max(0, clampSize(d.omitted + Math.max(0, d.changes.length - DEPLOY_LIMITS.changes))),
  };
}

/** A view within the bounds. */
export function fitDeployView(v: DeployView): DeployView {
  const text = (s: string) => fitDeployText(s, DEPLOY_LIMITS.name);
  return {
    kind: v.kind,
    config: text(v.config),
    flakeLabel: text(v.flakeLabel),
    target: text(v.target),
    action: v.action,
    phase: v.phase,
    ...(v.step !== undefined ? { step: text(v.step) } : {}),
    ...(v.current !== undefined ? { current: v.current === null ? null : fitDeployText(v.current, DEPLOY_LIMITS.path) } : {}),
    ...(v.toplevel !== undefined ? { toplevel: fitDeployText(v.toplevel, DEPLOY_LIMITS.path) } : {}),
    ...(v.diff ? { diff: fitDiff(v.diff) } : {}),
    ...(v.summary !== undefined ? { summary: text(v.summary) } : {}),
    ...(v.message !== undefined ? { message: fitDeployText(v.message, DEPLOY_LIMITS.message, true) } : {}),
    ...(v.generation !== undefined && isInt(v.generation, 1, DEPLOY_LIMITS.generation) ? { generation: v.generation } : {}),
    actions: v.actions.filter((a) => APPLY_ACTIONS.includes(a)),
  };
}
