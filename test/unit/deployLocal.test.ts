// Deploying to this machine (no target host): the same steps as for a target — build, the current system, the
// closure diff, the profile, the activation, the generations — run for real against a /nix of their own. The
// deployment runs in a child process started in a private mount namespace where a folder of the test is mounted on
// /nix (the store, its database and the system profile at their standard paths), so this machine's /nix is untouched
// and the test sees exactly what a local switch leaves behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHostSettings } from '../../src/core/deploy/host';
import {
  deploySteps,
  generationsStep,
  rollbackSteps,
  type DeployAction,
  type DeployInput,
  type DeployState,
} from '../../src/core/deploy/plan';
import { deploy, runSteps } from '../../src/core/deploy/runner';
import { nixTestEnv, scratchDir, testNix } from '../support/nix';
import { copyDeployFixture, editFixture, testHostUnavailable } from '../support/testHost';

const JOB = 'NIX_FLAKES_LOCAL_DEPLOY_JOB';

/** What the parent asks the child (inside the namespace) to do. */
interface Job {
  out: string;
  flake?: string;
  action?: DeployAction;
  /** Decline at the confirmation (nothing may change). */
  decline?: boolean;
  /** Roll back to this generation instead of deploying. */
  rollback?: number;
}

interface JobResult {
  state?: DeployState;
  seen: string[];
  skipped: string[];
  confirmed?: DeployState;
  error?: string;
}

function localInput(job: Job): DeployInput {
  const host = checkHostSettings({});
  if (!host.ok) throw new Error(host.message);
  return { nix: testNix(), flakeRef: job.flake ?? '', hostName: 'web', action: job.action ?? 'switch', host: host.value };
}

