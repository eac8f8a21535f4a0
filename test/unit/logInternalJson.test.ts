import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LogReader, parseLog, parseLogLine, parseRecord, topLevelInteger } from '../../src/core/log/internalJson';
import { positionFromJson, positionFromText } from '../../src/core/log/position';
import type { LogEvent, MsgEvent, ResultEvent, StartEvent } from '../../src/core/log/types';

const fixture = (name: string) => readFileSync(resolve('test/fixtures/captured/log', name), 'utf8');
const errorFixture = (name: string) => readFileSync(resolve('test/fixtures/captured/errors', name), 'utf8');

function only<K extends LogEvent['kind']>(ev: LogEvent, kind: K): Extract<LogEvent, { kind: K }> {
  assert.equal(ev.kind, kind, JSON.stringify(ev));
  return ev as Extract<LogEvent, { kind: K }>;
}

test('start records: type name, text, fields, level; no parent in 2.8', () => {
  const ev = only(
    parseLogLine(
      `@nix {"action":"start","fields":["/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv","",1,1],"id":28200755265540,"level":3,"text":"building '/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv'","type":105}`,
    ),
    'start',
  );
  assert.deepEqual(ev, {
    kind: 'start',
    id: '28200755265540',
    type: 105,
    activity: 'Build',
    level: 3,
    text: "building '/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv'",
    fields: ['/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv', '', 1, 1],
  });
  const empty = only(parseLogLine('@nix {"action":"start","id":28200755265536,"level":0,"text":"","type":102}'), 'start');
  assert.deepEqual(empty.fields, []);
  assert.equal(empty.activity, 'Realise');
  assert.equal(empty.parent, undefined);
});

test('start records keep parent (2.18+) exactly, and drop parent 0', () => {
  const ev = only(parseLogLine('@nix {"action":"start","id":12,"level":0,"parent":11,"text":"","type":104}'), 'start');
  assert.equal(ev.parent, '11');
  const root = only(parseLogLine('@nix {"action":"start","id":12,"level":0,"parent":0,"text":"","type":104}'), 'start');
  assert.equal(root.parent, undefined);
});

test('ids and parents above 2^53 are kept exact, and neighbours stay distinct', () => {
  // pid 4194303 << 32: beyond Number.MAX_SAFE_INTEGER.
  const a = only(
    parseLogLine('@nix {"action":"start","id":18014393357549569,"level":0,"parent":18014393357549568,"text":"","type":105}'),
    'start',
  );
  const b = only(parseLogLine('@nix {"action":"stop","id":18014393357549570}'), 'stop');
  const c = only(parseLogLine('@nix {"action":"result","fields":["x"],"id":18014393357549571,"type":101}'), 'result');
  assert.equal(a.id, '18014393357549569');
  assert.equal(a.parent, '18014393357549568');
  assert.equal(b.id, '18014393357549570');
  assert.equal(c.id, '18014393357549571');
  // As JS numbers, the id and its parent would collide.
  assert.equal(JSON.parse('18014393357549569'), JSON.parse('18014393357549568'));
  // The largest uint64.
  assert.equal(only(parseLogLine('@nix {"action":"stop","id":18446744073709551615}'), 'stop').id, '18446744073709551615');
});

test('a large id is read from the top level, not from a look-alike inside a string', () => {
  const line = String.raw`@nix {"action":"start","fields":["\"id\":1"],"id":18014393357549569,"level":0,"text":"{\"id\":2}","type":0}`;
  assert.equal(only(parseLogLine(line), 'start').id, '18014393357549569');
  assert.equal(topLevelInteger('{"a":{"id":5},"id":6}', 'id'), '6');
  assert.equal(topLevelInteger('{"a":[1,{"id":5}]}', 'id'), undefined);
});

