// The deploy core without a second machine: addresses, settings, command lines, the diff, generations, messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHostSettings, checkSshOptions, parseSshAddress, sshDestination, sshStoreUri } from '../../src/core/deploy/host';
import {
  diffClosures,
  formatSizeDelta,
  parseDiffClosures,
  parseDiffSize,
  parsePathInfo,
  splitName,
  summarizeDiff,
} from '../../src/core/deploy/diff';
import { listGenerationsArgs, parseGenerations } from '../../src/core/deploy/generations';
import {
  applySteps,
  buildStep,
  currentStep,
  deploySteps,
  diffSteps,
  nixosRebuildSteps,
  parseBuildJson,
  remoteCommand,
  rollbackSteps,
  type DeployInput,
} from '../../src/core/deploy/plan';
import { classifyFailure, runSteps } from '../../src/core/deploy/runner';
import { nixosRebuildDeployArgs, rebuildFlavor } from '../../src/core/nix/rebuild';
import { CancelledError } from '../../src/core/nix/process';
import { editFixture, copyDeployFixture } from '../support/testHost';
import { nixTestEnv, testNix } from '../support/nix';

test('ssh addresses: user@host, host:port, [v6]:port and aliases are read; options, whitespace, control characters and URI syntax are refused', () => {
  assert.deepEqual(parseSshAddress('web'), { ok: true, value: { host: 'web', text: 'web' } });
  assert.deepEqual(parseSshAddress('root@web.example.org:2222'), {
    ok: true,
    value: { user: 'root', host: 'web.example.org', port: 2222, text: 'root@web.example.org:2222' },
  });
  const v6 = parseSshAddress('deploy@[fe80::1%eth0]:22');
  assert.ok(v6.ok && v6.value.host === 'fe80::1%eth0' && v6.value.port === 22);
  assert.equal(v6.ok && sshDestination(v6.value), 'deploy@[fe80::1%eth0]');
  const p = parseSshAddress('admin@10.0.0.5:2200');
  assert.equal(
    p.ok && sshStoreUri(p.value),
    'ssh-ng://admin@10.0.0.5',
    'the port goes to NIX_SSHOPTS, not the URI (2.8 and 2.26 would pass host:port to ssh)',
  );
  for (const bad of [
    '',
    '-oProxyCommand=x',
    'a b',
    'web\n',
    'web\t',
    'we\x00b',
    'web;reboot',
    'web/x',
    'web?remote-store=x',
    'web#x',
    "we'b",
    'web:0',
    'web:70000',
    'web:22x',
    '@web',
    'ro ot@web',
    '-l@web',
    '[::1',
    '[zz]',
  ]) {
    assert.equal(parseSshAddress(bad).ok, false, JSON.stringify(bad));
  }
  const r = parseSshAddress('-oProxyCommand=touch /tmp/x', 'The target host');
  assert.ok(!r.ok && /starts with "-"/.test(r.message));
});

test('host settings from a workspace file: types checked, addresses read, unknown fields ignored', () => {
  const ok = checkHostSettings({ targetHost: 'root@web', buildHost: 'builder:2222', substituteOnTarget: true, sudo: false, other: 1 });
  assert.ok(ok.ok);
  assert.equal(ok.value.target?.host, 'web');
  assert.equal(ok.value.build?.port, 2222);
  assert.equal(ok.value.substituteOnTarget, true);
  assert.deepEqual(checkHostSettings(undefined), { ok: true, value: { substituteOnTarget: false, sudo: false, useNixosRebuild: false } });
  for (const bad of [{ targetHost: '-oX' }, { targetHost: 3 }, { sudo: 'yes' }, { signingKeyFile: 'relative/key' }, [], 'web']) {
    assert.equal(checkHostSettings(bad).ok, false, JSON.stringify(bad));
  }
  assert.equal(
    checkHostSettings(JSON.parse('{"__proto__": {"sudo": true}}')).ok && checkHostSettings(JSON.parse('{"__proto__": {"sudo": true}}')).ok,
    true,
  );
  const proto = checkHostSettings(JSON.parse('{"__proto__": {"sudo": true}}'));
  assert.ok(proto.ok && proto.value.sudo === false, 'only own fields count');
  assert.equal(checkSshOptions(['-F', '/a b/ssh_config']).ok, false, 'NIX_SSHOPTS is split at whitespace');
});

