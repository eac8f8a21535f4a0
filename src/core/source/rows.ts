// The compact storage of a scan (internal to src/core/source; not exported from its index). No `vscode` import.
//
// The structural pass records bindings and sets as rows of integers in two typed arrays, not as objects: a
// 20,000-line file has tens of thousands of bindings, the CodeLens path reads a few hundred of them, and objects
// made per binding and per key were most of the scan's garbage. The `Binding` and `AttrSet` objects of the public
// API are made from the rows on first use, one per row, so that they keep their identity; their keys, paths and
// ranges are made when they are read.

import type { AttrKey, AttrSet, AttrSetKind, Binding, FunctionHeader, NixSource, SyntaxIndex } from './syntax';
import { staticString } from './strings';
import { LineIndex, type Range } from './offsets';
import { TokenKind, tokenEnd, tokenStart, type Problem, type TokenStream } from './tokens';

// Binding rows: B_STRIDE integers per binding.
/** Token index of the first key. */
export const B_KEY_TOK = 0;
/** Number of keys (segments of the attribute path as written). */
export const B_KEY_COUNT = 1;
/** Offset just past the last key. */
export const B_KEY_END = 2;
/** Index of the set holding the binding. */
export const B_SET = 3;
/** `F_*` bits. */
export const B_FLAGS = 4;
/** For `inherit (x) a;`: the token index of the `(`; else -1. */
export const B_FROM = 5;
/** `Binding.valueHead`. */
export const B_HEAD = 6;
export const B_VALUE_START = 7;
export const B_VALUE_END = 8;
/** `Binding.range`. */
export const B_START = 9;
export const B_END = 10;
/** The next binding of the same set, or -1. */
export const B_NEXT = 11;
export const B_STRIDE = 12;

export const F_IN_LET = 1;
export const F_INHERITED = 2;
export const F_TERMINATED = 4;

// Set rows: S_STRIDE integers per set.
/** `SK_*`. */
export const S_KIND = 0;
export const S_OPEN = 1;
/** `rec`/`let` when one comes before the `{`, else the `{`. */
export const S_START_TOK = 2;
/** The parent binding's index, or -1. */
export const S_PARENT = 3;
export const S_START = 4;
export const S_END = 5;
/** `SF_*` bits. */
export const S_FLAGS = 6;
/** The first and last binding of the set, or -1. */
export const S_FIRST = 7;
export const S_LAST = 8;
export const S_STRIDE = 9;

export const SK_SET = 0;
export const SK_REC = 1;
export const SK_LET = 2;
const SET_KINDS: readonly AttrSetKind[] = ['set', 'rec', 'let'];

export const SF_DIRECT = 1;
export const SF_LAMBDA_BODY = 2;
export const SF_CLOSED = 4;

/** The rows of one scan, and the objects made from them so far. */
export class ScanStore {
  private bindingObjects: (BindingView | undefined)[] | undefined;
  private setObjects: (SetView | undefined)[] | undefined;
  /** `inheritFrom` ranges by the token of their `(`: the names of one `inherit (x)` share it. */
  private fromRanges: Map<number, Range> | undefined;

  constructor(
    readonly tokens: TokenStream,
    readonly syntax: SyntaxIndex,
    /** Binding rows. */
    readonly b: Int32Array,
    readonly bindingCount: number,
    /** Set rows. */
    readonly s: Int32Array,
    readonly setCount: number,
  ) {}

  binding(i: number): Binding {
    const objects = (this.bindingObjects ??= new Array<BindingView | undefined>(this.bindingCount));
    return (objects[i] ??= new BindingView(this, i));
  }

  set(i: number): AttrSet {
    const objects = (this.setObjects ??= new Array<SetView | undefined>(this.setCount));
    return (objects[i] ??= new SetView(this, i));
  }

  /** Field `f` (a `B_*`) of binding `i`: every binding below `bindingCount` has its whole row. */
  bindingField(i: number, f: number): number {
    return this.b[i * B_STRIDE + f]!;
  }

  /** Field `f` (an `S_*`) of set `i`: every set below `setCount` has its whole row. */
  setField(i: number, f: number): number {
    return this.s[i * S_STRIDE + f]!;
  }

  allBindings(): Binding[] {
    const out = new Array<Binding>(this.bindingCount);
    for (let i = 0; i < this.bindingCount; i++) out[i] = this.binding(i);
    return out;
  }

  allSets(): AttrSet[] {
    const out = new Array<AttrSet>(this.setCount);
    for (let i = 0; i < this.setCount; i++) out[i] = this.set(i);
    return out;
  }

  /** The bindings of set `i`, in text order. */
  setBindings(i: number): Binding[] {
    const out: Binding[] = [];
    for (let b = this.setField(i, S_FIRST); b >= 0; b = this.bindingField(b, B_NEXT)) out.push(this.binding(b));
    return out;
  }