test('every known result type is decoded', () => {
  const r = (type: number, fields: unknown[]) =>
    only(parseLogLine(`@nix ${JSON.stringify({ action: 'result', fields, id: 7, type })}`), 'result').result;
  assert.deepEqual(r(100, [4096, 1]), { type: 'fileLinked', bytesFreed: 4096, blocksFreed: 1 });
  assert.deepEqual(r(101, ['building one']), { type: 'buildLogLine', line: 'building one' });
  assert.deepEqual(r(102, ['/nix/store/x']), { type: 'untrustedPath', path: '/nix/store/x' });
  assert.deepEqual(r(103, ['/nix/store/x']), { type: 'corruptedPath', path: '/nix/store/x' });
  assert.deepEqual(r(104, ['buildPhase']), { type: 'setPhase', phase: 'buildPhase' });
  assert.deepEqual(r(105, [1, 3, 1, 0]), { type: 'progress', done: 1, expected: 3, running: 1, failed: 0 });
  assert.deepEqual(r(106, [101, 4700580]), { type: 'setExpected', activityType: 101, expected: 4700580 });
  assert.deepEqual(r(107, ['post hook']), { type: 'postBuildLogLine', line: 'post hook' });
  assert.deepEqual(r(108, ['fetching']), { type: 'fetchStatus', status: 'fetching' });
  assert.deepEqual(r(109, ['/nix/store/y']), { type: 'fetchToStore', path: '/nix/store/y' });
});

test('unknown activity and result types are kept as such', () => {
  const s = only(parseLogLine('@nix {"action":"start","id":1,"level":0,"text":"future","type":150,"fields":[1]}'), 'start');
  assert.equal(s.type, 150);
  assert.equal(s.activity, undefined);
  assert.deepEqual(s.fields, [1]);
  const r = only(parseLogLine('@nix {"action":"result","fields":["a",2],"id":1,"type":199}'), 'result');
  assert.deepEqual(r.result, { type: 'unknown' });
  assert.deepEqual(r.fields, ['a', 2]);
  // Wrong field shapes for a known type decode to unknown rather than to garbage.
  const bad = only(parseLogLine('@nix {"action":"result","fields":["x","y"],"id":1,"type":105}'), 'result');
  assert.deepEqual(bad.result, { type: 'unknown' });
});

test('unknown actions are kept, with the record', () => {
  const ev = only(parseLogLine('@nix {"action":"setPhase","phase":"buildPhase"}'), 'unknown');
  assert.equal(ev.action, 'setPhase');
  assert.equal(ev.record.phase, 'buildPhase');
  assert.equal(only(parseLogLine('@nix {"no":"action"}'), 'unknown').action, '');
});

test('msg records: level, msg, raw_msg, position and trace', () => {
  const [warning, error] = parseLog(
    errorFixture('nix-2.8-eval-missingAttr-trace.jsonl').replace(/^/, '@nix {"action":"msg","level":1,"msg":"w"}\n'),
  );
  assert.deepEqual(warning, { kind: 'msg', level: 1, msg: 'w', position: undefined, trace: [] });
  const m = only(error, 'msg');
  assert.equal(m.level, 0);
  assert.ok(m.msg.startsWith('\u001b[31;1merror:\u001b[0m attribute'));
  assert.equal(m.rawMsg, "attribute '\u001b[35;1mversion\u001b[0m' missing");
  assert.deepEqual(m.position, {
    file: '/nix/store/0rvjfxp1xpxdx5lxz9jm9i78hx17fxl4-source/errors/missing-attr.nix',
    origin: 'path',
    line: 5,
    column: 22,
  });
  assert.equal(m.trace.length, 1);
  assert.equal(m.trace[0].rawMsg, "while evaluating the derivation attribute 'name'");
  assert.equal(m.trace[0].position?.column, 3);
});