test('remote commands are quoted for the remote shell: /bin/sh reads back the same arguments', () => {
  const args = ['printf', '%s|', "it's", 'a b', '$(reboot)', '`x`', '*', '', ';', '\\t'];
  const out = execFileSync('sh', ['-c', remoteCommand(args)], { encoding: 'utf8' });
  assert.equal(out, "it's|a b|$(reboot)|`x`|*||;|\\t|");
});

const target = (() => {
  const c = checkHostSettings({ targetHost: 'root@web:2222', signingKeyFile: '/keys/deploy.sec' });
  assert.ok(c.ok);
  return c.value;
})();
const base: DeployInput = {
  nix: '/opt/nix/bin/nix',
  flakeRef: '/src/infra',
  hostName: 'web',
  action: 'switch',
  host: target,
  sshOptions: ['-F', '/cfg/ssh_config'],
};
const TOP = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web-1';

test('the steps of a switch to a target, as argument arrays', () => {
  const { preview, apply } = deploySteps(base);
  assert.deepEqual(
    preview.map((s) => s.id),
    ['build', 'current', 'closure-before', 'closure-after'],
  );
  assert.deepEqual(
    apply.map((s) => s.id),
    ['sign', 'copy', 'profile', 'activate', 'generations'],
  );
  const build = preview[0].command({})!;
  assert.equal(build.file, '/opt/nix/bin/nix');
  assert.deepEqual(build.args.slice(-6), [
    '--json',
    '--no-link',
    '--log-format',
    'internal-json',
    '-v',
    '/src/infra#nixosConfigurations."web".config.system.build.toplevel',
  ]);
  assert.ok(build.args.includes('--no-write-lock-file'));
  assert.deepEqual(preview[1].command({}), {
    file: 'ssh',
    args: [
      '-F',
      '/cfg/ssh_config',
      '-p',
      '2222',
      '-o',
      'BatchMode=yes',
      '--',
      'root@web',
      'readlink -e /run/current-system /nix/var/nix/profiles/system',
    ],
  });
  assert.equal(preview[2].command({ toplevel: TOP, current: null }), undefined, 'a first deployment has nothing to compare');
  const before = preview[2].command({ toplevel: TOP, current: TOP })!;
  assert.deepEqual(before.args.slice(-5), ['-r', '--json', '--store', 'ssh-ng://root@web', TOP]);
  assert.deepEqual(before.env, { NIX_SSHOPTS: '-F /cfg/ssh_config -p 2222' });
  const s = { toplevel: TOP };
  assert.deepEqual(apply[0].command(s)!.args.slice(-4), ['-r', '--key-file', '/keys/deploy.sec', TOP]);
  assert.deepEqual(apply[1].command(s)!.args.slice(-3), ['--to', 'ssh-ng://root@web', TOP]);
  assert.deepEqual(apply[2].command(s)!.args.slice(-2), ['root@web', `nix-env -p /nix/var/nix/profiles/system --set ${TOP}`]);
  assert.equal(apply[2].terminal, false);
  assert.equal(apply[3].terminal, true, 'the activation runs in a terminal');
  assert.equal(apply[3].cancellable, false);
  assert.deepEqual(apply[3].command(s)!.args.slice(-2), ['root@web', `${TOP}/bin/switch-to-configuration switch`]);
  const subst = applySteps({ ...base, host: { ...target, substituteOnTarget: true } }).find((x) => x.id === 'copy')!;
  assert.ok(subst.command(s)!.args.includes('--substitute-on-destination'));
});

