// Token-level helpers over a scanned Nix source, for the queries: skipping one operand, function headers,
// `let … in` and `with`, reading select chains and string literals. No `vscode` import.
//
// All of them jump over groups with `SyntaxIndex.groupEnd`, so walking one level of an expression costs the number
// of tokens at that level, not in the whole expression.

import { GroupKind, staticString, type NixSource } from './syntax';
import { TokenKind, tokenEnd, tokenStart } from './tokens';
import type { Range } from './offsets';

/** Index just past the group opened at `t`, or `t + 1` when the parser recorded none. */
export function groupEnd(src: NixSource, t: number): number {
  const end = src.syntax.groupEnd[t] ?? 0;
  return end > t ? end : t + 1;
}

/** True when the token at `t` can end an operand (so a name after it is an argument, not a function). */
export function endsOperand(src: NixSource, t: number): boolean {
  switch (src.tokens.kinds[t]) {
    case TokenKind.Ident:
    case TokenKind.Int:
    case TokenKind.Float:
    case TokenKind.Path:
    case TokenKind.SearchPath:
    case TokenKind.Uri:
    case TokenKind.StrClose:
    case TokenKind.IndStrClose:
    case TokenKind.RBrace:
    case TokenKind.RParen:
    case TokenKind.RBracket:
    case TokenKind.InterpClose:
      return true;
    default:
      return false;
  }
}

/**
 * Index just past the operand that starts at `t` — an identifier, literal, path, string, set, list or
 * parenthesised expression, with its select chain (`.a.b`) and `or` default — or -1 when no operand starts there.
 * This is what Nix allows as a list element or a function argument.
 */
export function operandEnd(src: NixSource, t: number): number {
  const { kinds, count, starts, ends } = src.tokens;
  if (t >= count) return -1;
  let j: number;
  switch (kinds[t]) {
    case TokenKind.Ident:
      j = t + 1;
      break;
    case TokenKind.Rec:
      if (kinds[t + 1] !== TokenKind.LBrace) return -1;
      j = groupEnd(src, t + 1);
      break;
    case TokenKind.Let:
      if (src.syntax.groupKind[t] !== GroupKind.Set) return -1;
      j = groupEnd(src, t);
      break;
    case TokenKind.LBrace:
      if (src.syntax.groupKind[t] === GroupKind.Pattern) return -1;
      j = groupEnd(src, t);
      break;
    case TokenKind.LParen:
    case TokenKind.LBracket:
    case TokenKind.StrOpen:
    case TokenKind.IndStrOpen:
    case TokenKind.InterpOpen:
      j = groupEnd(src, t);
      break;
    case TokenKind.Path:
      j = t + 1;
      // An interpolated path: fragments and `${…}` written without spaces between them.
      while (j < count && starts[j] === ends[j - 1] && (kinds[j] === TokenKind.InterpOpen || kinds[j] === TokenKind.Path)) {
        j = kinds[j] === TokenKind.InterpOpen ? groupEnd(src, j) : j + 1;
      }
      break;
    case TokenKind.Int:
    case TokenKind.Float:
    case TokenKind.SearchPath:
    case TokenKind.Uri:
      j = t + 1;
      break;
    default:
      return -1;
  }
  // Select chain and `or` default.
  while (j < count && kinds[j] === TokenKind.Dot) {
    const k = kinds[j + 1];
    if (k === TokenKind.Ident || k === TokenKind.Or) j += 2;
    else if (k === TokenKind.StrOpen || k === TokenKind.InterpOpen) j = groupEnd(src, j + 1);
    else break;
  }
  if (j < count && kinds[j] === TokenKind.Or) {
    const d = operandEnd(src, j + 1);
    if (d > 0) j = d;
  }
  return Math.min(j, count);
}

/**
 * Skips, from `t`, what comes before the value of an expression: function headers (`x:`, `{ … }:`, `a@{ … }:`),
 * `let … in`, `with e;` and `assert e;`. Returns the first token after them (at most `end`).
 */
