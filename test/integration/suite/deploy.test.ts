// Deploying a NixOS host from the editor to a real second machine: sshd on 127.0.0.1 with its own /nix, started by
// this test (test/support/testHost.ts), named in `nixFlakes.hosts` (the workspace's settings, written here) with the
// machine settings for ssh and signing. The commands run through vscode.commands.executeCommand; the confirmation
// and picks are answered through the API's `deploy.ui`. What happened is read from the host's store, profile and the
// switch-to-configuration stand-in's log.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, until } from './helpers';
import { editFixture, makeSigningKey, removeTestHost, startTestHost, testHostUnavailable, type TestHost } from '../../support/testHost';
import type { DeployOutcome, DeployUi } from '../../../src/features/deploy';

const unavailable = testHostUnavailable();

type Question = Parameters<DeployUi['confirm']>[0];

describe('Deploy a NixOS host to a test host over ssh', function () {
  this.timeout(180_000);
  let host: TestHost;
  let previousUi: DeployUi;
  const asked: Question[] = [];
  let answer: (q: Question) => boolean | Promise<boolean> = () => true;
  let pickGeneration: DeployUi['pickGeneration'] = async () => undefined;
  const conf = () => vscode.workspace.getConfiguration('nixFlakes');

  before(async function () {
    if (unavailable) {
      console.log(`    (skipped: no test host here: ${unavailable})`);
      this.skip();
    }
    const api = await extension();
    host = await startTestHost();
    const key = makeSigningKey(`deploy-inhost-${process.pid}`);
    host.trustKey(key.publicKey);
    await conf().update('deploy.sshOptions', host.sshOptions, vscode.ConfigurationTarget.Global);
    await conf().update('deploy.signingKeyFile', key.secretFile, vscode.ConfigurationTarget.Global);
    await conf().update('hosts', { web: { targetHost: host.address } }, vscode.ConfigurationTarget.Workspace);
    previousUi = api.deploy.ui;
    api.deploy.ui = {
      confirm: async (q) => {
        asked.push(q);
        return answer(q);
      },
      pickGeneration: (gens, c, target) => pickGeneration(gens, c, target),
      pickImage: async () => undefined,
    };
  });

  after(async () => {
    if (unavailable) return;
    const api = await extension();
    api.deploy.ui = previousUi;
    await conf().update('deploy.sshOptions', undefined, vscode.ConfigurationTarget.Global);
    await conf().update('deploy.signingKeyFile', undefined, vscode.ConfigurationTarget.Global);
    await conf().update('hosts', undefined, vscode.ConfigurationTarget.Workspace);
    for (const t of vscode.window.terminals.filter((t) => t.name.includes(host.address))) t.dispose();
    host?.stop();
    if (host) removeTestHost(host);
  });

  beforeEach(() => {
    asked.length = 0;
    answer = () => true;
  });

  /** What the Outputs tree passes for the host (its item's output target). */
  async function treeTarget() {
    const flake = await flakeOf('deploy-host');
    return {
      flake,
      attrPath: ['nixosConfigurations', 'web', 'config', 'system', 'build', 'toplevel'],
      display: '.#web',
      kind: 'nixos-configuration',
    };
  }

  async function run(command: string, arg?: unknown): Promise<DeployOutcome> {
    const o = await vscode.commands.executeCommand<DeployOutcome>(command, arg ?? (await treeTarget()));
    assert.ok(o, `${command} returned an outcome`);
    return o;
  }

  it('Switch from the host item: the diff, a confirmation naming the host, the action and the changes; the closure on the host, a new generation, "switch" activated, the message with the generation number', async () => {
    const before = host.generations().length;
    const logins = () => (readFileSync(join(host.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
    const loginsBefore = logins();
    const o = await run('nixFlakes.deploy.switch');
    assert.equal(o.status, 'done', `${o.message}\n${o.error?.output ?? ''}`);
    // Every step that reached the host (ssh, nix copy, the activation in its terminal) shared one connection,
    // closed when the deployment ended.
    assert.equal(logins() - loginsBefore, 1, 'one ssh login for the whole deployment');
    // (the master exits shortly after `ssh -O exit` asked it to)
    const masters = await until(
      'no ssh master left',
      () => {
        const r = spawnSync('pgrep', ['-af', '^ssh.*nix-flakes-ssh'], { encoding: 'utf8' });
        return r.status === 1 ? 'none' : undefined;
      },
      5_000,
    ).catch(() => spawnSync('pgrep', ['-af', '^ssh.*nix-flakes-ssh'], { encoding: 'utf8' }).stdout);
    assert.equal(masters, 'none', 'no ssh master left');
    const top = o.state.toplevel!;
    assert.ok(host.storeHas(top), "the toplevel is in the host's store");
    const gens = host.generations();
    assert.equal(gens.length, before + 1);
    const gen = gens.at(-1)!;
    assert.equal(gen.toplevel, top);
    assert.equal(host.currentGeneration(), `system-${gen.number}-link`);
    assert.deepEqual(host.activations().at(-1), { action: 'switch', script: `${top}/bin/switch-to-configuration` });
    assert.equal(o.message, `Switched web on ${host.address} to generation ${gen.number}.`);
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.title, `Switch web on ${host.address}?`);
    assert.equal(asked[0]!.button, 'Switch');
    assert.match(asked[0]!.detail, before === 0 ? /first deployment/ : /Changes: /);
    assert.match(asked[0]!.detail, new RegExp(`New: ${top.replace(/[.+]/g, '\\$&')}`));
    const api = await extension();
    assert.equal(api.deploy.panel.current?.phase, 'done');
    assert.equal(api.deploy.panel.current?.generation, gen.number);
  });

  it('Boot: the profile is set, the activation got "boot"', async () => {
    editFixture(
      fixture('deploy-host'),
      'host.nix',
      readFileSync(join(fixture('deploy-host'), 'host.nix'), 'utf8').replace(/release = "[^"]*"/, 'release = "boot"'),
    );
    const before = host.generations().length;
    const o = await run('nixFlakes.deploy.boot');
    assert.equal(o.status, 'done', o.message);
    assert.equal(host.generations().length, before + 1);
    assert.equal(host.generations().at(-1)!.toplevel, o.state.toplevel);
    assert.deepEqual(host.activations().at(-1), { action: 'boot', script: `${o.state.toplevel}/bin/switch-to-configuration` });
    assert.match(o.message, new RegExp(`boots generation ${host.generations().at(-1)!.number} next time`));
  });

  it('Test: activated with "test", no new generation, the profile unchanged', async () => {
    editFixture(
      fixture('deploy-host'),
      'host.nix',
      readFileSync(join(fixture('deploy-host'), 'host.nix'), 'utf8').replace(/release = "[^"]*"/, 'release = "test"'),
    );
    const gens = host.generations();
    const current = host.currentGeneration();
    const o = await run('nixFlakes.deploy.test');
    assert.equal(o.status, 'done', o.message);
    assert.ok(host.storeHas(o.state.toplevel!));
    assert.deepEqual(host.generations(), gens);
    assert.equal(host.currentGeneration(), current);
    assert.deepEqual(host.activations().at(-1), { action: 'test', script: `${o.state.toplevel}/bin/switch-to-configuration` });
  });

  it('Cancel before the activation leaves the host as it was: declined at the confirmation, cancelled after it, cancelled while signing', async () => {
    const api = await extension();
    const flake = await flakeOf('deploy-host');
    for (const when of ['declined', 'after-confirm', 'signing'] as const) {
      editFixture(
        fixture('deploy-host'),
        'host.nix',
        readFileSync(join(fixture('deploy-host'), 'host.nix'), 'utf8').replace(/release = "[^"]*"/, `release = "${when}"`),
      );
      const gens = host.generations();
      const calls = host.activations().length;
      const ac = new AbortController();
      answer = () => {
        if (when === 'after-confirm') ac.abort();
        return when !== 'declined';
      };
      let watch: NodeJS.Timeout | undefined;
      if (when === 'signing')
        watch = setInterval(() => /^(Sign the closure|Copy to )/.test(api.deploy.panel.current?.step ?? '') && ac.abort(), 5);
      try {
        const o = await api.deploy.deploy({ flake, kind: 'nixos', name: 'web' }, 'switch', ac.signal);
        assert.equal(o.status, when === 'declined' ? 'declined' : 'cancelled', `${when}: ${o.message}`);
        assert.match(o.message, /is unchanged/);
      } finally {
        clearInterval(watch);
      }
      assert.deepEqual(host.generations(), gens, when);
      assert.equal(host.activations().length, calls, when);
    }
  });

  it('What would change: after a host edit, the view gets the changed, added and removed versions; nothing changes on the host', async () => {
    const dir = fixture('deploy-host');
    const first = await run('nixFlakes.deploy.switch');
    assert.equal(first.status, 'done', first.message);
    asked.length = 0;
    editFixture(
      dir,
      'host.nix',
      readFileSync(join(dir, 'host.nix'), 'utf8')
        .replace(/release = "[^"]*"/, 'release = "2"')
        .replace('foo = { version = "1.0"; size = 4096; };', 'foo = { version = "1.1"; size = 40960; };')
        .replace('bar = { version = "2.0"; size = 20480; };', 'baz = { version = "0.5"; size = 16384; };'),
    );
    const gens = host.generations();
    const calls = host.activations().length;
    const o = await run('nixFlakes.deploy.preview', { flake: await flakeOf('deploy-host'), host: 'web' });
    assert.equal(o.status, 'done', o.message);
    assert.equal(o.state.current, first.state.toplevel, 'compared with what the host runs');
    const api = await extension();
    const view = api.deploy.panel.posted.at(-1)!;
    assert.equal(view.action, 'preview');
    assert.equal(view.phase, 'done');
    const byName = new Map(view.diff!.changes.map((c) => [c.name, c]));
    assert.deepEqual(byName.get('foo'), { name: 'foo', before: ['1.0'], after: ['1.1'], sizeDelta: 36864, kind: 'changed' });
    assert.equal(byName.get('baz')?.kind, 'added');
    assert.equal(byName.get('bar')?.kind, 'removed');
    assert.match(view.summary ?? '', /changed.*added.*removed/);
    assert.deepEqual(view.actions, ['switch', 'boot', 'test', 'dry-activate'], 'the view offers the deployment');
    assert.equal(asked.length, 0, 'a preview asks nothing');
    assert.deepEqual(host.generations(), gens);
    assert.equal(host.activations().length, calls);
  });

  it('Generations and rollback: the picked older generation is current again and activated with "switch"', async () => {
    let listed: { number: number; current: boolean; toplevel: string }[] = [];
    pickGeneration = async (gens) => {
      listed = gens.map((g) => ({ number: g.number, current: g.current, toplevel: g.toplevel }));
      return gens.find((g) => !g.current);
    };
    const o = await run('nixFlakes.deploy.generations');
    assert.deepEqual(
      listed.map((g) => g.toplevel),
      host.generations().map((g) => g.toplevel),
    );
    assert.equal(o.status, 'done', o.message);
    const target = listed.find((g) => !g.current)!;
    assert.equal(host.currentGeneration(), `system-${target.number}-link`);
    assert.deepEqual(host.activations().at(-1), {
      action: 'switch',
      script: `/nix/var/nix/profiles/system-${target.number}-link/bin/switch-to-configuration`,
    });
    assert.match(asked[0]!.title, new RegExp(`back to generation ${target.number}\\?`));
  });

  it('A failed activation shows its output and offers a rollback; rolling back makes the previous generation current and activates it', async () => {
    const dir = fixture('deploy-host');
    const good = host.currentGeneration()!;
    editFixture(dir, 'host.nix', readFileSync(join(dir, 'host.nix'), 'utf8').replace(/release = "[^"]*"/, 'release = "fail"'));
    const o = await run('nixFlakes.deploy.switch');
    assert.equal(o.status, 'failed', o.message);
    assert.equal(o.error?.kind, 'activation-failed', o.message);
    assert.equal(o.error?.step, 'activate');
    assert.match(o.error?.output ?? '', /the following units failed: broken\.service/);
    assert.match(o.message, /roll back/);
    const api = await extension();
    assert.equal(api.deploy.panel.current?.phase, 'failed');
    assert.match(api.deploy.panel.current?.message ?? '', /broken\.service/, 'the view shows the output');
    assert.notEqual(host.currentGeneration(), good, 'the profile was set before the activation failed');
    const previous = Number(/system-(\d+)-link/.exec(good)![1]);
    const back = await api.deploy.rollback({ flake: await flakeOf('deploy-host'), kind: 'nixos', name: 'web' }, previous);
    assert.equal(back.status, 'done', back.message);
    assert.equal(host.currentGeneration(), good);
    assert.deepEqual(host.activations().at(-1), {
      action: 'switch',
      script: `/nix/var/nix/profiles/system-${previous}-link/bin/switch-to-configuration`,
    });
  });

  it('An unsigned closure is refused with a message that says how to sign or trust; the host is unchanged', async () => {
    editFixture(
      fixture('deploy-host'),
      'host.nix',
      readFileSync(join(fixture('deploy-host'), 'host.nix'), 'utf8').replace(/release = "[^"]*"/, 'release = "unsigned"'),
    );
    const key = conf().get<string>('deploy.signingKeyFile');
    await conf().update('deploy.signingKeyFile', undefined, vscode.ConfigurationTarget.Global);
    const gens = host.generations();
    const calls = host.activations().length;
    try {
      const o = await run('nixFlakes.deploy.switch');
      assert.equal(o.status, 'failed');
      assert.equal(o.error?.kind, 'unsigned', o.message);
      assert.match(o.message, /not signed by a key it trusts/);
      assert.match(o.message, /trusted-public-keys/);
    } finally {
      await conf().update('deploy.signingKeyFile', key, vscode.ConfigurationTarget.Global);
    }
    assert.deepEqual(host.generations(), gens);
    assert.equal(host.activations().length, calls);
  });

  it('A target host in the workspace settings that ssh would read as an option is refused before anything runs', async () => {
    const api = await extension();
    await conf().update('hosts', { web: { targetHost: '-oProxyCommand=touch /tmp/pwned' } }, vscode.ConfigurationTarget.Workspace);
    const runs = api.recentRuns().length;
    try {
      const o = await run('nixFlakes.deploy.switch');
      assert.equal(o.status, 'failed');
      assert.match(o.message, /starts with "-"/);
      assert.equal(api.recentRuns().length, runs, 'no process started');
      assert.equal(asked.length, 0);
    } finally {
      await conf().update('hosts', { web: { targetHost: host.address } }, vscode.ConfigurationTarget.Workspace);
    }
  });
});

describe('Deploy a home-manager configuration on this machine', function () {
  this.timeout(120_000);
  let previousUi: DeployUi;
  const asked: Question[] = [];
  const state = mkdtempSync(join(tmpdir(), 'nix-flakes-home-state-'));
  const previousState = process.env.XDG_STATE_HOME;

  before(async () => {
    const api = await extension();
    previousUi = api.deploy.ui;
    api.deploy.ui = {
      confirm: async (q) => {
        asked.push(q);
        return true;
      },
      pickGeneration: async () => undefined,
      pickImage: async () => undefined,
    };
    // home-manager's current generation is looked up under XDG_STATE_HOME: a folder of this test.
    process.env.XDG_STATE_HOME = state;
  });
  after(async () => {
    (await extension()).deploy.ui = previousUi;
    if (previousState === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = previousState;
    for (const t of vscode.window.terminals.filter((t) => t.name.includes('this machine'))) t.dispose();
    rmSync(state, { recursive: true, force: true });
  });

  const run = (marker: string) => /run = "([^"]*)"/.exec(readFileSync(join(fixture('deploy-host'), 'host.nix'), 'utf8'))?.[1] ?? marker;

  it('Build, then What would change against the current generation (the changed version in the view), then Activate in a terminal after the confirmation', async () => {
    const flake = await flakeOf('deploy-host');
    const dir = fixture('deploy-host');
    const built = await vscode.commands.executeCommand<DeployOutcome>('nixFlakes.home.build', { flake, home: 'alice' });
    assert.equal(built.status, 'done', built.message);
    assert.match(built.state.toplevel ?? '', /-home-manager-generation$/);
    // That build is the current generation; then a package changes version.
    mkdirSync(join(state, 'nix', 'profiles'), { recursive: true });
    symlinkSync(built.state.toplevel!, join(state, 'nix', 'profiles', 'home-manager'));
    editFixture(
      dir,
      'host.nix',
      readFileSync(join(dir, 'host.nix'), 'utf8').replace(
        /foo = \{ version = "[^"]*"; size = \d+; \};/,
        'foo = { version = "3.0"; size = 8192; };',
      ),
    );
    const preview = await vscode.commands.executeCommand<DeployOutcome>('nixFlakes.home.preview', { flake, home: 'alice' });
    assert.equal(preview.status, 'done', preview.message);
    assert.equal(preview.state.current, built.state.toplevel);
    const api = await extension();
    const view = api.deploy.panel.posted.at(-1)!;
    assert.equal(view.kind, 'home');
    const foo = view.diff?.changes.find((c) => c.name === 'foo');
    assert.deepEqual(foo?.after, ['3.0'], JSON.stringify(view.diff));
    assert.deepEqual(view.actions, ['activate']);
    assert.equal(asked.length, 0);

    const log = `/tmp/nix-flakes-home-${run('')}.log`;
    rmSync(log, { force: true });
    const activated = await vscode.commands.executeCommand<DeployOutcome>('nixFlakes.home.activate', { flake, home: 'alice' });
    assert.equal(activated.status, 'done', `${activated.message} ${activated.error?.output ?? ''}`);
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.title, 'Activate alice on this machine?');
    assert.match(asked[0]!.detail, /Changes: 1 changed/);
    assert.equal(readFileSync(log, 'utf8').trim(), `${activated.state.toplevel}/activate`);
    rmSync(log, { force: true });
  });
});
