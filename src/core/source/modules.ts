// NixOS-style modules in a Nix source: which attribute sets are module bodies, and where an option is defined.
// No `vscode` import.
//
// A definition can be written in many equivalent ways; all of these define `services.openssh.enable`:
//   services.openssh.enable = true;
//   services.openssh = { enable = true; };
//   services = { openssh.enable = true; };
//   config.services.openssh.enable = true;              (a module split into `options` and `config`)
//   config = lib.mkIf cfg.enable { services.openssh.enable = true; };
//   services.openssh = lib.mkMerge [ { enable = true; } (lib.mkIf x { … }) ];
//   imports = [ { services.openssh.enable = true; } ];  (an inline module)
// and in a flake, `modules = [ { … } ({ pkgs, ... }: { … }) ]` lists inline modules too.

import { sourceOf, setAtToken, type AttrSet, type Binding, type NixSource, type SourceInput } from './syntax';
import { TokenKind } from './tokens';
import { rangeOf, type Range } from './offsets';
import { groupEnd, innerEnd, operandEnd, selectChain, skipPrefix, tokenSpan } from './walk';

/**
 * Functions of nixpkgs `lib` that keep the attribute sets they are given as definitions (the module system looks
 * through them), with the number of leading arguments that are not such values (a condition, a priority).
 */
const TRANSPARENT_FUNCTIONS: ReadonlyMap<string, number> = new Map([
  ['mkIf', 1],
  ['mkMerge', 0],
  ['mkDefault', 0],
  ['mkForce', 0],
  ['mkOverride', 1],
  ['mkOptionDefault', 0],
  ['mkBefore', 0],
  ['mkAfter', 0],
  ['mkOrder', 1],
  ['mkVMOverride', 0],
  ['mkImageMediaOverride', 0],
  ['optionalAttrs', 1],
]);

/** Attributes of a module that are not option definitions. */
const MODULE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'imports',
  'options',
  'meta',
  '_file',
  'key',
  'disabledModules',
  'freeformType',
  '_class',
]);

/** How a binding matches the option path asked for. */
export type OptionMatch =
  /** The binding's full path is the option path. */
  | 'exact'
  /** The binding defines part of the option's value (`users.users.alice.uid = …` for `users.users.alice`). */
  | 'nested'
  /** The binding's path is a prefix of the option and its value is not a set we can see into (`= import ./x.nix`). */
  | 'enclosing';

/** One place where an option is defined. */
export interface OptionDefinition {
  /** The binding's attribute path as written: the most specific key range of the definition. */
  readonly range: Range;
  /** The key segment at which the option path is complete (for `enclosing`: the binding's last segment). */
  readonly segmentRange: Range;
  readonly match: OptionMatch;
  readonly binding: Binding;
}

/** The sets that a value `[start, end)` (token indices) evaluates to, looking through `TRANSPARENT_FUNCTIONS`. */
export function moduleValueSets(src: NixSource, start: number, end: number): AttrSet[] {
  const out: AttrSet[] = [];
  collectSets(src, start, end, out, 0);
  return out;
}

/** Moves past one element of an expression at its own level: an operand, a group, or a single token. */
function stepOver(src: NixSource, t: number): number {
  const e = operandEnd(src, t);
  if (e > t) return e;
  return src.syntax.groupKind[t] !== 0 ? groupEnd(src, t) : t + 1;
}

function collectSets(src: NixSource, start: number, end: number, out: AttrSet[], depth: number): void {
  if (depth > 64) return;
  const { kinds } = src.tokens;
  let t = skipPrefix(src, start, end);
  while (t < end) {
    const k = kinds[t];
    if (k === TokenKind.If) {
      collectBranches(src, t, end, out, depth);
      return;
    }
    const e = operandEnd(src, t);
    if (e < 0) {
      t = stepOver(src, t);
      continue;
    }
    if (k === TokenKind.LBrace || k === TokenKind.Rec) {
      const set = setAtToken(src, t);
      if (set) out.push(set);
      t = e;
    } else if (k === TokenKind.LParen) {
      collectSets(src, t + 1, innerEnd(src, t), out, depth + 1);
      t = e;
    } else if (k === TokenKind.Ident) {
      const name = selectChain(src, t)?.names.at(-1);
      const skip = name === undefined ? undefined : TRANSPARENT_FUNCTIONS.get(name);
      const isMerge = name === 'mkMerge';
      t = e;
      // The arguments of the application.
      for (let arg = 0; t < end; arg++) {
        const ae = operandEnd(src, t);
        if (ae < 0) break;
        if (skip !== undefined && arg >= skip) collectArgument(src, t, ae, isMerge, out, depth);
        t = ae;
      }
    } else {
      t = e;
    }
  }
}

function collectArgument(src: NixSource, t: number, end: number, listOfValues: boolean, out: AttrSet[], depth: number): void {
  const k = src.tokens.kinds[t];
  if (k === TokenKind.LBracket) {
    if (listOfValues) collectListElements(src, t, out, depth + 1);
  } else {
    collectSets(src, t, end, out, depth + 1);
  }
}

