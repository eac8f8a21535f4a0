// The structural pass of the Nix source scanner: attribute sets, `let` blocks and bindings with their full
// attribute paths, found over the tokens of `tokens.ts`. No `vscode` import.
//
// This is not a full Nix parser: expressions are walked, not built into a tree. What it records is what editor
// features need — every binding (`a.b.c = …;`, `inherit (x) a b;`) with its key range, value range and the set that
// holds it; every set with the binding it belongs to; function headers; and, per token, a little index (group ends,
// heads of values) that the queries use to skip over expressions in O(1). Bindings and sets are kept as rows of
// integers (store.ts), and their objects made when first asked for: a scan allocates next to nothing per binding.
//
// Resilience: a missing `;` ends a value where the next `attr.path =` begins; a missing `)`/`]`/`}` ends its group
// where an enclosing group's closer or terminator comes; and when a `{` is left unclosed at the end of the file, the
// text is parsed a second time with line indentation as a hint for where the `}` is missing, and that parse is kept
// unless it has more problems. Nothing throws; nesting deeper than MAX_DEPTH is skipped flat.

import {
  B_END,
  B_FLAGS,
  B_FROM,
  B_HEAD,
  B_KEY_COUNT,
  B_KEY_END,
  B_KEY_TOK,
  B_NEXT,
  B_SET,
  B_START,
  B_STRIDE,
  B_VALUE_END,
  B_VALUE_START,
  F_IN_LET,
  F_INHERITED,
  F_TERMINATED,
  S_END,
  S_FIRST,
  S_FLAGS,
  S_KIND,
  S_LAST,
  S_OPEN,
  S_PARENT,
  S_START,
  S_START_TOK,
  S_STRIDE,
  ScannedSource,
  ScanStore,
  setOf,
  SF_CLOSED,
  SF_DIRECT,
  SF_LAMBDA_BODY,
  SK_LET,
  SK_REC,
  SK_SET,
} from './rows';
import { TokenKind, tokenize, type Problem, type TokenStream } from './tokens';
import { columnAt, type LineIndex, type Range } from './offsets';

export { staticString, unescapeIndString, unescapeString } from './strings';

/** How one segment of an attribute path is written. */
export type AttrKeyKind = 'ident' | 'string' | 'dynamic';

/** One segment of an attribute path: `a`, `"foo.bar"` (one segment), or `${expr}` (dynamic). It is its own range. */
export interface AttrKey extends Range {
  /** The name: the identifier, the string's value, or for a dynamic key its source text (`${system}`). */
  readonly name: string;
  readonly kind: AttrKeyKind;
}

/** What holds a list of bindings. */
export type AttrSetKind = 'set' | 'rec' | 'let';

/** An attribute set `{ … }`, `rec { … }`, or the bindings of a `let … in`. */
export interface AttrSet {
  /** Index in `NixSource.sets`. */
  readonly index: number;
  readonly kind: AttrSetKind;
  /** From `rec`/`{` to `}` inclusive, or from `let` to `in` inclusive (to where parsing stopped when unclosed). */
  readonly range: Range;
  /** Token index of `{` (or `let`). */
  readonly openToken: number;
  /** The bindings written directly in this set, in text order. */
  readonly bindings: readonly Binding[];
  /** The innermost binding whose value contains this set; undefined at the top level. */
  readonly parent: Binding | undefined;
  /**
   * True when the set is what `parent`'s value evaluates to, looking through function headers, `let … in`,
   * `with`, `assert` and parentheses: `a = { … }`, `outputs = { self }: let … in { … }`. False for a set passed to a
   * function (`mkDerivation { … }`) or inside a list.
   */
  readonly direct: boolean;
  /** The set is what a function returns: it follows a header (`system: { … }`, `{ pkgs, ... }: let … in { … }`). */
  readonly lambdaBody: boolean;
  /** The closing `}` (or `in`) was found. */
  readonly closed: boolean;
}

/** One binding: `a.b.c = value;`, or one name of `inherit (x) a b;`. */
export interface Binding {
  /** Index in `NixSource.bindings`; bindings are listed in text order of their keys. */
  readonly index: number;
  /** The attribute path as written in this binding. */
  readonly keys: readonly AttrKey[];
  /**
   * The full attribute path: the path of the binding whose value this set directly is (see `AttrSet.direct`),
   * then `keys`. `a.b.c = …;` and `a = { b = { c = …; }; };` both give `a.b.c`.
   */
  readonly pathKeys: readonly AttrKey[];
  /** `pathKeys` names. */
  readonly path: readonly string[];
  /** The attribute path as written, from its first to its last key. */
  readonly keyRange: Range;
  /** The value, from after `=` to before `;` (trimmed to its tokens); for `inherit (x) a`, the `(x)`, or `a`. */
  readonly valueRange: Range;
  /** From the first key to the `;` inclusive. */
  readonly range: Range;
  /** The set or `let` block holding the binding. */
  readonly set: AttrSet;
  /** Declared in a `let` block, or nested in a set that is directly the value of such a binding. */
  readonly inLet: boolean;
  /** Made by `inherit`. */
  readonly inherited: boolean;
  /** For `inherit (x) a;`, the range of `(x)`. */
  readonly inheritFrom: Range | undefined;
  /** Ends with its `;`. */
  readonly terminated: boolean;
  /**
   * Token index of the value's head: its first token after function headers, `let … in`, `with …;`, `assert …;` and
   * opening parentheses. -1 when there is no value.
   */
  readonly valueHead: number;
}

