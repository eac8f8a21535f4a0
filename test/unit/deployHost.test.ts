// Deployments to a real second machine: sshd on 127.0.0.1 with its own /nix (test/support/testHost.ts), through
// Nix's own transports (ssh-ng://, remote builders), with the steps of src/core/deploy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostSettings, type CheckedHost } from '../../src/core/deploy/host';
import { deploySteps, type DeployAction, type DeployInput } from '../../src/core/deploy/plan';
import { deploy, runSteps, type DeployProgress } from '../../src/core/deploy/runner';
import { nixTestEnv, testNix } from '../support/nix';
import { copyDeployFixture, makeSigningKey, removeTestHost, startTestHost, testHostUnavailable, type TestHost } from '../support/testHost';

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
    const state = await deploy(deploySteps(input(flake, 'switch')), () => true, { env, onProgress: (p: DeployProgress) => p.type === 'start' && seen.push(p.step) });
    assert.ok(state?.toplevel);
    assert.deepEqual(seen, ['build', 'current', 'sign', 'copy', 'profile', 'activate', 'generations']);
    assert.ok(host.storeHas(state.toplevel), 'the toplevel is in the test host\'s store');
    const gens = host.generations();
    assert.equal(gens.length, before + 1);
    assert.equal(gens.at(-1)!.toplevel, state.toplevel);
    assert.equal(host.currentGeneration(), `system-${gens.at(-1)!.number}-link`);
    assert.deepEqual(host.activations().at(-1), { action: 'switch', script: `${state.toplevel}/bin/switch-to-configuration` });
    assert.equal(state.generation, gens.at(-1)!.number);
    assert.ok(state.generations?.find((g) => g.current)?.toplevel === state.toplevel);
  });
});
