// Calls of derivation builders (`stdenv.mkDerivation { … }`, `buildGoModule rec { … }`, `runCommand "x" { } ''…''`)
// in a Nix source: the ranges a "Build" CodeLens needs, and the call around a `meta.position` line.
// No `vscode` import.

import { GroupKind, setAtToken, sourceOf, type AttrSet, type Binding, type NixSource, type SourceInput } from './syntax';
import { B_FLAGS, B_HEAD, B_KEY_COUNT, B_KEY_TOK, B_NEXT, B_VALUE_END, bindingOf, F_INHERITED, S_FIRST, storeOf } from './rows';
import { staticString } from './strings';
import { TokenKind, tokenEnd, tokenStart } from './tokens';
import type { Range } from './offsets';
import { endsOperand, groupEnd, operandEnd, selectChain, stringLiteralAt } from './walk';

/**
 * The builders looked for by default. A name matches a whole identifier or the last segments of a select chain; what
 * comes before those may be computed (`legacyPackages.${system}.hello`, `(import nixpkgs { }).stdenv.mkDerivation`).
 */
export const DEFAULT_BUILDERS: readonly string[] = [
  'mkDerivation',
  'stdenv.mkDerivation',
  'stdenvNoCC.mkDerivation',
  'buildPythonPackage',
  'buildPythonApplication',
  'buildGoModule',
  'rustPlatform.buildRustPackage',
  'buildRustPackage',
  'buildNpmPackage',
  'writeShellApplication',
  'writeShellScriptBin',
  'runCommand',
  'runCommandNoCC',
  'runCommandLocal',
  'derivation',
  'builtins.derivation',
  'mkShell',
];

/** Functions that wrap a derivation call without hiding it: `x = lib.fix (self: mkDerivation { … })`. */
const WRAPPERS: ReadonlySet<string> = new Set(['fix', 'makeOverridable', 'recurseIntoAttrs', 'lowPrio', 'hiPrio']);

/** The binding a call is the value of. */
export interface CallBinding {
  readonly path: readonly string[];
  readonly keyRange: Range;
  readonly inLet: boolean;
  readonly binding: Binding;
}

/** One call of a derivation builder. */
export interface DerivationCall {
  /** The builder that matched, as listed (`stdenv.mkDerivation`). */
  readonly builder: string;
  /**
   * The function as written (`pkgs.stdenv.mkDerivation`, `nixpkgs.legacyPackages.${system}.hello`), one segment after
   * another without the spaces or comments between them; a parenthesised part is written `(…)`.
   */
  readonly callee: string;
  /** The function expression, from its first token (a parenthesised head's `(`) to the builder's last segment. */
  readonly calleeRange: Range;
  /** From the start of the function expression (a parenthesised head's `(`) to the end of its last argument. */
  readonly range: Range;
  /** The attribute set argument: `{ … }`, `rec { … }`, or the set returned by `(finalAttrs: { … })`. */
  readonly argsRange: Range | undefined;
  readonly args: AttrSet | undefined;
  /** The binding whose value the call is (`hello = stdenv.mkDerivation …`, also in `let`). */
  readonly binding: CallBinding | undefined;
  /** `name`, `pname` and `version` when given as string literals in the argument set (source text if interpolated). */
  readonly name: string | undefined;
  readonly pname: string | undefined;
  readonly version: string | undefined;
}

interface BuilderTable {
  /** Builder specs (split on `.`), by their last segment. */
  readonly byLast: ReadonlyMap<string, readonly string[][]>;
  /** The last segments by length, to compare identifiers in place without slicing them. */
  readonly byLength: readonly (readonly string[] | undefined)[];
}

function builderTable(builders: readonly string[]): BuilderTable {
  const byLast = new Map<string, string[][]>();
  const byLength: string[][] = [];
  for (const b of builders) {
    const segs = b.split('.').filter((s) => s !== '');
    const last = segs.at(-1);
    if (last === undefined) continue;
    const list = byLast.get(last);
    if (list) list.push(segs);
    else {
      byLast.set(last, [segs]);
      (byLength[last.length] ??= []).push(last);
    }
  }
  return { byLast, byLength };
}

