// Listing a flake's outputs when `nix flake show` fails: one guarded `nix eval` per category, each leaf under
// `builtins.tryEval`, so one broken package costs only itself. `tryEval` catches only `throw` and `assert`; when
// a category fails anyway, its leaves are split in halves until the broken ones are found (a few processes, never
// one per leaf). This file builds the expressions and reads their results; the caller runs nix. No `vscode` import.
import { formatString } from '../source';

/** How a category's outputs are laid out, for the expressions below. */
export type GuardedShape = 'per-system' | 'per-system-single' | 'flat';

/** Categories listed by name only: evaluating them (a NixOS configuration!) is costly and not needed to list them. */
const NAMES_ONLY = new Set([
  'nixosConfigurations',
  'darwinConfigurations',
  'homeConfigurations',
  'nixosModules',
  'overlays',
  'templates',
  'lib',
  'hydraJobs',
]);

const SHAPES: Record<string, GuardedShape> = {
  packages: 'per-system',
  checks: 'per-system',
  devShells: 'per-system',
  apps: 'per-system',
  formatter: 'per-system-single',
  defaultPackage: 'per-system-single',
  devShell: 'per-system-single',
  defaultApp: 'per-system-single',
};

/** The categories tried when nothing better is known (no earlier successful listing). */
export const STANDARD_CATEGORIES = [
  'packages',
  'checks',
  'devShells',
  'apps',
  'formatter',
  'overlays',
  'nixosModules',
  'nixosConfigurations',
  'darwinConfigurations',
  'homeConfigurations',
  'templates',
  'defaultPackage',
  'devShell',
  'defaultApp',
];

export function guardedShape(category: string): GuardedShape {
  return Object.hasOwn(SHAPES, category) ? SHAPES[category]! : 'flat';
}

export function namesOnly(category: string): boolean {
  return NAMES_ONLY.has(category) || !Object.hasOwn(SHAPES, category);
}

/** `{ "a" = null; "b" = null; }`, for `builtins.intersectAttrs`. */
function nameSet(names: readonly string[]): string {
  return `{ ${names.map((n) => `${formatString(n)} = null;`).join(' ')} }`;
}

/** What one leaf evaluates to, forced completely inside `tryEval`. */
const INFO = `v: let i = if builtins.isAttrs v && (v.type or null) == "derivation" then { t = "derivation"; name = v.name or null; description = v.meta.description or null; mainProgram = v.meta.mainProgram or null; } else if builtins.isAttrs v && (v.type or null) == "app" then { t = "app"; description = v.meta.description or null; } else { t = "other"; }; in i`;
const GUARD = `v: let r = builtins.tryEval (let i = (${INFO}) v; in builtins.deepSeq i i); in if r.success then r.value else { t = "broken"; }`;

/**
 * The `--apply` function for `nix eval --json <flake>#<category>`: the leaves of the given systems (all when
 * `systems` is empty), or only the named leaves when `only` is given (for halving a failing category).
 */
export function guardedApply(category: string, systems: readonly string[], only?: readonly string[]): string {
  if (namesOnly(category)) return 'c: builtins.mapAttrs (n: v: { t = "named"; }) c';
  const pick = (set: string) => (only ? `(builtins.intersectAttrs ${nameSet(only)} ${set})` : set);
  const sys = systems.length ? `(builtins.intersectAttrs ${nameSet(systems)} c)` : 'c';
  if (guardedShape(category) === 'per-system-single') {
    return `c: builtins.mapAttrs (s: ${GUARD}) ${only ? `(builtins.intersectAttrs ${nameSet(only)} ${sys})` : sys}`;
  }
  return `c: builtins.mapAttrs (s: set: builtins.mapAttrs (n: ${GUARD}) ${pick('set')}) ${sys}`;
}

/** The `--apply` function that lists leaf names per system without evaluating any leaf. */
export function namesApply(category: string, systems: readonly string[]): string {
  const sys = systems.length ? `(builtins.intersectAttrs ${nameSet(systems)} c)` : 'c';
  if (namesOnly(category)) return 'c: builtins.attrNames c';
  if (guardedShape(category) === 'per-system-single') return `c: builtins.attrNames ${sys}`;
  return `c: builtins.mapAttrs (s: builtins.attrNames) ${sys}`;
}

/** One leaf's result. */
export type GuardedLeaf =
  | { t: 'derivation'; name?: string; description?: string; mainProgram?: string }
  | { t: 'app'; description?: string }
  | { t: 'other' }
  | { t: 'named' }
  | { t: 'broken'; error?: string };

/** `attrPath.join('\0')` → leaf result. */
export type GuardedListing = Map<string, { attrPath: string[]; leaf: GuardedLeaf }>;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function toLeaf(v: unknown): GuardedLeaf {
  if (!v || typeof v !== 'object') return { t: 'other' };
  const r = v as Record<string, unknown>;
  switch (r.t) {
    case 'derivation':
      return { t: 'derivation', name: str(r.name), description: str(r.description), mainProgram: str(r.mainProgram) };
    case 'app':
      return { t: 'app', description: str(r.description) };
    case 'named':
      return { t: 'named' };
    case 'broken':
      return { t: 'broken' };
    default:
      return { t: 'other' };
  }
}

/** Reads the JSON printed for `guardedApply(category, …)` into leaves. Bad input gives an empty listing. */
export function readGuarded(category: string, json: unknown, out: GuardedListing = new Map()): GuardedListing {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return out;
  const add = (attrPath: string[], leaf: GuardedLeaf) => out.set(attrPath.join('\0'), { attrPath, leaf });
  const top = json as Record<string, unknown>;
  if (namesOnly(category) || guardedShape(category) === 'per-system-single') {
    for (const [k, v] of Object.entries(top)) add([category, k], toLeaf(v));
    return out;
  }
  for (const [sys, set] of Object.entries(top)) {
    if (!set || typeof set !== 'object') continue;
    for (const [k, v] of Object.entries(set as Record<string, unknown>)) add([category, sys, k], toLeaf(v));
  }
  return out;
}

