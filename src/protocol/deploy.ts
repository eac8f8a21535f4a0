// The messages between the "Deploy" webview (what a deployment of a NixOS or home-manager configuration would change,
// and how far it got) and the extension, with their run-time validators. Shared by both sides: no `vscode` import,
// no DOM, no Node APIs.
//
// Everything here may come from Nix (names, versions, store paths, messages) or a workspace's settings (host names,
// addresses) and is untrusted: the webview renders it with `textContent` only. Both sides drop any message that
// does not validate.

import { CONTROL_MULTILINE, dispatch, fitList, fitText, integer, list, literal, nullable, oneOf, record, text, type Check } from './checks';

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
// Validators (./checks): objects with exactly their keys, own plain data properties only, every string and list
// bounded, no control characters (but newlines and tabs in `message`).

const name = text(DEPLOY_LIMITS.name);
const path = text(DEPLOY_LIMITS.path);
const size = integer(-DEPLOY_LIMITS.bytes, DEPLOY_LIMITS.bytes);
const closureSize = integer(0, DEPLOY_LIMITS.bytes);
const versions = list(text(DEPLOY_LIMITS.version), DEPLOY_LIMITS.versions);
const generation = integer(1, DEPLOY_LIMITS.generation);
const version = literal(DEPLOY_PROTOCOL_VERSION);

const changeView = record(
  { name, before: versions, after: versions, kind: oneOf('added', 'removed', 'changed', 'size') },
  { sizeDelta: size },
);

const diffView = record(
  { changes: list(changeView, DEPLOY_LIMITS.changes), sizeDelta: size, omitted: closureSize },
  { sizeBefore: closureSize, sizeAfter: closureSize },
);

const deployView = record(
  {
    kind: oneOf('nixos', 'home'),
    config: name,
    flakeLabel: name,
    target: name,
    action: oneOf(...DEPLOY_VIEW_ACTIONS),
    phase: oneOf(...DEPLOY_PHASES),
    actions: list(oneOf(...APPLY_ACTIONS), APPLY_ACTIONS.length),
  },
  {
    step: name,
    current: nullable(path),
    toplevel: path,
    diff: diffView,
    summary: name,
    message: text(DEPLOY_LIMITS.message, { control: CONTROL_MULTILINE }),
    generation,
  },
);

const toWebview: Record<ToWebview['type'], Check> = {
  show: record({ type: literal('show'), version, view: deployView }),
};

const toExtension: Record<ToExtension['type'], Check> = {
  ready: record({ type: literal('ready'), version }),
  apply: record({ type: literal('apply'), action: oneOf(...APPLY_ACTIONS) }),
};

export function isChangeView(v: unknown): v is ChangeView {
  return changeView(v);
}

export function isDiffView(v: unknown): v is DiffView {
  return diffView(v);
}

export function isDeployView(v: unknown): v is DeployView {
  return deployView(v);
}

/** True when `v` is a well-formed extension → webview message within `DEPLOY_LIMITS`. */
export function isDeployToWebview(v: unknown): v is ToWebview {
  return dispatch(toWebview, v);
}

/** True when `v` is a well-formed webview → extension message. */
export function isDeployToExtension(v: unknown): v is ToExtension {
  return dispatch(toExtension, v);
}

// ---------------------------------------------------------------------------------------------------------
// Fitting data to the bounds (the extension's side).

/**
 * Text cut to `max` characters (an ellipsis marks the cut), ANSI escapes and control characters removed; `multiline`
 * keeps newlines and turns tabs into two spaces, otherwise both become spaces (`fitText`).
 */
export function fitDeployText(s: string, max: number, multiline = false): string {
  return multiline ? fitText(s.replace(/\t/g, '  '), max, 'multiline') : fitText(s, max);
}

function clampSize(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.max(-DEPLOY_LIMITS.bytes, Math.min(DEPLOY_LIMITS.bytes, Math.round(n)));
}

/** A diff (the core's `ClosureDiff`) within the bounds: names and versions cut, changes past the limit counted. */
export function fitDiff(d: DiffView): DiffView {
  const changes = fitList(d.changes, DEPLOY_LIMITS.changes).map((c): ChangeView => ({
    name: fitDeployText(c.name, DEPLOY_LIMITS.name),
    before: fitList(c.before, DEPLOY_LIMITS.versions).map((x) => fitDeployText(x, DEPLOY_LIMITS.version)),
    after: fitList(c.after, DEPLOY_LIMITS.versions).map((x) => fitDeployText(x, DEPLOY_LIMITS.version)),
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
  const line = (s: string) => fitDeployText(s, DEPLOY_LIMITS.name);
  return {
    kind: v.kind,
    config: line(v.config),
    flakeLabel: line(v.flakeLabel),
    target: line(v.target),
    action: v.action,
    phase: v.phase,
    ...(v.step !== undefined ? { step: line(v.step) } : {}),
    ...(v.current !== undefined ? { current: v.current === null ? null : fitDeployText(v.current, DEPLOY_LIMITS.path) } : {}),
    ...(v.toplevel !== undefined ? { toplevel: fitDeployText(v.toplevel, DEPLOY_LIMITS.path) } : {}),
    ...(v.diff ? { diff: fitDiff(v.diff) } : {}),
    ...(v.summary !== undefined ? { summary: line(v.summary) } : {}),
    ...(v.message !== undefined ? { message: fitDeployText(v.message, DEPLOY_LIMITS.message, true) } : {}),
    ...(v.generation !== undefined && generation(v.generation) ? { generation: v.generation } : {}),
    actions: v.actions.filter((a) => APPLY_ACTIONS.includes(a)),
  };
}