/** The last segment among `table`'s that the identifier at `[start, end)` spells, if any. */
function lastSegmentAt(table: BuilderTable, text: string, start: number, end: number): string | undefined {
  const names = table.byLength[end - start];
  if (names === undefined) return undefined;
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  for (const name of names) {
    // Most identifiers differ from the names in their first or last letter: compare those before the rest.
    if (name.charCodeAt(0) === first && name.charCodeAt(name.length - 1) === last && text.startsWith(name, start)) return name;
  }
  return undefined;
}

/** The longest builder spec that `names` ends with. */
function matchBuilder(names: readonly string[], specs: readonly string[][]): string[] | undefined {
  let best: string[] | undefined;
  for (const spec of specs) {
    if (spec.length > names.length || (best && spec.length <= best.length)) continue;
    let ok = true;
    for (let i = 1; i <= spec.length && ok; i++) ok = spec[spec.length - i] === names[names.length - i];
    if (ok) best = spec;
  }
  return best;
}

/**
 * Every call of a derivation builder in the source, in text order. The builder's own segments are written
 * statically (`.name` or `."name"`); before them, the select chain may have computed parts: `.${system}`, a
 * parenthesised head `(import nixpkgs { inherit system; }).stdenv.mkDerivation`. A builder name in a string or
 * comment is not a call (in a string's `${…}` it is), nor is one that is not applied to an argument
 * (`inherit (pkgs) mkDerivation;`, `{ mkDerivation }:`), nor one that is a list element (`[ mkDerivation { } ]` is
 * two elements in Nix).
 */
export function findDerivationCalls(input: SourceInput, builders: readonly string[] = DEFAULT_BUILDERS): DerivationCall[] {
  const src = sourceOf(input);
  const { kinds, starts, ends, text, count, pairs } = src.tokens;
  const { parenHead } = src.syntax;
  const table = builderTable(builders);
  const calls: DerivationCall[] = [];
  const unbound: { call: number; start: number }[] = [];
  for (let t = 0; t < count; t++) {
    if (kinds[t] !== TokenKind.Ident || kinds[t + 1] === TokenKind.Dot) continue;
    const last = lastSegmentAt(table, text, starts[t]!, ends[t]!);
    const specs = last === undefined ? undefined : table.byLast.get(last);
    if (!specs) continue;
    // The builder's own segments: the static tail of the select chain ending at t (`.name`, `."name"`).
    let s = t;
    for (;;) {
      if (s < 2 || kinds[s - 1] !== TokenKind.Dot) break;
      const k = kinds[s - 2];
      if (k === TokenKind.Ident || k === TokenKind.Or) s -= 2;
      else if (k === TokenKind.StrClose && isStaticSegment(src, s - 2)) s = pairs[s - 2]!;
      else break;
    }
    // The start of the whole function expression: further back over `.${…}`, `."…"` and `.name` segments, to an
    // identifier or a parenthesised expression (`nixpkgs.legacyPackages.${system}.…`, `(import nixpkgs { }).…`).
    const head = s >= 1 && kinds[s - 1] === TokenKind.Dot ? selectStart(src, s - 1) : kinds[s] === TokenKind.Ident ? s : -1;
    if (head < 0) continue;
    if (head >= 1 && (endsOperand(src, head - 1) || kinds[head - 1] === TokenKind.LBracket || kinds[head - 1] === TokenKind.Inherit))
      continue;
    const names = tailNames(src, s, t + 1);
    const spec = matchBuilder(names, specs);
    if (!spec) continue;
    const call = readCall(src, head, t + 1);
    if (!call) continue;
    // The token the parser recorded as the head of a value: for `(e).x`, the head of `e`.
    const inner = kinds[head] === TokenKind.LParen ? (parenHead[head] ?? -1) : -1;
    const valueHead = inner >= 0 ? inner : head;
    const binding = bindingOfHead(src, valueHead);
    if (!binding) unbound.push({ call: calls.length, start: valueHead });
    const strings = call.args ? literalAttrs(src, call.args) : undefined;
    calls.push({
      builder: spec.join('.'),
      callee: calleeText(src, head, t + 1),
      calleeRange: { start: tokenStart(src.tokens, head), end: ends[t]! },
      range: { start: tokenStart(src.tokens, head), end: call.end },
      argsRange: call.args?.range,
      args: call.args,
      binding,
      name: strings?.name,
      pname: strings?.pname,
      version: strings?.version,
    });
  }
  if (unbound.length > 0) bindThroughWrappers(src, calls, unbound);
  // Found by their last segments: a call inside a parenthesised head (`(f (mkShell { })).x.mkDerivation { }`) was
  // found before the call it starts.
  for (let i = 1; i < calls.length; i++) {
    if (calls[i]!.range.start < calls[i - 1]!.range.start) return calls.sort((a, b) => a.range.start - b.range.start);
  }
  return calls;
}