/** A function header: `pkgs:` or `{ config, lib, ... }:` (with `args@` or `@args`). */
export interface FunctionHeader {
  readonly kind: 'ident' | 'pattern';
  /** From the first token to the `:` inclusive. */
  readonly range: Range;
  /** The parameter (`ident`) or the formals (`pattern`), in order. */
  readonly formals: readonly string[];
  readonly ellipsis: boolean;
  /** The `@` name of a pattern. */
  readonly alias: string | undefined;
}

/** What a token opens, in `SyntaxIndex.groupKind`. */
export const enum GroupKind {
  None = 0,
  Set,
  Pattern,
  Paren,
  List,
  String,
  Interp,
  /** `let … in`: the group ends after `in`. */
  Let,
  /** `with e;` and `assert e;`: the group ends after the `;`. */
  Statement,
}

/**
 * Per-token tables filled by the structural pass, for queries that walk tokens.
 * `groupEnd[t]` for a token that opens a group (see `groupKind`) is the index just past the group (past its closer
 * when there is one); 0 elsewhere.
 */
export interface SyntaxIndex {
  readonly groupKind: Uint8Array;
  readonly groupEnd: Int32Array;
  /** For `(`: the token index of the head of the expression inside (see `Binding.valueHead`), or -1. */
  readonly parenHead: Int32Array;
  /** For `{` and `let` tokens that open an `AttrSet`: its index + 1; 0 elsewhere. */
  readonly setAt: Int32Array;
  /** For a token that is the head of a binding's value: that binding's index + 1; 0 elsewhere. */
  readonly bindingAt: Int32Array;
}

/** The result of scanning one Nix text. */
export interface NixSource {
  readonly text: string;
  readonly tokens: TokenStream;
  readonly sets: readonly AttrSet[];
  readonly bindings: readonly Binding[];
  readonly functions: readonly FunctionHeader[];
  /** Lexer and parser problems, in text order. */
  readonly problems: readonly Problem[];
  /** Token index of the head of the whole file's expression (see `Binding.valueHead`), or -1 for an empty file. */
  readonly head: number;
  readonly syntax: SyntaxIndex;
  /** The line index of `text`, built on first use. */
  lines(): LineIndex;
}

/** A text to query, or the result of scanning it (to scan once for several queries). */
export type SourceInput = string | NixSource;

/** Scans `input` unless it is already a scan. */
export function sourceOf(input: SourceInput): NixSource {
  return typeof input === 'string' ? scanNix(input) : input;
}

/** Tokenizes and scans a Nix text. Never throws. */
export function scanNix(text: string): NixSource {
  const tokens = tokenize(text);
  let result = new Parser(tokens, false).parse();
  if (result.unclosedBrace) {
    const retry = new Parser(tokens, true).parse();
    if (retry.problems.length <= result.problems.length) result = retry;
  }
  const problems = [...tokens.problems, ...result.problems].sort((a, b) => a.start - b.start);
  return new ScannedSource(text, tokens, result.functions, problems, result.head, result.syntax, result.store);
}

/** The set at whose root `binding`'s full path starts (following `direct` sets up). */
export function pathRoot(binding: Binding): AttrSet {
  let set = binding.set;
  while (set.direct && set.parent) set = set.parent.set;
  return set;
}

