import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import {
  fitList,
  fitText,
  hostRef,
  isToExtension,
  isToWebview,
  kindOf,
  LIMITS,
  PROTOCOL_VERSION,
  sameHost,
  type ErrorView,
  type RunState,
  type ToExtension,
  type ToWebview,
} from '../../src/protocol/dryBuild';
import { apply, currentHost, emptyState, restore } from '../../webview/state';

const FLAKE = '/home/alice/src/infra';
const DRV = '/nix/store/0c5w7fd2xqkhcc6zgp0vi4hx0bp9x7lz-etc-hosts.drv';
const OUT = '/nix/store/5555555555555555555555555555555x-glibc-2.40-36';
const loc = { file: `${FLAKE}/hosts/db.nix`, label: 'hosts/db.nix', line: 4, column: 3 };

const error: ErrorView = {
  message: "undefined variable 'pkgs'\n<script>alert(1)</script>",
  kind: 'undefined-variable',
  location: loc,
  trace: [
    { message: "while evaluating the attribute 'environment.systemPackages'", location: { ...loc, line: 3, column: 1 } },
    { message: 'while evaluating definitions', where: 'nixpkgs: lib/modules.nix:809:28' },
    { message: "while calling the 'head' builtin" },
  ],
};

const run: RunState = {
  runId: 'r1',
  flake: FLAKE,
  host: 'db',
  state: 'failed',
  startedAt: 1_732_000_000_000,
  elapsedMs: 2104,
  builds: [DRV],
  fetches: [OUT],
  downloadBytes: 12_897_484,
  unpackedBytes: 58_720_256,
  errors: [error],
  log: ['error: undefined variable', '\tat db.nix:4:3'],
};

const toExtension: ToExtension[] = [
  { type: 'ready', protocolVersion: PROTOCOL_VERSION },
  { type: 'run', flake: FLAKE, host: 'db' },
  { type: 'run', flake: FLAKE, host: '<img src=x onerror=alert(1)>' },
  { type: 'cancel', runId: 'r1' },
  { type: 'cancel', runId: 'run-17.a:b_c' },
  { type: 'select', flake: FLAKE, host: 'web' },
  { type: 'open', file: `${FLAKE}/hosts/db.nix`, line: 4, column: 3 },
  { type: 'open', file: 'C:\\src\\flake.nix', line: 1, column: 1 },
  { type: 'copy', text: DRV },
  { type: 'copy', text: 'line 1\nline 2\twith tab' },
  { type: 'dismiss', runId: 'r1' },
  { type: 'clear' },
];

const toWebview: ToWebview[] = [
  {
    type: 'init',
    protocolVersion: PROTOCOL_VERSION,
    hosts: [
      { flake: FLAKE, flakeLabel: 'infra', host: 'db' },
      { flake: FLAKE, flakeLabel: 'infra', host: '<img src=x onerror=alert(1)>' },
    ],
    selected: { flake: FLAKE, host: 'db' },
    loading: false,
    runs: [run, { ...run, runId: 'r2', host: 'web', state: 'evaluating', progress: 'evaluating…', errors: [], log: [] }],
  },
  { type: 'init', protocolVersion: PROTOCOL_VERSION, hosts: [], runs: [] },
  { type: 'hosts', hosts: [{ flake: FLAKE, flakeLabel: 'infra', host: 'db' }] },
  { type: 'hosts', hosts: [], loading: true, selected: { flake: FLAKE, host: 'db' } },
  { type: 'runStarted', runId: 'r3', flake: FLAKE, host: 'db', startedAt: 0 },
  { type: 'progress', runId: 'r3', text: "copying '/home/alice/src/infra' to the store" },
  { type: 'progress', runId: 'r3', text: '' },
  {
    type: 'runFinished',
    runId: 'r3',
    state: 'done',
    builds: [DRV],
    fetches: [OUT],
    downloadBytes: 0,
    unpackedBytes: 1.5,
    errors: [],
    log: [],
    elapsedMs: 4213,
  },
  { type: 'runFinished', runId: 'r3', state: 'failed', builds: [], fetches: [], errors: [error], log: ['x'], elapsedMs: 0 },
  { type: 'runFinished', runId: 'r3', state: 'cancelled', builds: [], fetches: [], errors: [], log: [], elapsedMs: 10 },
  { type: 'notice', level: 'warning', text: 'Nix is too old.\nUpgrade it.' },
  { type: 'notice', level: 'info', text: '' },
];

