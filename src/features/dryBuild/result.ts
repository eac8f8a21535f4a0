// What a result card shows of a finished run: the plan, errors and log cut to the protocol's bounds, and what was
// left out on the way (by the process layer, the run's message log, the log tail, these bounds, the lookup of the
// errors' places) — said on the card, never silent. No `vscode` import.
import { fitList, fitText, LIMITS, type ErrorView, type Omitted, type RunResult } from '../../protocol/dryBuild';
import type { DryBuildResult } from './runner';

/** Why the errors' places were not looked up (see `Omitted.locations`). */
export interface LookupMiss {
  reason: 'timeout' | 'cancelled';
  /** The lookup's time bound. */
  ms: number;
}

/** The card's results. `errors` are the views of the run's first errors (`result.errors`: the rest are counted). */
export function cardResult(result: DryBuildResult, errors: readonly ErrorView[], miss?: LookupMiss): RunResult {
  const paths = (list: readonly string[]) => fitList(list, LIMITS.items).map((p) => fitText(p, LIMITS.storePath));
  const lost = result.lost;
  const log = result.log.map((l) => fitText(l, LIMITS.logLine, 'log'));
  const o: Omitted = {};
  const count = (key: Exclude<keyof Omitted, 'unreadReason' | 'locations'>, n: number | undefined) => {
    if (n && n > 0) o[key] = Math.min(n, LIMITS.count);
  };
  count('errors', result.errors.length - Math.min(errors.length, LIMITS.errors));
  count('builds', result.plan.builds.length - LIMITS.items);
  count('fetches', result.plan.fetches.length - LIMITS.items);
  count('logLines', (lost?.logLines ?? 0) + Math.max(0, log.length - LIMITS.logLines));
  count('messages', lost?.messages);
  count('errorMessages', lost?.errorMessages);
  count('stderrLines', lost?.truncated?.stderrLines);
  count('longLines', lost?.truncated?.longLines);
  if (lost?.dropped) {
    count('unreadLines', lost.dropped.lines);
    o.unreadReason = fitText(lost.dropped.firstError, 300);
  }
  if (miss) {
    o.locations = miss.reason;
    if (miss.reason === 'timeout') o.lookupMs = Math.max(0, Math.round(miss.ms));
  }
  return {
    builds: paths(result.plan.builds),
    fetches: paths(result.plan.fetches),
    ...(result.plan.downloadBytes !== undefined ? { downloadBytes: result.plan.downloadBytes } : {}),
    ...(result.plan.unpackedBytes !== undefined ? { unpackedBytes: result.plan.unpackedBytes } : {}),
    errors: fitList(errors, LIMITS.errors),
    log: fitList(log, LIMITS.logLines, true),
    ...(Object.keys(o).length ? { omitted: o } : {}),
  };
}
