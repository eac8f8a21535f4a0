import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageLog } from '../../src/core/log/messages';
import type { LogEvent, MsgEvent } from '../../src/core/log/types';

const msg = (level: number, text: string): MsgEvent => ({ kind: 'msg', level, msg: text, position: undefined, trace: [] });
const texts = (evs: readonly LogEvent[]) => evs.map((e) => (e.kind === 'msg' ? e.msg : e.kind === 'plain' ? e.text : e.kind));

test('a run that floods stderr keeps the first errors and the newest other messages, in order, and counts the rest', () => {
  const log = new MessageLog({ maxErrors: 3, maxOthers: 4 });
  for (let i = 0; i < 100_000; i++) {
    log.add(msg(4, `info ${i}`));
    if (i % 10_000 === 5) log.add(msg(0, `error: ${i}`));
  }
  log.add({ kind: 'plain', text: 'last' });
  assert.equal(log.total, 100_000 + 10 + 1);
  assert.equal(log.dropped, 100_000 + 10 + 1 - 7);
  assert.equal(log.droppedErrors, 7);
  assert.deepEqual(texts(log.events()), ['error: 5', 'error: 10005', 'error: 20005', 'info 99997', 'info 99998', 'info 99999', 'last']);
});

test('a run under the limits keeps every message as it came', () => {
  const log = new MessageLog();
  const evs: LogEvent[] = [msg(1, 'warning: w'), msg(0, 'error: a'), { kind: 'plain', text: 'p' }, msg(0, 'error: b'), msg(3, 'i')];
  for (const ev of evs) log.add(ev);
  assert.deepEqual(log.events(), evs);
  assert.equal(log.dropped, 0);
  assert.deepEqual(new MessageLog({ maxErrors: 0, maxOthers: 0 }).events(), []);
  const none = new MessageLog({ maxErrors: 0, maxOthers: 0 });
  for (const ev of evs) none.add(ev);
  assert.deepEqual([none.events(), none.dropped, none.droppedErrors], [[], 5, 2]);
});

test('characters are bounded too: a few huge messages push out the oldest others, an error that does not fit is counted', () => {
  const log = new MessageLog({ maxErrors: 10, maxOthers: 1000, maxChars: 10_000 });
  for (let i = 0; i < 100; i++) log.add(msg(1, `warning ${i} ${'w'.repeat(200)}`));
  log.add(msg(0, `error: first ${'e'.repeat(4000)}`));
  assert.ok(log.chars <= 10_000, `${log.chars} characters kept`);
  assert.equal(log.droppedErrors, 0);
  // The error stays; the oldest warnings made room for it.
  const kept = texts(log.events());
  assert.match(kept[kept.length - 1] as string, /^error: first/);
  assert.match(kept[kept.length - 2] as string, /^warning 99 /);
  assert.ok(!kept.some((t) => /^warning 0 /.test(t as string)));
  // A message over the whole budget is never kept.
  log.add(msg(0, `error: huge ${'x'.repeat(20_000)}`));
  log.add(msg(3, `info ${'x'.repeat(20_000)}`));
  assert.equal(log.droppedErrors, 1);
  assert.ok(log.chars <= 10_000);
  assert.equal(log.total, 103);
  assert.equal(log.dropped, 103 - log.events().length);
});

test('messages() keeps only msg events, in order; a flood of 1,000,000 events is linear', () => {
  const log = new MessageLog({ maxErrors: 2, maxOthers: 3 });
  log.add({ kind: 'plain', text: 'p' });
  log.add(msg(0, 'error: a'));
  log.add(msg(3, 'i'));
  assert.deepEqual(texts(log.messages()), ['error: a', 'i']);
  const big = new MessageLog();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) big.add(msg(i % 1000 === 0 ? 0 : 4, `line ${i}`));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(big.events().length, 2200);
  assert.equal(big.dropped, 1_000_000 - 2200);
  assert.equal(big.droppedErrors, 800);
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
});