/** The `"…"` segment closed at token `close` has no `${…}`: `legacyPackages."x86_64-linux"`. */
function isStaticSegment(src: NixSource, close: number): boolean {
  const { kinds, pairs } = src.tokens;
  const open = pairs[close] ?? -1;
  return (
    open >= 0 &&
    open < close &&
    kinds[open] === TokenKind.StrOpen &&
    (close - open === 1 || (close - open === 2 && kinds[open + 1] === TokenKind.StrPart))
  );
}

/**
 * The first token of the select expression that has a `.` at `dot`: back over `.name`, `."…"` and `.${…}` segments
 * to an identifier, or to a parenthesised expression (`(import nixpkgs { }).stdenv`). -1 when what is selected from
 * is anything else (`{ … }.x`, `"s".x`) or the text does not pair up.
 */
function selectStart(src: NixSource, dot: number): number {
  const { kinds, pairs } = src.tokens;
  for (let d = dot; ;) {
    const e = d - 1;
    if (e < 0) return -1;
    const k = kinds[e];
    let p: number;
    if (k === TokenKind.Ident || k === TokenKind.Or) {
      p = e;
    } else if (k === TokenKind.StrClose || k === TokenKind.InterpClose) {
      p = pairs[e] ?? -1;
      if (p < 0 || p >= e || kinds[p] !== (k === TokenKind.StrClose ? TokenKind.StrOpen : TokenKind.InterpOpen)) return -1;
    } else if (k === TokenKind.RParen) {
      p = parenBefore(src, e);
      // `a.(b).c` is not Nix.
      return p >= 1 && kinds[p - 1] === TokenKind.Dot ? -1 : p;
    } else {
      return -1;
    }
    if (p >= 1 && kinds[p - 1] === TokenKind.Dot) d = p - 1;
    else return k === TokenKind.Ident ? p : -1;
  }
}

/** Per scan: the `(` of each `)` the parser paired them, by token index; made when first needed. */
const parenOpens = new WeakMap<NixSource, Map<number, number>>();

/**
 * The `(` that the `)` at `close` closes, as the parser paired them; -1 if none. (From a table rather than by
 * counting back: in damaged text with many unpaired `)`, counting back would be quadratic.)
 */
function parenBefore(src: NixSource, close: number): number {
  let opens = parenOpens.get(src);
  if (!opens) {
    opens = new Map();
    const { kinds, count } = src.tokens;
    const { groupKind, groupEnd } = src.syntax;
    for (let p = 0; p < count; p++) {
      if (kinds[p] !== TokenKind.LParen || groupKind[p] !== GroupKind.Paren) continue;
      const e = (groupEnd[p] ?? 0) - 1;
      if (e > p && kinds[e] === TokenKind.RParen) opens.set(e, p);
    }
    parenOpens.set(src, opens);
  }
  return opens.get(close) ?? -1;
}

/** The names of the static segments `a.b."c"` from token `start` to `end`. */
function tailNames(src: NixSource, start: number, end: number): string[] {
  const { kinds, starts, ends, text, pairs } = src.tokens;
  const names: string[] = [];
  for (let j = start; j < end;) {
    if (kinds[j] === TokenKind.StrOpen) {
      names.push(staticString(src.tokens, j) ?? '');
      j = pairs[j]! + 1; // a static segment: paired (see isStaticSegment)
    } else {
      names.push(text.slice(starts[j], ends[j]));
      j++;
    }
    if (kinds[j] === TokenKind.Dot) j++;
  }
  return names;
}

