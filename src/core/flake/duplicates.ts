// Inputs locked more than once at different revisions, and the `follows` that would remove the duplicates.
// No `vscode` import.
//
// What `follows` can express (Nix's flake.cc / lockfile.cc): in flake.nix, `inputs.A.inputs.B.inputs.C.follows
// = "X/Y"` overrides the input at path A/B/C (overrides nest to any depth) so that it follows the input at path
// X/Y from the root. The follows string is split on `/` and each name must be a flake input name
// (`[a-zA-Z][a-zA-Z0-9_-]*`), so only such paths are suggested. Paths are built from real lock entries only
// (never through another follows entry), so each suggested override names an input that exists.

import { INPUT_NAME, allInputs, type FlakeLock, type InputType, type LockInput } from './lock';
import type { TextRange } from './json';
import { daysBetween } from './time';

/** One place where a duplicated source is locked. */
export interface DuplicateOccurrence {
  /** The flake's label, for analyses across several lock files. */
  flake?: string;
  path: string[];
  /** `home-manager/nixpkgs`. */
  id: string;
  nodeKey: string;
  rev?: string;
  shortRev?: string;
  narHash?: string;
  lastModified?: number;
  original?: string;
  nodeRange?: TextRange;
}

/** `inputs.<input>.inputs.<dep…>.follows = "<target>";` in the flake `flake`. */
export interface FollowsSuggestion {
  flake?: string;
  /** The root input whose dependency is redirected, e.g. `home-manager`. */
  input: string;
  /** The dependency below it, as an input path: `nixpkgs`, or `b/nixpkgs` for `inputs.a.inputs.b.inputs.nixpkgs`. */
  dep: string;
  /** The input path it should follow, e.g. `nixpkgs`. */
  target: string;
  /** The full path of the input being redirected (`[input, ...dep]`). */
  path: string[];
  /** The line to add to flake.nix, e.g. `inputs.home-manager.inputs.nixpkgs.follows = "nixpkgs";`. */
  nix: string;
}

export interface DuplicateGroup {
  /** Identity of the source: type, host, owner/repo (lower case) or URL without query, or path; plus `dir`. */
  source: string;
  /** The source for people, e.g. `github:NixOS/nixpkgs`. */
  label: string;
  type: InputType;
  /** Sorted by flake, then input path. */
  occurrences: DuplicateOccurrence[];
  /** Distinct revisions (rev, or narHash when there is no rev). */
  revisions: string[];
  oldest?: number;
  newest?: number;
  /** Whole days between the oldest and newest lastModified. */
  spreadDays?: number;
  suggestions: FollowsSuggestion[];
}

/** A lock file with a label (its flake's folder name), for workspaces with several flakes. */
export interface LabelledLock {
  flake: string;
  lock: FlakeLock;
}

/** Sources locked at different revisions under different input paths of one flake.lock. */
export function findDuplicateInputs(lock: FlakeLock): DuplicateGroup[] {
  return groupDuplicates(occurrencesOf(lock, undefined));
}

/** The same across several lock files; occurrences are labelled with their flake, suggestions stay per flake. */
export function findDuplicateInputsAcross(locks: readonly LabelledLock[]): DuplicateGroup[] {
  return groupDuplicates(locks.flatMap(({ flake, lock }) => occurrencesOf(lock, flake)));
}

