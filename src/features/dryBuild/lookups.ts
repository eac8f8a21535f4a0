// What a failed run looks up after it ends, to place its errors: the flake's sources in the store (`nix flake
// metadata`, `nix flake archive --dry-run`) and where the host or home configuration is defined (`nix eval` of
// unsafeGetAttrPos). Each call takes a signal: the run's (a new run of the configuration, Cancel), the panel's (closed)
// and a deadline. A lookup that does not answer in time gives nothing, and the errors are shown with the paths Nix
// printed.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { attrPosition, flakeMapper, flakeRef, gitRootOf, type Mapper } from '../../workspace/mapping';
import { flakeAnswer } from '../../workspace/flakeInfo';
import type { LookupMiss } from './result';

/** One bound for all the lookups of a run: aborted by any of `signals` or when `ms` have passed. */
export class Deadline {
  private readonly timer = new AbortController();
  private readonly handle: ReturnType<typeof setTimeout>;
  readonly signal: AbortSignal;

  constructor(
    readonly ms: number,
    signals: readonly (AbortSignal | undefined)[],
  ) {
    this.handle = setTimeout(() => this.timer.abort(new DOMException('timed out', 'TimeoutError')), ms);
    this.signal = AbortSignal.any([this.timer.signal, ...signals.filter((s): s is AbortSignal => s !== undefined)]);
  }

  /** Why the lookups stopped short, if they did. */
  miss(): LookupMiss | undefined {
    if (!this.signal.aborted) return undefined;
    return { reason: this.timer.signal.aborted ? 'timeout' : 'cancelled', ms: this.ms };
  }

  dispose(): void {
    clearTimeout(this.handle);
  }
}

/** Resolves with `work`, or with `fallback` as soon as `signal` aborts (whatever `work` still waits for). */
export function orWhenAborted<T>(work: Promise<T>, signal: AbortSignal, fallback: T): Promise<T> {
  if (signal.aborted) return Promise.resolve(fallback);
  return new Promise<T>((resolve) => {
    const onAbort = () => resolve(fallback);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(fallback);
      },
    );
  });
}

/**
 * Maps the paths in a flake's errors to workspace files: the flake's source and inputs in the store (Nix's answers
 * kept for `key`, the state of the flake's files), so that
 * positions in inputs are labelled ("nixpkgs: lib/…"). Without an answer from Nix in time, by the path relative to
 * the git root (and the lock file), which needs no process.
 */
export async function errorMapper(ctx: Ctx, flake: Flake, signal: AbortSignal, key?: string): Promise<{ map: Mapper; root: string }> {
  const nix = await ctx.requireNix();
  const ref = await orWhenAborted(
    flakeRef(ctx, flake).catch(() => undefined),
    signal,
    undefined,
  );
  const [metadata, archive] = ref
    ? await Promise.all([
        flakeAnswer(ctx, flake, 'metadata', ref, { key, signal }),
        flakeAnswer(ctx, flake, 'archive', ref, { key, signal }),
      ])
    : [undefined, undefined];
  return { map: await flakeMapper(ctx, flake, nix.storeDir, metadata, archive), root: await gitRootOf(ctx, flake) };
}

/**
 * Where a configuration is defined, `attrPath` being `[nixosConfigurations|homeConfigurations, <name>]`
 * (unsafeGetAttrPos: forces nothing), when it is in the workspace.
 */
export async function hostPosition(
  ctx: Ctx,
  flake: Flake,
  attrPath: readonly [string, string],
  map: Mapper,
  signal: AbortSignal,
): Promise<{ uri: vscode.Uri; range: vscode.Range } | undefined> {
  if (signal.aborted) return undefined;
  const host = attrPath[1];
  const at = await attrPosition(ctx, flake, attrPath, { signal, mapper: map });
  if (!at || signal.aborted) return undefined;
  // The name as written: quoted when it is not a plain identifier.
  const width = host.length + (/^[A-Za-z_][\w'-]*$/.test(host) ? 0 : 2);
  return { uri: at.uri, range: new vscode.Range(at.range.start, at.range.start.translate(0, width)) };
}
