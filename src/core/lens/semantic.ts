// Build lenses from what Nix said about each output (query.ts): which workspace file and which derivation expression
// defines it, and the installables that build it. No `vscode` import; files are read through an injected function.

import type { MappedFile } from '../errors/storePath';
import { installable, shortInstallable } from '../flake/installable';
import { DEFAULT_BUILDERS, setAtToken, type AttrSet, type Binding, type LineIndex, type NixSource, type SourceInput } from '../source';
import { bindingAnchor, callAnchor, positionAnchor, sourceAnchors, type LensAnchor, type SourceAnchors } from './anchors';
import { BUILDABLE_CATEGORIES, isBuildableCategory, type BuildableCategory, type PositionRecord } from './query';

/** How the lens was placed. */
export type Placement =
  /** `meta.position` fell inside a builder call. */
  | 'metaPosition'
  /** `unsafeGetAttrPos`: the binding (or the builder call that is its value). */
  | 'attrPos'
  /**
   * `meta.position` fell outside every known builder call: the argument set of the function called there (whatever
   * it is called), else that line. First when `attrPos` is in another file (or nowhere), a last resort otherwise.
   */
  | 'metaSet';

/** One installable a lens builds. */
export interface LensInstallable {
  readonly attrPath: readonly string[];
  readonly category: BuildableCategory;
  /** The output's own name: the last segment (the system for `formatter.<system>`). */
  readonly name: string;
  /** For `nix` command lines: `flakeRef#packages.x86_64-linux.hello` (the full path, percent-encoded). */
  readonly installable: string;
  /** What the lens offers first: `develop` for dev shells (which can be built too), `build` for the rest. */
  readonly command: 'build' | 'develop';
  /** For people, for `command`: `.#hello`, `.#checks.x86_64-linux.tool`, `.#default` (a dev shell, developing). */
  readonly display: string;
  /** For people, when building: `.#hello`, `.#devShells.x86_64-linux.default`. */
  readonly buildDisplay: string;
  /** It has `meta.mainProgram`, so `nix run <installable>` runs it (packages only). */
  readonly runnable: boolean;
  readonly mainProgram?: string;
  readonly placement: Placement;
}

/** A lens placed by evaluation. */
export interface SemanticLens extends LensAnchor {
  /** The workspace file (as the store mapper gave it). */
  readonly path: string;
  /** 0-based line of `range.start` in the text `sources` gave. */
  readonly line: number;
  /** Every output this expression defines, the one named like the binding first, `default` last. */
  readonly installables: readonly LensInstallable[];
}

export interface SemanticLensOptions {
  readonly records: readonly PositionRecord[];
  /** Store path → workspace file (`createStoreMapper`). A position in an input or outside the workspace gets no lens. */
  readonly map: (file: string) => MappedFile;
  /** The text of a workspace file (or its cached scan), undefined when it cannot be read. */
  readonly sources: (path: string) => SourceInput | undefined;
  /** The flake reference for command lines (`/home/u/proj`, `git+file:///repo?dir=sub`). */
  readonly flakeRef: string;
  /** The flake reference shown to people (default `.`). */
  readonly displayRef?: string;
  readonly system: string;
  readonly builders?: readonly string[];
}

/** Per-file state: the scan, the keyed calls, and each call's line span. */
interface FileContext {
  readonly anchors: SourceAnchors;
  readonly lines: LineIndex;
  /** For call i: first and last 0-based line, from its binding's key (when it has one) to its end. */
  readonly spans: Int32Array;
}

function fileContext(input: SourceInput, builders: readonly string[]): FileContext {
  const anchors = sourceAnchors(input, builders);
  const lines = anchors.src.lines();
  const spans = new Int32Array(anchors.calls.length * 2);
  anchors.calls.forEach((c, i) => {
    spans[2 * i] = lines.lineAt(Math.min(c.range.start, c.binding?.keyRange.start ?? Infinity));
    spans[2 * i + 1] = lines.lineAt(c.range.end);
  });
  return { anchors, lines, spans };
}

/**
 * The innermost builder call whose lines contain the 1-based `line` (the rule of the scanner's
 * `enclosingDerivation`, over the calls found once per file).
 */