/** The identity used to decide that two inputs fetch the same thing, or undefined when there is none. */
export function sourceOf(input: LockInput): { key: string; label: string } | undefined {
  const locked = input.lockedAttrs ?? {};
  const original = input.originalAttrs ?? {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const dir = str(locked.dir) ?? str(original.dir);
  const withDir = (key: string): string => (dir ? `${key}?dir=${dir}` : key);
  switch (input.type) {
    case 'github':
    case 'gitlab':
    case 'sourcehut': {
      const owner = str(locked.owner) ?? str(original.owner);
      const repo = str(locked.repo) ?? str(original.repo);
      if (!owner || !repo) return undefined;
      const host = str(locked.host) ?? str(original.host) ?? DEFAULT_HOSTS[input.type];
      return {
        key: withDir(`${input.type}:${host.toLowerCase()}/${owner.toLowerCase()}/${repo.toLowerCase()}`),
        label: `${input.type}:${owner}/${repo}`,
      };
    }
    case 'git':
    case 'mercurial': {
      const url = str(locked.url) ?? str(original.url);
      if (!url) return undefined;
      const forge = forgeOf(url);
      if (forge) return { key: withDir(forge.key), label: forge.label };
      const bare = withoutQuery(url);
      return { key: withDir(`${input.type}:${normalizeUrl(bare)}`), label: `${input.type === 'git' ? 'git+' : 'hg+'}${bare}` };
    }
    case 'tarball':
    case 'file': {
      // Channel tarballs lock to a different URL per release: the URL asked for identifies the source.
      const url = (original.type === 'tarball' || original.type === 'file' ? str(original.url) : undefined) ?? str(locked.url);
      if (!url) return undefined;
      const bare = withoutQuery(url);
      return { key: withDir(`url:${normalizeUrl(bare)}`), label: bare };
    }
    case 'path': {
      const path = str(locked.path) ?? str(original.path);
      if (!path) return undefined;
      const clean = path.replace(/\/+$/, '') || '/';
      return { key: withDir(`path:${clean}`), label: `path:${clean}` };
    }
    default:
      return undefined;
  }
}

/**
 * The `follows` that makes `path` use `target` instead, or undefined when flake.nix cannot express it
 * (a top-level input, a name that is not a flake input name, or a target inside the redirected input).
 */
export function followsSuggestion(path: readonly string[], target: readonly string[], flake?: string): FollowsSuggestion | undefined {
  if (path.length < 2 || target.length === 0) return undefined;
  if (![...path, ...target].every((n) => INPUT_NAME.test(n))) return undefined;
  if (target.length >= path.length && path.every((n, i) => n === target[i])) return undefined;
  const nix = `${path.map((n) => `inputs.${n}`).join('.')}.follows = "${target.join('/')}";`;
  return {
    ...(flake !== undefined ? { flake } : {}),
    input: path[0]!,
    dep: path.slice(1).join('/'),
    target: target.join('/'),
    path: [...path],
    nix,
  };
}

const DEFAULT_HOSTS: Record<'github' | 'gitlab' | 'sourcehut', string> = {
  github: 'github.com',
  gitlab: 'gitlab.com',
  sourcehut: 'git.sr.ht',
};

interface Occurrence extends DuplicateOccurrence {
  sourceKey: string;
  sourceLabel: string;
  type: InputType;
  ref?: string;
}

function occurrencesOf(lock: FlakeLock, flake: string | undefined): Occurrence[] {
  const out: Occurrence[] = [];
  for (const input of allInputs(lock)) {
    if (input.follows || input.nodeKey === undefined) continue;
    const source = sourceOf(input);
    if (!source) continue;
    out.push({
      ...(flake !== undefined ? { flake } : {}),
      path: input.path,
      id: input.id,
      nodeKey: input.nodeKey,
      ...(input.rev !== undefined ? { rev: input.rev, shortRev: input.shortRev } : {}),
      ...(input.narHash !== undefined ? { narHash: input.narHash } : {}),
      ...(input.lastModified !== undefined ? { lastModified: input.lastModified } : {}),
      ...(input.original !== undefined ? { original: input.original } : {}),
      ...(input.nodeRange !== undefined ? { nodeRange: input.nodeRange } : {}),
      sourceKey: source.key,
      sourceLabel: source.label,
      type: input.type,
      ...(input.ref !== undefined ? { ref: input.ref } : {}),
    });
  }
  return out;
}

function revisionOf(o: DuplicateOccurrence): string | undefined {
  return o.rev ?? o.narHash;
}

function groupDuplicates(all: readonly Occurrence[]): DuplicateGroup[] {
  const bySource = new Map<string, Occurrence[]>();
  for (const o of all) {
    const list = bySource.get(o.sourceKey);
    if (list) list.push(o);
    else bySource.set(o.sourceKey, [o]);
  }
  const groups: DuplicateGroup[] = [];
  for (const [source, list] of bySource) {
    const revisions = [...new Set(list.map(revisionOf).filter((r): r is string => r !== undefined))];
    if (revisions.length < 2) continue;
    list.sort((a, b) => cmp(a.flake ?? '', b.flake ?? '') || cmp(a.id, b.id));
    const first = list[0]!;
    const times = list.map((o) => o.lastModified).filter((t): t is number => t !== undefined);
    const oldest = times.length ? times.reduce((a, b) => Math.min(a, b)) : undefined;
    const newest = times.length ? times.reduce((a, b) => Math.max(a, b)) : undefined;
    groups.push({
      source,
      label: first.sourceLabel,
      type: first.type,
      occurrences: list.map(publicOccurrence),
      revisions,
      ...(oldest !== undefined && newest !== undefined ? { oldest, newest, spreadDays: daysBetween(oldest, newest) } : {}),
      suggestions: suggest(list),
    });
  }
  pruneNested(groups);
  return groups.sort((a, b) => cmp(a.label, b.label) || cmp(a.source, b.source));
}

/**
 * Per flake: every non-root occurrence at another revision than its target gets a follows suggestion. Targets are
 * root inputs when there are some (they never get suggestions themselves, so no cycle can appear); otherwise one
 * occurrence per flake (shortest path, then newest) is the target of all the others.
 */
function suggest(list: readonly Occurrence[]): FollowsSuggestion[] {
  const out: FollowsSuggestion[] = [];
  const flakes = [...new Set(list.map((o) => o.flake))];
  for (const flake of flakes) {
    const mine = list.filter((o) => o.flake === flake);
    const roots = mine.filter((o) => o.path.length === 1);
    const canonical = roots.length === 0 ? newestShallowest(mine) : undefined;
    const pick = targetPicker(roots);
    for (const o of mine) {
      if (o.path.length < 2 || o === canonical) continue;
      const target = canonical ?? pick(o);
      if (!target || revisionOf(target) === revisionOf(o)) continue;
      const s = followsSuggestion(o.path, target.path, flake);
      if (s) out.push(s);
    }
  }
  return out;
}

/** The occurrence with the shortest path, then the newest, then the first by path. */
function newestShallowest(list: readonly Occurrence[]): Occurrence | undefined {
  return [...list].sort((a, b) => a.path.length - b.path.length || (b.lastModified ?? 0) - (a.lastModified ?? 0) || cmp(a.id, b.id))[0];
}

/**
 * Drops suggestions below another suggestion of the same flake: once `c/a` follows `a`, an override of
 * `c/a/nixpkgs` would apply to the followed input instead, and the duplicate below is gone anyway.
 */
function pruneNested(groups: DuplicateGroup[]): void {
  const key = (flake: string | undefined, path: readonly string[]): string => JSON.stringify([flake ?? null, path]);
  const suggested = new Set(groups.flatMap((g) => g.suggestions.map((s) => key(s.flake, s.path))));
  const covered = (s: FollowsSuggestion): boolean => {
    for (let n = 1; n < s.path.length; n++) if (suggested.has(key(s.flake, s.path.slice(0, n)))) return true;
    return false;
  };
  for (const g of groups) g.suggestions = g.suggestions.filter((s) => !covered(s));
}

/**
 * Chooses, for occurrences below the root, the root input to follow: the same name and branch, else the same
 * name (`nixpkgs` for `a/nixpkgs`), else the same branch, else the newest. Linear in the number of roots.
 */
function targetPicker(roots: readonly Occurrence[]): (o: Occurrence) => Occurrence | undefined {
  const newer = (a: Occurrence | undefined, b: Occurrence): Occurrence =>
    !a || (b.lastModified ?? 0) > (a.lastModified ?? 0) || ((b.lastModified ?? 0) === (a.lastModified ?? 0) && cmp(b.id, a.id) < 0) ? b : a;
  const byNameRef = new Map<string, Occurrence>();
  const byName = new Map<string, Occurrence>();
  const byRef = new Map<string, Occurrence>();
  let newest: Occurrence | undefined;
  for (const r of roots) {
    const name = r.path[r.path.length - 1]!;
    byName.set(name, newer(byName.get(name), r));
    if (r.ref !== undefined) {
      byRef.set(r.ref, newer(byRef.get(r.ref), r));
      byNameRef.set(`${name}\0${r.ref}`, newer(byNameRef.get(`${name}\0${r.ref}`), r));
    }
    newest = newer(newest, r);
  }
  return (o) => {
    const name = o.path[o.path.length - 1]!;
    const sameRef = o.ref !== undefined ? byNameRef.get(`${name}\0${o.ref}`) : undefined;
    return sameRef ?? byName.get(name) ?? (o.ref !== undefined ? byRef.get(o.ref) : undefined) ?? newest;
  };
}

function publicOccurrence(o: Occurrence): DuplicateOccurrence {
  const { sourceKey: _k, sourceLabel: _l, type: _t, ref: _r, ...rest } = o;
  return rest;
}

/** github.com / gitlab.com git URLs are the same source as `github:` / `gitlab:` references. */
function forgeOf(url: string): { key: string; label: string } | undefined {
  const m = /^(?:git\+)?(?:https?|ssh|git):\/\/(?:[^@/]+@)?(github\.com|gitlab\.com)[:/]([^/]+)\/([^/?#]+?)(?:\.git)?\/?(?:[?#].*)?$/i.exec(
    url,
  );
  if (!m) return undefined;
  const type = m[1]!.toLowerCase() === 'github.com' ? 'github' : 'gitlab';
  return { key: `${type}:${m[1]!.toLowerCase()}/${m[2]!.toLowerCase()}/${m[3]!.toLowerCase()}`, label: `${type}:${m[2]}/${m[3]}` };
}

function withoutQuery(url: string): string {
  return url.replace(/[?#].*$/, '');
}

/** Lower-cases scheme and host, drops a trailing `/` and `.git`. */
function normalizeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(url);
  const s = m ? `${m[1]!.toLowerCase()}${m[2]!.toLowerCase()}${m[3]}` : url;
  return s.replace(/\/+$/, '').replace(/\.git$/, '');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