test('msg positions: null (2.8), source text (2.8 --expr), «string» (2.13+), origin:line:col (2.20+)', () => {
  const none = only(
    errorFixture('nix-2.8-eval-throwing.jsonl')
      .split('\n')
      .map((l) => parseLogLine(l))[0],
    'msg',
  );
  assert.equal(none.position, undefined);
  const expr = only(parseLog(errorFixture('nix-2.8-eval-expr-string.jsonl'))[0], 'msg');
  assert.deepEqual(expr.position, { file: '«string»', origin: 'string', line: 1, column: 19 });
  assert.deepEqual(positionFromJson('let a = 1;\nin a', 2, 4), { file: '«string»', origin: 'string', line: 2, column: 4 });
  assert.deepEqual(positionFromJson('«string»', 1, 19), { file: '«string»', origin: 'string', line: 1, column: 19 });
  assert.deepEqual(positionFromJson('«none»', 0, 0), undefined);
  assert.deepEqual(positionFromJson('/nix/store/cd8428j66ksyqxpijmznxdgp43aw4k5v-source/broken.nix:6:22', 6, 22), {
    file: '/nix/store/cd8428j66ksyqxpijmznxdgp43aw4k5v-source/broken.nix',
    origin: 'path',
    line: 6,
    column: 22,
  });
  assert.deepEqual(positionFromJson('«string»:1:19', 1, 19), { file: '«string»', origin: 'string', line: 1, column: 19 });
  // Column omitted when 0; position only in `file`.
  assert.deepEqual(positionFromJson('/a/b.nix:7', 7, 0), { file: '/a/b.nix', origin: 'path', line: 7, column: 1 });
  assert.deepEqual(positionFromJson('/a/b.nix:7:3', null, null), { file: '/a/b.nix', origin: 'path', line: 7, column: 3 });
  // A file of a fetched tree, as newer Nix names it, is a file (the store mapper finds the input); Nix's own code is not.
  assert.deepEqual(positionFromJson('«github:NixOS/nixpkgs/abc»/lib/x.nix:3:1', 3, 1), {
    file: '«github:NixOS/nixpkgs/abc»/lib/x.nix',
    origin: 'path',
    line: 3,
    column: 1,
  });
  assert.deepEqual(positionFromJson('«nix-internal»/derivation-internal.nix:37:12', 37, 12)?.origin, 'other');
  assert.deepEqual(positionFromJson('<nix/fetchurl.nix>', 3, 1)?.origin, 'other');
  assert.equal(positionFromJson(null, null, null), undefined);
  assert.equal(positionFromJson(42, 1, 1), undefined);
  assert.deepEqual(positionFromText('«stdin»', '2', undefined), { file: '«stdin»', origin: 'stdin', line: 2, column: 1 });
});

test('trace entries: positions present or absent (absent keys, not null)', () => {
  const m = only(parseLog(errorFixture('nix-2.8-module-recursion-trace.jsonl'))[1], 'msg');
  assert.equal(m.trace.length, 24);
  assert.equal(m.trace[0].position, undefined);
  assert.deepEqual(m.trace[6], {
    rawMsg: 'from call site\u001b[35;1m\u001b[0m',
    position: { file: '/nix/store/lz2f0izpj3vac4yhwcdk8201v7s9m5n6-source/hosts/recursion.nix', origin: 'path', line: 3, column: 13 },
  });
});

test('plain lines are kept as plain events, blank ones too', () => {
  assert.deepEqual(parseLogLine("building '/nix/store/x.drv'..."), { kind: 'plain', text: "building '/nix/store/x.drv'..." });
  assert.deepEqual(parseLogLine(''), { kind: 'plain', text: '' });
  assert.deepEqual(parseLogLine('@nixos is not a record'), { kind: 'plain', text: '@nixos is not a record' });
});

test('malformed records give typed parse errors', () => {
  const cases = [
    '@nix {"action":"start","id":1,',
    '@nix ',
    '@nix 42',
    '@nix [1,2]',
    '@nix null',
    '@nix {"action":"start","level":0,"type":105}',
    '@nix {"action":"start","id":-1,"type":105}',
    '@nix {"action":"start","id":1.5,"type":105}',
    '@nix {"action":"start","id":1,"type":"105"}',
    '@nix {"action":"stop"}',
    '@nix {"action":"result","id":1}',
    '@nix {"action":"msg","level":0}',
  ];
  for (const line of cases) {
    const ev = parseLogLine(line);
    assert.equal(ev.kind, 'parse-error', line);
    assert.ok((ev as Extract<LogEvent, { kind: 'parse-error' }>).reason.length > 0);
  }
});

