// flake.nix queries: where an input is declared, which bindings are packages, and the edit that makes an input's
// dependency follow another input, written in the style the file already uses. No `vscode` import.

import {
  pathRoot,
  setAtToken,
  sourceOf,
  scanNix,
  type AttrKey,
  type AttrSet,
  type Binding,
  type NixSource,
  type SourceInput,
} from './syntax';
import { B_FLAGS, F_IN_LET, storeOf } from './rows';
import { tokenEnd } from './tokens';
import { applyEdit, indentationAt, isFirstOnLine, rangeOf, type Range, type TextEdit } from './offsets';
import { stringLiteralAt, tokenSpan } from './walk';

/** The attribute set that flake.nix evaluates to, when it is written as one (not a function). */
export function flakeRootSet(src: NixSource): AttrSet | undefined {
  const set = setAtToken(src, src.head);
  return set && !set.lambdaBody ? set : undefined;
}

/** Bindings whose full path starts at the flake's root set, outside `let`. */
function rootBindings(src: NixSource, root: AttrSet): Binding[] {
  return src.bindings.filter((b) => !b.inLet && pathRoot(b) === root);
}

function isStatic(key: AttrKey | undefined): key is AttrKey {
  return key !== undefined && key.kind !== 'dynamic';
}

function isOutputs(key: AttrKey | undefined): boolean {
  return isStatic(key) && key.name === 'outputs';
}

// --- inputs ----------------------------------------------------------------------------------------------------

/** Where a flake input is declared. */
export interface InputDeclaration {
  readonly name: string;
  /** The key naming the input (the `X` of `inputs.X.url`, `X.url` in `inputs = { … }`, or `X = { … }`). */
  readonly range: Range;
  /** The first binding that declares it. */
  readonly binding: Binding;
  /** Every binding under `inputs.X`, in text order (`url`, `flake`, `inputs.nixpkgs.follows`, …). */
  readonly bindings: readonly Binding[];
}

/** The bindings of flake.nix under `inputs.<name>` (any of the ways of writing them). */
function inputBindings(src: NixSource, root: AttrSet, name: string): Binding[] {
  return rootBindings(src, root).filter((b) => {
    const [a, x] = b.pathKeys;
    return isStatic(a) && a.name === 'inputs' && isStatic(x) && x.name === name;
  });
}

/**
 * Where the flake input `name` is declared in flake.nix: `inputs.X.url = …`, `inputs = { X.url = …; }`,
 * `inputs.X = { url = …; }`, `inputs = { X = { … }; }`, `inputs.X.flake = false`. Undefined when it is not.
 */
export function findInputDeclaration(input: SourceInput, name: string): InputDeclaration | undefined {
  const src = sourceOf(input);
  const root = flakeRootSet(src);
  if (!root) return undefined;
  const bindings = inputBindings(src, root, name);
  const first = bindings[0];
  const key = first?.pathKeys[1]; // inputBindings keeps only bindings that have it
  if (first === undefined || key === undefined) return undefined;
  return { name, range: rangeOf(key), binding: first, bindings };
}

// --- packages --------------------------------------------------------------------------------------------------

/** One package output written in flake.nix. */
export interface PackageBinding {
  readonly name: string;
  /** The system (`x86_64-linux`), or undefined when computed (`${system}`, `eachDefaultSystem`, `forAllSystems`). */
  readonly system: string | undefined;
  /** The binding's attribute path as written. */
  readonly keyRange: Range;
  /** The key segment naming the package. */
  readonly nameRange: Range;
  readonly binding: Binding;
}

const SYSTEM_NAME =
  /^[a-z0-9_]+-(linux|darwin|freebsd|netbsd|openbsd|windows|cygwin|none|wasi|redox|genode|mmixware|ghcjs|solaris|illumos)$/;

/** A path relative to the flake outputs, and whether it went through a function call (a per-system function). */
interface OutputPath {
  readonly keys: readonly AttrKey[];
  readonly computed: boolean;
}

/**
 * The bindings under `packages.<system>` in flake.nix: `packages.x86_64-linux.hello = …`,
 * `packages = { x86_64-linux = { hello = …; }; }`, `packages.${system}.hello`, and the per-system forms
 * (`eachDefaultSystem (system: { packages.hello = …; })`, `packages = forAllSystems (system: { hello = …; })`,
 * flake-parts' `perSystem = { … }: { packages.hello = …; }`), in `outputs = { self, … }: { … }` with or without
 * `let … in`.
 */
