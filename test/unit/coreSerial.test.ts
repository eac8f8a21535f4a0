import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSerialiser } from '../../src/core/serial';

const tick = () => new Promise((r) => setImmediate(r));

test('one holder per key, the others in order; other keys run at the same time', async () => {
  const s = new KeyedSerialiser();
  const order: string[] = [];
  const waited: string[] = [];
  const a = await s.acquire('f', 'update all');
  assert.ok(a);
  const other = await s.acquire('g', 'update g');
  assert.ok(other, 'another flake does not wait');
  const b = s.acquire('f', 'update x', undefined, (h) => waited.push(`x waits for ${h}`)).then((r) => (order.push('x'), r));
  const c = s.acquire('f', 'update y', undefined, (h) => waited.push(`y waits for ${h}`)).then((r) => (order.push('y'), r));
  await tick();
  assert.deepEqual(order, []);
  assert.deepEqual(waited, ['x waits for update all', 'y waits for update all']);
  assert.equal(s.holder('f'), 'update all');
  a();
  a(); // twice: no effect
  const rb = await b;
  assert.deepEqual(order, ['x']);
  assert.equal(s.holder('f'), 'update x');
  rb!();
  (await c)!();
  assert.deepEqual(order, ['x', 'y']);
  assert.equal(s.holder('f'), undefined);
  other();
  assert.equal(s.holder('g'), undefined);
});

test('a waiter that gives up leaves the queue; the next one still gets its turn', async () => {
  const s = new KeyedSerialiser();
  const a = (await s.acquire('f', 'a'))!;
  const ac = new AbortController();
  const b = s.acquire('f', 'b', ac.signal);
  const c = s.acquire('f', 'c');
  ac.abort();
  assert.equal(await b, undefined);
  a();
  const rc = await c;
  assert.ok(rc);
  assert.equal(s.holder('f'), 'c');
  rc();
  assert.equal(await s.acquire('f', 'd', AbortSignal.abort()), undefined, 'already aborted: nothing held');
  assert.equal(s.holder('f'), undefined);
});