test('sudo: the profile and the activation go through sudo in a terminal with ssh -t; without a target, here', () => {
  const sudo = applySteps({ ...base, host: { ...target, sudo: true } });
  const profile = sudo.find((x) => x.id === 'profile')!;
  assert.equal(profile.terminal, true);
  const cmd = profile.command({ toplevel: TOP })!;
  assert.ok(cmd.args.includes('-t') && !cmd.args.includes('BatchMode=yes'));
  assert.equal(cmd.args.at(-1), `sudo -- nix-env -p /nix/var/nix/profiles/system --set ${TOP}`);
  const local = deploySteps({ ...base, host: { substituteOnTarget: false, sudo: true, useNixosRebuild: false } });
  assert.deepEqual(
    local.preview.map((x) => x.id),
    ['build', 'current', 'diff'],
  );
  assert.deepEqual(
    local.apply.map((x) => x.id),
    ['profile', 'activate', 'generations'],
    'nothing to sign or copy here',
  );
  assert.deepEqual(local.apply[0].command({ toplevel: TOP }), {
    file: 'sudo',
    args: ['--', '/opt/nix/bin/nix-env', '-p', '/nix/var/nix/profiles/system', '--set', TOP],
  });
  assert.deepEqual(local.apply[1].command({ toplevel: TOP }), {
    file: 'sudo',
    args: ['--', `${TOP}/bin/switch-to-configuration`, 'switch'],
  });
  assert.deepEqual(local.preview[1].command({}), { file: 'readlink', args: ['-e', '/run/current-system', '/nix/var/nix/profiles/system'] });
  assert.deepEqual(local.preview[2].command({ toplevel: TOP, current: TOP.replace('-1', '-0') })!.args.slice(-4), [
    'store',
    'diff-closures',
    TOP.replace('-1', '-0'),
    TOP,
  ]);
  assert.deepEqual(
    applySteps({ ...base, action: 'test' }).map((x) => x.id),
    ['sign', 'copy', 'activate'],
  );
  assert.deepEqual(
    applySteps({ ...base, action: 'dry-activate' }).map((x) => x.id),
    ['sign', 'copy', 'activate'],
  );
  assert.deepEqual(applySteps({ ...base, action: 'build' }), []);
  const rb = rollbackSteps(base, 4);
  assert.deepEqual(
    rb.map((x) => x.id),
    ['switch-generation', 'activate', 'generations'],
  );
  assert.equal(rb[0].command({})!.args.at(-1), 'nix-env -p /nix/var/nix/profiles/system --switch-generation 4');
  assert.equal(rb[1].command({})!.args.at(-1), '/nix/var/nix/profiles/system-4-link/bin/switch-to-configuration switch');
});

test('build host: nothing builds here (--max-jobs 0), the build host is the one builder, its port in NIX_SSHOPTS', () => {
  const c = checkHostSettings({ buildHost: 'nix@builder:2200' });
  assert.ok(c.ok);
  const cmd = buildStep({ ...base, host: c.value, buildHostSystems: ['x86_64-linux', 'i686-linux'] }).command({})!;
  const i = cmd.args.indexOf('--builders');
  assert.deepEqual(cmd.args.slice(i - 2, i + 2), ['--max-jobs', '0', '--builders', 'ssh-ng://nix@builder x86_64-linux,i686-linux']);
  assert.deepEqual(cmd.env, { NIX_SSHOPTS: '-F /cfg/ssh_config -p 2200' });
  assert.deepEqual(parseBuildJson('[{"drvPath":"/nix/store/x.drv","outputs":{"out":"/nix/store/y"}}]'), {
    drvPath: '/nix/store/x.drv',
    out: '/nix/store/y',
  });
  assert.throws(() => parseBuildJson('[{"outputs":{"out":"relative; rm"}}]'));
});

test('the current system: the first store path readlink printed; none when neither link exists', () => {
  const step = currentStep(base);
  const s: { current?: string | null } = {};
  step.parse!(`${TOP}\n`, s);
  assert.equal(s.current, TOP);
  step.parse!('', s);
  assert.equal(s.current, null);
  assert.deepEqual(step.okExitCodes, [1]);
  assert.equal(diffSteps(base).length, 2);
});

