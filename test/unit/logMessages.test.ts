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
