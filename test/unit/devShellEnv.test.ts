import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyMutations,
  DEV_ENV_LIMITS,
  devShellId,
  devShellInstallable,
  devShellKeyParts,
  devShellsOf,
  envMutations,
  EnvOverlay,
  evaluateDevShell,
  readCachedDevShell,
  saveDevShell,
  IGNORED_VARS,
  oldProfileGenerations,
  printDevEnvArgs,
  readDevEnv,
  readDevShellRecord,
  writeDevShellRecord,
} from '../../src/core/flake/devShell';
import { parseFlakeShow } from '../../src/core/flake/show';
import { ExitError, run } from '../../src/core/nix/process';
import { nixArgs } from '../../src/core/nix/args';
import { copyFixture, nixTestEnv, scratchDir, testNix } from '../support/nix';

const exported = (value: string) => ({ type: 'exported', value });

/** The shape of Nix 2.8's output (it also has EPOCHREALTIME, EPOCHSECONDS, COMP_WORDBREAKS), trimmed. */
const NIX_2_8 = {
  bashFunctions: { greet: ' \n    echo hi\n' },
  variables: {
    BASH: { type: 'var', value: '/usr/bin/bash' },
    BASHPID: { type: 'unknown' },
    COMP_WORDBREAKS: { type: 'var', value: ' \t\n"\'@><=;|&(:' },
    EPOCHREALTIME: { type: 'var', value: '1796087191.358817' },
    HOME: exported('/homeless-shelter'),
    IN_NIX_SHELL: exported('impure'),
    NIX_BUILD_TOP: exported('/tmp/nix-build-shell-env.drv-0'),
    NIX_LOG_FD: exported('2'),
    OLDPWD: exported(''),
    PATH: exported('/nix/store/aaa-tool/bin:/usr/bin:/bin'),
    PROBE_VAR: exported('set by the dev shell'),
    TEMP: exported('/tmp/nix-build-shell-env.drv-0'),
    TERM: exported('xterm-256color'),
    TMPDIR: exported('/tmp/nix-build-shell-env.drv-0'),
    XDG_DATA_DIRS: exported('/nix/store/aaa-tool/share'),
    hooks: { type: 'array', value: ['a', 'b c'] },
    m: { type: 'associative', value: { k: 'v' } },
    name: exported('shell'),
    out: exported('/nix/store/bbb-shell-env'),
    dev: exported('/nix/store/ccc-shell-env-dev'),
    outputs: exported('out dev'),
    shellHook: exported('echo hook'),
    unexported: { type: 'var', value: 'x' },
  },
};

test('reads the exported variables, less what nix develop drops, the outputs and the shell state (2.8 shape)', () => {
  const r = readDevEnv(JSON.stringify(NIX_2_8));
  assert.ok(r.ok);
  assert.deepEqual(r.env.variables, {
    IN_NIX_SHELL: 'impure',
    PATH: '/nix/store/aaa-tool/bin:/usr/bin:/bin',
    PROBE_VAR: 'set by the dev shell',
    XDG_DATA_DIRS: '/nix/store/aaa-tool/share',
    name: 'shell',
    outputs: 'out dev',
    shellHook: 'echo hook',
  });
  assert.deepEqual(r.env.dropped, ['HOME', 'NIX_BUILD_TOP', 'NIX_LOG_FD', 'OLDPWD', 'TEMP', 'TERM', 'TMPDIR', 'dev', 'out']);
  assert.deepEqual(r.env.invalid, []);
});

test("nix develop's ignore list, as in its source (2.8 and 2.34)", () => {
  assert.deepEqual(
    [...IGNORED_VARS].sort(),
    'BASHOPTS HOME NIX_BUILD_TOP NIX_ENFORCE_PURITY NIX_LOG_FD NIX_REMOTE PPID SHELLOPTS SSL_CERT_FILE TEMP TEMPDIR TERM TMP TMPDIR TZ UID'.split(
      ' ',
    ),
  );
});