test('nixos-rebuild: the sudo flag its version knows, target and build host, a port through NIX_SSHOPTS', () => {
  assert.equal(rebuildFlavor('usage: nixos-rebuild [-h] [--sudo] [--ask-sudo-password] ...'), 'ng');
  assert.equal(rebuildFlavor('NIXOS-REBUILD(8)\n  --use-remote-sudo\n      When set, nixos-rebuild prefixes …'), 'bash');
  const bash = nixosRebuildDeployArgs('switch', '/src/infra', 'web', {
    targetHost: 'root@web',
    buildHost: 'b',
    useSubstitutes: true,
    sudo: true,
    flavor: 'bash',
  });
  assert.deepEqual(bash.ok && bash.value, [
    'switch',
    '--flake',
    '/src/infra#web',
    '--target-host',
    'root@web',
    '--build-host',
    'b',
    '--use-substitutes',
    '--use-remote-sudo',
    '--no-write-lock-file',
    '--show-trace',
  ]);
  const ng = nixosRebuildDeployArgs('boot', '/src/infra', 'web', { targetHost: 'web', sudo: true, askSudoPassword: true, flavor: 'ng' });
  assert.ok(ng.ok && ng.value.includes('--ask-sudo-password') && !ng.value.includes('--use-remote-sudo'));
  const ngNoPw = nixosRebuildDeployArgs('boot', '/src/infra', 'web', { targetHost: 'web', sudo: true, flavor: 'ng' });
  assert.ok(ngNoPw.ok && ngNoPw.value.includes('--sudo'));
  for (const bad of ['-oProxyCommand=x', 'a b', 'web;x'])
    assert.equal(nixosRebuildDeployArgs('switch', '.', 'web', { targetHost: bad }).ok, false, bad);
  const steps = nixosRebuildSteps(base, 'ng');
  assert.ok(steps.ok);
  const cmd = steps.value[0].command({})!;
  assert.equal(cmd.file, 'nixos-rebuild');
  assert.deepEqual(cmd.env, { NIX_SSHOPTS: '-F /cfg/ssh_config -p 2222' });
  assert.ok(steps.value[0].terminal);
  const twoPorts = checkHostSettings({ targetHost: 'a:1', buildHost: 'b:2' });
  assert.ok(twoPorts.ok);
  assert.equal(nixosRebuildSteps({ ...base, host: twoPorts.value }, 'ng').ok, false);
});

// `nix store diff-closures` output as 2.8/2.26 and 2.34 print it (deploy.md §3), sizes in colour even when piped.
const DIFF_28 =
  'bar: 2.0 → ∅, \x1b[32;1m-20.3 KiB\x1b[0m\nbaz: ∅ → 0.5, \x1b[31;1m+16.3 KiB\x1b[0m\ndemo-system: 1 → 2\netc: \x1b[31;1m+29.0 KiB\x1b[0m\nfoo: 1.0 → 1.1, \x1b[31;1m+36.0 KiB\x1b[0m\n';
const DIFF_234 = DIFF_28.replace(/\+/g, '');

