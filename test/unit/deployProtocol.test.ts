// The Deploy view's messages: what each side accepts, what it drops, and the fitting of a real diff to the bounds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import {
  DEPLOY_LIMITS,
  DEPLOY_PROTOCOL_VERSION,
  fitDeployText,
  fitDeployView,
  fitDiff,
  isDeployToExtension,
  isDeployToWebview,
  type DeployView,
  type ToExtension,
  type ToWebview,
} from '../../src/protocol/deploy';
import { diffClosures, parseDiffClosures } from '../../src/core/deploy/diff';

const TOP = '/nix/store/88ajx0c6k5bqbb3bmq5pjlwxj1yr1sl9-nixos-system-web-2';
const OLD = '/nix/store/97x5jjyqgxgx0gp4wzv9dkdn95sr5vyv-nixos-system-web-1';

const view: DeployView = {
  kind: 'nixos',
  config: 'web',
  flakeLabel: 'infra',
  target: 'root@web.example.org:2222',
  action: 'switch',
  phase: 'confirming',
  step: 'Compare with the new closure',
  current: OLD,
  toplevel: TOP,
  diff: {
    changes: [
      { name: 'foo', before: ['1.0'], after: ['1.1'], sizeDelta: 36864, kind: 'changed' },
      { name: 'baz', before: [], after: ['0.5'], sizeDelta: 16690, kind: 'added' },
      { name: 'bar', before: ['2.0'], after: [], sizeDelta: -20787, kind: 'removed' },
      { name: 'etc', before: [], after: [], sizeDelta: 29696, kind: 'size' },
      { name: 'glibc-locales', before: [''], after: ['2.40'], kind: 'changed' },
    ],
    sizeDelta: 62463,
    sizeBefore: 26872,
    sizeAfter: 89335,
    omitted: 0,
  },
  summary: '2 changed, 1 added, 1 removed, +61.0 KiB',
  actions: [],
};

const toWebview: ToWebview[] = [
  { type: 'show', version: DEPLOY_PROTOCOL_VERSION, view },
  {
    type: 'show',
    version: DEPLOY_PROTOCOL_VERSION,
    view: { ...view, phase: 'done', message: 'Switched web on testhost to generation 5.\n', generation: 5 },
  },
  {
    type: 'show',
    version: DEPLOY_PROTOCOL_VERSION,
    view: {
      kind: 'home',
      config: 'alice@laptop',
      flakeLabel: 'dots',
      target: 'this machine',
      action: 'preview',
      phase: 'building',
      actions: ['activate'],
    },
  },
  {
    type: 'show',
    version: DEPLOY_PROTOCOL_VERSION,
    view: {
      ...view,
      action: 'preview',
      phase: 'done',
      current: null,
      diff: undefined,
      actions: ['switch', 'boot', 'test', 'dry-activate'],
    },
  },
  {
    type: 'show',
    version: DEPLOY_PROTOCOL_VERSION,
    view: { ...view, config: '<img src=x onerror=alert(1)>', phase: 'failed', message: 'error: <script>alert(1)</script>' },
  },
];

const toExtension: ToExtension[] = [
  { type: 'ready', version: DEPLOY_PROTOCOL_VERSION },
  { type: 'apply', action: 'switch' },
  { type: 'apply', action: 'dry-activate' },
  { type: 'apply', action: 'activate' },
];

function withView(patch: Record<string, unknown>): unknown {
  return { type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: { ...view, ...patch } };
}

describe('deploy protocol: well-formed messages pass', () => {
  for (const m of toWebview) {
    test(`to the webview: ${JSON.stringify(m).slice(0, 90)}`, () => {
      assert.equal(isDeployToWebview(m), true);
      assert.equal(isDeployToWebview(JSON.parse(JSON.stringify(m))), true, 'after a JSON round trip (undefined fields dropped)');
      assert.equal(isDeployToWebview(structuredClone(JSON.parse(JSON.stringify(m)))), true);
      assert.equal(isDeployToExtension(m), false, 'the directions do not overlap');
    });
  }
  for (const m of toExtension) {
    test(`to the extension: ${JSON.stringify(m)}`, () => {
      assert.equal(isDeployToExtension(m), true);
      assert.equal(isDeployToWebview(m), false);
    });
  }
  test('objects made in another realm', () => {
    assert.equal(isDeployToWebview(runInNewContext(`(${JSON.stringify(toWebview[0])})`)), true);
  });
});