export function packageBindings(flake: SourceInput): PackageBinding[] {
  const src = sourceOf(flake);
  const root = flakeRootSet(src);
  if (!root) return [];
  // Bindings by index, read from the rows of the scan when there are: most bindings are not outputs, and the
  // questions asked of them (in `let`? which root? is the path's first key `outputs`?) need no objects.
  const store = storeOf(src);
  const count = store ? store.bindingCount : src.bindings.length;
  const bindingAt = (i: number): Binding => (store ? store.binding(i) : src.bindings[i]!); // i < count
  const memo = new Array<OutputPath | null | undefined>(count);
  const outputPath = (i: number): OutputPath | null => {
    const known = memo[i];
    if (known !== undefined) return known;
    memo[i] = null; // guards against cycles in damaged input
    let result: OutputPath | null = null;
    if (!(store ? (store.bindingField(i, B_FLAGS) & F_IN_LET) !== 0 : bindingAt(i).inLet)) {
      const top = store ? store.set(store.rootSet(i)) : pathRoot(bindingAt(i));
      if (top === root) {
        if (store ? store.firstKeyIs(store.pathHead(i), 'outputs') : isOutputs(bindingAt(i).pathKeys[0])) {
          result = { keys: bindingAt(i).pathKeys.slice(1), computed: false };
        }
      } else if (top.parent) {
        // Through a function: a per-system function's result (`system: { … }`), or any set given to a function
        // that makes the outputs (flake-parts' `mkFlake { … } { perSystem = …; }`). Not `mkDerivation { … }`.
        const base = outputPath(top.parent.index);
        if (base && (top.lambdaBody || base.keys.length === 0)) result = { keys: [...base.keys, ...bindingAt(i).pathKeys], computed: true };
      }
    }
    memo[i] = result;
    return result;
  };
  const out: PackageBinding[] = [];
  for (let i = 0; i < count; i++) {
    const p = outputPath(i);
    if (!p) continue;
    const b = bindingAt(i);
    let keys = p.keys;
    let computed = p.computed;
    if (isStatic(keys[0]) && keys[0].name === 'perSystem') {
      keys = keys.slice(1);
      computed = true;
    }
    if (!isStatic(keys[0]) || keys[0].name !== 'packages') continue;
    const rest = keys.slice(1);
    const [k0, k1] = rest;
    let system: string | undefined;
    let nameKey: AttrKey;
    if (k0 && k1 && rest.length === 2 && (!computed || k0.kind === 'dynamic' || SYSTEM_NAME.test(k0.name))) {
      system = k0.kind === 'dynamic' ? undefined : k0.name;
      nameKey = k1;
    } else if (k0 && rest.length === 1 && computed && !SYSTEM_NAME.test(k0.name)) {
      nameKey = k0;
    } else {
      continue;
    }
    if (!isStatic(nameKey)) continue;
    out.push({ name: nameKey.name, system, keyRange: b.keyRange, nameRange: rangeOf(nameKey), binding: b });
  }
  return out;
}

// --- follows ---------------------------------------------------------------------------------------------------

/** Why `planFollowsEdit` made no edit. */
export type FollowsRefusalCode =
  /** The input is not declared in flake.nix. */
  | 'not-found'
  /** The follows is already there with that target. */
  | 'unchanged'
  /** The inputs are written in a way the planner does not edit (a function call, an import, dynamic keys). */
  | 'unsupported'
  /** The text near the inputs does not parse, or the edit would not parse cleanly. */
  | 'damaged';

/** A refusal, with a sentence for people. */
export interface FollowsRefusal {
  readonly refused: string;
  readonly code: FollowsRefusalCode;
}

export type FollowsPlan = TextEdit | FollowsRefusal;

/** True when a plan is a refusal. */
export function isRefusal(plan: FollowsPlan): plan is FollowsRefusal {
  return 'refused' in plan;
}

const KEYWORDS: ReadonlySet<string> = new Set(['let', 'in', 'rec', 'with', 'inherit', 'if', 'then', 'else', 'assert', 'or']);

/** An attribute name as Nix source: bare when it is an identifier, else a quoted string. */
export function formatAttrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !KEYWORDS.has(name) ? name : formatString(name);
}