/** The child: runs one job with the core's steps and the process layer, and writes what happened as JSON. */
async function child(job: Job): Promise<void> {
  const result: JobResult = { seen: [], skipped: [] };
  const onProgress = (p: { type: string; step?: string }) => {
    if (p.type === 'start') result.seen.push(p.step!);
    if (p.type === 'skipped') result.skipped.push(p.step!);
  };
  try {
    const input = localInput(job);
    if (job.rollback !== undefined) {
      result.state = await runSteps(rollbackSteps(input, job.rollback), {}, { onProgress });
    } else {
      result.state = await deploy(
        deploySteps(input),
        (s) => {
          result.confirmed = structuredClone(s);
          return !job.decline;
        },
        { onProgress },
      );
      result.state ??= (await runSteps([generationsStep(input)], {})) as DeployState;
    }
  } catch (e) {
    result.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  writeFileSync(job.out, JSON.stringify(result));
}

const childJob = process.env[JOB];
if (childJob) {
  void child(JSON.parse(childJob) as Job);
} else {
  const skip = testHostUnavailable();

  describe('deploying to this machine (no target host), against a /nix of its own', { skip }, () => {
    let machine: string;
    const nixRoot = () => join(machine, 'nix');
    const inMachine = (p: string) => join(nixRoot(), p.replace(/^\/nix\//, ''));

    before(() => {
      machine = mkdtempSync(join(scratchDir(), 'local-machine-'));
      mkdirSync(join(nixRoot(), 'var', 'nix', 'profiles'), { recursive: true });
    });
    after(() => rmSync(machine, { recursive: true, force: true }));

    /** Runs a job in the child, in a mount namespace with the machine's folder on /nix. */
    function inNamespace(job: Omit<Job, 'out'>): JobResult {
      const out = join(machine, `result-${Date.now()}-${Math.floor(Math.random() * 1e6)}.json`);
      const env: NodeJS.ProcessEnv = { ...nixTestEnv(), [JOB]: JSON.stringify({ ...job, out }) };
      delete env.NODE_TEST_CONTEXT; // the child runs no tests and reports nothing to the test runner
      execFileSync(
        'unshare',
        [
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount --bind "$1" /nix && shift && exec "$@"',
          'sh',
          nixRoot(),
          process.execPath,
          __filename,
        ],
        { env, stdio: ['ignore', 'inherit', 'inherit'] },
      );
      const r = JSON.parse(readFileSync(out, 'utf8')) as JobResult;
      assert.equal(r.error, undefined, r.error);
      return r;
    }
    function generations(): { number: number; toplevel: string }[] {
      const dir = inMachine('/nix/var/nix/profiles');
      return readdirSync(dir)
        .map((n) => /^system-(\d+)-link$/.exec(n))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ number: Number(m[1]), toplevel: readlinkSync(join(dir, m[0])) }))
        .sort((a, b) => a.number - b.number);
    }
    function activations(): string[] {
      const log = inMachine('/nix/var/switch-to-configuration.log');
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    }
    const current = () => readlinkSync(inMachine('/nix/var/nix/profiles/system'));

    let flake: string;
    let first: DeployState;

    test('switch (a first deployment): built into this store, a first generation, "switch" activated; the real /nix is untouched', () => {
      flake = copyDeployFixture('deploy-host');
      const r = inNamespace({ flake, action: 'switch' });
      first = r.state!;
      assert.deepEqual(r.seen, ['build', 'current', 'profile', 'activate', 'generations'], 'no sign or copy without a target');
      assert.deepEqual(r.skipped, ['diff'], 'nothing to compare with on a first deployment');
      assert.equal(r.confirmed?.current, null, 'the confirmation knew there is no current system');
      assert.ok(existsSync(inMachine(first.toplevel!)), "the toplevel is in the machine's store");
      assert.ok(!existsSync(first.toplevel!), "and not in this machine's real /nix");
      assert.deepEqual(generations(), [{ number: 1, toplevel: first.toplevel }]);
      assert.equal(current(), 'system-1-link');
      assert.deepEqual(activations(), [`switch ${first.toplevel}/bin/switch-to-configuration`]);
      assert.equal(first.generation, 1);
    });

    test('a host edit, then switch: the diff against the running system (nix store diff-closures), a second generation', () => {
      const hostNix = readFileSync(join(flake, 'host.nix'), 'utf8');
      editFixture(
        flake,
        'host.nix',
        hostNix
          .replace('release = "1"', 'release = "2"')
          .replace('foo = { version = "1.0"; size = 4096; };', 'foo = { version = "1.1"; size = 40960; };'),
      );
      const r = inNamespace({ flake, action: 'switch' });
      assert.deepEqual(r.seen, ['build', 'current', 'diff', 'profile', 'activate', 'generations']);
      assert.equal(r.confirmed?.current, first.toplevel, 'compared with the system the profile points at');
      const foo = r.confirmed?.diff?.changes.find((c) => c.name === 'foo');
      assert.deepEqual(foo && { before: foo.before, after: foo.after, kind: foo.kind }, {
        before: ['1.0'],
        after: ['1.1'],
        kind: 'changed',
      });
      assert.ok((foo?.sizeDelta ?? 0) > 30_000, `size delta ${foo?.sizeDelta}`);
      assert.equal(generations().length, 2);
      assert.equal(current(), 'system-2-link');
      assert.equal(r.state?.generation, 2);
    });

    test('declined at the confirmation: the same generations, nothing activated', () => {
      editFixture(flake, 'host.nix', readFileSync(join(flake, 'host.nix'), 'utf8').replace('release = "2"', 'release = "3"'));
      const gens = generations();
      const calls = activations().length;
      const r = inNamespace({ flake, action: 'switch', decline: true });
      assert.deepEqual(r.seen, ['build', 'current', 'diff'], 'stopped after the preview');
      assert.deepEqual(generations(), gens);
      assert.equal(current(), 'system-2-link');
      assert.equal(activations().length, calls);
    });

    test('boot: a new generation, activated with "boot"; test: activated with "test", no new generation', () => {
      const boot = inNamespace({ flake, action: 'boot' });
      assert.equal(generations().length, 3);
      assert.equal(current(), 'system-3-link');
      assert.equal(activations().at(-1), `boot ${boot.state!.toplevel}/bin/switch-to-configuration`);
      editFixture(flake, 'host.nix', readFileSync(join(flake, 'host.nix'), 'utf8').replace('release = "3"', 'release = "4"'));
      const t = inNamespace({ flake, action: 'test' });
      assert.ok(!t.seen.includes('profile'));
      assert.equal(generations().length, 3);
      assert.equal(current(), 'system-3-link');
      assert.equal(activations().at(-1), `test ${t.state!.toplevel}/bin/switch-to-configuration`);
    });

    test('rollback to the first generation: the profile points at it again and it is activated with "switch"', () => {
      const r = inNamespace({ rollback: 1 });
      assert.deepEqual(r.seen, ['switch-generation', 'activate', 'generations']);
      assert.equal(current(), 'system-1-link');
      assert.equal(r.state?.generation, 1);
      assert.equal(activations().at(-1), `switch /nix/var/nix/profiles/system-1-link/bin/switch-to-configuration`);
      assert.ok(r.state?.generations?.find((g) => g.number === 1)?.current);
    });
  });
}