/** The sets of each element of the list opened at token `bracket` (`[ a { … } (f { … }) ]`). */
function collectListElements(src: NixSource, bracket: number, out: AttrSet[], depth: number): void {
  const stop = innerEnd(src, bracket);
  for (let u = bracket + 1; u < stop;) {
    const ue = operandEnd(src, u);
    if (ue < 0) {
      u = stepOver(src, u);
      continue;
    }
    collectSets(src, u, ue, out, depth);
    u = ue;
  }
}

/** `if c then A else B`: the sets of A and B. */
function collectBranches(src: NixSource, ifToken: number, end: number, out: AttrSet[], depth: number): void {
  const { kinds } = src.tokens;
  let t = ifToken + 1;
  while (t < end && kinds[t] !== TokenKind.Then) t = stepOver(src, t);
  if (t >= end) return;
  const thenStart = t + 1;
  let nested = 0;
  t = thenStart;
  while (t < end) {
    const k = kinds[t];
    if (k === TokenKind.If) nested++;
    else if (k === TokenKind.Else) {
      if (nested === 0) break;
      nested--;
    }
    t = stepOver(src, t);
  }
  collectSets(src, thenStart, Math.min(t, end), out, depth + 1);
  if (t < end) collectSets(src, t + 1, end, out, depth + 1);
}

/** The inline modules listed in a binding's value: the sets in `[ … ]` elements (`{ … }`, `({ … }: { … })`). */
function listedModules(src: NixSource, binding: Binding): AttrSet[] {
  const out: AttrSet[] = [];
  const span = tokenSpan(src, binding.valueRange);
  const { kinds } = src.tokens;
  for (let t = span.start; t < span.end;) {
    if (kinds[t] === TokenKind.LBracket) {
      collectListElements(src, t, out, 1);
      t = groupEnd(src, t);
    } else {
      t = stepOver(src, t);
    }
  }
  return out;
}

/** True when `b` is `name = …`: one static key, not inherited. */
function isSingleKey(b: Binding, name: string): boolean {
  const key = b.keys[0];
  return !b.inherited && b.keys.length === 1 && key !== undefined && key.kind !== 'dynamic' && key.name === name;
}

/**
 * The module bodies in a source: the set the file evaluates to (through `{ … }:` headers, `let`, `with` and
 * `lib.mkIf`-like wrappers), the inline modules in its `imports = [ … ]`, and the inline modules in any
 * `modules = [ … ]` list (as given to `nixosSystem` in a flake).
 */
export function moduleRoots(input: SourceInput): AttrSet[] {
  const src = sourceOf(input);
  const roots: AttrSet[] = [];
  const seen = new Set<number>();
  const add = (sets: AttrSet[]): void => {
    for (const s of sets) {
      if (!seen.has(s.index)) {
        seen.add(s.index);
        roots.push(s);
      }
    }
  };
  add(moduleValueSets(src, 0, src.tokens.count));
  for (const b of src.bindings) {
    if (isSingleKey(b, 'modules')) add(listedModules(src, b));
  }
  for (let r = 0; r < roots.length; r++) {
    for (const b of roots[r]!.bindings) {
      if (isSingleKey(b, 'imports')) add(listedModules(src, b));
    }
  }
  return roots;
}

/**
 * Where the option `optionPath` (e.g. `['services', 'openssh', 'enable']`) is defined in a NixOS-style module
 * source, in text order. Each result's `range` is the key of the most specific binding that defines it.
 * Definitions inside `options = …` (declarations) are not definitions and are not returned.
 */
export function findOptionDefinitions(input: SourceInput, optionPath: readonly string[]): OptionDefinition[] {
  const src = sourceOf(input);
  if (optionPath.length === 0) return [];
  const found = new Map<number, OptionDefinition>();
  const visit = (set: AttrSet, matched: number, atRoot: boolean, depth: number): void => {
    if (depth > 64) return;
    for (const b of set.bindings) {
      const keys = b.keys;
      const first = keys[0];
      let i = 0;
      if (atRoot && matched === 0 && first !== undefined && first.kind !== 'dynamic') {
        if (first.name === 'config') i = 1;
        else if (MODULE_ATTRIBUTES.has(first.name)) continue;
      }
      let m = matched;
      while (i < keys.length && m < optionPath.length && keys[i]!.kind !== 'dynamic' && keys[i]!.name === optionPath[m]) {
        i++;
        m++;
      }
      if (i < keys.length && m < optionPath.length) continue; // the paths part ways
      if (m === optionPath.length) {
        const segment = keys[Math.max(i - 1, 0)] ?? b.keyRange;
        found.set(b.index, {
          range: b.keyRange,
          segmentRange: rangeOf(segment),
          match: i === keys.length ? 'exact' : 'nested',
          binding: b,
        });
        continue;
      }
      // Every key matched and the option goes on: look into the value.
      const span = tokenSpan(src, b.valueRange);
      const sets = b.inherited ? [] : moduleValueSets(src, span.start, span.end);
      if (sets.length === 0) {
        if (b.inherited || b.valueHead >= 0) {
          found.set(b.index, { range: b.keyRange, segmentRange: rangeOf(keys.at(-1) ?? b.keyRange), match: 'enclosing', binding: b });
        }
        continue;
      }
      for (const s of sets) visit(s, m, false, depth + 1);
    }
  };
  for (const root of moduleRoots(src)) visit(root, 0, true, 0);
  return [...found.values()].sort((a, b) => a.range.start - b.range.start);
}
