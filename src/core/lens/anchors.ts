// Where a Build lens can sit in a Nix source, found without Nix: builder calls (`stdenv.mkDerivation { … }`) and, in
// flake.nix, bindings under `packages.<system>`. Every anchor has a key that survives unrelated edits, so lenses
// computed from an evaluation can follow the text until the next one. No `vscode` import.

import {
  DEFAULT_BUILDERS,
  findDerivationCalls,
  packageBindings,
  sourceOf,
  type Binding,
  type DerivationCall,
  type NixSource,
  type PackageBinding,
  type Range,
  type SourceInput,
} from '../source';
// Internal to the scanner (not exported from its index): the rows a scan keeps its bindings in.
import { bindingOf, nameHash, storeOf } from '../source/rows';

/** What a lens is anchored to. */
export type AnchorKind =
  /** A call of a derivation builder: the lens sits on the start of the call. */
  | 'call'
  /** A binding (`hello = pkgs.hello;`): the lens sits on its key. */
  | 'binding'
  /** A bare position Nix gave (no call or binding found there). */
  | 'position';

/** One place a lens can sit. */
export interface LensAnchor {
  readonly kind: AnchorKind;
  /**
   * A call: from the function expression to the end of its last argument. A binding: its attribute path as written.
   * A position: empty, at the position. The lens shows above the line of `range.start`.
   */
  readonly range: Range;
  /**
   * Identifies the anchor across edits: `call <binding path> <callee> #n` or `binding <path> #n` (paths joined by
   * NUL), where n counts the earlier anchors with the same path and callee. Positions have `position @<offset>`,
   * valid only for the text they were found in.
   */
  readonly key: string;
}

/** What the syntactic pass guesses a lens builds, before Nix has answered. */
export interface LensGuess {
  /** The binding's last key, else the call's `pname`, else its `name`. */
  readonly name?: string;
  /** `['packages', 'x86_64-linux', 'hello']` for a binding under `packages.<system>` in flake.nix, when the system is written. */
  readonly attrPath?: readonly string[];
  /** The output lives under `packages` in flake.nix (so `.#<name>` builds it on the current system). */
  readonly isPackage: boolean;
}

export interface SyntacticLens extends LensAnchor {
  readonly guess: LensGuess;
}

export interface AnchorOptions {
  /** The file is a flake.nix: bindings under `packages.<system>` get lenses too. */
  readonly isFlakeNix?: boolean;
  /** Builder names (default: the scanner's `DEFAULT_BUILDERS`). */
  readonly builders?: readonly string[];
}

/** The anchors of one source, with what the semantic pass needs to find them again. */
export interface SourceAnchors {
  readonly src: NixSource;
  readonly calls: readonly DerivationCall[];
  /** `calls[i]`'s key. */
  readonly callKeys: readonly string[];
  /** The call whose value-binding is binding `i` (by `Binding.index`). */
  readonly callByBinding: ReadonlyMap<number, number>;
}

/** An attribute path as one string, unambiguously (Nix names cannot contain NUL). */
function pathText(path: readonly string[]): string {
  return path.join('\0');
}

/** The key of the n-th binding (from 0, in text order) with this full path. */
export function formatBindingKey(path: readonly string[], n: number): string {
  return `binding ${pathText(path)} #${n}`;
}

/** Key of a call. */
function callKeyBase(call: DerivationCall): string {
  return `call ${call.binding ? pathText(call.binding.path) : ''} ${call.callee}`;
}

/** Numbers equal bases in text order: `base #0`, `base #1`, … */
function numbered(bases: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return bases.map((b) => {
    const n = seen.get(b) ?? 0;
    seen.set(b, n + 1);
    return `${b} #${n}`;
  });
}

/** Finds the builder calls of a source and keys them. */
export function sourceAnchors(input: SourceInput, builders: readonly string[] = DEFAULT_BUILDERS): SourceAnchors {
  const src = sourceOf(input);
  const calls = findDerivationCalls(src, builders);
  const callKeys = numbered(calls.map(callKeyBase));
  const callByBinding = new Map<number, number>();
  calls.forEach((c, i) => {
    if (c.binding && !callByBinding.has(c.binding.binding.index)) callByBinding.set(c.binding.binding.index, i);
  });
  return { src, calls, callKeys, callByBinding };
}

/**
 * Per scan: the bindings (indices, in text order) by the `nameHash` of their last key, to number equal paths without
 * computing every path (the few with the same hash have their paths compared).
 */
const byLastKey = new WeakMap<NixSource, Map<number, number[]>>();

function lastKeyName(b: Binding): string {
  return b.keys[b.keys.length - 1]?.name ?? '';
}

/** The bindings of `src` by the hash of their last key's name; made once per scan. */
function lastKeyIndex(src: NixSource): Map<number, number[]> {
  let index = byLastKey.get(src);
  if (!index) {
    index = new Map();
    // From the rows of the scan when there are, without making every binding's object, keys or names.
    const store = storeOf(src);
    const count = store ? store.bindingCount : src.bindings.length;
    for (let i = 0; i < count; i++) {
      const hash = store ? store.lastKeyHash(i) : nameHash(lastKeyName(src.bindings[i]!));
      const list = index.get(hash);
      if (list) list.push(i);
      else index.set(hash, [i]);
    }
    byLastKey.set(src, index);
  }
  return index;
}