export function skipPrefix(src: NixSource, t: number, end: number): number {
  const { kinds } = src.tokens;
  const { groupKind } = src.syntax;
  while (t < end) {
    const k = kinds[t];
    if (k === TokenKind.Ident && kinds[t + 1] === TokenKind.Colon) {
      t += 2;
    } else if (k === TokenKind.Ident && kinds[t + 1] === TokenKind.At && groupKind[t + 2] === GroupKind.Pattern) {
      t = groupEnd(src, t + 2);
      if (kinds[t] === TokenKind.Colon) t++;
    } else if (k === TokenKind.LBrace && groupKind[t] === GroupKind.Pattern) {
      t = groupEnd(src, t);
      if (kinds[t] === TokenKind.At && kinds[t + 1] === TokenKind.Ident) t += 2;
      if (kinds[t] === TokenKind.Colon) t++;
    } else if ((k === TokenKind.Let && groupKind[t] === GroupKind.Let) || groupKind[t] === GroupKind.Statement) {
      t = groupEnd(src, t);
    } else {
      break;
    }
  }
  return Math.min(t, end);
}

/** The last token of the group opened at `open` when it is closed by its closer (else the group's end). */
export function innerEnd(src: NixSource, open: number): number {
  const end = groupEnd(src, open);
  const k = src.tokens.kinds[end - 1];
  const closer =
    k === TokenKind.RParen || k === TokenKind.RBracket || k === TokenKind.RBrace || k === TokenKind.InterpClose || k === TokenKind.In;
  return closer && end - 1 > open ? end - 1 : end;
}

/** A select chain of plain names, `a.b.c`, starting at `t`. */
export interface SelectChain {
  readonly names: string[];
  /** Index just past the chain. */
  readonly end: number;
  readonly range: Range;
}

/** Reads the chain of plain names `a.b.c` that starts at identifier `t`. */
export function selectChain(src: NixSource, t: number): SelectChain | undefined {
  const { kinds, starts, ends, text, count } = src.tokens;
  if (t >= count || kinds[t] !== TokenKind.Ident) return undefined;
  const names = [text.slice(starts[t], ends[t])];
  let j = t + 1;
  while (j + 1 < count && kinds[j] === TokenKind.Dot && (kinds[j + 1] === TokenKind.Ident || kinds[j + 1] === TokenKind.Or)) {
    names.push(text.slice(starts[j + 1], ends[j + 1]));
    j += 2;
  }
  return { names, end: j, range: { start: tokenStart(src.tokens, t), end: tokenEnd(src.tokens, j - 1) } };
}

/** A string literal: its value when it has no `${…}`, else its source text between the quotes. */
export interface StringLiteral {
  readonly value: string;
  readonly static: boolean;
  readonly range: Range;
}

/** The string literal whose opening quote is token `t`, when the expression from `t` to `end` is only that string. */
export function stringLiteralAt(src: NixSource, t: number, end: number): StringLiteral | undefined {
  const { kinds, text } = src.tokens;
  if (t < 0 || (kinds[t] !== TokenKind.StrOpen && kinds[t] !== TokenKind.IndStrOpen)) return undefined;
  const close = groupEnd(src, t);
  if (close !== end) return undefined;
  const range = { start: tokenStart(src.tokens, t), end: tokenEnd(src.tokens, close - 1) };
  const value = staticString(src.tokens, t);
  if (value !== undefined) return { value, static: true, range };
  const quote = kinds[t] === TokenKind.StrOpen ? 1 : 2;
  return { value: text.slice(range.start + quote, Math.max(range.start + quote, range.end - quote)), static: false, range };
}

/** The index of the first token that starts at or after `offset` (a binary search). */
export function tokenAfter(src: NixSource, offset: number): number {
  const { starts, count } = src.tokens;
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! < offset)
      lo = mid + 1; // lo <= mid < hi <= count
    else hi = mid;
  }
  return lo;
}

/** The token indices `[start, end)` of a range that starts and ends on token boundaries (e.g. a value range). */
export function tokenSpan(src: NixSource, range: Range): { start: number; end: number } {
  return { start: tokenAfter(src, range.start), end: tokenAfter(src, range.end) };
}