/** A Nix string literal with the given value. */
export function formatString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function refuse(code: FollowsRefusalCode, refused: string): FollowsRefusal {
  return { refused, code };
}

/** The line break the text uses. */
function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** The follows binding `inputs.<input>.inputs.<dep>.follows` of a scan, if any. */
function followsBinding(src: NixSource, root: AttrSet, input: string, dep: string): Binding | undefined {
  return inputBindings(src, root, input).find((b) => {
    const p = b.pathKeys;
    return p.length === 5 && p[2]?.name === 'inputs' && p[3]?.name === dep && p[4]?.name === 'follows' && p.every(isStatic);
  });
}

/** Where to insert a new binding after `anchor` (which ends with `;`): the next line when the rest of its line allows. */
function insertAfter(text: string, anchor: Binding, line: string): TextEdit {
  const eol = eolOf(text);
  const semi = anchor.range.end;
  let lineEnd = semi;
  while (lineEnd < text.length && text[lineEnd] !== '\n' && text[lineEnd] !== '\r') lineEnd++;
  const rest = text.slice(semi, lineEnd);
  const indent = isFirstOnLine(text, anchor.range.start) ? indentationAt(text, anchor.range.start) : undefined;
  if (indent !== undefined && /^\s*(#.*)?$/.test(rest)) {
    return { offset: lineEnd, deleteLength: 0, insertText: eol + indent + line };
  }
  return { offset: semi, deleteLength: 0, insertText: ` ${line}` };
}

/** Inserts a binding as the last one of `set`, matching the indentation of its bindings. */
function insertIntoSet(src: NixSource, set: AttrSet, line: string): TextEdit | FollowsRefusal {
  const text = src.text;
  const last = set.bindings[set.bindings.length - 1];
  if (last) {
    if (!last.terminated) return refuse('damaged', "the last binding of the input's set has no ';'");
    return insertAfter(text, last, line);
  }
  // An empty set: `X = { };` or a `{` and `}` on separate lines.
  const open = tokenEnd(src.tokens, set.openToken);
  const close = set.range.end - 1;
  if (!set.closed || close < open) return refuse('damaged', "the input's set is not closed");
  const between = text.slice(open, close);
  if (/[\r\n]/.test(between)) {
    const indent = indentationAt(text, close);
    return { offset: open, deleteLength: 0, insertText: `${eolOf(text)}${indent}  ${line}` };
  }
  return { offset: open, deleteLength: close - open, insertText: ` ${line} ` };
}

/**
 * Plans the edit that makes flake input `input` take its dependency `dep` from `target`
 * (`inputs.<input>.inputs.<dep>.follows = "<target>";`), written in the style flake.nix already uses:
 *   `inputs.X.url = …;`              → `inputs.X.inputs.dep.follows = "target";` on the next line
 *   `inputs = { X.url = …; };`       → `X.inputs.dep.follows = "target";` inside
 *   `inputs.X = { url = …; };` and `inputs = { X = { … }; };` → `inputs.dep.follows = "target";` inside X's set
 *   `X = { inputs = { … }; }`        → `dep.follows = "target";` inside X's `inputs` set
 * An existing follows for `dep` gets its value replaced. Refuses when the shape is not understood or the text
 * around is damaged, and when the edited text would scan worse or without the new follows.
 */
export function planFollowsEdit(text: string, input: string, dep: string, target: string): FollowsPlan {
  if (input === '' || dep === '') return refuse('not-found', 'no input or dependency name given');
  const src = scanNix(text);
  const root = flakeRootSet(src);
  if (!root) return refuse('unsupported', 'flake.nix is not written as an attribute set');
  const all = rootBindings(src, root).filter((b) => isStatic(b.pathKeys[0]) && b.pathKeys[0].name === 'inputs');
  if (all.length === 0) return refuse('not-found', 'flake.nix declares no inputs');
  for (const b of all) {
    if (b.pathKeys.length === 1 && (b.inherited || !setAtToken(src, b.valueHead))) {
      return refuse('unsupported', "the flake's inputs are not written as an attribute set");
    }
  }
  const mine = all.filter((b) => isStatic(b.pathKeys[1]) && b.pathKeys[1].name === input);
  if (mine.length === 0) {
    if (all.some((b) => b.pathKeys[1]?.kind === 'dynamic')) return refuse('unsupported', 'the inputs use computed names');
    return refuse('not-found', `input '${input}' is not declared in flake.nix`);
  }
  for (const b of mine) {
    if (b.inherited) return refuse('unsupported', `input '${input}' is inherited`);
    if (b.pathKeys.slice(0, 5).some((k) => k.kind === 'dynamic')) return refuse('unsupported', `input '${input}' uses computed names`);
    if (b.pathKeys.length === 2 && !setAtToken(src, b.valueHead)) {
      return refuse('unsupported', `input '${input}' is not written as an attribute set`);
    }
  }
  // Parse damage anywhere near the inputs makes any edit a guess.
  const region = all.reduce((r, b) => ({ start: Math.min(r.start, b.range.start), end: Math.max(r.end, b.range.end) }), {
    start: Infinity,
    end: -Infinity,
  });
  const outer = all.find((b) => b.pathKeys.length === 1);
  const zone = outer ? { start: Math.min(region.start, outer.range.start), end: Math.max(region.end, outer.range.end) } : region;
  if (src.problems.some((p) => p.end >= zone.start && p.start <= zone.end)) {
    return refuse('damaged', 'flake.nix does not parse cleanly around its inputs');
  }

  const edit = planEdit(src, root, mine, input, dep, target);
  if (isRefusal(edit)) return edit;
  return verify(src, edit, input, dep, target);
}

function planEdit(src: NixSource, root: AttrSet, mine: Binding[], input: string, dep: string, target: string): FollowsPlan {
  const quoted = formatString(target);
  const existing = followsBinding(src, root, input, dep);
  if (existing) {
    const span = tokenSpan(src, existing.valueRange);
    const lit = stringLiteralAt(src, span.start, span.end);
    if (lit?.static && lit.value === target) return refuse('unchanged', `input '${input}' already has '${dep}' follow "${target}"`);
    if (existing.valueRange.end <= existing.valueRange.start) return refuse('damaged', 'the existing follows has no value');
    const { start, end } = existing.valueRange;
    return { offset: start, deleteLength: end - start, insertText: quoted };
  }
  const follows = `inputs.${formatAttrName(dep)}.follows = ${quoted};`;
  // X's own `inputs = { … }` set (`X = { inputs = { nixpkgs.follows = …; }; }`): insert there.
  const depsDecl = mine.find((b) => b.pathKeys.length === 3 && b.pathKeys[2]?.name === 'inputs' && setAtToken(src, b.valueHead));
  const depsSet = depsDecl && setAtToken(src, depsDecl.valueHead);
  if (depsSet) return insertIntoSet(src, depsSet, `${formatAttrName(dep)}.follows = ${quoted};`);
  // `inputs.X = { … }` or `X = { … }` inside `inputs = { … }`: insert into X's set.
  const decl = mine.find((b) => b.pathKeys.length === 2 && setAtToken(src, b.valueHead));
  const set = decl && setAtToken(src, decl.valueHead);
  if (set) return insertIntoSet(src, set, follows);
  // Attribute paths: after the last binding that mentions X, repeating its prefix up to X.
  const anchor = mine.reduce((a, b) => (b.range.end > a.range.end ? b : a));
  if (!anchor.terminated) return refuse('damaged', `the binding for input '${input}' has no ';'`);
  const xKey = anchor.pathKeys[1];
  if (xKey === undefined || !anchor.keys.includes(xKey)) return refuse('unsupported', `input '${input}' is written in an unexpected shape`);
  const prefix = src.text.slice(anchor.keys[0]!.start, xKey.end); // keys holds xKey
  return insertAfter(src.text, anchor, `${prefix}.${follows}`);
}

/** Applies the edit, re-scans, and refuses unless the result is no worse and has the follows. */
function verify(src: NixSource, edit: TextEdit, input: string, dep: string, target: string): FollowsPlan {
  const after = scanNix(applyEdit(src.text, edit));
  if (after.problems.length > src.problems.length) return refuse('damaged', 'the edit would not parse cleanly');
  const root = flakeRootSet(after);
  const b = root && followsBinding(after, root, input, dep);
  if (!b) return refuse('damaged', 'the edited flake.nix would not have the follows');
  const span = tokenSpan(after, b.valueRange);
  const lit = stringLiteralAt(after, span.start, span.end);
  if (!lit?.static || lit.value !== target) return refuse('damaged', 'the edited follows would not have the target');
  if (after.bindings.length < src.bindings.length) return refuse('damaged', 'the edit would lose bindings');
  return edit;
}
