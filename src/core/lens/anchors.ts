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
import { storeOf } from '../source/store';

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

/** Per scan: the bindings (indices) by the name of their last key, to number equal paths without computing every path. */
const byLastKey = new WeakMap<NixSource, Map<string, number[]>>();

function lastKeyName(b: Binding): string {
  return b.keys[b.keys.length - 1]?.name ?? '';
}

/**
 * The key of binding `b` of `src`: `binding <path> #n`, n counting the earlier bindings with the same full path.
 * Only the bindings whose last key has the same name have their paths compared.
 */
export function bindingKey(src: NixSource, b: Binding): string {
  let index = byLastKey.get(src);
  const store = storeOf(src);
  if (!index) {
    index = new Map();
    // From the rows of the scan when there are, without making every binding's object and keys.
    const count = store ? store.bindingCount : src.bindings.length;
    for (let i = 0; i < count; i++) {
      const name = store ? store.lastKeyName(i) : lastKeyName(src.bindings[i]);
      const list = index.get(name);
      if (list) list.push(i);
      else index.set(name, [i]);
    }
    byLastKey.set(src, index);
  }
  const path = pathText(b.path);
  let n = 0;
  for (const i of index.get(lastKeyName(b)) ?? []) {
    if (i >= b.index) break;
    const x = store ? store.binding(i) : src.bindings[i];
    if (x.path.length === b.path.length && pathText(x.path) === path) n++;
  }
  return formatBindingKey(b.path, n);
}

export function callAnchor(a: SourceAnchors, i: number): LensAnchor {
  const c = a.calls[i];
  return { kind: 'call', range: { start: c.range.start, end: c.range.end }, key: a.callKeys[i] };
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

/** `lensRanges` with a guess of what each lens builds. */
export function syntacticLenses(input: SourceInput, opts: AnchorOptions = {}): SyntacticLens[] {
  const a = sourceAnchors(input, opts.builders ?? DEFAULT_BUILDERS);
  const out: SyntacticLens[] = [];
  const pkgs = opts.isFlakeNix ? packageBindings(a.src) : [];
  const pkgByBinding = new Map<number, PackageBinding>();
  for (const p of pkgs) pkgByBinding.set(p.binding.index, p);
  for (let i = 0; i < a.calls.length; i++) {
    const c = a.calls[i];
    const pkg = c.binding ? pkgByBinding.get(c.binding.binding.index) : undefined;
    const bound = c.binding?.path[c.binding.path.length - 1];
    out.push({
      kind: 'call',
      range: { start: c.range.start, end: c.range.end },
      key: a.callKeys[i],
      guess: pkg ? packageGuess(pkg) : { name: bound ?? c.pname ?? c.name, isPackage: false },
    });
  }
  if (pkgs.length > 0) {
    for (const p of pkgs) {
      if (a.callByBinding.has(p.binding.index)) continue;
      out.push({ kind: 'binding', range: { start: p.keyRange.start, end: p.keyRange.end }, key: bindingKey(a.src, p.binding), guess: packageGuess(p) });
    }
    out.sort((x, y) => x.range.start - y.range.start);
  }
  return out;
}

function packageGuess(p: PackageBinding): LensGuess {
  return { name: p.name, ...(p.system !== undefined ? { attrPath: ['packages', p.system, p.name] } : {}), isPackage: true };
}