test('hostile input: binary garbage, odd field types, huge traces, never a throw', () => {
  const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
  for (const line of [garbage, `@nix ${garbage}`, '@nix {"action":"msg","msg":"x","level":"high","file":{},"line":"3","trace":"no"}']) {
    assert.doesNotThrow(() => parseLogLine(line));
  }
  const odd = only(
    parseLogLine('@nix {"action":"msg","msg":"x","level":"high","file":{},"line":"3","trace":[1,null,{"raw_msg":5}]}'),
    'msg',
  );
  assert.equal(odd.level, 0);
  assert.equal(odd.position, undefined);
  assert.deepEqual(odd.trace, [{ rawMsg: '' }]);
  const fields = only(parseLogLine('@nix {"action":"start","id":1,"type":0,"fields":[null,{"a":1},true,"s",2]}'), 'start');
  assert.deepEqual(fields.fields, ['null', '{"a":1}', 'true', 's', 2]);
  const many = { action: 'msg', level: 0, msg: 'error: x', raw_msg: 'x', trace: Array.from({ length: 5000 }, () => ({ raw_msg: 't' })) };
  const cut = only(parseLogLine(`@nix ${JSON.stringify(many)}`), 'msg');
  assert.equal(cut.trace.length, 1000);
  assert.equal(cut.omittedTrace, 4000);
  assert.equal('omittedTrace' in only(parseLogLine('@nix {"action":"msg","level":0,"msg":"x","trace":[{"raw_msg":"t"}]}'), 'msg'), false);
});

test('a 10 MB line becomes a typed parse error, not a throw or a 10 MB event', () => {
  const huge = `@nix {"action":"msg","level":0,"msg":"${'x'.repeat(10 * 1024 * 1024)}"}\n@nix {"action":"stop","id":5}\n`;
  const reader = new LogReader();
  const events: LogEvent[] = [];
  for (let i = 0; i < huge.length; i += 65536) events.push(...reader.push(huge.slice(i, i + 65536)));
  events.push(...reader.end());
  assert.equal(events.length, 2);
  const err = only(events[0], 'parse-error');
  assert.match(err.reason, /line too long/);
  assert.ok(err.text.length < 1000);
  assert.deepEqual(events[1], { kind: 'stop', id: '5' });
  // A huge plain line is cut, not kept whole.
  const plain = new LogReader({ maxLine: 1000 }).push(`${'y'.repeat(5000)}\n`);
  assert.equal(plain.length, 1);
  assert.ok(only(plain[0], 'plain').text.length < 1100);
});

test('the reader handles chunks split anywhere, \\r\\n, and bytes split inside UTF-8 characters', () => {
  const text = fixture('nix-2.8-build-success.jsonl');
  const whole = parseLog(text);
  for (const size of [1, 7, 64, 1000]) {
    const reader = new LogReader();
    const events: LogEvent[] = [];
    const bytes = Buffer.from(text.replace(/\n/g, '\r\n') + 'plain tail é', 'utf8');
    for (let i = 0; i < bytes.length; i += size) events.push(...reader.push(bytes.subarray(i, i + size)));
    events.push(...reader.end());
    assert.deepEqual(events.slice(0, -1), whole, `chunk size ${size}`);
    assert.deepEqual(events.at(-1), { kind: 'plain', text: 'plain tail é' });
  }
});

test('a real successful build reads without parse errors and with every record kind', () => {
  const events = parseLog(fixture('nix-2.8-build-success.jsonl'));
  assert.equal(events.length, 65);
  const kinds = new Set(events.map((e) => e.kind));
  assert.deepEqual([...kinds].sort(), ['msg', 'result', 'start', 'stop']);
  const phases = events.filter((e): e is ResultEvent => e.kind === 'result' && e.result.type === 'setPhase');
  assert.deepEqual(
    phases.map((p) => (p.result.type === 'setPhase' ? p.result.phase : '')),
    ['unpackPhase', 'buildPhase', 'installPhase', 'buildPhase', 'configurePhase', 'buildPhase', 'installPhase'],
  );
  const starts = events.filter((e): e is StartEvent => e.kind === 'start');
  assert.deepEqual(
    starts.map((s) => s.activity),
    ['Realise', 'Builds', 'CopyPaths', 'Unknown', 'Build', 'Build', 'Build'],
  );
  const msgs = events.filter((e): e is MsgEvent => e.kind === 'msg');
  assert.equal(msgs[0].level, 4);
});

test('parseRecord reads prefix-less records (--json-log-path)', () => {
  assert.deepEqual(parseRecord('{"action":"stop","id":3}'), { kind: 'stop', id: '3' });
});

