import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkKey,
  checksOf,
  drvPathsApply,
  flakeCheckArgs,
  POSITIONS_APPLY,
  readCheckPositions,
  readDrvPaths,
  readFlakeCheck,
  readKeepGoing,
} from '../../src/core/flake/checks';
import { parseFlakeShow } from '../../src/core/flake/show';
import { buildArgs } from '../../src/core/nix/build';
import { EXPERIMENTAL } from '../../src/core/nix/args';
import { ExitError, run } from '../../src/core/nix/process';
import { parseLogLine } from '../../src/core/log/internalJson';
import { BuildProgress } from '../../src/core/log/progress';
import { errorsFromEvents } from '../../src/core/errors/fromLog';
import type { LogEvent } from '../../src/core/log/types';
import { commitAll, copyFixture, nixTestEnv, testNix } from '../support/nix';

const nix = (dir: string, sub: string[], rest: string[], onStderrLine?: (l: string) => void) =>
  run(testNix(), [...EXPERIMENTAL, ...sub, '--no-write-lock-file', ...rest], { env: nixTestEnv(), cwd: dir, onStderrLine });

test('the checks of a listing: per system, only the systems asked for, derivations only', () => {
  const parsed = parseFlakeShow(
    JSON.stringify({
      checks: {
        'x86_64-linux': { fmt: { type: 'derivation', name: 'fmt' }, 'a.b': { type: 'derivation', name: 'ab' } },
        'aarch64-linux': { fmt: { type: 'derivation', name: 'fmt' }, skipped: {} },
      },
      packages: { 'x86_64-linux': { hello: { type: 'derivation', name: 'hello' } } },
    }),
  );
  assert.ok(parsed.ok);
  assert.deepEqual(checksOf(parsed.model, ['x86_64-linux']), [
    { system: 'x86_64-linux', name: 'a.b', attrPath: ['checks', 'x86_64-linux', 'a.b'] },
    { system: 'x86_64-linux', name: 'fmt', attrPath: ['checks', 'x86_64-linux', 'fmt'] },
  ]);
  assert.deepEqual(checksOf(parsed.model, ['aarch64-linux']).map(checkKey), ['aarch64-linux/fmt']);
  const none = parseFlakeShow(JSON.stringify({ packages: {} }));
  assert.ok(none.ok);
  assert.deepEqual(checksOf(none.model, ['x86_64-linux']), []);
});

test('untrusted JSON: derivation paths and positions of the wrong shape are skipped', () => {
  assert.deepEqual(
    [...readDrvPaths({ a: '/nix/store/x-a.drv', b: 3, c: 'not a path', d: '/nix/store/x-d' })],
    [['a', '/nix/store/x-a.drv']],
  );
  assert.deepEqual(readDrvPaths(null).size, 0);
  assert.deepEqual(readDrvPaths(['/nix/store/x.drv']).size, 0);
  const pos = readCheckPositions({
    a: { attr: { file: '/src/flake.nix', line: 3, column: 5 }, meta: null },
    b: { attr: { file: '/src/flake.nix', line: 4, column: 5 }, meta: '/src/pkgs/b.nix:12' },
    c: { attr: { file: '/src/flake.nix', line: 0 } },
    d: { attr: null, meta: 'nonsense' },
    e: 'x',
  });
  assert.deepEqual(Object.fromEntries(pos), {
    a: { file: '/src/flake.nix', line: 3, column: 5 },
    b: { file: '/src/pkgs/b.nix', line: 12, column: 1 },
  });
  assert.equal(drvPathsApply(['a', 'x"y']), 'cs: builtins.listToAttrs (map (n: { name = n; value = cs.${n}.drvPath; }) [ "a" "x\\"y" ])');
});