test('diff-closures text: versions changed, added, removed, size deltas (growth with or without "+"), escapes stripped', () => {
  for (const text of [DIFF_28, DIFF_234]) {
    const d = parseDiffClosures(text);
    assert.deepEqual(d.changes, [
      { name: 'bar', before: ['2.0'], after: [], sizeDelta: -20787, kind: 'removed' },
      { name: 'baz', before: [], after: ['0.5'], sizeDelta: 16691, kind: 'added' },
      { name: 'demo-system', before: ['1'], after: ['2'], kind: 'changed' },
      { name: 'etc', before: [], after: [], sizeDelta: 29696, kind: 'size' },
      { name: 'foo', before: ['1.0'], after: ['1.1'], sizeDelta: 36864, kind: 'changed' },
    ]);
    assert.equal(d.omitted, 0);
    assert.equal(summarizeDiff(d).text, '2 changed, 1 added, 1 removed, +61.0 KiB');
  }
  const odd = parseDiffClosures(
    'Version 1 -> 2:\n  foo: ε → 1.0, 2.0\n  x: 1.0, 1.1 → 1.2, -1.5 MiB\nnot a diff line\n' +
      'y: '.repeat(5000) +
      '\n\x1b]8;;http://x\x07link: +8.0 KiB\n',
  );
  assert.deepEqual(odd.changes[0], { name: 'foo', before: [''], after: ['1.0', '2.0'], kind: 'changed' });
  assert.deepEqual(odd.changes[1], { name: 'x', before: ['1.0', '1.1'], after: ['1.2'], sizeDelta: -1572864, kind: 'changed' });
  assert.equal(odd.changes[2].name, 'link');
  assert.equal(odd.omitted, 2);
  assert.equal(parseDiffSize('12 B'), 12);
  assert.equal(parseDiffSize('1.0 GiB'), 1024 ** 3);
  assert.equal(formatSizeDelta(-1572864), '-1.5 MiB');
  assert.equal(formatSizeDelta(100), '+100 B');
  const many = parseDiffClosures(Array.from({ length: 10_050 }, (_, i) => `p${i}: 1 → 2`).join('\n'));
  assert.equal(many.changes.length, 10_000);
  assert.equal(many.omitted, 50);
});

test('path-info JSON of every version is read (2.8 array, 2.19+ object, --json-format 2); names split as Nix does', () => {
  const a = parsePathInfo('[{"path":"/nix/store/a-foo-1.0","narSize":10,"closureSize":30},{"path":"/nix/store/b-x","valid":false}]');
  assert.deepEqual(a, [{ path: '/nix/store/a-foo-1.0', narSize: 10, closureSize: 30 }]);
  assert.deepEqual(parsePathInfo('{"/nix/store/a-foo-1.0":{"narSize":10},"/nix/store/b":null}'), [
    { path: '/nix/store/a-foo-1.0', narSize: 10 },
  ]);
  assert.deepEqual(parsePathInfo('{"info":{"a-foo-1.0":{"narSize":10,"version":2}},"storeDir":"/nix/store","version":2}'), [
    { path: '/nix/store/a-foo-1.0', narSize: 10 },
  ]);
  assert.deepEqual(splitName('nixos-system-web-1'), { name: 'nixos-system-web', version: '1' });
  assert.deepEqual(splitName('glibc-2.39-52-bin'), { name: 'glibc', version: '2.39-52' });
  assert.deepEqual(splitName('etc'), { name: 'etc', version: '' });
  assert.deepEqual(splitName('hello-unstable-2024-01-01'), { name: 'hello-unstable', version: '2024-01-01' });
});

