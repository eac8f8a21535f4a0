// "Ready for offline?": `nix build --dry-run --offline` of an installable with substitution limited to the given
// media (`--option substituters 'file://…'`; `--offline` alone turns substitution off, so it is turned back on for
// them), read into a clear answer: nothing to fetch, what would come from the media, and what is missing (would be
// built, or cannot be). Nothing reaches the network. No `vscode` import.
import { parseDryRun } from '../log/dryRun';
import { CancelledError } from '../nix/process';
import { storePathName } from '../nix/store';
import { AirgapError, runNix, type NixRunner } from './nix';
import { mediumUri } from './medium';

export interface ReadinessOptions {
  /** Media folders (paths Nix can read in a store URL: see nixPathFor) to substitute from; none: the store alone. */
  media?: readonly string[];
  /** Public keys trusted besides the store's (for flake inputs substituted while evaluating). */
  trustedKeys?: readonly string[];
  /** Another store (`--store`), for tests. */
  store?: string;
}

/** The arguments after `nix build`. */
export function readinessArgs(installables: readonly string[], opts: ReadinessOptions = {}): string[] {
  const keys = (opts.trustedKeys ?? []).filter((k) => /^[^\s:]+:[A-Za-z0-9+/]+={0,2}$/.test(k));
  return [
    '--dry-run',
    '--offline',
    '--option',
    'substitute',
    (opts.media ?? []).length ? 'true' : 'false',
    '--option',
    'substituters',
    (opts.media ?? []).map((m) => mediumUri(m)).join(' '),
    ...(keys.length ? ['--option', 'extra-trusted-public-keys', keys.join(' ')] : []),
    ...(opts.store ? ['--store', opts.store] : []),
    ...installables,
  ];
}

export interface Readiness {
  /** Nothing would be built and everything evaluates: it works offline (with the media, when given). */
  ready: boolean;
  /** Store paths that would be copied from the media. */
  fromMedia: string[];
  /** Derivations that would have to be built: their outputs are missing. */
  toBuild: string[];
  /** Paths nobody knows how to make (missing sources). */
  unbuildable: string[];
  /** The evaluation failed offline (an input that is not in the store, …): its message. */
  evalError?: string;
  /** A sentence for people. */
  summary: string;
}

/** Reads the dry-run's stderr (and whether it failed) into an answer. */
export function readReadiness(stderrLines: readonly string[], failure: string | undefined, mediaCount: number): Readiness {
  if (failure !== undefined) {
    const input =
      /Git repository "([^"]+)" does not exist|'([^']+)' does not appear to be a git repository|unable to download '([^']+)'|cannot (?:fetch|download)[^:]*'([^']+)'/.exec(
        failure,
      );
    const which = input?.slice(1).find((x) => x);
    return {
      ready: false,
      fromMedia: [],
      toBuild: [],
      unbuildable: [],
      evalError: failure,
      summary: which
        ? `Not ready: the flake does not evaluate offline; ${which} would be fetched from the network (an input missing from the store${mediaCount ? ' and the media' : ''}).`
        : 'Not ready: the flake does not evaluate offline.',
    };
  }
  const plan = parseDryRun(stderrLines) ?? { builds: [], fetches: [], unbuildable: [] };
  const ready = plan.builds.length === 0 && plan.unbuildable.length === 0;
  const names = (ps: readonly string[]) => ps.slice(0, 3).map(storePathName).join(', ') + (ps.length > 3 ? ', …' : '');
  const summary = ready
    ? plan.fetches.length
      ? `Ready: ${plan.fetches.length} store path${plan.fetches.length === 1 ? '' : 's'} would come from the media, nothing from the network.`
      : 'Ready: nothing to fetch; everything is in the store.'
    : `Not ready: ${plan.builds.length ? `${plan.builds.length} derivation${plan.builds.length === 1 ? '' : 's'} would be built (${names(plan.builds)})` : ''}${plan.builds.length && plan.unbuildable.length ? '; ' : ''}${plan.unbuildable.length ? `${plan.unbuildable.length} path${plan.unbuildable.length === 1 ? '' : 's'} cannot be made (${names(plan.unbuildable)})` : ''}.`;
  return { ready, fromMedia: plan.fetches, toBuild: plan.builds, unbuildable: plan.unbuildable, summary };
}

/** Checks readiness. Throws CancelledError when cancelled; an evaluation failure is part of the answer. */
export async function checkReadiness(
  r: NixRunner,
  installables: readonly string[],
  opts: ReadinessOptions & { signal?: AbortSignal } = {},
): Promise<Readiness> {
  // The user's own `--offline` setting is implied; their extra arguments still apply.
  const runner = { ...r, options: { ...r.options, offline: false } };
  try {
    const res = await runNix(runner, ['build'], readinessArgs(installables, opts), {
      signal: opts.signal,
      flakeOptions: true,
      what: 'The readiness check',
    });
    return readReadiness(res.stderrLines, undefined, opts.media?.length ?? 0);
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    if (e instanceof AirgapError) return readReadiness([], e.output, opts.media?.length ?? 0);
    throw e;
  }
}