test('newer shapes: structuredAttrs is ignored, unknown keys and types are ignored; a PATH that is not set is dropped', () => {
  const r = readDevEnv(
    JSON.stringify({
      bashFunctions: {},
      variables: {
        PATH: exported('/path-not-set'),
        A: exported('1'),
        B: { type: 'future', value: 'x' },
        C: { type: 'exported', value: 3 },
      },
      structuredAttrs: { '.attrs.sh': 'declare x', '.attrs.json': '{}' },
      somethingNew: [1, 2],
    }),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.env.variables, { A: '1' });
  assert.deepEqual(r.env.dropped, ['PATH']);
});

test('untrusted output: not JSON, wrong shapes, bad names, NUL, and every bound', () => {
  for (const bad of ['', 'not json', '[]', 'null', '{"variables":[]}', '{"variables":"x"}', '{}'])
    assert.equal(readDevEnv(bad).ok, false, bad);
  const r = readDevEnv(
    JSON.stringify({
      variables: {
        'A-B': exported('1'),
        '1A': exported('1'),
        'A=B': exported('1'),
        NUL: exported('a\0b'),
        OK: exported('1'),
        ['X'.repeat(300)]: exported('1'),
      },
    }),
  );
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.env.variables), ['OK']);
  assert.equal(r.env.invalid.length, 5);
  assert.ok(r.env.invalid.every((n) => n.length <= 100));
  // __proto__ is left out (it cannot be a key of a plain object); constructor is an ordinary name.
  const proto = readDevEnv('{"variables":{"__proto__":{"type":"exported","value":"x"},"constructor":{"type":"exported","value":"y"}}}');
  assert.ok(proto.ok);
  assert.equal(proto.env.variables.constructor, 'y');
  assert.deepEqual(proto.env.invalid, ['__proto__']);
  assert.equal(Object.getPrototypeOf(proto.env.variables), Object.prototype);
  // Bounds.
  assert.equal(readDevEnv(' '.repeat(DEV_ENV_LIMITS.maxBytes + 1)).ok, false);
  const many = Object.fromEntries(Array.from({ length: DEV_ENV_LIMITS.maxVariables + 1 }, (_, i) => [`V${i}`, { type: 'var', value: '' }]));
  assert.equal(readDevEnv(JSON.stringify({ variables: many })).ok, false);
  const long = readDevEnv(JSON.stringify({ variables: { LONG: exported('x'.repeat(DEV_ENV_LIMITS.maxValue + 1)), OK: exported('1') } }));
  assert.ok(long.ok);
  assert.deepEqual(long.env.invalid, ['LONG']);
  const big = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`V${i}`, exported('x'.repeat(DEV_ENV_LIMITS.maxValue - 10))]));
  assert.equal(readDevEnv(JSON.stringify({ variables: big })).ok, false);
});

test('PATH and XDG_DATA_DIRS are prepended to the user’s value, the rest replaced', () => {
  const r = readDevEnv(JSON.stringify(NIX_2_8));
  assert.ok(r.ok);
  const m = envMutations(r.env);
  assert.deepEqual(
    m.find((x) => x.name === 'PATH'),
    { name: 'PATH', op: 'prepend', value: '/nix/store/aaa-tool/bin:/usr/bin:/bin:' },
  );
  assert.deepEqual(
    m.find((x) => x.name === 'PROBE_VAR'),
    { name: 'PROBE_VAR', op: 'replace', value: 'set by the dev shell' },
  );
  const env = applyMutations({ PATH: '/home/u/bin:/usr/bin', PROBE_VAR: 'old', KEEP: 'k', GONE: undefined }, m);
  assert.equal(env.PATH, '/nix/store/aaa-tool/bin:/usr/bin:/bin:/home/u/bin:/usr/bin');
  assert.equal(env.XDG_DATA_DIRS, '/nix/store/aaa-tool/share', 'prepended onto nothing: the shell value alone');
  assert.equal(env.PROBE_VAR, 'set by the dev shell');
  assert.equal(env.KEEP, 'k');
  assert.ok(!('GONE' in env));
  // An empty PATH of the shell's own replaces nothing with a lone ':'.
  assert.deepEqual(envMutations({ variables: { PATH: '' }, dropped: [], invalid: [] }), [{ name: 'PATH', op: 'replace', value: '' }]);
});