/** A deep copy with the value at `path` replaced (`undefined` with `remove` deletes the key). */
function patch<T>(value: T, path: (string | number)[], next: unknown, remove = false): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (remove) delete at[last];
  else at[last] = next;
  return copy;
}

const finished = toWebview[7];
const failed = toWebview[8];
const init = toWebview[0];

describe('protocol validators accept well-formed messages', () => {
  test('the protocol version is a positive integer', () => {
    assert.ok(Number.isInteger(PROTOCOL_VERSION) && PROTOCOL_VERSION > 0);
  });
  for (const m of toExtension) {
    test(`to extension: ${JSON.stringify(m).slice(0, 80)}`, () => {
      assert.equal(isToExtension(m), true);
      assert.equal(isToWebview(m), false, 'the two directions do not overlap');
    });
  }
  for (const m of toWebview) {
    test(`to webview: ${JSON.stringify(m).slice(0, 80)}`, () => {
      assert.equal(isToWebview(m), true);
      assert.equal(isToExtension(m), false);
    });
  }
  test('after a structured clone and a JSON round trip', () => {
    for (const m of [...toWebview, ...toExtension]) {
      const check =
        m.type in { ready: 1, run: 1, cancel: 1, select: 1, open: 1, copy: 1, dismiss: 1, clear: 1 } ? isToExtension : isToWebview;
      assert.equal(check(structuredClone(m)), true);
      assert.equal(check(JSON.parse(JSON.stringify(m))), true);
    }
  });
  test('objects and arrays made in another realm', () => {
    const foreign = runInNewContext(`(${JSON.stringify(finished)})`) as unknown;
    assert.notEqual(Object.getPrototypeOf(foreign), Object.prototype);
    assert.equal(isToWebview(foreign), true);
    assert.equal(isToExtension(runInNewContext(`({ type: 'clear' })`)), true);
  });
  test('objects without a prototype', () => {
    const m = Object.assign(Object.create(null) as object, { type: 'cancel', runId: 'r1' });
    assert.equal(isToExtension(m), true);
  });
  test('an optional field holding undefined counts as absent', () => {
    assert.equal(isToWebview({ ...finished, downloadBytes: undefined }), true);
    assert.equal(isToWebview({ ...init, selected: undefined }), true);
  });
  test('values at the limits', () => {
    assert.equal(isToExtension({ type: 'run', flake: FLAKE, host: 'h'.repeat(LIMITS.name) }), true);
    assert.equal(isToExtension({ type: 'cancel', runId: 'r'.repeat(LIMITS.runId) }), true);
    assert.equal(isToExtension({ type: 'open', file: '/a', line: LIMITS.lineNumber, column: LIMITS.lineNumber }), true);
    assert.equal(isToWebview(patch(finished, ['builds'], new Array<string>(LIMITS.items).fill(DRV))), true);
    assert.equal(isToWebview(patch(finished, ['downloadBytes'], Number.MAX_SAFE_INTEGER)), true);
    assert.equal(isToWebview({ type: 'progress', runId: 'r', text: 'p'.repeat(LIMITS.progress) }), true);
  });
});