  /** The keys of binding `i`, made from its tokens. */
  keys(i: number): AttrKey[] {
    const { tokens } = this;
    const { kinds, text } = tokens;
    const { groupEnd } = this.syntax;
    const count = this.bindingField(i, B_KEY_COUNT);
    const out = new Array<AttrKey>(count);
    let u = this.bindingField(i, B_KEY_TOK);
    for (let j = 0; j < count; j++) {
      if (j > 0) u++; // the `.`
      const k = kinds[u];
      const start = tokenStart(tokens, u);
      if (k === TokenKind.Ident || k === TokenKind.Or) {
        const end = tokenEnd(tokens, u);
        out[j] = { name: text.slice(start, end), kind: 'ident', start, end };
        u++;
      } else {
        const after = groupEnd[u] ?? 0;
        const end = tokenEnd(tokens, after - 1);
        const value = k === TokenKind.StrOpen ? staticString(this.tokens, u) : undefined;
        out[j] =
          value === undefined ? { name: text.slice(start, end), kind: 'dynamic', start, end } : { name: value, kind: 'string', start, end };
        u = after;
      }
    }
    return out;
  }

  /** The token index of key `j` of binding `i`. */
  private keyToken(i: number, j: number): number {
    const { kinds } = this.tokens;
    const { groupEnd } = this.syntax;
    let u = this.bindingField(i, B_KEY_TOK);
    for (let k = 0; k < j; k++) {
      const kind = kinds[u];
      u = (kind === TokenKind.Ident || kind === TokenKind.Or ? u + 1 : (groupEnd[u] ?? 0)) + 1;
    }
    return u;
  }

  /** `AttrKey.name` of the key at token `u`. */
  private keyName(u: number): string {
    const { tokens } = this;
    const k = tokens.kinds[u];
    if (k === TokenKind.Ident || k === TokenKind.Or) return tokens.text.slice(tokenStart(tokens, u), tokenEnd(tokens, u));
    const value = k === TokenKind.StrOpen ? staticString(tokens, u) : undefined;
    return value ?? tokens.text.slice(tokenStart(tokens, u), tokenEnd(tokens, (this.syntax.groupEnd[u] ?? 0) - 1));
  }

  /** The name of the last key of binding `i` (`keys[keys.length - 1].name`), without making the keys. */
  lastKeyName(i: number): string {
    return this.keyName(this.keyToken(i, this.bindingField(i, B_KEY_COUNT) - 1));
  }

  /** `nameHash` of the last key of binding `i`, from the text itself for an identifier (no string is made). */
  lastKeyHash(i: number): number {
    const u = this.keyToken(i, this.bindingField(i, B_KEY_COUNT) - 1);
    const { tokens } = this;
    const k = tokens.kinds[u];
    if (k === TokenKind.Ident || k === TokenKind.Or) return nameHash(tokens.text, tokenStart(tokens, u), tokenEnd(tokens, u));
    return nameHash(this.keyName(u));
  }

  /** True when the first key of binding `i` is static (not `dynamic`) and named `name`. */
  firstKeyIs(i: number, name: string): boolean {
    const { tokens } = this;
    const u = this.bindingField(i, B_KEY_TOK);
    const k = tokens.kinds[u];
    if (k === TokenKind.Ident || k === TokenKind.Or) {
      const start = tokenStart(tokens, u);
      return tokenEnd(tokens, u) - start === name.length && tokens.text.startsWith(name, start);
    }
    return k === TokenKind.StrOpen && staticString(this.tokens, u) === name;
  }

  /** The binding whose keys start binding `i`'s `pathKeys` (itself unless its set is directly a binding's value). */
  pathHead(i: number): number {
    for (;;) {
      const set = this.bindingField(i, B_SET);
      const parent = this.setField(set, S_PARENT);
      if ((this.setField(set, S_FLAGS) & SF_DIRECT) === 0 || parent < 0) return i;
      i = parent;
    }
  }

  /** The index of `pathRoot(binding i)`. */
  rootSet(i: number): number {
    let set = this.bindingField(i, B_SET);
    for (;;) {
      const parent = this.setField(set, S_PARENT);
      if ((this.setField(set, S_FLAGS) & SF_DIRECT) === 0 || parent < 0) return set;
      set = this.bindingField(parent, B_SET);
    }
  }

  inheritFrom(i: number): Range | undefined {
    const open = this.bindingField(i, B_FROM);
    if (open < 0) return undefined;
    const ranges = (this.fromRanges ??= new Map());
    let r = ranges.get(open);
    if (r === undefined) {
      r = { start: tokenStart(this.tokens, open), end: tokenEnd(this.tokens, (this.syntax.groupEnd[open] ?? 0) - 1) };
      ranges.set(open, r);
    }
    return r;
  }
}

/**
 * A hash of a name (FNV-1a over its UTF-16 code units, cut to 30 bits so that it stays a small integer), the same for
 * `text.slice(start, end)` as for the text: for indices that compare names without making strings of them.
 */
