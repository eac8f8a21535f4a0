import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isToWebview, LIMITS, type ErrorView } from '../../src/protocol/dryBuild';
import { cardResult } from '../../src/features/dryBuild/result';
import type { DryBuildResult } from '../../src/features/dryBuild/runner';
import { omittedLines } from '../../webview/format';

const DRV = (i: number) => `/nix/store/0c5w7fd2xqkhcc6zgp0vi4hx0bp9x7lz-p${i}.drv`;

function result(over: Partial<DryBuildResult> = {}): DryBuildResult {
  return {
    status: 'failed',
    plan: { builds: [], fetches: [], unbuildable: [] },
    errors: [],
    log: [],
    elapsedMs: 10,
    command: 'nix build --dry-run',
    ...over,
  };
}

const view = (i: number): ErrorView => ({ message: `error ${i}`, kind: 'other', trace: [] });
const finished = (r: DryBuildResult, views: ErrorView[], miss?: Parameters<typeof cardResult>[2]) => ({
  type: 'runFinished',
  runId: 'r1',
  state: r.status,
  elapsedMs: r.elapsedMs,
  ...cardResult(r, views, miss),
});

test('a run that left nothing out has no `omitted`, and its card says nothing about it', () => {
  const card = cardResult(result({ status: 'done', plan: { builds: [DRV(1)], fetches: [], unbuildable: [] }, log: ['a'] }), []);
  assert.equal(card.omitted, undefined);
  assert.deepEqual(omittedLines(card.omitted), []);
});

test('every bound a run hit is counted in the card, and the message to the webview is valid', () => {
  const errors = Array.from({ length: LIMITS.errors + 7 }, (_, i) => ({
    kind: 'other' as const,
    message: `error ${i}`,
    trace: [],
    raw: '',
  }));
  const r = result({
    errors,
    plan: { builds: Array.from({ length: LIMITS.items + 3 }, (_, i) => DRV(i)), fetches: [], unbuildable: [] },
    log: ['last line'],
    lost: {
      logLines: 4321,
      messages: 2500,
      errorMessages: 40,
      truncated: { stderrLines: 90_000, longLines: 2, stdout: false },
      dropped: { lines: 1, firstError: 'RangeError: Maximum call stack size exceeded' },
    },
  });
  const msg = finished(
    r,
    errors.slice(0, LIMITS.errors).map((_, i) => view(i)),
    { reason: 'timeout', ms: 30_000 },
  );
  assert.equal(isToWebview(msg), true);
  assert.equal(msg.errors.length, LIMITS.errors);
  assert.equal(msg.builds.length, LIMITS.items);
  assert.deepEqual(msg.omitted, {
    errors: 7,
    builds: 3,
    logLines: 4321,
    messages: 2500,
    errorMessages: 40,
    stderrLines: 90_000,
    longLines: 2,
    unreadLines: 1,
    unreadReason: 'RangeError: Maximum call stack size exceeded',
    locations: 'timeout',
    lookupMs: 30_000,
  });
  const lines = omittedLines(msg.omitted).join('\n');
  assert.match(lines, /places in your files were not looked up: that took longer than 30s/);
  assert.match(lines, /7 more errors are not listed/);
  assert.match(lines, /2,500 messages were left out \(40 errors among them: the list of errors may be incomplete\)/);
  assert.match(lines, /3 more derivations to build not listed/);
  assert.match(lines, /its first 90,000 lines were dropped/);
  assert.match(lines, /2 lines of output were too long and cut/);
  assert.match(lines, /1 line of output could not be read \(RangeError: Maximum call stack size exceeded\)/);
});

test('lookups that were cancelled are said as such; a cut log is counted once', () => {
  const r = result({
    errors: [{ kind: 'other', message: 'x', trace: [], raw: '' }],
    log: Array.from({ length: LIMITS.logLines + 5 }, (_, i) => `l${i}`),
    lost: { logLines: 10 },
  });
  const msg = finished(r, [view(0)], { reason: 'cancelled', ms: 30_000 });
  assert.equal(isToWebview(msg), true);
  assert.deepEqual(msg.omitted, { logLines: 15, locations: 'cancelled' });
  assert.equal(msg.log[0], 'l5');
  assert.match(omittedLines(msg.omitted)[0], /not looked up \(cancelled\)/);
});