/** Reads the JSON printed for `namesApply(category, …)`: system → names, or `''` → names for flat categories. */
export function readNames(json: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (Array.isArray(json)) {
    out.set('', strings(json));
    return out;
  }
  if (json && typeof json === 'object')
    for (const [s, names] of Object.entries(json as Record<string, unknown>)) out.set(s, strings(names));
  return out;
}

/** Splits names into two halves (for finding the broken leaves of a category that fails as a whole). */
export function halves<T>(items: readonly T[]): [T[], T[]] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}

/**
 * Turns a guarded listing into `nix flake show --json`-shaped JSON, so the one parser builds the model:
 * derivations keep name and description; broken leaves become `{}` leaves the caller marks.
 */
export function showJsonFromListing(listing: GuardedListing): Record<string, unknown> {
  // Objects without a prototype: an output named `__proto__` or `constructor` is a key like any other.
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const { attrPath, leaf } of listing.values()) {
    let node = root;
    for (const name of attrPath.slice(0, -1)) {
      if (!Object.hasOwn(node, name)) node[name] = Object.create(null);
      node = node[name] as Record<string, unknown>;
    }
    const last = attrPath[attrPath.length - 1];
    const category = attrPath[0];
    if (last === undefined || category === undefined) continue;
    node[last] = leafJson(category, leaf);
  }
  return root;
}

const FLAT_TYPES: Record<string, string> = {
  nixosConfigurations: 'nixos-configuration',
  nixosModules: 'nixos-module',
  overlays: 'nixpkgs-overlay',
  templates: 'template',
};

function leafJson(category: string, leaf: GuardedLeaf): Record<string, unknown> {
  switch (leaf.t) {
    case 'derivation':
      return {
        type: 'derivation',
        ...(leaf.name ? { name: leaf.name } : {}),
        ...(leaf.description ? { description: leaf.description } : {}),
      };
    case 'app':
      return { type: 'app', ...(leaf.description ? { description: leaf.description } : {}) };
    case 'named':
      return {
        type: Object.hasOwn(FLAT_TYPES, category) ? FLAT_TYPES[category] : 'unknown',
        ...(category === 'templates' ? { description: '' } : {}),
      };
    case 'broken':
    case 'other':
      return { type: 'unknown' };
  }
}

/** One guarded evaluation: `nix eval --json <flake>#<category> --apply <apply>`, its JSON or why it failed. */
export type GuardedEval = (
  category: string,
  apply: string,
) => Promise<{ ok: true; json: unknown } | { ok: false; error: string; missing: boolean }>;

export interface GuardedRun {
  /** The categories to list (the last good listing's, or the standard ones). */
  categories: readonly string[];
  /** The systems listed. */
  systems: readonly string[];
  /** The whole flake's error: a category failing with it means nothing more can be listed. */
  flakeError?: string;
  /** Extra evaluations allowed for halving, over all categories (default 24). */
  budget?: number;
  evaluate: GuardedEval;
}

/**
 * Lists a flake whose `nix flake show` failed, one guarded evaluation per category (a throwing output is marked
 * broken instead of failing the whole listing). A category that fails as a whole (an output that does not evaluate
 * at all) is listed by name and halved until its broken leaves are found, within the budget; what the budget does
 * not reach is marked broken with the category's error. Returns the listing and, per broken attribute path (joined
 * by NUL), why.
 */
export async function listGuarded(run: GuardedRun): Promise<{ listing: GuardedListing; broken: Map<string, string>; evaluations: number }> {
  const listing: GuardedListing = new Map();
  const broken = new Map<string, string>();
  let budget = run.budget ?? 24;
  let evaluations = 0;
  const evaluate: GuardedEval = (category, apply) => {
    evaluations++;
    return run.evaluate(category, apply);
  };
  for (const category of run.categories) {
    const all = await evaluate(category, guardedApply(category, run.systems));
    if (all.ok) {
      readGuarded(category, all.json, listing);
      continue;
    }
    if (all.missing) continue;
    const names = await evaluate(category, namesApply(category, run.systems));
    if (!names.ok) {
      // The same error as the whole flake's (a syntax error, an untracked file, a lock problem): nothing more can
      // be listed, so stop here instead of trying every category.
      if (run.flakeError !== undefined && names.error === run.flakeError) break;
      broken.set(category, all.error);
      continue;
    }
    for (const [system, leafNames] of readNames(names.json)) {
      const sysPath = system ? [category, system] : [category];
      const sysSystems = system ? [system] : run.systems;
      const probe = async (subset: string[]): Promise<void> => {
        if (subset.length === 0) return;
        const r = budget-- > 0 ? await evaluate(category, guardedApply(category, sysSystems, subset)) : undefined;
        if (r?.ok) {
          readGuarded(category, r.json, listing);
          return;
        }
        if (subset.length === 1 || !r) {
          for (const n of subset) {
            const attrPath = [...sysPath, n];
            listing.set(attrPath.join('\0'), { attrPath, leaf: { t: 'broken' } });
            broken.set(attrPath.join('\0'), r?.error ?? all.error);
          }
          return;
        }
        const [a, b] = halves(subset);
        await probe(a);
        await probe(b);
      };
      await probe(leafNames);
    }
  }
  for (const { attrPath, leaf } of listing.values()) {
    if (leaf.t === 'broken' && !broken.has(attrPath.join('\0'))) broken.set(attrPath.join('\0'), 'evaluation failed (throw or assert)');
  }
  return { listing, broken, evaluations };
}