/**
 * The function expression from token `head` to `end` as written, segment by segment: `pkgs.stdenv.mkDerivation`,
 * `nixpkgs.legacyPackages.${system}.hello`, `self.legacyPackages."x86_64-linux".hello`; a parenthesised expression
 * is written `(…)`, so that the text inside it can change (`(import nixpkgs { … }).stdenv.mkDerivation`).
 */
function calleeText(src: NixSource, head: number, end: number): string {
  const { kinds, starts, ends, text, pairs } = src.tokens;
  let out = '';
  for (let j = head; j < end;) {
    const k = kinds[j];
    if (k === TokenKind.LParen) {
      out += '(…)';
      j = groupEnd(src, j);
    } else if (k === TokenKind.StrOpen || k === TokenKind.InterpOpen) {
      const pair = pairs[j] ?? -1;
      const close = pair > j ? pair : j;
      out += text.slice(starts[j], ends[close]);
      j = close + 1;
    } else {
      out += text.slice(starts[j], ends[j]);
      j++;
    }
    if (j < end && kinds[j] === TokenKind.Dot) {
      out += '.';
      j++;
    }
  }
  return out;
}

/** The arguments after a callee ending at `from`: the offset where they end, and the attribute set among them. */
function readCall(src: NixSource, start: number, from: number): { end: number; args: AttrSet | undefined } | undefined {
  const { kinds, count } = src.tokens;
  let u = from;
  let args: AttrSet | undefined;
  while (u < count) {
    const e = operandEnd(src, u);
    if (e < 0) break;
    // `name` followed by `=` starts the next binding (a `;` is missing): not an argument.
    if (kinds[u] === TokenKind.Ident && (kinds[e] === TokenKind.Assign || kinds[e] === TokenKind.Colon)) break;
    if (!args) args = argumentSet(src, u);
    u = e;
  }
  if (u === from || u <= start) return undefined;
  return { end: tokenEnd(src.tokens, u - 1), args };
}

/** The set an argument is, or returns: `{ … }`, `rec { … }`, `(finalAttrs: { … })`. */
function argumentSet(src: NixSource, t: number): AttrSet | undefined {
  const k = src.tokens.kinds[t];
  if (k === TokenKind.LBrace || k === TokenKind.Rec) return setAtToken(src, t);
  if (k === TokenKind.LParen && src.syntax.groupKind[t] === GroupKind.Paren) {
    const head = src.syntax.parenHead[t] ?? -1;
    return head >= 0 ? setAtToken(src, head) : undefined;
  }
  return undefined;
}

function toCallBinding(b: Binding): CallBinding {
  return { path: b.path, keyRange: b.keyRange, inLet: b.inLet, binding: b };
}

/** The binding whose value has its head at token `t`. */
function bindingOfHead(src: NixSource, t: number): CallBinding | undefined {
  const i = t >= 0 ? (src.syntax.bindingAt[t] ?? 0) : 0; // 0 past the last token too
  return i > 0 ? toCallBinding(bindingOf(src, i - 1)) : undefined;
}

/** `x = lib.fix (self: mkDerivation { … })`: binds calls that are the head of a wrapper's parenthesised argument. */
function bindThroughWrappers(src: NixSource, calls: DerivationCall[], unbound: readonly { call: number; start: number }[]): void {
  const { kinds, count } = src.tokens;
  const { parenHead, groupKind } = src.syntax;
  const wanted = new Map<number, number>();
  for (const u of unbound) wanted.set(u.start, u.call);
  for (let p = 0; p < count; p++) {
    if (kinds[p] !== TokenKind.LParen || groupKind[p] !== GroupKind.Paren) continue;
    const call = wanted.get(parenHead[p]!);
    if (call === undefined || p < 1 || kinds[p - 1] !== TokenKind.Ident) continue;
    // The wrapper's chain, ending just before the `(`.
    let s = p - 1;
    while (s >= 2 && kinds[s - 1] === TokenKind.Dot && kinds[s - 2] === TokenKind.Ident) s -= 2;
    const chain = selectChain(src, s);
    if (!chain || chain.end !== p || !WRAPPERS.has(chain.names.at(-1) ?? '')) continue;
    const binding = bindingOfHead(src, s);
    const found = calls[call];
    if (binding && found) calls[call] = { ...found, binding };
  }
}

