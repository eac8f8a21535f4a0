// Merges the lenses found without Nix (instant) with those placed by evaluation (exact). No `vscode` import.

import { sourceOf, type NixSource, type Range, type SourceInput } from '../source';
import { bindingByKey, scanOfLenses, type LensAnchor, type LensGuess, type SyntacticLens } from './anchors';
import type { LensInstallable, SemanticLens } from './semantic';

/** A lens to show. */
export type ReconciledLens =
  /** Evaluation has not answered for this file yet: a guess from the source. */
  | {
      readonly state: 'pending';
      readonly kind: LensAnchor['kind'];
      readonly range: Range;
      readonly key: string;
      readonly guess?: LensGuess;
    }
  /** Placed by evaluation, at its range in the current text. */
  | {
      readonly state: 'resolved';
      readonly kind: LensAnchor['kind'];
      readonly range: Range;
      readonly key: string;
      readonly installables: readonly LensInstallable[];
    };

/**
 * The lenses of one file. `syntactic` comes from the current text (`lensRanges`/`syntacticLenses`); `semantic` is
 * what evaluation placed in this file (an empty list when it placed nothing), or undefined while it has not answered.
 *  - Before evaluation: the syntactic lenses, pending.
 *  - After: only semantic lenses. Each takes the range of the syntactic lens with the same key, so it follows edits
 *    made since evaluation; a syntactic lens no semantic lens matches is dropped (a builder call that is no output).
 *    A semantic lens on a call the current text no longer has is dropped. One on another binding is found again
 *    by its key in `current` (the current text or its scan) when given; without it, and for bare positions, it
 *    keeps its own range. When `syntactic` came from `syntacticLenses` of the same text, its scan is used: `current`
 *    is not scanned again.
 */
export function reconcile(
  syntactic: readonly (LensAnchor | SyntacticLens)[],
  semantic: readonly SemanticLens[] | undefined,
  current?: SourceInput,
): ReconciledLens[] {
  if (semantic === undefined) {
    return syntactic.map((s) => ({
      state: 'pending' as const,
      kind: s.kind,
      range: s.range,
      key: s.key,
      ...('guess' in s ? { guess: s.guess } : {}),
    }));
  }
  const twin = twinFinder(syntactic);
  let src: NixSource | undefined;
  const out: ReconciledLens[] = [];
  for (const lens of semantic) {
    let range: Range | undefined = twin(lens.key)?.range;
    if (!range && lens.kind === 'binding') {
      if (current === undefined) range = lens.range;
      else {
        const b = bindingByKey((src ??= scanOf(syntactic, current)), lens.key);
        if (b) range = { start: b.keyRange.start, end: b.keyRange.end };
      }
    }
    if (!range && lens.kind === 'position') {
      const length = current === undefined ? Infinity : typeof current === 'string' ? current.length : current.text.length;
      if (lens.range.start <= length) range = lens.range;
    }
    if (!range) continue;
    out.push({ state: 'resolved', kind: lens.kind, range, key: lens.key, installables: lens.installables });
  }
  out.sort((a, b) => a.range.start - b.range.start);
  return out;
}

/** How far past the last twin the next is looked for in order. */
const LOOKAHEAD = 8;
/** Lenses without a twin near there looked for in the whole list, before all the keys are put in a map. */
const MISSES_BEFORE_MAP = 4;

/**
 * Finds the syntactic lens with a key. Both lists are in text order and mostly name the same anchors, so the twin of
 * the next semantic lens is nearly always a little after the last one found: it is looked for there first. A lens
 * without a twin there (one that has none, such as a formatter taken from nixpkgs) is looked for in the whole list;
 * only after a few of those is a map of every key built (their strings are made here, and would all be hashed).
 */
function twinFinder(syntactic: readonly LensAnchor[]): (key: string) => LensAnchor | undefined {
  let next = 0;
  let misses = 0;
  let byKey: Map<string, LensAnchor> | undefined;
  return (key) => {
    if (byKey) return byKey.get(key);
    const end = Math.min(syntactic.length, next + LOOKAHEAD);
    for (let i = next; i < end; i++) {
      const s = syntactic[i]!;
      if (s.key === key) {
        next = i + 1;
        return s;
      }
    }
    if (++misses <= MISSES_BEFORE_MAP) {
      for (let i = 0; i < syntactic.length; i++) {
        const s = syntactic[i]!;
        if (s.key === key) {
          next = i + 1;
          return s;
        }
      }
      return undefined;
    }
    byKey = new Map();
    for (const s of syntactic) byKey.set(s.key, s);
    return byKey.get(key);
  };
}

/** The scan of `current`: the one `syntactic` was found in when it is of the same text, else a new one. */
function scanOf(syntactic: readonly (LensAnchor | SyntacticLens)[], current: SourceInput): NixSource {
  const known = scanOfLenses(syntactic);
  if (known && (typeof current === 'string' ? known.text === current : known === current)) return known;
  return sourceOf(current);
}
