// Deployments to a real second machine: sshd on 127.0.0.1 with its own /nix (test/support/testHost.ts), through
// Nix's own transports (ssh-ng://, remote builders), with the steps of src/core/deploy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostSettings, type CheckedHost } from '../../src/core/deploy/host';
import {
  closeSharedCommand,
  configSharesConnections,
  controlDir,
  sharingOptions,
  sshConfigCommand,
} from '../../src/core/deploy/connections';
import {
  deploySteps,
  generationsStep,
  rollbackSteps,
  shellQuote,
  type Command,
  type DeployAction,
  type DeployInput,
} from '../../src/core/deploy/plan';
import { deploy, DeployError, runSteps, type DeployProgress } from '../../src/core/deploy/runner';
import { CancelledError } from '../../src/core/nix/process';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nixTestEnv, testNix } from '../support/nix';
import {
  copyDeployFixture,
  editFixture,
  makeSigningKey,
  removeTestHost,
  startTestHost,
  testHostUnavailable,
  type TestHost,
} from '../support/testHost';

const skip = testHostUnavailable();

describe('deploying to the test host', { skip }, () => {
  let host: TestHost;
  let key: { secretFile: string; publicKey: string };
  const env = nixTestEnv();

  before(async () => {
    host = await startTestHost();
    key = makeSigningKey(`deploy-test-${process.pid}`);
    host.trustKey(key.publicKey);
  });
  after(() => {
    host?.stop();
    if (host) removeTestHost(host);
  });

  function settings(extra: Record<string, unknown> = {}): CheckedHost {
    const c = checkHostSettings({ targetHost: host.address, signingKeyFile: key.secretFile, ...extra });
    assert.ok(c.ok, !c.ok ? c.message : '');
    return c.value;
  }
  function input(flake: string, action: DeployAction, hostSettings = settings()): DeployInput {
    return { nix: testNix(), flakeRef: flake, hostName: 'web', action, host: hostSettings, sshOptions: host.sshOptions };
  }

  test('switch: the closure is in the host\'s store, a new system generation points at it, the activation got "switch"', async () => {
    const flake = copyDeployFixture('deploy-host');
    const before = host.generations().length;
    const seen: string[] = [];
    const state = await deploy(deploySteps(input(flake, 'switch')), () => true, {
      env,
      onProgress: (p: DeployProgress) => p.type === 'start' && seen.push(p.step),
    });
    assert.ok(state?.toplevel);
    assert.deepEqual(seen, ['build', 'current', 'sign', 'copy', 'profile', 'activate', 'generations']);
    assert.ok(host.storeHas(state.toplevel), "the toplevel is in the test host's store");
    const gens = host.generations();
    assert.equal(gens.length, before + 1);
    assert.equal(gens.at(-1)!.toplevel, state.toplevel);
    assert.equal(host.currentGeneration(), `system-${gens.at(-1)!.number}-link`);
    assert.deepEqual(host.activations().at(-1), { action: 'switch', script: `${state.toplevel}/bin/switch-to-configuration` });
    assert.equal(state.generation, gens.at(-1)!.number);
    assert.ok(state.generations?.find((g) => g.current)?.toplevel === state.toplevel);
  });
  test('boot: the profile is set, the activation got "boot"', async () => {
    const flake = copyDeployFixture('deploy-host');
    const before = host.generations().length;
    const state = await deploy(deploySteps(input(flake, 'boot')), () => true, { env });
    assert.equal(host.generations().length, before + 1);
    assert.equal(host.generations().at(-1)!.toplevel, state!.toplevel);
    assert.deepEqual(host.activations().at(-1), { action: 'boot', script: `${state!.toplevel}/bin/switch-to-configuration` });
  });

  test('test: activated with "test", no new generation, the profile unchanged', async () => {
    const flake = copyDeployFixture('deploy-host');
    const gens = host.generations();
    const current = host.currentGeneration();
    const seen: string[] = [];
    const state = await deploy(deploySteps(input(flake, 'test')), () => true, {
      env,
      onProgress: (p) => p.type === 'start' && seen.push(p.step),
    });
    assert.ok(!seen.includes('profile'));
    assert.ok(host.storeHas(state!.toplevel!));
    assert.deepEqual(host.generations(), gens);
    assert.equal(host.currentGeneration(), current);
    assert.deepEqual(host.activations().at(-1), { action: 'test', script: `${state!.toplevel}/bin/switch-to-configuration` });
  });

  test('cancel before the activation: the same generations, nothing activated (cancelled during the copy, and at the confirmation)', async () => {
    for (const when of ['copy', 'confirm'] as const) {
      const flake = copyDeployFixture('deploy-host');
      const gens = host.generations();
      const calls = host.activations().length;
      const ac = new AbortController();
      const run = deploy(
        deploySteps(input(flake, 'switch')),
        () => {
          if (when === 'confirm') ac.abort();
          return when !== 'confirm';
        },
        { env, signal: ac.signal, onProgress: (p) => p.type === 'start' && p.step === when && ac.abort() },
      );
      if (when === 'copy') await assert.rejects(run, CancelledError);
      else assert.equal(await run, undefined);
      assert.deepEqual(host.generations(), gens, when);
      assert.equal(host.activations().length, calls, when);
    }
  });

  test('a host edit between two generations: the diff shows the changed package version, the added and removed ones', async () => {
    const flake = copyDeployFixture('deploy-host');
    const first = await deploy(deploySteps(input(flake, 'switch')), () => true, { env });
    const hostNix = readFileSync(join(flake, 'host.nix'), 'utf8');
    editFixture(
      flake,
      'host.nix',
      hostNix
        .replace('release = "1"', 'release = "2"')
        .replace('foo = { version = "1.0"; size = 4096; };', 'foo = { version = "1.1"; size = 40960; };')
        .replace('bar = { version = "2.0"; size = 20480; };', 'baz = { version = "0.5"; size = 16384; };'),
    );
    let shown: unknown;
    const second = await deploy(
      deploySteps(input(flake, 'switch')),
      (s) => {
        shown = s.diff;
        return true;
      },
      { env },
    );
    assert.equal(second!.current, first!.toplevel, 'compared with what the host ran');
    const byName = new Map(second!.diff!.changes.map((c) => [c.name, c]));
    assert.deepEqual(byName.get('foo'), { name: 'foo', before: ['1.0'], after: ['1.1'], sizeDelta: 36864, kind: 'changed' });
    assert.deepEqual(byName.get('baz'), {
      name: 'baz',
      before: [],
      after: ['0.5'],
      sizeDelta: byName.get('baz')!.sizeDelta,
      kind: 'added',
    });
    assert.ok(byName.get('baz')!.sizeDelta! >= 16384);
    assert.equal(byName.get('bar')?.kind, 'removed');
    assert.deepEqual(byName.get('nixos-system-web'), { name: 'nixos-system-web', before: ['1'], after: ['2'], kind: 'changed' });
    assert.equal(shown, second!.diff, 'the confirmation saw the diff');
  });

  test('an unsigned closure is refused with a message that says how to sign or trust; the host is unchanged', async () => {
    const flake = copyDeployFixture('deploy-host');
    const gens = host.generations();
    const calls = host.activations().length;
    const unsigned = settings({ signingKeyFile: undefined });
    await assert.rejects(
      deploy(deploySteps(input(flake, 'switch', unsigned)), () => true, { env, target: host.address }),
      (e: unknown) => {
        assert.ok(e instanceof DeployError);
        assert.equal(e.step, 'copy');
        assert.equal(e.kind, 'unsigned');
        assert.match(e.message, /testhost refused paths that are not signed by a key it trusts/);
        assert.match(e.message, /nix store sign -r --key-file/);
        assert.match(e.message, /trusted-public-keys/);
        assert.match(e.output, /signature/);
        return true;
      },
    );
    assert.deepEqual(host.generations(), gens);
    assert.equal(host.activations().length, calls);
  });

  test('build host: the toplevel is built on the test host (its output is in that store first), then here', async () => {
    const flake = copyDeployFixture('deploy-host');
    const state = {};
    const hostSettings = settings({ targetHost: undefined, buildHost: host.address, signingKeyFile: undefined });
    const steps = deploySteps({ ...input(flake, 'build', hostSettings) });
    assert.deepEqual(steps.apply, []);
    await runSteps(steps.preview.slice(0, 1), state, { env });
    const toplevel = (state as { toplevel: string }).toplevel;
    assert.ok(host.storeHas(toplevel), "built in the test host's store");
    assert.ok(
      execFileSync(testNix(), ['--extra-experimental-features', 'nix-command', 'path-info', toplevel], { env, encoding: 'utf8' }).includes(
        toplevel,
      ),
      'copied back here',
    );
    assert.equal(host.generations().filter((g) => g.toplevel === toplevel).length, 0, 'nothing activated');
  });

  test('generations are listed (time, toplevel, current) and a rollback activates an older one', async () => {
    const flake = copyDeployFixture('deploy-host');
    const a = await deploy(deploySteps(input(flake, 'switch')), () => true, { env });
    editFixture(flake, 'host.nix', readFileSync(join(flake, 'host.nix'), 'utf8').replace('release = "1"', 'release = "3"'));
    const b = await deploy(deploySteps(input(flake, 'switch')), () => true, { env });
    const listed = await runSteps([generationsStep({ host: settings(), sshOptions: host.sshOptions })], {}, { env });
    const gens = listed.generations!;
    assert.deepEqual(
      gens.map((g) => g.toplevel),
      host.generations().map((g) => g.toplevel),
    );
    const ga = gens.find((g) => g.toplevel === a!.toplevel)!;
    const gb = gens.find((g) => g.toplevel === b!.toplevel)!;
    assert.ok(gb.current && !ga.current && gens.filter((g) => g.current).length === 1);
    assert.ok(Math.abs(ga.time - Date.now()) < 120_000, 'a time near now');
    const rolled = await runSteps(rollbackSteps({ nix: testNix(), host: settings(), sshOptions: host.sshOptions }, ga.number), {}, { env });
    assert.equal(host.currentGeneration(), `system-${ga.number}-link`);
    assert.equal(rolled.generation, ga.number);
    assert.deepEqual(host.activations().at(-1), {
      action: 'switch',
      script: `/nix/var/nix/profiles/system-${ga.number}-link/bin/switch-to-configuration`,
    });
  });
  test('one shared ssh connection for a whole switch (the test host logs one login), none left once closed', async (t) => {
    const flake = copyDeployFixture('deploy-host');
    await deploy(deploySteps(input(flake, 'switch')), () => true, { env });
    const logins = () => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
    const target = settings().target!;
    const sshG = execFileSync('ssh', sshConfigCommand(host.sshOptions, target).args, { encoding: 'utf8' });
    assert.equal(configSharesConnections(sshG), false, "the test host's ssh_config shares no connections");
    const dir = await controlDir({}, process.getuid!(), mkdtempSync('/tmp/nf-'));
    assert.ok(dir);
    const shared = { ...input(flake, 'switch'), sshOptions: [...host.sshOptions, ...sharingOptions(dir)] };
    // Unshared, for the figure: every step logs in again.
    let before = logins();
    let t0 = Date.now();
    await deploy(deploySteps(input(flake, 'switch')), () => true, { env });
    const unsharedMs = Date.now() - t0;
    const unsharedLogins = logins() - before;
    before = logins();
    t0 = Date.now();
    const state = await deploy(deploySteps(shared), () => true, { env });
    const sharedMs = Date.now() - t0;
    assert.equal(logins() - before, 1, 'ssh, nix copy and nix path-info all went through one login');
    assert.ok(unsharedLogins >= 4, `unshared: ${unsharedLogins} logins`);
    assert.equal(host.activations().at(-1)?.action, 'switch');
    assert.equal(state?.generations?.find((g) => g.current)?.toplevel, state?.toplevel);
    const close = closeSharedCommand(shared.sshOptions, target);
    execFileSync(close.file, close.args, { stdio: 'ignore' });
    assert.deepEqual(readdirSync(dir), [], 'the socket is gone');
    assert.equal(spawnSync('pgrep', ['-f', `^ssh.*${dir}`]).status, 1, 'no ssh master left');
    rmSync(dirname(dir), { recursive: true, force: true });
    t.diagnostic(
      `no-change switch: ${unsharedLogins} logins ${unsharedMs} ms unshared, 1 login ${sharedMs} ms shared (ratio ${(sharedMs / unsharedMs).toFixed(2)})`,
    );
  });

  test('timing: a no-change switch through the steps, against the same commands typed in a shell', async (t) => {
    const flake = copyDeployFixture('deploy-host');
    await deploy(deploySteps(input(flake, 'switch')), () => true, { env });
    // The core, one run, as the editor runs it (one shared ssh connection): every step, with the durations of each.
    const dir = (await controlDir({}, process.getuid!(), mkdtempSync('/tmp/nf-')))!;
    const shared = { ...input(flake, 'switch'), sshOptions: [...host.sshOptions, ...sharingOptions(dir)] };
    const commands: (Command & { ok1?: boolean })[] = [];
    const steps: string[] = [];
    const started = process.hrtime.bigint();
    await deploy(deploySteps(shared), () => true, {
      env,
      onProgress: (p) => {
        if (p.type === 'start') commands.push({ ...p.command, ok1: p.step === 'current' });
        if (p.type === 'done') steps.push(`${p.step} ${p.durationMs} ms`);
      },
    });
    const core = Number(process.hrtime.bigint() - started) / 1e6;
    const close = closeSharedCommand(shared.sshOptions, settings().target!);
    execFileSync(close.file, close.args, { stdio: 'ignore' });
    // By hand: the same command lines in one shell script (what a person pasting them would run).
    const script = commands
      .map(
        (c) =>
          `${[...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`), shellQuote(c.file), ...c.args.map(shellQuote)].join(' ')} >/dev/null 2>&1${c.ok1 ? ' || [ $? = 1 ]' : ''}`,
      )
      .join('\n');
    const t0 = process.hrtime.bigint();
    execFileSync('sh', ['-ec', script], { env, stdio: 'ignore' });
    const sameCommands = Number(process.hrtime.bigint() - t0) / 1e6;
    execFileSync(close.file, close.args, { stdio: 'ignore' });
    rmSync(dirname(dir), { recursive: true, force: true });
    // By hand, the short way: build, sign, copy, set the profile, activate (no diff, no generations list).
    const top = `${flake}#nixosConfigurations.web.config.system.build.toplevel`;
    const ssh = ['ssh', ...host.sshOptions, host.address].map(shellQuote).join(' ');
    const short = [
      `p=$(${shellQuote(testNix())} --extra-experimental-features 'nix-command flakes' build --no-link --json ${shellQuote(top)} | sed 's/.*"out":"\\([^"]*\\)".*/\\1/')`,
      `${shellQuote(testNix())} --extra-experimental-features nix-command store sign -r --key-file ${shellQuote(key.secretFile)} "$p"`,
      `NIX_SSHOPTS=${shellQuote(host.env.NIX_SSHOPTS)} ${shellQuote(testNix())} --extra-experimental-features nix-command copy --to ssh-ng://${host.address} "$p"`,
      `${ssh} nix-env -p /nix/var/nix/profiles/system --set "$p"`,
      `${ssh} "$p/bin/switch-to-configuration" switch`,
    ].join(' &&\n');
    const t1 = process.hrtime.bigint();
    execFileSync('sh', ['-c', short], { env, stdio: 'ignore' });
    const shortHand = Number(process.hrtime.bigint() - t1) / 1e6;
    t.diagnostic(
      `no-change switch: core (one shared ssh connection) ${core.toFixed(0)} ms (${steps.join(', ')}); the same ${commands.length} commands in sh ${sameCommands.toFixed(0)} ms (ratio ${(core / sameCommands).toFixed(2)}); build+sign+copy+profile+activate in sh ${shortHand.toFixed(0)} ms (ratio ${(core / shortHand).toFixed(2)})`,
    );
    assert.ok(core < 10 * sameCommands + 5000, 'no large overhead of its own');
  });
});