test('the diff computed from two path-info closures equals nix store diff-closures on the same pair (real Nix)', async () => {
  const env = nixTestEnv();
  const nix = testNix();
  const flake = copyDeployFixture('deploy-host');
  const top = `${flake}#nixosConfigurations.web.config.system.build.toplevel`;
  const build = (): string =>
    JSON.parse(
      execFileSync(nix, ['--extra-experimental-features', 'nix-command flakes', 'build', '--no-link', '--json', top], {
        env,
        encoding: 'utf8',
      }),
    )[0].outputs.out;
  const one = build();
  editFixture(
    flake,
    'host.nix',
    readFileSync(join(flake, 'host.nix'), 'utf8')
      .replace('release = "1"', 'release = "2"')
      .replace('version = "1.0"; size = 4096;', 'version = "1.1"; size = 40960;')
      .replace('bar = {', 'baz = {'),
  );
  const two = build();
  const text = execFileSync(nix, ['--extra-experimental-features', 'nix-command', 'store', 'diff-closures', one, two], {
    env,
    encoding: 'utf8',
  });
  const parsed = parseDiffClosures(text);
  const info = (p: string) =>
    parsePathInfo(
      execFileSync(nix, ['--extra-experimental-features', 'nix-command', 'path-info', '-r', '--json', p], {
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
  const computed = diffClosures(info(one), info(two));
  assert.deepEqual(
    computed.changes.map(({ name, before, after, kind }) => ({ name, before, after, kind })),
    parsed.changes.map(({ name, before, after, kind }) => ({ name, before, after, kind })),
  );
  for (const [i, c] of computed.changes.entries()) {
    assert.equal(c.sizeDelta === undefined, parsed.changes[i].sizeDelta === undefined, c.name);
    if (c.sizeDelta !== undefined)
      assert.ok(Math.abs(c.sizeDelta - parsed.changes[i].sizeDelta!) <= 52, `${c.name}: ${c.sizeDelta} vs ${parsed.changes[i].sizeDelta}`);
  }
  assert.ok(computed.changes.some((c) => c.name === 'foo' && c.before[0] === '1.0' && c.after[0] === '1.1'));
  assert.equal(computed.sizeAfter! - computed.sizeBefore!, computed.sizeDelta);
});

test('generations: every link with its toplevel and time, the one the profile points at current', () => {
  assert.deepEqual(listGenerationsArgs(), [
    'find',
    '/nix/var/nix/profiles',
    '-maxdepth',
    '1',
    '(',
    '-name',
    'system',
    '-o',
    '-name',
    'system-*-link',
    ')',
    '-printf',
    '%f\\t%l\\t%T@\\n',
  ]);
  const text =
    'system-2-link\t/nix/store/b-sys-2\t1796096924.5\nsystem\tsystem-2-link\t1796096924.6\nsystem-10-link\t/nix/store/c-sys-10\t1796096990.0\nsystem-1-link\t/nix/store/a-sys-1\t1796096923.6094876430\nsystem-x-link\t/nix/store/z\t1\ngarbage\n';
  const gens = parseGenerations(text);
  assert.deepEqual(
    gens.map((g) => [g.number, g.toplevel, g.current]),
    [
      [1, '/nix/store/a-sys-1', false],
      [2, '/nix/store/b-sys-2', true],
      [10, '/nix/store/c-sys-10', false],
    ],
  );
  assert.equal(gens[0].time, 1796096923609);
});

test('failures in words a person can act on: unsigned paths, host keys, sudo passwords', () => {
  const u = classifyFailure('copy', "error: cannot add path '/nix/store/x-bar-2.0' because it lacks a valid signature", 'web');
  assert.equal(u.kind, 'unsigned');
  assert.match(u.message, /^web refused paths/);
  for (const how of ['nix key generate-secret', 'trusted-public-keys', 'nix store sign -r --key-file', 'trusted-users'])
    assert.ok(u.message.includes(how), how);
  assert.equal(classifyFailure('copy', 'Host key verification failed.').kind, 'host-key');
  assert.equal(classifyFailure('profile', 'sudo: a terminal is required to read the password').kind, 'sudo-password');
  assert.equal(classifyFailure('activate', 'boom').kind, 'activation-failed');
});

test('the runner: skipped steps, ok exit codes, cancellation before a step, parse into the state', async () => {
  const seen: string[] = [];
  const steps = [
    {
      id: 'current' as const,
      title: 'a',
      terminal: false,
      cancellable: true,
      okExitCodes: [1],
      command: () => ({ file: 'sh', args: ['-c', 'echo /nix/store/x-sys; exit 1'] }),
      parse: (out: string, s: { current?: string | null }) => (s.current = out.trim()),
    },
    { id: 'diff' as const, title: 'b', terminal: false, cancellable: true, command: () => undefined },
  ];
  const state = await runSteps(steps, {}, { onProgress: (p) => seen.push(`${p.type}:${p.step}`) });
  assert.equal(state.current, '/nix/store/x-sys');
  assert.deepEqual(seen, ['start:current', 'line:current', 'done:current', 'skipped:diff']);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runSteps(steps, {}, { signal: ac.signal }), CancelledError);
});