test('a record the reader cannot take apart (fields nested 5,000 deep) is marked unreadable, and the reader reads on', () => {
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const line = `@nix {"action":"start","fields":[${deep}],"id":1,"level":0,"text":"","type":105}`;
  const ev = only(parseLogLine(line), 'parse-error');
  assert.match(ev.reason, /^unreadable record: /);
  assert.ok(ev.text.length < 300);
  assert.equal(only(parseRecord(line.slice(5)), 'parse-error').reason, ev.reason);
  const reader = new LogReader();
  const events = reader.push(`@nix {"action":"stop","id":1}\n${line}\n@nix {"action":"stop","id":2}\n`);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['stop', 'parse-error', 'stop'],
  );
  assert.deepEqual(events[2], { kind: 'stop', id: '2' });
});

test('records read straight from the text give the same events as through JSON.parse, key order included', () => {
  const lines: string[] = [];
  for (const dir of ['test/fixtures/captured/log', 'test/fixtures/captured/errors']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
      lines.push(
        ...readFileSync(resolve(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('@nix ')),
      );
    }
  }
  assert.ok(lines.length > 500);
  lines.push(
    '@nix {"action":"start","id":12,"level":0,"parent":11,"text":"","type":104}',
    '@nix {"action":"start","id":12,"level":0,"parent":0,"text":"","type":104}',
    '@nix {"action":"start","fields":[],"id":1,"level":5,"text":"x","type":150}',
    '@nix {"action":"start","id":18014393357549569,"level":0,"parent":18014393357549568,"text":"","type":105}',
    '@nix {"action":"stop","id":18446744073709551615}',
    '@nix {"action":"stop","id":9007199254740993}',
    '@nix {"action":"stop","id":0}',
    '@nix {"action":"result","fields":[],"id":1,"type":101}',
    '@nix {"action":"result","fields":["a",0,"",123456789012345],"id":1,"type":199}',
    '@nix {"action":"result","fields":[1234567890123456789],"id":1,"type":105}',
    '@nix {"action":"result","fields":["é \ud83d\ude00 \u2028 \x7f"],"id":1,"type":101}',
    String.raw`@nix {"action":"result","fields":["esc\"aped\\ \u001b[0m"],"id":1,"type":101}`,
    '@nix {"action":"result","fields":[-1,1.5,1e3],"id":1,"type":105}',
    '@nix {"action":"result","fields":["a"],"id":1,"type":101,"x":1}',
    '@nix {"action":"result","fields":["a"],"id":"7","type":101}',
    '@nix {"action":"result","fields":["a"],"type":101,"id":7}',
    '@nix {"action":"start","id":1,"level":0,"text":"x","type":150,"fields":[1]}',
  );
  // Shapes that are not records, or not whole ones, must be parse errors either way.
  const broken = [
    '@nix {"action":"stop","id":5]',
    '@nix {"action":"stop","id":5}}',
    '@nix {"action":"stop","id":05}',
    '@nix {"action":"result","fields":[1,],"id":1,"type":105}',
    '@nix {"action":"result","fields":["a\u0001"],"id":1,"type":101}',
    '@nix {"action":"result","fields":["raw\ttab"],"id":1,"type":101}',
    '@nix {"action":"result","fields":["a"],"id":1,"type":101',
  ];
  for (const line of lines) {
    const direct = parseLogLine(line);
    // A space before the record is valid JSON that only JSON.parse reads.
    const parsed = parseLogLine(line.replace(/^@nix /, '@nix  '));
    assert.deepEqual(direct, parsed, line);
    assert.equal(JSON.stringify(direct), JSON.stringify(parsed), line);
    assert.deepEqual(Object.keys(direct), Object.keys(parsed), line);
    assert.deepEqual(parseRecord(line.slice(5)), parsed, line);
  }
  for (const line of broken) {
    // The same reason, but for the position JSON.parse names (one further on with the space).
    const reason = (l: string) => only(parseLogLine(l), 'parse-error').reason.replace(/position \d+/, 'position N');
    assert.equal(reason(line), reason(line.replace(/^@nix /, '@nix  ')), line);
  }
});