/**
 * The key of binding `b` of `src`: `binding <path> #n`, n counting the earlier bindings with the same full path.
 * Only the bindings whose last key has the same name (hash) have their paths compared.
 */
export function bindingKey(src: NixSource, b: Binding): string {
  const path = pathText(b.path);
  let n = 0;
  for (const i of lastKeyIndex(src).get(nameHash(lastKeyName(b))) ?? []) {
    if (i >= b.index) break;
    const x = bindingOf(src, i);
    if (x.path.length === b.path.length && pathText(x.path) === path) n++;
  }
  return formatBindingKey(b.path, n);
}

/**
 * The binding of `src` whose key (`bindingKey`) is `key`, or undefined. Only the bindings whose last key could end
 * the key's path have their paths compared, so finding one costs what numbering it did, not a pass over the file.
 */
export function bindingByKey(src: NixSource, key: string): Binding | undefined {
  const PREFIX = 'binding ';
  const hash = key.lastIndexOf(' #');
  if (!key.startsWith(PREFIX) || hash < PREFIX.length) return undefined;
  const nText = key.slice(hash + 2);
  if (!/^(?:0|[1-9]\d*)$/.test(nText)) return undefined;
  const n = Number(nText);
  const path = key.slice(PREFIX.length, hash);
  // The last name follows the path's last NUL (were there a NUL inside a name, an earlier one: each is tried).
  const index = lastKeyIndex(src);
  const matches: number[] = [];
  for (let end = path.length; ;) {
    const cut = end > 0 ? path.lastIndexOf('\0', end - 1) : -1;
    for (const i of index.get(nameHash(path, cut + 1)) ?? []) if (pathText(bindingOf(src, i).path) === path) matches.push(i);
    if (cut < 0) break;
    end = cut;
  }
  // Two of the names tried may share a hash, and so a binding.
  const found = [...new Set(matches)].sort((a, b) => a - b);
  const i = found[n];
  return i !== undefined ? bindingOf(src, i) : undefined;
}

/** The anchor of call `i` of `a` (an index into `a.calls`). */
export function callAnchor(a: SourceAnchors, i: number): LensAnchor {
  const c = a.calls[i]!;
  return { kind: 'call', range: { start: c.range.start, end: c.range.end }, key: a.callKeys[i]! };
}

export function bindingAnchor(src: NixSource, b: Binding): LensAnchor {
  return { kind: 'binding', range: { start: b.keyRange.start, end: b.keyRange.end }, key: bindingKey(src, b) };
}

export function positionAnchor(offset: number): LensAnchor {
  return { kind: 'position', range: { start: offset, end: offset }, key: `position @${offset}` };
}

/**
 * The ranges of the lenses a source gets before evaluation, in text order: every builder call, and in flake.nix
 * every binding under `packages.<system>` whose value is not such a call. A builder name in a string or comment is
 * not a call. This is what `provideCodeLenses` needs; give it the cached scan to skip rescanning.
 */
export function lensRanges(input: SourceInput, opts: AnchorOptions = {}): LensAnchor[] {
  return syntacticLenses(input, opts);
}

/** The scan each list `syntacticLenses` returned was found in (for `reconcile`, which may need it again). */
const lensScans = new WeakMap<readonly LensAnchor[], NixSource>();

/** The scan a list of lenses from `syntacticLenses` (or `lensRanges`) was found in. */
export function scanOfLenses(lenses: readonly LensAnchor[]): NixSource | undefined {
  return lensScans.get(lenses);
}

/** `lensRanges` with a guess of what each lens builds. */
export function syntacticLenses(input: SourceInput, opts: AnchorOptions = {}): SyntacticLens[] {
  const a = sourceAnchors(input, opts.builders ?? DEFAULT_BUILDERS);
  const out: SyntacticLens[] = [];
  const pkgs = opts.isFlakeNix ? packageBindings(a.src) : [];
  const pkgByBinding = new Map<number, PackageBinding>();
  for (const p of pkgs) pkgByBinding.set(p.binding.index, p);
  for (const [i, c] of a.calls.entries()) {
    const pkg = c.binding ? pkgByBinding.get(c.binding.binding.index) : undefined;
    const bound = c.binding?.path[c.binding.path.length - 1];
    out.push({
      kind: 'call',
      range: { start: c.range.start, end: c.range.end },
      key: a.callKeys[i]!, // one key per call
      guess: pkg ? packageGuess(pkg) : { name: bound ?? c.pname ?? c.name, isPackage: false },
    });
  }
  if (pkgs.length > 0) {
    for (const p of pkgs) {
      if (a.callByBinding.has(p.binding.index)) continue;
      out.push({
        kind: 'binding',
        range: { start: p.keyRange.start, end: p.keyRange.end },
        key: bindingKey(a.src, p.binding),
        guess: packageGuess(p),
      });
    }
    out.sort((x, y) => x.range.start - y.range.start);
  }
  lensScans.set(out, a.src);
  return out;
}

function packageGuess(p: PackageBinding): LensGuess {
  return { name: p.name, ...(p.system !== undefined ? { attrPath: ['packages', p.system, p.name] } : {}), isPackage: true };
}