describe('protocol validators reject malformed messages', () => {
  const rejectsW = (m: unknown, why: string) => assert.equal(isToWebview(m), false, why);
  const rejectsE = (m: unknown, why: string) => assert.equal(isToExtension(m), false, why);

  test('non-objects and odd objects', () => {
    for (const v of [null, undefined, 0, 1, 'clear', true, [], [{ type: 'clear' }], new Date(), new Map(), () => 0, Symbol('x')]) {
      rejectsE(v, String(typeof v));
      rejectsW(v, String(typeof v));
    }
    class Clear {
      type = 'clear';
    }
    rejectsE(new Clear(), 'class instance');
  });

  test('unknown, missing or inherited types', () => {
    for (const type of ['nope', '', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 1, null]) {
      rejectsE({ type }, `type ${String(type)}`);
      rejectsW({ type }, `type ${String(type)}`);
    }
    rejectsE({}, 'no type');
    rejectsW({ runId: 'r1' }, 'no type');
  });

  test('missing fields', () => {
    rejectsE({ type: 'run', flake: FLAKE }, 'run without host');
    rejectsE({ type: 'open', file: '/a', line: 1 }, 'open without column');
    rejectsE({ type: 'ready' }, 'ready without version');
    for (const key of ['runId', 'state', 'builds', 'fetches', 'errors', 'log', 'elapsedMs']) {
      rejectsW(patch(finished, [key], undefined, true), `runFinished without ${key}`);
    }
    rejectsW(patch(init, ['runs', 0, 'startedAt'], undefined, true), 'run without startedAt');
    rejectsW(patch(init, ['hosts', 0, 'flakeLabel'], undefined, true), 'host without label');
    rejectsW(patch(finished, ['errors'], [{ message: 'x', kind: 'other' }]), 'error without trace');
  });

  test('extra fields, at every level', () => {
    rejectsE({ type: 'clear', all: true }, 'clear with extra');
    rejectsE({ type: 'copy', text: 'x', html: '<b>x</b>' }, 'copy with html');
    rejectsW({ ...finished, html: '<img>' }, 'top level');
    rejectsW(patch(finished, ['errors'], [{ ...error, html: '<b>' }]), 'error');
    rejectsW(patch(finished, ['errors'], [{ ...error, location: { ...loc, href: 'javascript:alert(1)' } }]), 'location');
    rejectsW(patch(finished, ['errors'], [{ ...error, trace: [{ message: 'x', extra: 1 }] }]), 'trace frame');
    rejectsW(patch(init, ['hosts', 0, 'icon'], 'x.png'), 'host entry');
    rejectsW(patch(init, ['selected', 'flakeLabel'], 'infra'), 'selected');
  });

  test('wrong types and extra nesting', () => {
    rejectsE({ type: 'open', file: '/a', line: '4', column: 3 }, 'line as string');
    rejectsE({ type: 'run', flake: FLAKE, host: ['db'] }, 'host as array');
    rejectsE({ type: 'run', flake: { path: FLAKE }, host: 'db' }, 'flake as object');
    rejectsE({ type: 'copy', text: { toString: () => 'x' } }, 'text as object');
    rejectsW(patch(finished, ['builds'], DRV), 'builds as string');
    rejectsW(patch(finished, ['builds'], [[DRV]]), 'nested array');
    rejectsW(patch(finished, ['log'], [['x']]), 'nested log');
    rejectsW(patch(failed, ['errors', 0, 'message'], { text: 'x' }), 'message as object');
    rejectsW(patch(failed, ['errors', 0, 'trace'], { 0: { message: 'x' }, length: 1 }), 'array-like trace');
    rejectsW(patch(init, ['loading'], 'yes'), 'loading as string');
    rejectsW(patch(init, ['selected'], null), 'selected as null');
    rejectsW(patch(finished, ['downloadBytes'], null), 'size as null');
    rejectsW(patch(finished, ['downloadBytes'], '12'), 'size as string');
    rejectsW({ type: 'notice', level: 'fatal', text: 'x' }, 'unknown level');
  });

  test('bad numbers', () => {
    for (const n of [Number.NaN, Infinity, -Infinity, -1, -0.5, Number.MAX_SAFE_INTEGER * 4]) {
      rejectsW(patch(finished, ['elapsedMs'], n), `elapsedMs ${n}`);
      rejectsW(patch(finished, ['downloadBytes'], n), `downloadBytes ${n}`);
      rejectsW({ type: 'runStarted', runId: 'r', flake: FLAKE, host: 'h', startedAt: n }, `startedAt ${n}`);
    }
    for (const n of [0, -1, 1.5, Number.NaN, Infinity, LIMITS.lineNumber + 1]) {
      rejectsE({ type: 'open', file: '/a', line: n, column: 1 }, `line ${n}`);
      rejectsW(patch(failed, ['errors', 0, 'location', 'column'], n), `column ${n}`);
    }
    rejectsE({ type: 'ready', protocolVersion: PROTOCOL_VERSION + 1 }, 'other version');
    rejectsW({ ...init, protocolVersion: PROTOCOL_VERSION + 1 }, 'init of another version');
  });

  test('oversize strings and arrays', () => {
    rejectsE({ type: 'run', flake: FLAKE, host: 'h'.repeat(LIMITS.name + 1) }, 'host');
    rejectsE({ type: 'run', flake: '/'.repeat(LIMITS.path + 1), host: 'h' }, 'flake');
    rejectsE({ type: 'cancel', runId: 'r'.repeat(LIMITS.runId + 1) }, 'runId');
    rejectsE({ type: 'copy', text: 'x'.repeat(LIMITS.copy + 1) }, 'copy');
    rejectsW({ type: 'progress', runId: 'r', text: 'p'.repeat(LIMITS.progress + 1) }, 'progress');
    rejectsW({ type: 'notice', level: 'info', text: 'n'.repeat(LIMITS.notice + 1) }, 'notice');
    rejectsW(patch(finished, ['builds'], new Array<string>(LIMITS.items + 1).fill(DRV)), 'builds count');
    rejectsW(patch(finished, ['fetches'], [`/nix/store/${'x'.repeat(LIMITS.storePath)}`]), 'store path length');
    rejectsW(patch(finished, ['log'], new Array<string>(LIMITS.logLines + 1).fill('x')), 'log lines');
    rejectsW(patch(finished, ['log'], ['x'.repeat(LIMITS.logLine + 1)]), 'log line');
    rejectsW(patch(finished, ['errors'], new Array<ErrorView>(LIMITS.errors + 1).fill(error)), 'errors');
    rejectsW(patch(failed, ['errors', 0, 'trace'], new Array(LIMITS.trace + 1).fill({ message: 'x' })), 'trace');
    rejectsW(patch(failed, ['errors', 0, 'message'], 'm'.repeat(LIMITS.message + 1)), 'message');
    rejectsW(patch(init, ['hosts'], new Array(LIMITS.hosts + 1).fill({ flake: FLAKE, flakeLabel: 'f', host: 'h' })), 'hosts');
    const runs = Array.from({ length: LIMITS.runs + 1 }, (_, i) => ({ ...run, runId: `r${i}`, host: `h${i}` }));
    rejectsW({ ...init, runs }, 'runs');
  });

  test('empty and malformed strings', () => {
    rejectsE({ type: 'run', flake: '', host: 'db' }, 'empty flake');
    rejectsE({ type: 'run', flake: FLAKE, host: '' }, 'empty host');
    rejectsE({ type: 'copy', text: '' }, 'empty copy');
    for (const id of ['', 'a b', 'x<y', 'r/1', 'r\n1', 'ü']) rejectsE({ type: 'cancel', runId: id }, `runId ${JSON.stringify(id)}`);
    for (const host of ['db\n', 'db\0', 'db\u001b[31m', 'a\tb', 'x\u0085'])
      rejectsE({ type: 'run', flake: FLAKE, host }, `host ${JSON.stringify(host)}`);
    for (const file of ['hosts/db.nix', '', 'file:///a.nix', '/a\0b', '/a\nb'])
      rejectsE({ type: 'open', file, line: 1, column: 1 }, `file ${JSON.stringify(file)}`);
    rejectsW(patch(finished, ['builds'], ['relative.drv']), 'relative store path');
    rejectsW(patch(finished, ['builds'], ['/nix/store/x\n.drv']), 'newline in store path');
    rejectsW(patch(failed, ['errors', 0, 'message'], 'a\u0000b'), 'NUL in a message');
    rejectsW(patch(failed, ['errors', 0, 'message'], '\u001b[31merror\u001b[0m'), 'ANSI in a message');
    rejectsW(patch(finished, ['log'], ['a\nb']), 'newline in a log line');
    rejectsW(patch(failed, ['errors', 0, 'kind'], ''), 'empty kind');
    rejectsW(patch(finished, ['state'], 'evaluating'), 'a finished run that is evaluating');
    rejectsW(patch(init, ['runs', 0, 'state'], 'running'), 'unknown run state');
  });

  test('prototype pollution keys', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const json = (body: string) => JSON.parse(body) as unknown;
      rejectsE(json(`{"type":"clear","${key}":{"polluted":true}}`), `${key} at the top`);
      rejectsW(json(`{"type":"notice","level":"info","text":"x","${key}":{"polluted":true}}`), `${key} in notice`);
      const m = json(JSON.stringify(finished)) as { errors: unknown[] };
      m.errors = [json(`{"message":"x","kind":"other","trace":[],"${key}":{"polluted":true}}`)];
      rejectsW(m, `${key} in an error`);
      const h = json(JSON.stringify(init)) as { selected: unknown };
      h.selected = json(`{"flake":"/f","host":"h","${key}":{}}`);
      rejectsW(h, `${key} in selected`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('arrays with holes or extra properties, getters, symbols', () => {
    rejectsW(patch(finished, ['builds'], new Array<string>(3)), 'sparse array');
    const extra = Object.assign([DRV], { html: '<b>' });
    rejectsW({ ...finished, builds: extra }, 'array with an extra property');
    const getter = { type: 'cancel' } as Record<string, unknown>;
    Object.defineProperty(getter, 'runId', { get: () => 'r1', enumerable: true });
    rejectsE(getter, 'getter');
    const hidden = { type: 'cancel', runId: 'r1' };
    Object.defineProperty(hidden, 'x', { value: 1, enumerable: false });
    rejectsE(hidden, 'non-enumerable property');
    rejectsE({ type: 'clear', [Symbol('x')]: 1 }, 'symbol key');
    const typed = { ...finished, builds: new Uint8Array(2) };
    rejectsW(typed, 'typed array');
  });

  test('duplicate run ids in init', () => {
    rejectsW({ ...init, runs: [run, { ...run, host: 'other' }] }, 'duplicate run id');
  });
});

describe('fitText and fitList make data valid', () => {
  test('strips ANSI and control characters, keeps what the mode allows', () => {
    assert.equal(fitText('\u001b[31;1merror:\u001b[0m bad\u0007 thing\r\n next', 100), 'error: bad thing  next');
    assert.equal(fitText('a\tb\nc\u0000', 100, 'multiline'), 'a\tb\nc');
    assert.equal(fitText('a\tb\nc', 100, 'log'), 'a\tb c');
  });
  test('cuts with an ellipsis, never inside a surrogate pair', () => {
    assert.equal(fitText('abcdef', 4), 'abc…');
    assert.equal(fitText('abcd', 4), 'abcd');
    const cut = fitText('ab😀cd', 4);
    assert.equal(cut, 'ab…');
    assert.ok(cut.length <= 4);
  });
  test('fitted texts pass the validators', () => {
    const host = fitText(`evil\n\u001b[2Jhost${'x'.repeat(1000)}`, LIMITS.name);
    assert.equal(isToExtension({ type: 'run', flake: FLAKE, host }), true);
    const message = fitText(`\u001b[31merror\u001b[0m\r\n${'m'.repeat(20_000)}\u0000`, LIMITS.message, 'multiline');
    const log = fitList(
      Array.from({ length: 2000 }, (_, i) => fitText(`line ${i}\t\u001b[1mx\u001b[0m\n`, LIMITS.logLine, 'log')),
      LIMITS.logLines,
      true,
    );
    assert.equal(log[log.length - 1].startsWith('line 1999'), true);
    const msg = { ...finished, log, errors: [{ message, kind: 'other', trace: [] }] };
    assert.equal(isToWebview(msg), true);
  });
  test('fitList keeps the head or the tail', () => {
    assert.deepEqual(fitList([1, 2, 3], 2), [1, 2]);
    assert.deepEqual(fitList([1, 2, 3], 2, true), [2, 3]);
    assert.deepEqual(fitList([1], 2), [1]);
  });
});

describe('what a run left out travels with its card', () => {
  const omitted = {
    errors: 3,
    builds: 1,
    fetches: 2,
    logLines: 5000,
    messages: 2400,
    errorMessages: 12,
    stderrLines: 90_000,
    longLines: 1,
    unreadLines: 2,
    unreadReason: 'RangeError: Maximum call stack size exceeded',
    locations: 'timeout',
    lookupMs: 30_000,
  };
  test('in runFinished and in init', () => {
    assert.equal(isToWebview({ ...finished, omitted }), true);
    assert.equal(isToWebview({ ...finished, omitted: {} }), true);
    assert.equal(isToWebview({ ...finished, omitted: { locations: 'cancelled' } }), true);
    assert.equal(isToWebview({ ...init, runs: [{ ...run, omitted }] }), true);
  });
  test('malformed counts, reasons and keys are refused', () => {
    const rejects = (o: unknown, why: string) => assert.equal(isToWebview({ ...finished, omitted: o }), false, why);
    rejects({ errors: -1 }, 'negative');
    rejects({ messages: 1.5 }, 'fraction');
    rejects({ messages: Number.POSITIVE_INFINITY }, 'infinite');
    rejects({ logLines: '3' }, 'string count');
    rejects({ locations: 'lost' }, 'unknown reason');
    rejects({ unreadReason: 'a\u0000b' }, 'control character');
    rejects({ unreadReason: 'x'.repeat(LIMITS.notice + 1) }, 'too long');
    rejects({ html: '<b>' }, 'unknown key');
    rejects(JSON.parse('{"__proto__": {"errors": 1}}'), '__proto__');
    rejects([], 'array');
  });
});

describe('home-manager configurations beside the NixOS hosts', () => {
  const home = { flake: FLAKE, host: 'alice', kind: 'home' as const };
  test('every message that names a configuration may say it is a home configuration', () => {
    for (const m of [
      { type: 'run', ...home },
      { type: 'select', ...home },
    ])
      assert.equal(isToExtension(m), true, m.type);
    for (const m of [
      { type: 'hosts', hosts: [{ ...home, flakeLabel: 'infra' }], selected: home },
      {
        ...init,
        hosts: [
          { flake: FLAKE, flakeLabel: 'infra', host: 'alice' },
          { ...home, flakeLabel: 'infra' },
        ],
        selected: home,
      },
      { ...init, runs: [{ ...run, ...home }] },
      { type: 'runStarted', runId: 'r9', ...home, startedAt: 0 },
    ])
      assert.equal(isToWebview(m), true, m.type);
  });
  test('no kind is a NixOS host; any other kind is refused', () => {
    for (const kind of ['nixos', 'darwin', '', 1, null, ['home']]) {
      assert.equal(isToExtension({ type: 'run', flake: FLAKE, host: 'alice', kind }), false, JSON.stringify(kind));
      assert.equal(isToWebview({ type: 'hosts', hosts: [{ flake: FLAKE, flakeLabel: 'infra', host: 'alice', kind }] }), false);
    }
    assert.equal(kindOf({}), 'nixos');
    assert.equal(kindOf(home), 'home');
    assert.deepEqual(hostRef(FLAKE, 'alice', 'nixos'), { flake: FLAKE, host: 'alice' });
    assert.deepEqual(hostRef(FLAKE, 'alice', 'home'), home);
  });
  test('a host and a home configuration of one name are two configurations, each with its own card', () => {
    const nixos = { flake: FLAKE, host: 'alice' };
    assert.equal(sameHost(nixos, home), false);
    assert.equal(sameHost(home, { ...home }), true);
    const state = emptyState();
    const hosts = [
      { ...nixos, flakeLabel: 'infra' },
      { ...home, flakeLabel: 'infra' },
    ];
    apply(state, { type: 'init', protocolVersion: PROTOCOL_VERSION, hosts, selected: home, runs: [] }, 0);
    assert.deepEqual(currentHost(state), hosts[1]);
    apply(state, { type: 'runStarted', runId: 'n1', ...nixos, startedAt: 0 }, 0);
    apply(state, { type: 'runStarted', runId: 'h1', ...home, startedAt: 0 }, 0);
    apply(state, { type: 'runStarted', runId: 'h2', ...home, startedAt: 0 }, 0);
    assert.deepEqual(
      state.runs.map((r) => [r.runId, kindOf(r)]),
      [
        ['h2', 'home'],
        ['n1', 'nixos'],
      ],
      'the new run of the home configuration replaced its card only',
    );
    apply(state, { type: 'runFinished', runId: 'h2', state: 'done', builds: [], fetches: [], errors: [], log: [], elapsedMs: 5 }, 0);
    assert.equal(state.runs[0]?.kind, 'home', 'a finished card keeps its kind');
    // Saved and restored (a reload of the panel): the kinds come back.
    const restored = restore(JSON.parse(JSON.stringify(state)), 0);
    assert.deepEqual(
      restored?.runs.map((r) => kindOf(r)),
      ['home', 'nixos'],
    );
    assert.deepEqual(restored?.selected, home);
  });
});