test('a live environment changed by one shell, then another, then restored exactly', () => {
  const live: Record<string, string | undefined> = { PATH: '/usr/bin', KEEP: 'k', PROBE_VAR: 'mine' };
  const o = new EnvOverlay(live);
  o.apply([
    { name: 'PATH', op: 'prepend', value: '/a/bin:' },
    { name: 'PROBE_VAR', op: 'replace', value: 'shell' },
    { name: 'NEW', op: 'replace', value: 'n' },
  ]);
  assert.deepEqual(live, { PATH: '/a/bin:/usr/bin', KEEP: 'k', PROBE_VAR: 'shell', NEW: 'n' });
  assert.deepEqual(o.original(), { PATH: '/usr/bin', KEEP: 'k', PROBE_VAR: 'mine' }, 'what nix is given while a shell is applied');
  o.apply([
    { name: 'PATH', op: 'prepend', value: '/b/bin:' },
    { name: 'OTHER', op: 'replace', value: 'o' },
  ]);
  assert.deepEqual(live, { PATH: '/b/bin:/usr/bin', KEEP: 'k', PROBE_VAR: 'mine', OTHER: 'o' }, 'the first shell is gone, not stacked');
  assert.deepEqual(o.names().sort(), ['OTHER', 'PATH']);
  o.restore();
  assert.deepEqual(live, { PATH: '/usr/bin', KEEP: 'k', PROBE_VAR: 'mine' });
});

test('installable, arguments, ids, key parts and the cache record', () => {
  assert.equal(devShellInstallable('git+file:///w/a', 'x86_64-linux', 'default'), 'git+file:///w/a#devShells.x86_64-linux.default');
  assert.equal(devShellInstallable('git+file:///w/a', 'x86_64-linux', 'a.b'), 'git+file:///w/a#devShells.x86_64-linux."a.b"');
  assert.deepEqual(printDevEnvArgs('.#x', '/s/p'), ['--json', '--profile', '/s/p', '.#x']);
  assert.match(devShellId('/w/a', 'x86_64-linux', 'default'), /^devshell-[0-9a-f]{32}$/);
  assert.notEqual(devShellId('/w/a', 'x86_64-linux', 'default'), devShellId('/w/a', 'x86_64-linux', 'other'));
  assert.notDeepEqual(
    devShellKeyParts({ nix: '2.8', system: 's', name: 'a', extraArgs: [], offline: false }),
    devShellKeyParts({ nix: '2.8', system: 's', name: 'b', extraArgs: [], offline: false }),
  );
  const rec = { key: 'k', installable: 'i', profile: '/p', json: '{"variables":{}}' };
  assert.deepEqual(readDevShellRecord(writeDevShellRecord(rec)), { version: 1, ...rec });
  for (const bad of ['', '{}', '{"version":2}', '{"version":1,"key":1}', 'x']) assert.equal(readDevShellRecord(bad), undefined, bad);
});

test('the dev shells of a listing, for one system', () => {
  const parsed = parseFlakeShow(
    JSON.stringify({
      devShells: {
        'x86_64-linux': { default: { type: 'derivation', name: 'a' }, other: { type: 'derivation', name: 'b' } },
        'aarch64-linux': { default: { type: 'derivation', name: 'c' } },
      },
      packages: { 'x86_64-linux': { p: { type: 'derivation', name: 'p' } } },
    }),
  );
  assert.ok(parsed.ok);
  assert.deepEqual(
    devShellsOf(parsed.model, 'x86_64-linux').map((l) => l.name),
    ['default', 'other'],
  );
  assert.deepEqual(devShellsOf(undefined, 'x86_64-linux'), []);
});

