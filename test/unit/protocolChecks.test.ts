// The checks every webview protocol is built from (src/protocol/checks.ts), alone: what each accepts and refuses,
// and that the fitting functions always produce what the text checks accept.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import {
  boolean,
  CONTROL_LOG_LINE,
  CONTROL_MULTILINE,
  dispatch,
  fitList,
  fitText,
  integer,
  isPlainRecord,
  list,
  literal,
  nonNegative,
  nullable,
  oneOf,
  record,
  text,
  type Check,
} from '../../src/protocol/checks';

const show = (v: unknown) => (typeof v === 'bigint' || typeof v === 'symbol' ? String(v) : String(JSON.stringify(v)));
const yes = (check: Check, ...values: unknown[]) => {
  for (const v of values) assert.equal(check(v), true, `accepts ${show(v)}`);
};
const no = (check: Check, ...values: unknown[]) => {
  for (const v of values) assert.equal(check(v), false, `refuses ${show(v)}`);
};

describe('checks: values', () => {
  test('text: bounds, control characters, pattern', () => {
    const t = text(5);
    yes(t, '', 'abcde', 'a b', 'ü😀');
    no(t, 'abcdef', 5, null, undefined, ['a'], new String('a'));
    no(t, 'a\tb', 'a\nb', 'a\rb', 'a\u0000', '\u001b[31m', 'x\u007f', 'x\u0085', 'x\u009f');
    no(text(5, { min: 2 }), '', 'a');
    const multi = text(20, { control: CONTROL_MULTILINE });
    yes(multi, 'a\tb\nc');
    no(multi, 'a\rb', 'a\u0000', '\u001b[0m', 'x\u0085');
    const log = text(20, { control: CONTROL_LOG_LINE });
    yes(log, 'a\tb');
    no(log, 'a\nb', 'a\u0000');
    const id = text(10, { min: 1, pattern: /^[a-z]+$/ });
    yes(id, 'abc');
    no(id, '', 'ab1', 'abcdefghijk', 'a\nb');
  });

  test('integer, nonNegative, boolean', () => {
    yes(integer(-2, 3), -2, 0, 3, -0);
    no(integer(-2, 3), -3, 4, 1.5, NaN, Infinity, '1', null, true, 10n);
    yes(integer(0, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    no(integer(0, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER + 2);
    yes(nonNegative(10), 0, 1.5, 10);
    no(nonNegative(10), -0.5, 10.5, NaN, Infinity, '1');
    yes(boolean, true, false);
    no(boolean, 0, 'true', null, undefined);
  });

  test('oneOf, literal, nullable', () => {
    yes(oneOf('a', 'b'), 'a', 'b');
    no(oneOf('a', 'b'), 'c', '', 'A', ['a'], null, 'toString');
    yes(oneOf(...(['x', 'y'] as const)), 'y');
    yes(literal(1), 1);
    no(literal(1), '1', 2, true);
    yes(nullable(text(3)), null, 'abc');
    no(nullable(text(3)), undefined, 'abcd', 0);
  });
});

describe('checks: lists', () => {
  const l = list(text(3), 2);
  test('bounded lists of checked items', () => {
    yes(l, [], ['a'], ['a', 'bcd']);
    no(l, ['a', 'b', 'c'], ['abcd'], [1], 'ab', { 0: 'a', length: 1 }, null, new Set(['a']));
  });
  test('arrays made in another realm', () => {
    yes(l, runInNewContext('["a", "b"]'));
  });
  test('holes, extra properties, typed arrays and array subclasses are refused', () => {
    no(l, new Array<string>(1), Object.assign(['a'], { html: '<b>' }), new Uint8Array(1));
    const sym = ['a'] as unknown as Record<symbol, unknown>;
    sym[Symbol('x')] = 1;
    no(l, sym);
    class Sub extends Array<string> {}
    const s = new Sub();
    s.push('a');
    no(l, s);
  });
});

describe('checks: records', () => {
  const r = record({ a: text(3) }, { b: integer(0, 9) });

  test('exactly the keys of the schema; an optional key holding undefined is absent', () => {
    yes(r, { a: 'x' }, { a: 'x', b: 1 }, { a: 'x', b: undefined });
    no(r, {}, { b: 1 }, { a: undefined }, { a: 'x', b: 10 }, { a: 'x', c: 1 }, { a: 'abcd' });
  });

  test('plain objects of any realm, with or without a prototype; nothing else', () => {
    yes(r, runInNewContext('({ a: "x" })'), Object.assign(Object.create(null) as object, { a: 'x' }));
    class A {
      a = 'x';
    }
    no(r, null, undefined, 'a', [], ['x'], new A(), new Date(), new Map([['a', 'x']]), () => 0);
    no(r, Object.create({ a: 'x' }));
  });

  test('prototype keys are refused, wherever they come from', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      no(r, JSON.parse(`{"a":"x","${key}":{"polluted":true}}`));
      no(record({ a: text(3) }, { b: record({}) }), JSON.parse(`{"a":"x","b":{"${key}":1}}`));
      assert.throws(() => record({ [key]: text(3) }), /forbidden key/);
      assert.throws(() => record({}, { [key]: text(3) }), /forbidden key/);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('getters, non-enumerable and symbol keys are refused', () => {
    const getter = {};
    Object.defineProperty(getter, 'a', { get: () => 'x', enumerable: true });
    const hidden = { a: 'x' };
    Object.defineProperty(hidden, 'b', { value: 1, enumerable: false });
    no(r, getter, hidden, { a: 'x', [Symbol('b')]: 1 });
  });

  test('a polluted Object.prototype does not supply a required key', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.a = 'x';
    try {
      no(r, {});
    } finally {
      delete proto.a;
    }
  });

  test('isPlainRecord', () => {
    assert.equal(isPlainRecord({ a: 1 }), true);
    assert.equal(isPlainRecord(Object.create(null)), true);
    assert.equal(isPlainRecord(JSON.parse('{"__proto__":1}')), false);
    assert.equal(isPlainRecord([]), false);
    assert.equal(isPlainRecord(new (class {})()), false);
    assert.equal(isPlainRecord(new Date()), false);
  });
});

describe('checks: dispatch by type', () => {
  const table: Record<string, Check> = {
    ping: record({ type: literal('ping') }),
    say: record({ type: literal('say'), text: text(5) }),
  };
  test('the entry named by an own `type`', () => {
    assert.equal(dispatch(table, { type: 'ping' }), true);
    assert.equal(dispatch(table, { type: 'say', text: 'hi' }), true);
    assert.equal(dispatch(table, { type: 'say', text: 'too long' }), false);
    assert.equal(dispatch(table, { type: 'ping', text: 'hi' }), false);
  });
  test('no type, an unknown or inherited one, a type the table inherits', () => {
    for (const type of [undefined, null, 1, '', 'pong', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.equal(dispatch(table, { type }), false, String(type));
    }
    assert.equal(dispatch(table, Object.create({ type: 'ping' })), false);
    assert.equal(dispatch(table, [{ type: 'ping' }]), false);
    assert.equal(dispatch(table, null), false);
  });
});

describe('checks: fitting data to the checks', () => {
  // Hostile text: ANSI colours, an OSC 8 hyperlink, every C0 and C1 control, CR, surrogate pairs, over-long runs.
  const controls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f\u0085\u009b\u009f';
  const samples = [
    '',
    'plain',
    '\u001b[31;1merror:\u001b[0m bad\r\nnext\ttab',
    '\u001b]8;;https://example.org\u0007link\u001b]8;;\u0007 after',
    controls,
    `${'a'.repeat(9)}😀😀`,
    '😀'.repeat(40),
    `x${controls}`.repeat(50),
  ];
  const checks = { line: undefined, multiline: CONTROL_MULTILINE, log: CONTROL_LOG_LINE } as const;

  test('fitText output passes the text check of its mode, at every bound', () => {
    for (const s of samples) {
      for (const [mode, control] of Object.entries(checks) as [keyof typeof checks, RegExp | undefined][]) {
        for (const max of [1, 2, 3, 10, 11, 100]) {
          const t = fitText(s, max, mode);
          assert.equal(text(max, { control })(t), true, `${mode} ${max} ${JSON.stringify(s)} → ${JSON.stringify(t)}`);
          assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(t), `no lone high surrogate: ${JSON.stringify(t)}`);
        }
      }
    }
  });

  test('fitText drops escape sequences whole, keeps what the mode allows', () => {
    assert.equal(fitText('\u001b]8;;https://example.org\u0007link\u001b]8;;\u0007', 100), 'link');
    assert.equal(fitText('a\tb\r\nc\u0000', 100), 'a b c');
    assert.equal(fitText('a\tb\r\nc\u0000', 100, 'multiline'), 'a\tb\nc');
    assert.equal(fitText('a\tb\r\nc\u0000', 100, 'log'), 'a\tb c');
    assert.equal(fitText('abcdef', 4), 'abc…');
  });

  test('fitList keeps the head or the tail, never more than the bound', () => {
    assert.deepEqual(fitList([1, 2, 3], 2), [1, 2]);
    assert.deepEqual(fitList([1, 2, 3], 2, true), [2, 3]);
    const all = [1, 2];
    const kept = fitList(all, 5);
    assert.deepEqual(kept, all);
    assert.notEqual(kept, all, 'a copy');
    assert.equal(list(integer(0, 9), 3)(fitList([1, 2, 3, 4, 5], 3)), true);
  });
});