export function nameHash(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/** A binding, read from its row. */
class BindingView implements Binding {
  private keysCache: readonly AttrKey[] | undefined;
  private pathKeysCache: readonly AttrKey[] | undefined;
  private pathCache: readonly string[] | undefined;

  constructor(
    private readonly store: ScanStore,
    readonly index: number,
  ) {}

  private field(f: number): number {
    return this.store.bindingField(this.index, f);
  }

  get keys(): readonly AttrKey[] {
    return (this.keysCache ??= this.store.keys(this.index));
  }

  get pathKeys(): readonly AttrKey[] {
    if (this.pathKeysCache === undefined) {
      const set = this.set;
      const parent = set.direct ? set.parent : undefined;
      this.pathKeysCache = parent ? parent.pathKeys.concat(this.keys) : this.keys;
    }
    return this.pathKeysCache;
  }

  get path(): readonly string[] {
    return (this.pathCache ??= this.pathKeys.map((k) => k.name));
  }

  get keyRange(): Range {
    return { start: tokenStart(this.store.tokens, this.field(B_KEY_TOK)), end: this.field(B_KEY_END) };
  }

  get valueRange(): Range {
    return this.inheritFrom ?? { start: this.field(B_VALUE_START), end: this.field(B_VALUE_END) };
  }

  get range(): Range {
    return { start: this.field(B_START), end: this.field(B_END) };
  }

  get set(): AttrSet {
    return this.store.set(this.field(B_SET));
  }

  get inLet(): boolean {
    return (this.field(B_FLAGS) & F_IN_LET) !== 0;
  }

  get inherited(): boolean {
    return (this.field(B_FLAGS) & F_INHERITED) !== 0;
  }

  get inheritFrom(): Range | undefined {
    return this.store.inheritFrom(this.index);
  }

  get terminated(): boolean {
    return (this.field(B_FLAGS) & F_TERMINATED) !== 0;
  }

  get valueHead(): number {
    return this.field(B_HEAD);
  }
}

/** A set, read from its row. */
class SetView implements AttrSet {
  private rangeCache: Range | undefined;
  private bindingsCache: readonly Binding[] | undefined;

  constructor(
    private readonly store: ScanStore,
    readonly index: number,
  ) {}

  private field(f: number): number {
    return this.store.setField(this.index, f);
  }

  get kind(): AttrSetKind {
    return SET_KINDS[this.field(S_KIND)]!; // an SK_*
  }

  get range(): Range {
    return (this.rangeCache ??= { start: this.field(S_START), end: this.field(S_END) });
  }

  get openToken(): number {
    return this.field(S_OPEN);
  }

  get bindings(): readonly Binding[] {
    return (this.bindingsCache ??= this.store.setBindings(this.index));
  }

  get parent(): Binding | undefined {
    const p = this.field(S_PARENT);
    return p >= 0 ? this.store.binding(p) : undefined;
  }

  get direct(): boolean {
    return (this.field(S_FLAGS) & SF_DIRECT) !== 0;
  }

  get lambdaBody(): boolean {
    return (this.field(S_FLAGS) & SF_LAMBDA_BODY) !== 0;
  }

  get closed(): boolean {
    return (this.field(S_FLAGS) & SF_CLOSED) !== 0;
  }
}

/** The result of `scanNix`: sets and bindings are made from the store when first asked for. */
export class ScannedSource implements NixSource {
  private setsCache: readonly AttrSet[] | undefined;
  private bindingsCache: readonly Binding[] | undefined;
  private lineIndex: LineIndex | undefined;

  constructor(
    readonly text: string,
    readonly tokens: TokenStream,
    readonly functions: readonly FunctionHeader[],
    readonly problems: readonly Problem[],
    readonly head: number,
    readonly syntax: SyntaxIndex,
    readonly store: ScanStore,
  ) {}

  get sets(): readonly AttrSet[] {
    return (this.setsCache ??= this.store.allSets());
  }

  get bindings(): readonly Binding[] {
    return (this.bindingsCache ??= this.store.allBindings());
  }

  /** The line index of `text`, built on first use. */
  readonly lines = (): LineIndex => (this.lineIndex ??= new LineIndex(this.text));
}

/** The store behind a source made by `scanNix`, for queries that read rows instead of objects. */
export function storeOf(src: NixSource): ScanStore | undefined {
  return src instanceof ScannedSource ? src.store : undefined;
}

/** Binding `i` of `src` (without making every binding's object). */
export function bindingOf(src: NixSource, i: number): Binding {
  const store = storeOf(src);
  return store ? store.binding(i) : src.bindings[i]!;
}

/** Set `i` of `src` (without making every set's object). */
export function setOf(src: NixSource, i: number): AttrSet {
  const store = storeOf(src);
  return store ? store.set(i) : src.sets[i]!;
}