test('nix flake check --no-build: a flake that evaluates passes; an evaluation error is read with its position', async () => {
  const dir = copyFixture('checks');
  const ok = await nix(dir, ['flake', 'check'], flakeCheckArgs(dir));
  assert.deepEqual(readFlakeCheck(ok.stderrLines.join('\n')).errors, []);
  const flake = join(dir, 'flake.nix');
  const text = readFileSync(flake, 'utf8').replace(
    'passes = sh "check-passes" "echo all good; echo ok > $out";',
    'passes = sh "check-passes" "echo ${self.notThere}";',
  );
  writeFileSync(flake, text);
  commitAll(dir);
  const failed = await nix(dir, ['flake', 'check'], flakeCheckArgs(dir)).then(
    () => assert.fail('nix flake check passed'),
    (e: unknown) => {
      assert.ok(e instanceof ExitError);
      return e;
    },
  );
  const report = readFlakeCheck(failed.stderrLines.join('\n'));
  assert.equal(report.errors.length, 1, JSON.stringify(report));
  const err = report.errors[0]!;
  assert.equal(err.kind, 'attribute-missing');
  assert.equal(err.position?.line, text.split('\n').findIndex((l) => l.includes('self.notThere')) + 1);
  assert.match(err.position?.file ?? '', /flake\.nix$/);
  assert.deepEqual(
    readFlakeCheck("warning: unknown flake output 'foo'\nwarning: the group 'nixbld' specified in 'build-users-group' does not exist\n")
      .warnings,
    ["unknown flake output 'foo'"],
  );
});

test('one nix build --keep-going of several checks: which failed, with its last lines; the others passed', async () => {
  const dir = copyFixture('checks');
  const drvs = readDrvPaths(
    JSON.parse((await nix(dir, ['eval'], ['--json', `${dir}#checks.x86_64-linux`, '--apply', drvPathsApply(['passes', 'fails'])])).stdout),
  );
  assert.deepEqual([...drvs.keys()].sort(), ['fails', 'passes']);
  const positions = readCheckPositions(
    JSON.parse((await nix(dir, ['eval'], ['--json', `${dir}#checks.x86_64-linux`, '--apply', POSITIONS_APPLY])).stdout),
  );
  const lines = readFileSync(join(dir, 'flake.nix'), 'utf8').split('\n');
  assert.equal(positions.get('fails')?.line, lines.findIndex((l) => l.includes('fails = sh')) + 1);
  assert.match(positions.get('fails')?.file ?? '', /-source\/flake\.nix$/);

  const progress = new BuildProgress();
  const events: LogEvent[] = [];
  const args = buildArgs(
    ['passes', 'fails'].map((n) => `${dir}#checks.x86_64-linux.${n}`),
    { keepGoing: true },
  );
  assert.ok(args.includes('--keep-going'));
  let exit: ExitError | undefined;
  await nix(dir, ['build'], args, (l) => {
    const ev = parseLogLine(l);
    progress.feed(ev);
    events.push(ev);
  }).catch((e: unknown) => {
    assert.ok(e instanceof ExitError);
    exit = e;
  });
  assert.ok(exit, 'nix build failed');
  const outcome = readKeepGoing(drvs, errorsFromEvents(events), progress.snapshot().failed, true);
  assert.deepEqual(outcome.get('passes'), { status: 'passed' });
  const fails = outcome.get('fails');
  assert.equal(fails?.status, 'failed');
  if (fails?.status === 'failed') {
    assert.equal(fails.error.kind, 'builder-failed');
    assert.ok(
      fails.lastLines.some((l) => l.includes('expected 42, got 41')),
      JSON.stringify(fails.lastLines),
    );
  }
  // Cut short (or an error that is not a build failure): the checks without a failure of their own are unknown.
  const cut = readKeepGoing(drvs, errorsFromEvents(events), progress.snapshot().failed, false);
  assert.deepEqual(cut.get('passes'), { status: 'unknown' });
  assert.equal(cut.get('fails')?.status, 'failed');
  const evalError = readKeepGoing(drvs, [{ kind: 'other', message: 'x', trace: [], raw: '' }], [], true);
  assert.deepEqual([...evalError.values()], [{ status: 'unknown' }, { status: 'unknown' }]);
  // A dependency's failure fails the check that needs it.
  const dep = readKeepGoing(
    new Map([['a', '/nix/store/a.drv']]),
    [{ kind: 'dependency-failed', drvPath: '/nix/store/a.drv', count: 1, message: '1 dependencies failed', trace: [], raw: '' }],
    [],
    true,
  );
  assert.equal(dep.get('a')?.status, 'failed');
});