describe('deploy protocol: malformed messages are dropped', () => {
  const bad: [string, unknown][] = [
    ['null', null],
    ['an array', [toWebview[0]]],
    ['another version', { ...toWebview[0], version: DEPLOY_PROTOCOL_VERSION + 1 }],
    ['no view', { type: 'show', version: DEPLOY_PROTOCOL_VERSION }],
    ['an unknown phase', withView({ phase: 'exploded' })],
    ['an unknown action', withView({ action: 'rm -rf' })],
    ['an unknown kind', withView({ kind: 'darwin' })],
    ['a number as config', withView({ config: 5 })],
    ['a config over the bound', withView({ config: 'x'.repeat(DEPLOY_LIMITS.name + 1) })],
    ['a message over the bound', withView({ message: 'x'.repeat(DEPLOY_LIMITS.message + 1) })],
    ['a fractional generation', withView({ generation: 1.5 })],
    ['generation 0', withView({ generation: 0 })],
    ['an offered action the view cannot ask for', withView({ actions: ['build'] })],
    ['actions that are not a list', withView({ actions: 'switch' })],
    ['a change of an unknown kind', withView({ diff: { ...view.diff, changes: [{ name: 'x', before: [], after: [], kind: 'weird' }] } })],
    [
      'versions that are not strings',
      withView({ diff: { ...view.diff, changes: [{ name: 'x', before: [1], after: [], kind: 'removed' }] } }),
    ],
    ['a size that is not a number', withView({ diff: { ...view.diff, sizeDelta: '12 KiB' } })],
    ['an infinite size', withView({ diff: { ...view.diff, sizeDelta: Infinity } })],
    ['a negative closure size', withView({ diff: { ...view.diff, sizeBefore: -1 } })],
    [
      'too many changes',
      withView({ diff: { ...view.diff, changes: Array.from({ length: DEPLOY_LIMITS.changes + 1 }, () => view.diff!.changes[0]) } }),
    ],
    ['a current path that is a number', withView({ current: 7 })],
    ['an unknown key at the top', { ...toWebview[0], html: '<b>x</b>' }],
    ['an unknown key in the view', withView({ html: '<b>x</b>' })],
    ['an unknown key in the diff', withView({ diff: { ...view.diff, html: '<b>x</b>' } })],
    ['an unknown key in a change', withView({ diff: { ...view.diff, changes: [{ ...view.diff!.changes[0], html: '<b>x</b>' }] } })],
    ['a newline in the config', withView({ config: 'web\nevil' })],
    ['a tab in the target', withView({ target: 'web\tevil' })],
    ['an escape in the flake label', withView({ flakeLabel: '\u001b[2Jinfra' })],
    ['a C1 control in the step', withView({ step: 'Build\u0085' })],
    ['a NUL in the summary', withView({ summary: '1 changed\u0000' })],
    ['a newline in the current path', withView({ current: `${OLD}\n` })],
    ['a newline in the new toplevel', withView({ toplevel: `${TOP}\n` })],
    ['a NUL in a message', withView({ message: 'failed\u0000' })],
    ['an escape in a message', withView({ message: '\u001b[31merror\u001b[0m' })],
    ['a carriage return in a message', withView({ message: 'a\rb' })],
    ['a newline in a change name', withView({ diff: { ...view.diff, changes: [{ ...view.diff!.changes[0], name: 'foo\nbar' }] } })],
    [
      'a control character in a version',
      withView({ diff: { ...view.diff, changes: [{ ...view.diff!.changes[0], after: ['1.1\u0007'] }] } }),
    ],
    [
      'a version over the bound',
      withView({ diff: { ...view.diff, changes: [{ ...view.diff!.changes[0], after: ['1'.repeat(DEPLOY_LIMITS.version + 1)] }] } }),
    ],
    ['a sparse list of actions', withView({ actions: new Array(1) })],
    ['a list of actions with an extra property', withView({ actions: Object.assign(['switch'], { html: '<b>' }) })],
    [
      'a view that is a class instance',
      { type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: Object.assign(new (class View {})(), view) },
    ],
    ['a view that inherits its fields', { type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: Object.create(view) }],
  ];
  for (const [what, m] of bad) {
    test(`to the webview: ${what}`, () => assert.equal(isDeployToWebview(m), false));
  }
  const badIn: [string, unknown][] = [
    ['no type', {}],
    ['an unknown type', { type: 'run', action: 'switch' }],
    ['apply of an unknown action', { type: 'apply', action: 'reboot' }],
    ['apply of build (only activations are asked for)', { type: 'apply', action: 'build' }],
    ['ready of another version', { type: 'ready', version: 0 }],
    ['a type inherited from the prototype', Object.create({ type: 'ready', version: DEPLOY_PROTOCOL_VERSION })],
    ['ready with an unknown key', { type: 'ready', version: DEPLOY_PROTOCOL_VERSION, action: 'switch' }],
    ['apply with an unknown key', { type: 'apply', action: 'switch', html: '<b>' }],
    ['apply with a version', { type: 'apply', action: 'switch', version: DEPLOY_PROTOCOL_VERSION }],
    ['a type the validator table inherits', { type: 'toString' }],
  ];
  for (const [what, m] of badIn) {
    test(`to the extension: ${what}`, () => assert.equal(isDeployToExtension(m), false));
  }
  test('prototype keys, at every level', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const json = (body: string) => JSON.parse(body) as Record<string, unknown>;
      const top = json(`{"type":"show","version":${DEPLOY_PROTOCOL_VERSION},"${key}":{"polluted":true}}`);
      top.view = view;
      assert.equal(isDeployToWebview(top), false, `${key} at the top`);
      const v = json(`{"${key}":{"polluted":true}}`);
      Object.assign(v, view);
      assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: v }), false, `${key} in the view`);
      const d = json(`{"${key}":{"polluted":true}}`);
      Object.assign(d, view.diff);
      assert.equal(isDeployToWebview(withView({ diff: d })), false, `${key} in the diff`);
      assert.equal(
        isDeployToExtension(json(`{"type":"ready","version":${DEPLOY_PROTOCOL_VERSION},"${key}":{}}`)),
        false,
        `${key} in ready`,
      );
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  test('getters and non-enumerable fields', () => {
    const getter = { ...view } as Record<string, unknown>;
    delete getter.config;
    Object.defineProperty(getter, 'config', { get: () => 'web', enumerable: true });
    assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: getter }), false);
    const hidden = { type: 'apply', action: 'switch' };
    Object.defineProperty(hidden, 'x', { value: 1, enumerable: false });
    assert.equal(isDeployToExtension(hidden), false);
  });
  test('newlines and tabs are text in a message only', () => {
    assert.equal(isDeployToWebview(withView({ message: 'error: build failed\n\tin foo.drv' })), true);
  });
  test('a polluted prototype does not make a message valid', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.view = view;
    try {
      assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION }), false);
    } finally {
      delete proto.view;
    }
  });
});