type LiteralAttrs = { name?: string; pname?: string; version?: string };

/** Which of `name`, `pname` and `version` the identifier at `[start, end)` spells. */
function literalAttrName(text: string, start: number, end: number): 'name' | 'pname' | 'version' | undefined {
  switch (end - start) {
    case 4:
      return text.startsWith('name', start) ? 'name' : undefined;
    case 5:
      return text.startsWith('pname', start) ? 'pname' : undefined;
    case 7:
      return text.startsWith('version', start) ? 'version' : undefined;
    default:
      return undefined;
  }
}

/** `name`, `pname` and `version` string literals of a set. */
function literalAttrs(src: NixSource, set: AttrSet): LiteralAttrs {
  const store = storeOf(src);
  if (store) {
    // The same, read from the rows of the scan, without making objects for the set's bindings and keys.
    const out: LiteralAttrs = {};
    const { kinds, text } = src.tokens;
    for (let b = store.setField(set.index, S_FIRST); b >= 0; b = store.bindingField(b, B_NEXT)) {
      if ((store.bindingField(b, B_FLAGS) & F_INHERITED) !== 0 || store.bindingField(b, B_KEY_COUNT) !== 1) continue;
      const u = store.bindingField(b, B_KEY_TOK);
      const k = kinds[u];
      let key: string | undefined;
      if (k === TokenKind.Ident || k === TokenKind.Or) key = literalAttrName(text, tokenStart(src.tokens, u), tokenEnd(src.tokens, u));
      else if (k === TokenKind.StrOpen) key = staticString(src.tokens, u);
      if (key !== 'name' && key !== 'pname' && key !== 'version') continue;
      const head = store.bindingField(b, B_HEAD);
      if (head < 0 || out[key] !== undefined) continue;
      const lit = stringLiteralAt(src, head, groupEnd(src, head));
      if (lit && lit.range.end === store.bindingField(b, B_VALUE_END)) out[key] = lit.value;
    }
    return out;
  }
  const out: LiteralAttrs = {};
  for (const b of set.bindings) {
    if (b.inherited || b.keys.length !== 1) continue;
    const key = b.keys[0]!.name;
    if (key !== 'name' && key !== 'pname' && key !== 'version') continue;
    // A plain string value has its opening quote as the value's head.
    const head = b.valueHead;
    if (head < 0 || out[key] !== undefined) continue;
    const lit = stringLiteralAt(src, head, groupEnd(src, head));
    if (lit && lit.range.end === b.valueRange.end) out[key] = lit.value;
  }
  return out;
}

/**
 * The innermost derivation call whose lines — from its binding's key (when it has one) to the end of its argument —
 * contain the 1-based `line`. Nix's `meta.position` is `file:line`, pointing at the `description`, `version` or
 * `name` line inside the call.
 */
export function enclosingDerivation(
  input: SourceInput,
  line: number,
  builders: readonly string[] = DEFAULT_BUILDERS,
): DerivationCall | undefined {
  const src = sourceOf(input);
  const lines = src.lines();
  const target = Math.floor(line) - 1;
  if (!(target >= 0) || target >= lines.lineCount) return undefined;
  let best: DerivationCall | undefined;
  let bestSize = Infinity;
  for (const call of findDerivationCalls(src, builders)) {
    const start = Math.min(call.range.start, call.binding?.keyRange.start ?? Infinity);
    const end = call.range.end;
    if (lines.lineAt(start) > target || lines.lineAt(end) < target) continue;
    const size = end - start;
    if (size < bestSize) {
      best = call;
      bestSize = size;
    }
  }
  return best;
}
