// What Nix says about a flake's sources — `nix flake metadata --json` and `nix flake archive --json --dry-run` — asked
// once per state of the flake's files (the key its outputs are cached by: git HEAD, the changed files, flake.lock,
// the settings that change the answer) and shared by the Build lenses and the dry-build's error mapping. Both copy
// the flake's source into the store, which for a large repository is the expensive part. A failed, cancelled or
// timed-out answer is not kept.
import type { Ctx } from '../context';
import type { Flake } from './flakes';

export type FlakeQuestion = 'metadata' | 'archive';

const ARGS: Record<FlakeQuestion, string[]> = { metadata: ['--json'], archive: ['--json', '--dry-run'] };

/**
 * `nix flake <question> --json … <ref>`, parsed; undefined when it fails, is cancelled or is not JSON. With `key` (the
 * state of the flake's files, e.g. the outputs' cache key), an answer for the same key is reused.
 */
export async function flakeAnswer(
  ctx: Ctx,
  flake: Flake,
  question: FlakeQuestion,
  ref: string,
  opts: { key?: string; signal?: AbortSignal },
): Promise<unknown> {
  // Per nix program too: another one (or a wrapper) may answer differently.
  const nix = await ctx.nix();
  const id = `${flake.uri.toString()}\0${question}\0${ref}\0${nix.ok ? nix.nix.path : ''}`;
  const kept = ctx.flakeAnswers.get(id);
  if (opts.key && kept?.key === opts.key) return kept.answer;
  const answer = ctx
    .nixJson(['flake', question], [...ARGS[question], ref], { cwd: flake.uri.fsPath, scope: flake.folder, signal: opts.signal })
    .catch(() => undefined);
  if (!opts.key) return answer;
  const entry = { key: opts.key, answer };
  ctx.flakeAnswers.set(id, entry);
  // Only an answer is kept: a failure (or a cancelled run) is asked again next time.
  void answer.then((v) => {
    if (v === undefined && ctx.flakeAnswers.get(id) === entry) ctx.flakeAnswers.delete(id);
  });
  return answer;
}