/** The set opened by the token at `t` (`{`, `rec`, `let`), if any. */
export function setAtToken(source: NixSource, t: number): AttrSet | undefined {
  if (t < 0 || t >= source.tokens.count) return undefined;
  const at = source.tokens.kinds[t] === TokenKind.Rec ? t + 1 : t;
  const i = source.syntax.setAt[at] ?? 0; // none past the last token
  return i > 0 ? setOf(source, i - 1) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/** How a binding list ended. */
const enum ListEnd {
  /** At its `}` or `in`. */
  Closed,
  /** Before a line indented like the line that opened it (second pass only; the `}` is taken to be missing). */
  Dedented,
  /** At an outer closer or the end of the text. */
  Open,
}

/** Nesting deeper than this is skipped without recursion (the call stack is finite). */
const MAX_DEPTH = 200;

/** The kind of a set, as stored. */
type StoredSetKind = typeof SK_SET | typeof SK_REC | typeof SK_LET;

interface ParseResult {
  store: ScanStore;
  functions: FunctionHeader[];
  problems: Problem[];
  head: number;
  syntax: SyntaxIndex;
  unclosedBrace: boolean;
}

class Parser {
  private i = 0;
  private readonly n: number;
  private readonly text: string;
  private readonly kinds: Uint8Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly pairs: Int32Array;

  /** Binding rows (see store.ts), `bindingCount` of them. */
  private b: Int32Array;
  private bindingCount = 0;
  /** Set rows, `setCount` of them. */
  private s: Int32Array;
  private setCount = 0;
  /** The bindings of the `inherit`s being parsed (a stack: a `${…}` name can hold another `inherit`). */
  private readonly inheritNames: number[] = [];
  /** Offset just past the last key read by `attrPath`. */
  private keyEnd = 0;
  private readonly functions: FunctionHeader[] = [];
  private readonly problems: Problem[] = [];
  private readonly groupKind: Uint8Array;
  private readonly groupEnd: Int32Array;
  private readonly parenHead: Int32Array;
  private readonly setAt: Int32Array;
  private readonly bindingAt: Int32Array;
  private unclosedBrace = false;

  // How many enclosing groups wait for each kind of closer or terminator; a closer that nobody waits for is stray.
  private openBrace = 0;
  private openParen = 0;
  private openBracket = 0;
  private openInterp = 0;
  private openLet = 0;
  private openSemi = 0;
  private openComma = 0;
  /** Enclosing binding lists: `attr =` inside an expression then means a `;` is missing. */
  private bindingLists = 0;
  private depth = 0;
  /** The binding whose value is being parsed, or -1. */
  private current = -1;

  constructor(
    private readonly tokens: TokenStream,
    /** Second pass: a binding indented no deeper than the line that opened its set closes that set. */
    private readonly indentRecovery: boolean,
  ) {
    this.n = tokens.count;
    this.text = tokens.text;
    this.kinds = tokens.kinds;
    this.starts = tokens.starts;
    this.ends = tokens.ends;
    this.pairs = tokens.pairs;
    // One buffer for the per-token tables.
    const n = this.n;
    const buffer = new ArrayBuffer(n * 17);
    this.groupEnd = new Int32Array(buffer, 0, n);
    this.parenHead = new Int32Array(buffer, n * 4, n).fill(-1);
    this.setAt = new Int32Array(buffer, n * 8, n);
    this.bindingAt = new Int32Array(buffer, n * 12, n);
    this.groupKind = new Uint8Array(buffer, n * 16, n);
    // Room for one binding per 8 tokens and one set per 32 (more than real code has); the rows grow when needed.
    this.b = new Int32Array(((n >> 3) + 16) * B_STRIDE);
    this.s = new Int32Array(((n >> 5) + 16) * S_STRIDE);
  }

  parse(): ParseResult {
    const head = this.expr();
    this.finish();
    const syntax: SyntaxIndex = {
      groupKind: this.groupKind,
      groupEnd: this.groupEnd,
      parenHead: this.parenHead,
      setAt: this.setAt,
      bindingAt: this.bindingAt,
    };
    return {
      store: new ScanStore(this.tokens, syntax, this.b, this.bindingCount, this.s, this.setCount),
      functions: this.functions,
      problems: this.problems,
      head,
      syntax,
      unclosedBrace: this.unclosedBrace,
    };
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  private kind(t: number): TokenKind {
    return t < this.n ? (this.kinds[t] as TokenKind) : TokenKind.Unknown;
  }

  /** The start offset of token `t`; the end of the text past the last token. */
  private startOf(t: number): number {
    return this.starts[t] ?? this.text.length;
  }

  /** The end offset of token `t`; the end of the text past the last token. */
  private endOf(t: number): number {
    return this.ends[t] ?? this.text.length;
  }

  private problemAt(t: number, message: string): void {
    this.problems.push({ start: this.startOf(t), end: this.endOf(t), message });
  }

  /** Range of tokens `[from, to)`; empty at the end of token `from - 1` when there are none. */
  private tokenRange(from: number, to: number): Range {
    if (to > from) return { start: this.startOf(from), end: this.endOf(to - 1) };
    const at = from > 0 ? this.endOf(from - 1) : 0;
    return { start: at, end: at };
  }

  /** True when the token at `t` is a closer or terminator that an enclosing group waits for. */
  private closesOuter(t: number): boolean {
    switch (this.kind(t)) {
      case TokenKind.RBrace:
        return this.openBrace > 0;
      case TokenKind.RParen:
        return this.openParen > 0;
      case TokenKind.RBracket:
        return this.openBracket > 0;
      case TokenKind.InterpClose:
        return this.openInterp > 0;
      case TokenKind.In:
        return this.openLet > 0;
      case TokenKind.Semicolon:
        return this.openSemi > 0;
      case TokenKind.Comma:
        return this.openComma > 0;
      default:
        return false;
    }
  }

  /** `attr(.attr)* =` starts at `t` (attr: identifier, `or`, string, `${…}`). */
  private bindingStart(t: number): boolean {
    let j = t;
    for (;;) {
      const k = this.kind(j);
      if (k === TokenKind.Ident || k === TokenKind.Or) j++;
      else if (k === TokenKind.StrOpen || k === TokenKind.InterpOpen) {
        const close = this.pairs[j] ?? -1;
        if (close < 0) return false;
        j = close + 1;
      } else return false;
      if (this.kind(j) === TokenKind.Dot) j++;
      else return this.kind(j) === TokenKind.Assign;
    }
  }

  /** `{` at `t` opens a function's formals rather than a set. */
  private isPattern(t: number): boolean {
    const k1 = this.kind(t + 1);
    if (k1 === TokenKind.RBrace) {
      const k2 = this.kind(t + 2);
      return k2 === TokenKind.Colon || k2 === TokenKind.At;
    }
    if (k1 === TokenKind.Ellipsis) return true;
    if (k1 === TokenKind.Ident || k1 === TokenKind.Or) {
      const k2 = this.kind(t + 2);
      if (k2 === TokenKind.Comma || k2 === TokenKind.Question) return true;
      if (k2 === TokenKind.RBrace) {
        const k3 = this.kind(t + 3);
        return k3 === TokenKind.Colon || k3 === TokenKind.At;
      }
    }
    return false;
  }

  /** Second pass only: the token at `t` starts a line indented no deeper than the line of `open`. */
  private dedented(t: number, open: number): boolean {
    if (!this.indentRecovery || t >= this.n || t === 0) return false;
    const gapStart = this.endOf(t - 1);
    const start = this.startOf(t);
    const gap = this.text.slice(gapStart, start);
    if (!gap.includes('\n') && !gap.includes('\r')) return false;
    // Column of the first token on the line of `open`.
    let first = open;
    while (first > 0) {
      const between = this.text.slice(this.endOf(first - 1), this.startOf(first));
      if (between.includes('\n') || between.includes('\r')) break;
      first--;
    }
    if (this.startOf(first) > this.startOf(open) || first >= t) return false;
    return columnAt(this.text, start) <= columnAt(this.text, this.startOf(first));
  }

  /** Skips a group opened at `t` by counting brackets, without recursion (for too-deep nesting). */
  private skipFlat(t: number): void {
    let level = 0;
    let j = t;
    for (; j < this.n; j++) {
      const k = this.kinds[j];
      if (k === TokenKind.LBrace || k === TokenKind.LParen || k === TokenKind.LBracket || k === TokenKind.InterpOpen) level++;
      else if (k === TokenKind.RBrace || k === TokenKind.RParen || k === TokenKind.RBracket || k === TokenKind.InterpClose) {
        level--;
        if (level <= 0) {
          j++;
          break;
        }
      }
    }
    this.problemAt(t, 'nesting too deep; skipped');
    this.groupEnd[t] = j;
    this.i = j;
  }

  // --- expressions ---------------------------------------------------------------------------------------------

  /**
   * Walks one expression from the current token up to (not including) a closer or terminator that an enclosing
   * group waits for, or the end. Returns the token index of its head (see `Binding.valueHead`), or -1.
   */
  private expr(): number {
    let head = -1;
    let lambda = false;
    walk: while (this.i < this.n) {
      const t = this.i;
      const k = this.kinds[t] as TokenKind;
      switch (k) {
        case TokenKind.Semicolon:
        case TokenKind.Comma:
        case TokenKind.RBrace:
        case TokenKind.RParen:
        case TokenKind.RBracket:
        case TokenKind.InterpClose:
        case TokenKind.In:
          if (this.closesOuter(t)) break walk;
          this.problemAt(t, `unexpected '${this.text.slice(this.startOf(t), this.endOf(t))}'`);
          this.i++;
          continue;
        case TokenKind.Assign:
          this.problemAt(t, "unexpected '='");
          this.i++;
          continue;
        case TokenKind.LBrace:
          if (this.isPattern(t)) {
            this.pattern(t, t, undefined);
            lambda = true;
          } else {
            if (head < 0) head = t;
            this.set(t, t, SK_SET);
          }
          continue;
        case TokenKind.Rec:
          if (this.kind(t + 1) === TokenKind.LBrace) {
            if (head < 0) head = t;
            this.set(t + 1, t, SK_REC);
          } else {
            this.problemAt(t, "expected '{' after 'rec'");
            this.i++;
          }
          continue;
        case TokenKind.Let:
          if (this.kind(t + 1) === TokenKind.LBrace) {
            // The old `let { body = …; }` form: a recursive set.
            if (head < 0) head = t;
            this.set(t + 1, t, SK_REC);
          } else {
            this.letBlock(t);
          }
          continue;
        case TokenKind.With:
        case TokenKind.Assert:
          this.statement(t);
          continue;
        case TokenKind.LParen: {
          const inner = this.paren(t);
          if (head < 0) head = inner >= 0 ? inner : t;
          continue;
        }
        case TokenKind.LBracket:
          if (head < 0) head = t;
          this.list(t);
          continue;
        case TokenKind.StrOpen:
        case TokenKind.IndStrOpen:
          if (k === TokenKind.StrOpen && this.bindingLists > 0 && this.bindingStart(t)) break walk;
          if (head < 0) head = t;
          this.string(t);
          continue;
        case TokenKind.InterpOpen:
          if (this.bindingLists > 0 && this.bindingStart(t)) break walk;
          if (head < 0) head = t;
          this.interp(t);
          continue;
        case TokenKind.Inherit:
          if (this.bindingLists > 0) break walk; // a `;` is missing before it
          this.problemAt(t, "unexpected 'inherit'");
          this.i++;
          continue;
        case TokenKind.Ident:
        case TokenKind.Or: {
          const next = this.kind(t + 1);
          if (next === TokenKind.Colon) {
            this.functions.push({
              kind: 'ident',
              range: { start: this.startOf(t), end: this.endOf(t + 1) },
              formals: [this.text.slice(this.starts[t], this.ends[t])],
              ellipsis: false,
              alias: undefined,
            });
            this.i = t + 2;
            lambda = true;
            continue;
          }
          if (next === TokenKind.At && this.kind(t + 2) === TokenKind.LBrace) {
            this.pattern(t + 2, t, this.text.slice(this.starts[t], this.ends[t]));
            lambda = true;
            continue;
          }
          if (this.bindingLists > 0 && this.bindingStart(t)) break walk;
          if (head < 0) head = t;
          // Skip the rest of a select chain `a.b.c` at once.
          let j = t + 1;
          while (this.kind(j) === TokenKind.Dot && (this.kind(j + 1) === TokenKind.Ident || this.kind(j + 1) === TokenKind.Or)) j += 2;
          this.i = j;
          continue;
        }
        default:
          if (head < 0) head = t;
          this.i++;
      }
    }
    if (lambda && head >= 0) this.markLambdaBody(head);
    return head;
  }

  /** Marks the set at `head` (`{`, or `rec` before `{`) as a function's result. */
  private markLambdaBody(head: number): void {
    const at = this.kinds[head] === TokenKind.Rec ? head + 1 : head;
    const i = this.setAt[at] ?? 0; // none past the last token
    if (i > 0) this.s[(i - 1) * S_STRIDE + S_FLAGS]! |= SF_LAMBDA_BODY;
  }

  /** `{ a, b ? d, ... }` (optionally `x @` before or `@ x` after), then `:`. `first` is its first token. */
  private pattern(open: number, first: number, alias: string | undefined): void {
    if (this.depth >= MAX_DEPTH) return this.skipFlat(open);
    this.depth++;
    this.groupKind[open] = GroupKind.Pattern;
    this.openBrace++;
    this.openComma++;
    this.i = open + 1;
    const formals: string[] = [];
    let ellipsis = false;
    let closed = false;
    while (this.i < this.n) {
      const t = this.i;
      const k = this.kinds[t];
      if (k === TokenKind.RBrace) {
        this.i++;
        closed = true;
        break;
      }
      if (k === TokenKind.Ident || k === TokenKind.Or) {
        formals.push(this.text.slice(this.starts[t], this.ends[t]));
        this.i++;
        if (this.kind(this.i) === TokenKind.Question) {
          this.i++;
          this.openSemi++; // a stray `;` in a default ends it too
          this.expr();
          this.openSemi--;
        }
      } else if (k === TokenKind.Ellipsis) {
        ellipsis = true;
        this.i++;
      } else if (k === TokenKind.Comma) {
        this.i++;
      } else if (this.closesOuter(t) || k === TokenKind.Semicolon) {
        break;
      } else {
        this.problemAt(t, 'unexpected token in function arguments');
        this.i++;
      }
    }
    this.openBrace--;
    this.openComma--;
    this.depth--;
    if (!closed) this.problemAt(open, "unclosed '{'");
    this.groupEnd[open] = this.i;
    if (alias === undefined && this.kind(this.i) === TokenKind.At && this.kind(this.i + 1) === TokenKind.Ident) {
      alias = this.text.slice(this.starts[this.i + 1], this.ends[this.i + 1]);
      this.i += 2;
    }
    if (this.kind(this.i) === TokenKind.Colon) this.i++;
    else this.problemAt(this.i, "expected ':' after function arguments");
    this.functions.push({
      kind: 'pattern',
      range: this.tokenRange(first, this.i),
      formals,
      ellipsis,
      alias,
    });
  }

  private paren(open: number): number {
    if (this.depth >= MAX_DEPTH) {
      this.skipFlat(open);
      return -1;
    }
    this.depth++;
    this.groupKind[open] = GroupKind.Paren;
    this.openParen++;
    this.i = open + 1;
    const head = this.expr();
    this.openParen--;
    this.depth--;
    if (this.kind(this.i) === TokenKind.RParen && this.i < this.n) this.i++;
    else this.problemAt(open, "unclosed '('");
    this.groupEnd[open] = this.i;
    this.parenHead[open] = head;
    return head;
  }

  private list(open: number): void {
    if (this.depth >= MAX_DEPTH) return this.skipFlat(open);
    this.depth++;
    this.groupKind[open] = GroupKind.List;
    this.openBracket++;
    this.i = open + 1;
    this.expr();
    this.openBracket--;
    this.depth--;
    if (this.kind(this.i) === TokenKind.RBracket && this.i < this.n) this.i++;
    else this.problemAt(open, "unclosed '['");
    this.groupEnd[open] = this.i;
  }

  /** A `"…"` or `''…''` string; its `${…}` are parsed as expressions. */
  private string(open: number): void {
    this.groupKind[open] = GroupKind.String;
    this.i = open + 1;
    while (this.i < this.n) {
      const k = this.kinds[this.i];
      if (k === TokenKind.StrPart || k === TokenKind.IndStrPart) this.i++;
      else if (k === TokenKind.InterpOpen) this.interp(this.i);
      else {
        if (k === TokenKind.StrClose || k === TokenKind.IndStrClose) this.i++;
        break;
      }
    }
    this.groupEnd[open] = this.i;
  }

  /**
   * `${ … }`. The lexer knows exactly where it ends (it matched the braces to resume the string), so the expression
   * inside is parsed on its own: outer closers and terminators do not stop it.
   */
  private interp(open: number): void {
    if (this.depth >= MAX_DEPTH) return this.skipFlat(open);
    this.groupKind[open] = GroupKind.Interp;
    const { openBrace, openParen, openBracket, openInterp, openLet, openSemi, openComma, bindingLists, current } = this;
    this.openBrace = this.openParen = this.openBracket = this.openLet = this.openSemi = this.openComma = this.bindingLists = 0;
    this.openInterp = 1;
    this.current = -1;
    this.depth++;
    this.i = open + 1;
    this.expr();
    this.depth--;
    this.openBrace = openBrace;
    this.openParen = openParen;
    this.openBracket = openBracket;
    this.openInterp = openInterp;
    this.openLet = openLet;
    this.openSemi = openSemi;
    this.openComma = openComma;
    this.bindingLists = bindingLists;
    this.current = current;
    if (this.kind(this.i) === TokenKind.InterpClose && this.i < this.n) this.i++;
    else this.problemAt(open, "unclosed '${'");
    this.groupEnd[open] = this.i;
  }

  /** `with e;` or `assert e;`; the expression after it is parsed by the caller. */
  private statement(t: number): void {
    this.groupKind[t] = GroupKind.Statement;
    this.i = t + 1;
    this.openSemi++;
    this.expr();
    this.openSemi--;
    if (this.kind(this.i) === TokenKind.Semicolon && this.i < this.n) this.i++;
    else this.problemAt(t, `expected ';' after '${this.text.slice(this.starts[t], this.ends[t])}'`);
    this.groupEnd[t] = this.i;
  }

  // --- sets and bindings ---------------------------------------------------------------------------------------

  private newSet(kind: StoredSetKind, open: number, start: number): number {
    const index = this.setCount++;
    if (index * S_STRIDE + S_STRIDE > this.s.length) this.s = grow(this.s);
    const r = index * S_STRIDE;
    const s = this.s;
    s[r + S_KIND] = kind;
    s[r + S_OPEN] = open;
    s[r + S_START_TOK] = start;
    s[r + S_PARENT] = this.current;
    s[r + S_START] = s[r + S_END] = this.startOf(start);
    s[r + S_FLAGS] = 0;
    s[r + S_FIRST] = s[r + S_LAST] = -1;
    this.setAt[open] = index + 1;
    return index;
  }

  /** Records how set `set` ended: closed or not, and the end of its range. */
  private endSet(set: number, start: number, closed: boolean): void {
    const r = set * S_STRIDE;
    if (closed) this.s[r + S_FLAGS]! |= SF_CLOSED;
    this.s[r + S_END] = this.i > start ? this.endOf(this.i - 1) : this.endOf(start);
  }

  /** `{ bindings }` opened at `open`; `start` is `rec`/`let` when one comes first. */
  private set(open: number, start: number, kind: StoredSetKind): void {
    if (this.depth >= MAX_DEPTH) return this.skipFlat(open);
    this.depth++;
    this.groupKind[open] = GroupKind.Set;
    if (start !== open) {
      this.groupKind[start] = GroupKind.Set;
    }
    const set = this.newSet(kind, open, start);
    this.openBrace++;
    this.i = open + 1;
    const end = this.bindingList(set, TokenKind.RBrace, open);
    this.openBrace--;
    this.depth--;
    if (end === ListEnd.Open) {
      this.problemAt(open, "unclosed '{'");
      this.unclosedBrace = true;
    }
    this.endSet(set, start, end === ListEnd.Closed);
    this.groupEnd[open] = this.i;
    if (start !== open) this.groupEnd[start] = this.i;
  }

  /** `let bindings in`; the body after `in` is parsed by the caller. */
  private letBlock(t: number): void {
    if (this.depth >= MAX_DEPTH) return this.skipFlat(t);
    this.depth++;
    this.groupKind[t] = GroupKind.Let;
    const set = this.newSet(SK_LET, t, t);
    this.openLet++;
    this.i = t + 1;
    const end = this.bindingList(set, TokenKind.In, t);
    this.openLet--;
    this.depth--;
    if (end === ListEnd.Open) this.problemAt(t, "'let' without 'in'");
    this.endSet(set, t, end === ListEnd.Closed);
    this.groupEnd[t] = this.i;
  }

  /** Bindings up to `terminator` (consumed). Returns how the list ended. */
  private bindingList(set: number, terminator: TokenKind, open: number): ListEnd {
    this.bindingLists++;
    const savedSemi = this.openSemi;
    const savedComma = this.openComma;
    // Inside a binding list, only its own bindings' `;` terminate values; a `,` never does.
    this.openSemi = 0;
    this.openComma = 0;
    let end = ListEnd.Open;
    while (this.i < this.n) {
      const t = this.i;
      const k = this.kinds[t] as TokenKind;
      if (k === terminator) {
        this.i++;
        end = ListEnd.Closed;
        break;
      }
      if (this.indentRecovery && this.dedented(t, open)) {
        this.problemAt(t, terminator === TokenKind.In ? "expected 'in'" : "expected '}'");
        end = ListEnd.Dedented;
        break;
      }
      if (k === TokenKind.Ident || k === TokenKind.Or || k === TokenKind.StrOpen || k === TokenKind.InterpOpen) {
        this.binding(set);
      } else if (k === TokenKind.Inherit) {
        this.inherit(set);
      } else if (k === TokenKind.Semicolon) {
        this.problemAt(t, "unexpected ';'");
        this.i++;
      } else if (this.closesOuter(t) || (k === TokenKind.RBrace && terminator === TokenKind.In)) {
        break;
      } else {
        this.problemAt(t, 'expected a binding');
        this.openSemi++;
        this.expr();
        this.openSemi--;
        if (this.i === t) this.i++;
      }
    }
    this.openSemi = savedSemi;
    this.openComma = savedComma;
    this.bindingLists--;
    return end;
  }

  /**
   * An attribute path; stops before anything that is not `attr` or `.attr`. Returns the number of keys read (the
   * first at the token where it started) and leaves the end of the last in `keyEnd`.
   */
  private attrPath(): number {
    const first = this.i;
    let count = 0;
    for (;;) {
      const t = this.i;
      if (t >= this.n) break;
      const k = this.kinds[t];
      if (k === TokenKind.Ident || k === TokenKind.Or) {
        this.i++;
      } else if (k === TokenKind.StrOpen) {
        this.string(t);
      } else if (k === TokenKind.InterpOpen) {
        this.interp(t);
      } else {
        if (count > 0) this.problemAt(t, 'expected an attribute name');
        break;
      }
      count++;
      this.keyEnd = this.endOf(this.i - 1);
      if (this.i >= this.n || this.kinds[this.i] !== TokenKind.Dot) break;
      // A half-typed `a.b.` at the end of a line must not swallow the next line's binding.
      const after = this.i + 1;
      if (
        after < this.n &&
        this.lineBreakBefore(after) &&
        columnAt(this.text, this.startOf(after)) <= columnAt(this.text, this.startOf(first))
      ) {
        this.i++;
        this.problemAt(after, 'expected an attribute name');
        break;
      }
      this.i++;
    }
    return count;
  }

  /** True when a line break stands between token `t - 1` and token `t`. */
  private lineBreakBefore(t: number): boolean {
    const { text } = this;
    for (let p = this.endOf(t - 1), end = this.startOf(t); p < end; p++) {
      const c = text.charCodeAt(p);
      if (c === 10 || c === 13) return true;
    }
    return false;
  }

  /** A new binding of `set` whose `count` keys start at token `keyTok` and end at `keyEnd`. */
  private newBinding(set: number, keyTok: number, count: number, keyEnd: number): number {
    const index = this.bindingCount++;
    if (index * B_STRIDE + B_STRIDE > this.b.length) this.b = grow(this.b);
    const b = this.b;
    const r = index * B_STRIDE;
    b[r + B_KEY_TOK] = keyTok;
    b[r + B_KEY_COUNT] = count;
    b[r + B_KEY_END] = keyEnd;
    b[r + B_SET] = set;
    b[r + B_FLAGS] = 0;
    b[r + B_FROM] = -1;
    b[r + B_HEAD] = -1;
    b[r + B_VALUE_START] = b[r + B_VALUE_END] = keyEnd;
    b[r + B_START] = this.startOf(keyTok);
    b[r + B_END] = keyEnd;
    b[r + B_NEXT] = -1;
    const s = this.s;
    const sr = set * S_STRIDE;
    const last = s[sr + S_LAST] ?? -1;
    if (last >= 0) b[last * B_STRIDE + B_NEXT] = index;
    else s[sr + S_FIRST] = index;
    s[sr + S_LAST] = index;
    return index;
  }

  /** `attrpath = expr;` */
  private binding(set: number): void {
    const first = this.i;
    const count = this.attrPath();
    if (count === 0) {
      this.i = Math.max(this.i, first + 1);
      return;
    }
    if (this.kind(this.i) !== TokenKind.Assign || this.i >= this.n) {
      this.problemAt(this.i, "expected '='");
      if (this.kind(this.i) === TokenKind.Semicolon && this.i < this.n) this.i++;
      return;
    }
    this.i++;
    const index = this.newBinding(set, first, count, this.keyEnd);
    const valueStart = this.i;
    const saved = this.current;
    this.current = index;
    this.openSemi++;
    const head = this.expr();
    this.openSemi--;
    this.current = saved;
    // The rows may have grown while the value was parsed.
    const b = this.b;
    const r = index * B_STRIDE;
    b[r + B_HEAD] = head;
    if (this.i > valueStart) {
      b[r + B_VALUE_START] = this.startOf(valueStart);
      b[r + B_VALUE_END] = this.endOf(this.i - 1);
    } else {
      b[r + B_VALUE_START] = b[r + B_VALUE_END] = this.endOf(valueStart - 1);
      this.problemAt(this.i, 'expected a value');
    }
    if (head >= 0) this.bindingAt[head] = index + 1;
    if (this.kind(this.i) === TokenKind.Semicolon && this.i < this.n) {
      this.i++;
      b[r + B_FLAGS]! |= F_TERMINATED;
    } else {
      this.problemAt(this.i > 0 ? this.i - 1 : 0, "expected ';'");
    }
    b[r + B_END] = this.endOf(this.i - 1);
  }

  /** `inherit a b;` / `inherit (e) a "b";` */
  private inherit(set: number): void {
    const t = this.i;
    this.i++;
    let from = -1;
    if (this.kind(this.i) === TokenKind.LParen && this.i < this.n) {
      from = this.i;
      this.paren(from);
    }
    const names = this.inheritNames;
    const base = names.length;
    while (this.i < this.n) {
      const u = this.i;
      const k = this.kinds[u];
      if (k === TokenKind.Ident || k === TokenKind.Or) this.i++;
      else if (k === TokenKind.StrOpen) this.string(u);
      else if (k === TokenKind.InterpOpen) this.interp(u);
      else break;
      const keyEnd = this.endOf(this.i - 1);
      const index = this.newBinding(set, u, 1, keyEnd);
      const r = index * B_STRIDE;
      this.b[r + B_FLAGS] = F_INHERITED;
      this.b[r + B_FROM] = from;
      this.b[r + B_VALUE_START] = this.startOf(u);
      this.b[r + B_VALUE_END] = keyEnd;
      names.push(index);
    }
    const terminated = this.kind(this.i) === TokenKind.Semicolon && this.i < this.n;
    if (terminated) this.i++;
    else this.problemAt(this.i > t ? this.i - 1 : t, "expected ';'");
    const end = this.endOf(this.i - 1);
    const b = this.b;
    for (let j = base; j < names.length; j++) {
      const r = names[j]! * B_STRIDE;
      if (terminated) b[r + B_FLAGS]! |= F_TERMINATED;
      b[r + B_START] = this.startOf(t);
      b[r + B_END] = end;
    }
    names.length = base;
  }

  /** Works out `direct` and `inLet` once all bindings are known (parents come before children). */
  private finish(): void {
    const { b, s } = this;
    for (let i = 0, r = 0; i < this.setCount; i++, r += S_STRIDE) {
      const parent = s[r + S_PARENT]!;
      if (parent >= 0 && b[parent * B_STRIDE + B_HEAD] === s[r + S_START_TOK]) s[r + S_FLAGS]! |= SF_DIRECT;
    }
    for (let i = 0, r = 0; i < this.bindingCount; i++, r += B_STRIDE) {
      const sr = b[r + B_SET]! * S_STRIDE;
      const parent = s[sr + S_PARENT]!;
      if (
        s[sr + S_KIND] === SK_LET ||
        ((s[sr + S_FLAGS]! & SF_DIRECT) !== 0 && parent >= 0 && (b[parent * B_STRIDE + B_FLAGS]! & F_IN_LET) !== 0)
      ) {
        b[r + B_FLAGS]! |= F_IN_LET;
      }
    }
  }
}

/** A copy of `a` twice as large. */
function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