function enclosingCall(ctx: FileContext, line: number): number | undefined {
  const target = Math.floor(line) - 1;
  if (!(target >= 0) || target >= ctx.lines.lineCount) return undefined;
  let best: number | undefined;
  let bestSize = Infinity;
  const { calls } = ctx.anchors;
  for (let i = 0; i < calls.length; i++) {
    if (ctx.spans[2 * i]! > target || ctx.spans[2 * i + 1]! < target) continue; // two per call
    const c = calls[i]!;
    const size = c.range.end - Math.min(c.range.start, c.binding?.keyRange.start ?? Infinity);
    if (size < bestSize) {
      best = i;
      bestSize = size;
    }
  }
  return best;
}

/** The UTF-16 offset of Nix's 1-based (byte-counted) column on a line, clamped to the line. */
function offsetOfColumn(text: string, lineStart: number, lineEnd: number, column: number): number {
  let bytes = 1;
  let i = lineStart;
  while (i < lineEnd && bytes < column) {
    const c = text.codePointAt(i) ?? 0;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += c >= 0x10000 ? 2 : 1;
  }
  return i;
}

/** The first binding whose key starts at or after `offset` (bindings are in text order of their keys). */
function firstBindingFrom(src: NixSource, offset: number): number {
  const b = src.bindings;
  let lo = 0;
  let hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (b[mid]!.keyRange.start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The anchor for an `unsafeGetAttrPos` position: the binding there (or the builder call that is its value). */
function anchorAtAttrPos(ctx: FileContext, line: number, column: number, name: string): LensAnchor | undefined {
  const { src } = ctx.anchors;
  const l = line - 1;
  if (l < 0 || l >= ctx.lines.lineCount) return undefined;
  const lineStart = ctx.lines.lineStart(l);
  const lineEnd = ctx.lines.lineEnd(l);
  const offset = offsetOfColumn(src.text, lineStart, lineEnd, column);
  let exact: Binding | undefined;
  let named: Binding | undefined;
  let first: Binding | undefined;
  for (let i = firstBindingFrom(src, lineStart); i < src.bindings.length; i++) {
    const b = src.bindings[i]!;
    if (b.keyRange.start > lineEnd) break;
    first ??= b;
    const last = b.keys[b.keys.length - 1]?.name;
    if (last === name) named ??= b;
    if (b.keyRange.start === offset && (!exact || last === name)) exact = b;
  }
  const b = exact ?? named ?? first;
  if (!b) return positionAnchor(offset);
  const call = ctx.anchors.callByBinding.get(b.index) ?? inheritedCall(ctx, b);
  return call !== undefined ? callAnchor(ctx.anchors, call) : bindingAnchor(src, b);
}

/**
 * For `inherit hello;` in the body of `let hello = mkDerivation { … }; in …`: the let-bound builder call. The scope
 * of a `let` is taken as its binding's value (or the rest of the file), which is enough to pick the nearest one.
 */
function inheritedCall(ctx: FileContext, b: Binding): number | undefined {
  if (!b.inherited || b.inheritFrom || b.keys.length !== 1) return undefined;
  const { src } = ctx.anchors;
  const at = b.keyRange.start;
  const name = b.keys[0]!.name;
  let best: Binding | undefined;
  for (const set of src.sets) {
    if (set.kind !== 'let' || set.range.end > at) continue;
    const scopeEnd = set.parent ? set.parent.valueRange.end : src.text.length;
    if (at >= scopeEnd || (best && set.range.start < best.set.range.start)) continue;
    const bound = set.bindings.find((x) => x.keys.length === 1 && x.keys[0]?.name === name && !x.inherited);
    if (bound) best = bound;
  }
  return best ? ctx.anchors.callByBinding.get(best.index) : undefined;
}

/**
 * A last resort for a `meta.position` line outside every known builder call: the argument set of the function call
 * at that line (the smallest set overlapping it, climbing out of `meta = { … }`), anchored at the binding whose value
 * that call is, else at the set. Undefined when there is no set passed to a function there.
 */
function anchorAtMetaSet(ctx: FileContext, line: number): LensAnchor | undefined {
  const { src } = ctx.anchors;
  const l = line - 1;
  if (l < 0 || l >= ctx.lines.lineCount) return undefined;
  const start = ctx.lines.lineStart(l);
  const end = ctx.lines.lineEnd(l);
  // The smallest set that overlaps the line (`viaMap = mkTool { name = "x"; };` as well as a line inside a set).
  let set: AttrSet | undefined;
  for (const s of src.sets) {
    if (s.kind === 'let' || s.range.start >= end || s.range.end <= start) continue;
    if (!set || s.range.end - s.range.start < set.range.end - set.range.start) set = s;
  }
  while (set && set.direct && set.parent) set = set.parent.set;
  // Only a set given to a function: not what a function returns, nor the file's own value.
  if (!set || set.direct || set.lambdaBody || set.kind === 'let' || set === setAtToken(src, src.head)) return undefined;
  if (set.parent) {
    const call = ctx.anchors.callByBinding.get(set.parent.index);
    return call !== undefined ? callAnchor(ctx.anchors, call) : bindingAnchor(src, set.parent);
  }
  return positionAnchor(set.range.start);
}

/** A bare position at the first non-blank character of a 1-based line (the definition Nix named, as a last resort). */
function lineAnchor(ctx: FileContext, line: number): LensAnchor | undefined {
  const l = line - 1;
  if (l < 0 || l >= ctx.lines.lineCount) return undefined;
  const start = ctx.lines.lineStart(l);
  const text = ctx.anchors.src.text.slice(start, ctx.lines.lineEnd(l));
  return positionAnchor(start + (text.length - text.trimStart().length));
}

/** The name a lens's expression goes by: its binding's last key, else the call's `pname` or `name`. */
function anchorName(ctx: FileContext, anchor: LensAnchor): string | undefined {
  const { src, calls, callKeys } = ctx.anchors;
  if (anchor.kind === 'call') {
    const c = calls[callKeys.indexOf(anchor.key)];
    if (!c) return undefined;
    return c.binding ? c.binding.path[c.binding.path.length - 1] : (c.pname ?? c.name);
  }
  if (anchor.kind === 'binding') {
    const i = firstBindingFrom(src, anchor.range.start);
    const b = src.bindings[i];
    return b && b.keyRange.start === anchor.range.start ? b.path[b.path.length - 1] : undefined;
  }
  return undefined;
}

/** The outputs' installables, for a record; undefined when it is not a buildable output or cannot be written. */
function toInstallable(o: SemanticLensOptions, r: PositionRecord, placement: Placement): LensInstallable | undefined {
  const [category] = r.attrPath;
  if (!isBuildableCategory(category)) return undefined;
  const full = installable(o.flakeRef, r.attrPath);
  if (!full.ok) return undefined;
  const displayRef = o.displayRef ?? '.';
  const develop = category === 'devShells' || category === 'devShell';
  const command = develop ? 'develop' : 'build';
  const buildDisplay = shortInstallable(displayRef, r.attrPath, { system: o.system, command: 'build' });
  const runnable = (category === 'packages' || category === 'defaultPackage') && r.mainProgram !== undefined;
  return {
    attrPath: r.attrPath,
    category,
    name: r.attrPath[r.attrPath.length - 1]!, // it starts with the category
    installable: full.value,
    command,
    display: develop ? shortInstallable(displayRef, r.attrPath, { system: o.system, command: 'develop' }) : buildDisplay,
    buildDisplay,
    runnable,
    ...(runnable ? { mainProgram: r.mainProgram } : {}),
    placement,
  };
}

/** Orders a lens's installables: named like the expression first, then by category, `default` last, then by name. */
function installableOrder(name: string | undefined): (a: LensInstallable, b: LensInstallable) => number {
  const rank = (i: LensInstallable) => BUILDABLE_CATEGORIES.indexOf(i.category);
  return (a, b) =>
    Number(a.name !== name) - Number(b.name !== name) ||
    rank(a) - rank(b) ||
    Number(a.name === 'default') - Number(b.name === 'default') ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
    a.attrPath.join('\0').localeCompare(b.attrPath.join('\0'));
}

/**
 * Places a lens for every record whose definition is in a workspace file:
 *  1. `meta.position` (the `description`, `version` or `name` line) → the innermost builder call holding that line;
 *  2. `meta.position` in a workspace file that `attrPos` is not in (a package in a file of its own, built by a
 *     function the scanner does not know: `{ mkDrv }: mkDrv { … }`, a flake-parts `perSystem` package) → the
 *     argument set of the call at that line (its binding, or the set), else the line itself: the evaluation placed
 *     the derivation there, so that file shows its lens, whatever the builder is called;
 *  3. else `attrPos` → the binding there, or the builder call that is its value;
 *  4. else `meta.position` inside the argument set of an unknown function → that call's binding (or the set).
 * A position in an input or outside the workspace gives no lens. Outputs defined by the same expression share one
 * lens (`default = self.packages.x86_64-linux.hello` joins `hello`'s). Returns the lenses per workspace file, in
 * text order; a file with none is absent.
 */
export function semanticLenses(o: SemanticLensOptions): Map<string, SemanticLens[]> {
  const builders = o.builders ?? DEFAULT_BUILDERS;
  const files = new Map<string, FileContext | null>();
  const context = (path: string): FileContext | undefined => {
    let ctx = files.get(path);
    if (ctx === undefined) {
      const input = o.sources(path);
      ctx = input === undefined ? null : fileContext(input, builders);
      files.set(path, ctx);
    }
    return ctx ?? undefined;
  };
  const workspaceFile = (file: string): string | undefined => {
    const m = o.map(file);
    return m.kind === 'workspace' ? m.path : undefined;
  };

  const groups = new Map<string, { path: string; ctx: FileContext; anchor: LensAnchor; items: LensInstallable[] }>();
  const done = new Set<string>();
  for (const r of o.records) {
    const id = JSON.stringify(r.attrPath);
    if (done.has(id) || !isBuildableCategory(r.attrPath[0])) continue;
    done.add(id);
    let placed: { path: string; ctx: FileContext; anchor: LensAnchor; placement: Placement } | undefined;
    const metaPath = r.metaPosition && workspaceFile(r.metaPosition.file);
    const metaCtx = metaPath !== undefined ? context(metaPath) : undefined;
    if (r.metaPosition && metaPath !== undefined && metaCtx) {
      const call = enclosingCall(metaCtx, r.metaPosition.line);
      if (call !== undefined)
        placed = { path: metaPath, ctx: metaCtx, anchor: callAnchor(metaCtx.anchors, call), placement: 'metaPosition' };
    }
    if (!placed && r.metaPosition && metaPath !== undefined && metaCtx && (!r.attrPos || workspaceFile(r.attrPos.file) !== metaPath)) {
      const anchor = anchorAtMetaSet(metaCtx, r.metaPosition.line) ?? lineAnchor(metaCtx, r.metaPosition.line);
      if (anchor) placed = { path: metaPath, ctx: metaCtx, anchor, placement: 'metaSet' };
    }
    if (!placed && r.attrPos) {
      const path = workspaceFile(r.attrPos.file);
      const ctx = path !== undefined ? context(path) : undefined;
      const name = r.attrPath[r.attrPath.length - 1]!; // it starts with a category (above)
      const anchor = ctx && anchorAtAttrPos(ctx, r.attrPos.line, r.attrPos.column, name);
      if (path !== undefined && ctx && anchor) placed = { path, ctx, anchor, placement: 'attrPos' };
    }
    if (!placed && r.metaPosition && metaPath !== undefined && metaCtx) {
      const anchor = anchorAtMetaSet(metaCtx, r.metaPosition.line);
      if (anchor) placed = { path: metaPath, ctx: metaCtx, anchor, placement: 'metaSet' };
    }
    if (!placed) continue;
    const item = toInstallable(o, r, placed.placement);
    if (!item) continue;
    const key = `${placed.path}\0${placed.anchor.key}`;
    const group = groups.get(key);
    if (group) group.items.push(item);
    else groups.set(key, { path: placed.path, ctx: placed.ctx, anchor: placed.anchor, items: [item] });
  }

  const out = new Map<string, SemanticLens[]>();
  for (const g of groups.values()) {
    g.items.sort(installableOrder(anchorName(g.ctx, g.anchor)));
    const lens: SemanticLens = { ...g.anchor, path: g.path, line: g.ctx.lines.lineAt(g.anchor.range.start), installables: g.items };
    const list = out.get(g.path);
    if (list) list.push(lens);
    else out.set(g.path, [lens]);
  }
  for (const list of out.values()) list.sort((a, b) => a.range.start - b.range.start);
  return out;
}
