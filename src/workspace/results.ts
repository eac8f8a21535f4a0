// The last results built of each output (a build from the tree, a lens, the palette, or the results commands), so
// that "Diff with Previous Build" compares with whatever was built before, however it was built.
import type { Ctx } from '../context';
import { targetKey, type OutputTarget } from './targets';

const LAST_KEY = 'nixFlakes.results.lastBuilds';
const MAX_REMEMBERED = 50;

interface Remembered {
  current: string;
  previous?: string;
}

/** Remembers a result of an output; returns the last different one before it. */
export function rememberResult(ctx: Ctx, t: Pick<OutputTarget, 'flake' | 'attrPath'>, path: string): string | undefined {
  const all = ctx.extension.workspaceState.get<Record<string, Remembered>>(LAST_KEY, {});
  const key = targetKey(t);
  const was = all[key];
  const next: Remembered = !was ? { current: path } : was.current === path ? was : { current: path, previous: was.current };
  const entries = Object.entries({ ...all, [key]: next }).slice(-MAX_REMEMBERED);
  void ctx.extension.workspaceState.update(LAST_KEY, Object.fromEntries(entries));
  return next.previous;
}