describe('deploy protocol: fitting data to the bounds', () => {
  test('a real diff-closures text (2.34: growth without +, colour escapes) fits and validates', () => {
    const text =
      'bar: 2.0 → ∅, \x1b[32;1m-20.3 KiB\x1b[0m\nbaz: ∅ → 0.5, \x1b[31;1m16.3 KiB\x1b[0m\nfoo: 1.0 → 1.1, \x1b[31;1m36.0 KiB\x1b[0m\nnixos-system-web: 1 → 2\n';
    const d = fitDiff(parseDiffClosures(text));
    assert.deepEqual(
      d.changes.map((c) => [c.name, c.kind, c.before, c.after]),
      [
        ['bar', 'removed', ['2.0'], []],
        ['baz', 'added', [], ['0.5']],
        ['foo', 'changed', ['1.0'], ['1.1']],
        ['nixos-system-web', 'changed', ['1'], ['2']],
      ],
    );
    assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: { ...view, diff: d } }), true);
  });
  test('a path-info diff with closure sizes fits and validates', () => {
    const before = [
      { path: OLD, narSize: 432 },
      { path: '/nix/store/97x5jjyqgxgx0gp4wzv9dkdn95sr5vyv-foo-1.0', narSize: 4096 },
    ];
    const after = [
      { path: TOP, narSize: 432 },
      { path: '/nix/store/97x5jjyqgxgx0gp4wzv9dkdn95sr5vyw-foo-1.1', narSize: 40960 },
    ];
    const d = fitDiff(diffClosures(before, after));
    assert.equal(d.sizeBefore, 4528);
    assert.equal(d.sizeAfter, 41392);
    assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: { ...view, diff: d } }), true);
  });
  test('over-long names and versions are cut, extra changes counted as omitted, control characters removed', () => {
    const many = Array.from({ length: DEPLOY_LIMITS.changes + 5 }, (_, i) => ({
      name: `p${i}\x07\n${'n'.repeat(400)}`,
      before: ['v'.repeat(300)],
      after: [],
      kind: 'removed' as const,
    }));
    const v = fitDeployView({
      ...view,
      config: `web\x1b[31m${'x'.repeat(1000)}`,
      diff: { changes: many, sizeDelta: 1, omitted: 2 },
      message: 'line 1\nline 2\x00',
    });
    assert.equal(v.diff!.changes.length, DEPLOY_LIMITS.changes);
    assert.equal(v.diff!.omitted, 7);
    assert.ok(v.config.length <= DEPLOY_LIMITS.name && v.config.endsWith('…') && !v.config.includes('\x1b'));
    assert.ok(v.diff!.changes[0]!.name.length <= DEPLOY_LIMITS.name && !/[\x00-\x1f]/.test(v.diff!.changes[0]!.name));
    assert.ok(v.diff!.changes[0]!.before[0]!.length <= DEPLOY_LIMITS.version);
    assert.equal(v.message, 'line 1\nline 2');
    assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: v }), true);
  });
  test('text is cut without splitting a surrogate pair', () => {
    const t = fitDeployText(`${'a'.repeat(9)}😀😀`, 11);
    assert.ok(!/[\ud800-\udbff]…$/.test(t), t);
  });
  test('escape sequences go whole (hyperlinks too); tabs become spaces', () => {
    assert.equal(fitDeployText('see \x1b]8;;https://example.org\x07the docs\x1b]8;;\x07', 100), 'see the docs');
    assert.equal(fitDeployText('\x1b[1ma\tb\r\nc', 100), 'a b c');
    assert.equal(fitDeployText('\x1b[1ma\tb\r\nc\x00', 100, true), 'a  b\nc');
  });
  test('whatever the extension is given, the fitted view validates', () => {
    const controls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f\u0085\u009f';
    const hostile = [
      '',
      controls,
      `\x1b[31m${'x'.repeat(20_000)}\x1b]8;;u\x07`,
      `${'😀'.repeat(9000)}\r\n\t`,
      '<img src=x onerror=alert(1)>',
    ];
    for (const s of hostile) {
      const v = fitDeployView({
        ...view,
        config: s,
        flakeLabel: s,
        target: s,
        step: s,
        current: s,
        toplevel: s,
        summary: s,
        message: s,
        generation: 1.5,
        diff: {
          changes: [{ name: s, before: [s, s], after: Array.from({ length: 60 }, () => s), sizeDelta: 1e300, kind: 'changed' }],
          sizeDelta: -Infinity,
          sizeBefore: -5,
          sizeAfter: NaN,
          omitted: 3,
        },
      });
      assert.equal(isDeployToWebview({ type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: v }), true, JSON.stringify(s).slice(0, 40));
    }
  });
});
