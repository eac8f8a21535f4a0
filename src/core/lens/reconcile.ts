// Merges the lenses found without Nix (instant) with those placed by evaluation (exact). No `vscode` import.

import { sourceOf, type Range, type SourceInput } from '../source';
import { formatBindingKey, type LensAnchor, type LensGuess, type SyntacticLens } from './anchors';
import type { LensInstallable, SemanticLens } from './semantic';

/** A lens to show. */
export type ReconciledLens =
  /** Evaluation has not answered for this file yet: a guess from the source. */
  | { readonly state: 'pending'; readonly kind: LensAnchor['kind']; readonly range: Range; readonly key: string; readonly guess?: LensGuess }
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
 *    keeps its own range.
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
  const byKey = new Map<string, LensAnchor>();
  for (const s of syntactic) byKey.set(s.key, s);
  let bindingKeys: Map<string, Range> | undefined;
  const out: ReconciledLens[] = [];
  for (const lens of semantic) {
    let range: Range | undefined = byKey.get(lens.key)?.range;
    if (!range && lens.kind === 'binding') {
      if (current === undefined) range = lens.range;
      else range = (bindingKeys ??= keyedBindings(current)).get(lens.key);
    }
    if (!range && lens.kind === 'position') {
      const length = current === undefined ? Infinity : sourceOf(current).text.length;
      if (lens.range.start <= length) range = lens.range;
    }
    if (!range) continue;
    out.push({ state: 'resolved', kind: lens.kind, range, key: lens.key, installables: lens.installables });
  }
  out.sort((a, b) => a.range.start - b.range.start);
  return out;
}

/** Every binding's key and key range. */
function keyedBindings(input: SourceInput): Map<string, Range> {
  const src = sourceOf(input);
  const seen = new Map<string, number>();
  const out = new Map<string, Range>();
  for (const b of src.bindings) {
    const path = b.path.join('\0');
    const n = seen.get(path) ?? 0;
    seen.set(path, n + 1);
    out.set(formatBindingKey(b.path, n), { start: b.keyRange.start, end: b.keyRange.end });
  }
  return out;
}