test('real nix: the fixture shells read the same way, with the tool on PATH and a GC root at the profile', async () => {
  const dir = copyFixture('devshell');
  const profiles = mkdtempSync(join(scratchDir(), 'profiles-'));
  for (const [name, tool, probe, value] of [
    ['default', 'shell-tool', 'PROBE_VAR', 'set by the default shell'],
    ['other', 'other-tool', 'OTHER_VAR', 'set by the other shell'],
  ] as const) {
    const profile = join(profiles, name);
    const r = await run(
      testNix(),
      ['print-dev-env', ...printDevEnvArgs(devShellInstallable(`git+file://${dir}`, 'x86_64-linux', name)!, profile)],
      { env: nixTestEnv() },
    );
    const env = readDevEnv(r.stdout);
    assert.ok(env.ok, r.stdout.slice(0, 200));
    assert.equal(env.env.variables[probe], value);
    const first = env.env.variables.PATH?.split(':')[0] ?? '';
    assert.match(first, /^\/nix\/store\/[a-z0-9]{32}-/);
    assert.ok(existsSync(join(first, tool)), `${tool} in ${first}`);
    for (const v of ['HOME', 'TMPDIR', 'NIX_BUILD_TOP', 'TERM', 'out', 'NIX_LOG_FD', 'OLDPWD']) assert.ok(!(v in env.env.variables), v);
    for (const v of ['EPOCHREALTIME', 'BASH', 'SHELL']) assert.ok(!(v in env.env.variables), `${v} is not exported`);
    // The profile is a link to the environment's store path (what keeps the shell's inputs from garbage collection).
    assert.match(realpathSync(profile), /^\/nix\/store\/[a-z0-9]{32}-devshell-[a-z]+-env$/);
    assert.ok(readFileSync(realpathSync(profile), 'utf8').includes(value));
  }
});

test("a profile's older generations are found (each is a GC root), not the current one nor other names", () => {
  assert.deepEqual(
    oldProfileGenerations(
      'devshell-ab',
      [
        'devshell-ab',
        'devshell-ab-1-link',
        'devshell-ab-2-link',
        'devshell-ab-3-link',
        'devshell-abc-1-link',
        'devshell-ab.json',
        'x-1-link',
      ],
      'devshell-ab-3-link',
    ),
    ['devshell-ab-1-link', 'devshell-ab-2-link'],
  );
});

test('real nix: evaluated once with a profile and a record, then read back from the cache with no process; one generation kept; a failure throws', async () => {
  const dir = copyFixture('devshell');
  const profiles = mkdtempSync(join(scratchDir(), 'profiles-'));
  const profile = join(profiles, devShellId(dir, 'x86_64-linux', 'default'));
  const printDevEnv = (args: string[]) => run(testNix(), nixArgs(['print-dev-env'], args), { env: nixTestEnv() });
  const inst = devShellInstallable(`git+file://${dir}`, 'x86_64-linux', 'default')!;
  for (let i = 0; i < 2; i++) {
    const r = await evaluateDevShell({ installable: inst, profile, printDevEnv });
    assert.ok(r.ok);
    assert.equal(r.env.variables.PROBE_VAR, 'set by the default shell');
    await saveDevShell({ installable: inst, profile, json: r.json, key: 'the-key' });
  }
  const otherInst = devShellInstallable(`git+file://${dir}`, 'x86_64-linux', 'other')!;
  const other = await evaluateDevShell({ installable: otherInst, profile, printDevEnv });
  assert.ok(other.ok);
  const saved = await saveDevShell({ installable: otherInst, profile, json: other.json, key: 'k2' });
  assert.equal(saved.key, 'k2');
  assert.deepEqual(
    readdirSync(profiles).filter((n) => n.endsWith('-link')).length,
    1,
    `one generation: ${readdirSync(profiles).join(' ')}`,
  );
  const cached = await readCachedDevShell(`${profile}.json`);
  assert.ok(cached);
  assert.equal(cached.record.key, 'k2');
  assert.equal(cached.env.variables.OTHER_VAR, 'set by the other shell');
  assert.deepEqual(cached.mutations, other.mutations);
  // Without its profile (the GC root gone), the record is not used.
  rmSync(profile);
  assert.equal(await readCachedDevShell(`${profile}.json`), undefined);
  assert.equal(await readCachedDevShell(join(profiles, 'missing.json')), undefined);
  await assert.rejects(
    evaluateDevShell({ installable: devShellInstallable(`git+file://${dir}`, 'x86_64-linux', 'missing')!, profile, printDevEnv }),
    (e: unknown) => e instanceof ExitError,
  );
});
