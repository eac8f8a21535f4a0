import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildArgs, describeLeftOut, outLinkName, readBuildOutputs } from '../../src/core/nix/build';

const H = '0123456789abcdfghijklmnpqrsvwxyz';

test('readBuildOutputs reads one derivation by output name', () => {
  const stdout = JSON.stringify([
    { drvPath: `/nix/store/${H}-hello-2.12.drv`, outputs: { out: `/nix/store/${H}-hello-2.12`, man: `/nix/store/${H}-hello-2.12-man` } },
  ]);
  assert.deepEqual(readBuildOutputs(stdout), { out: `/nix/store/${H}-hello-2.12`, man: `/nix/store/${H}-hello-2.12-man` });
});

test('readBuildOutputs names the outputs of several derivations after them', () => {
  const stdout = JSON.stringify([
    { drvPath: `/nix/store/${H}-a-1.drv`, outputs: { out: '/nix/store/x-a' } },
    { drvPath: `/custom/store/${H}-b-2.drv`, outputs: { out: '/nix/store/x-b' } },
  ]);
  assert.deepEqual(readBuildOutputs(stdout), { 'a-1.out': '/nix/store/x-a', 'b-2.out': '/nix/store/x-b' });
});

test('readBuildOutputs skips what is not its shape and never throws', () => {
  for (const bad of ['', 'not json', '{}', 'null', '[null, 1, "x", []]', '[{"outputs": [1]}]', '[{"outputs": {"out": 3}}]']) {
    assert.deepEqual(readBuildOutputs(bad), {}, bad);
  }
  const proto = readBuildOutputs('[{"outputs": {"__proto__": "/nix/store/p", "out": "/nix/store/o"}}]');
  assert.deepEqual(Object.keys(proto).sort(), ['__proto__', 'out']);
  assert.equal(({} as Record<string, unknown>).out, undefined);
});

test('buildArgs and outLinkName', () => {
  assert.deepEqual(buildArgs('path:/w#hello'), ['--log-format', 'internal-json', '-v', '--json', '--no-link', 'path:/w#hello']);
  assert.deepEqual(buildArgs('.#a', { outLink: 'result-a' }).slice(-3), ['--out-link', 'result-a', '.#a']);
  assert.equal(outLinkName(['packages', 'x86_64-linux', 'my pkg/1']), 'result-my_pkg_1');
  assert.equal(outLinkName([]), 'result-out');
});

test('describeLeftOut says what a run left out', () => {
  assert.equal(describeLeftOut({}), undefined);
  assert.equal(
    describeLeftOut(
      { truncated: { stderrLines: 12000, longLines: 1, stdout: false }, dropped: { lines: 2, firstError: 'RangeError: too deep' } },
      5,
    ),
    'Left out to stay within bounds: 12,000 older log lines not kept; 1 over-long line cut; 5 messages not kept; 2 unreadable lines skipped (RangeError: too deep).',
  );
});
