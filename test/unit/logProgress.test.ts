import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseLog } from '../../src/core/log/internalJson';
import { BuildProgress, statusText } from '../../src/core/log/progress';
import { formatBytes } from '../../src/core/format';
import { storePathName as drvName } from '../../src/core/nix/store';
import { DryRunPlanParser, parseDryRun, parseSize } from '../../src/core/log/dryRun';
import type { LogEvent } from '../../src/core/log/types';

const events = (name: string) => parseLog(readFileSync(resolve('test/fixtures/captured/log', name), 'utf8'));

function run(evs: readonly LogEvent[], options?: ConstructorParameters<typeof BuildProgress>[0]): BuildProgress {
  const p = new BuildProgress(options);
  p.feedAll(evs);
  return p;
}

test('drvName and formatBytes', () => {
  assert.equal(drvName('/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv'), 'hlog-dep-one');
  assert.equal(drvName('/nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-hlog-big'), 'hlog-big');
  assert.equal(drvName('/custom/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hello-2.12.1.drv'), 'hello-2.12.1');
  assert.equal(drvName('weird.drv'), 'weird');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1258291), '1.2 MiB');
  assert.equal(formatBytes(4700224), '4.5 MiB');
  assert.equal(formatBytes(NaN), '0 B');
});

test('successful build: running builds with their phases, then 3/3 built', () => {
  const evs = events('nix-2.8-build-success.jsonl');
  const p = new BuildProgress();
  // Up to and including the `buildPhase` of the first build.
  const cut = evs.findIndex((e) => e.kind === 'result' && e.result.type === 'setPhase' && e.result.phase === 'buildPhase') + 1;
  p.feedAll(evs.slice(0, cut + 2));
  const mid = p.snapshot();
  assert.deepEqual(mid.running, [
    {
      id: '28200755265540',
      drvPath: '/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv',
      name: 'hlog-dep-one',
      phase: 'buildPhase',
    },
  ]);
  assert.equal(mid.built, 0);
  assert.equal(mid.total, 3);
  assert.equal(p.statusText(), '0/3 built · hlog-dep-one (buildPhase)');
  assert.deepEqual(p.logTail('/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dlzgl-hlog-dep-one.drv'), [
    'unpacking one',
    'building one',
    'to-stderr one',
  ]);

  p.feedAll(evs.slice(cut + 2));
  const end = p.snapshot();
  assert.equal(end.built, 3);
  assert.equal(end.total, 3);
  assert.deepEqual(end.running, []);
  assert.deepEqual(end.failed, []);
  assert.deepEqual(end.stopped, []);
  assert.equal(end.errors, 0);
  assert.equal(end.activeActivities, 0);
  assert.equal(p.statusText(), '3/3 built');
});

test('failed build: the build, its exit code, its phase and last log lines', () => {
  const p = run(events('nix-2.8-build-failure.jsonl'));
  const s = p.snapshot();
  assert.deepEqual(s.failed, [
    {
      drvPath: '/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-hlog-fail.drv',
      name: 'hlog-fail',
      phase: 'buildPhase',
      lastLines: ['line one', 'line two'],
      exitCode: 3,
    },
  ]);
  assert.equal(s.built, 0);
  assert.equal(s.total, 1);
  assert.equal(s.errors, 1);
  assert.deepEqual(s.stopped, []);
  assert.equal(p.statusText(), '0/1 built · 1 failed');
});

test('dependency failure: the error arrives before the build stops; one failed build, two errors', () => {
  const evs = events('nix-2.8-build-dep-failure.jsonl');
  const p = new BuildProgress();
  const errAt = evs.findIndex((e) => e.kind === 'msg' && e.level === 0);
  p.feedAll(evs.slice(0, errAt + 1));
  const atError = p.snapshot();
  assert.deepEqual(atError.running, [], 'a build reported failed is no longer shown as running');
  assert.equal(atError.failed.length, 1);
  p.feedAll(evs.slice(errAt + 1));
  const s = p.snapshot();
  assert.equal(s.failed.length, 1);
  assert.equal(s.failed[0].exitCode, 3);
  assert.deepEqual(s.failed[0].lastLines, ['line one', 'line two']);
  assert.equal(s.errors, 2);
  assert.deepEqual(s.stopped, []);
});

test('cancelled run (SIGINT): the build is stopped, not failed, and the run is interrupted', () => {
  const evs = events('nix-2.8-build-cancelled.jsonl');
  const p = new BuildProgress();
  p.feedAll(evs.slice(0, -6));
  assert.equal(p.statusText(), '0/1 built · hlog-slow (buildPhase)');
  p.feedAll(evs.slice(-6));
  const s = p.snapshot();
  assert.deepEqual(s.failed, []);
  assert.deepEqual(s.stopped, [
    { drvPath: '/nix/store/n7qf0dk4n5grlax199j3lxja2xbxbysf-hlog-slow.drv', name: 'hlog-slow', phase: 'buildPhase' },
  ]);
  assert.equal(s.interrupted, true);
  assert.equal(p.statusText(), '0/1 built · interrupted');
});

test('a run cut off mid-build (process killed) keeps the build as running', () => {
  const evs = events('nix-2.8-build-cancelled.jsonl');
  const s = run(evs.slice(0, -6)).snapshot();
  assert.equal(s.running.length, 1);
  assert.equal(s.activeActivities, 4);
});

test('substitution: path counts from actCopyPaths, bytes from actCopyPath progress', () => {
  const evs = events('nix-2.8-build-substitute.jsonl');
  const p = new BuildProgress();
  const firstCopy = evs.findIndex((e) => e.kind === 'start' && e.type === 100);
  p.feedAll(evs.slice(0, firstCopy + 101)); // 100 progress records of the first path
  const mid = p.snapshot();
  assert.deepEqual(mid.downloads, { done: 0, expected: 2, running: 1, bytesDone: 819200, bytesExpected: 4700224 });
  assert.equal(p.statusText(), '0/2 built · 0/2 downloads 800.0 KiB');
  p.feedAll(evs.slice(firstCopy + 101));
  const end = p.snapshot();
  assert.deepEqual(end.downloads, { done: 2, expected: 2, running: 0, bytesDone: 4700224, bytesExpected: 4700224 });
  assert.equal(end.total, 0, 'substitutes replaced both builds');
  assert.equal(p.statusText(), '2/2 downloads 4.5 MiB');
});

test('file transfers (HTTP caches) are preferred over path copies for bytes', () => {
  const lines = [
    '@nix {"action":"start","id":1,"level":0,"text":"","type":102}',
    '@nix {"action":"result","fields":[101,3000],"id":1,"type":106}',
    '@nix {"action":"result","fields":[100,9000],"id":1,"type":106}',
    '@nix {"action":"start","id":2,"level":0,"text":"","type":103}',
    '@nix {"action":"result","fields":[0,1,1,0],"id":2,"type":105}',
    '@nix {"action":"start","fields":["https://cache.nixos.org/nar/x.nar.xz"],"id":3,"level":4,"text":"downloading \'https://cache.nixos.org/nar/x.nar.xz\'","type":101}',
    '@nix {"action":"result","fields":[1000,3000,0,0],"id":3,"type":105}',
    '@nix {"action":"start","fields":["/nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-x","https://cache.nixos.org","local"],"id":4,"level":3,"text":"","type":100}',
    '@nix {"action":"result","fields":[4000,9000,0,0],"id":4,"type":105}',
  ];
  const s = run(parseLog(lines.join('\n'))).snapshot();
  assert.deepEqual(s.downloads, { done: 0, expected: 1, running: 1, bytesDone: 1000, bytesExpected: 3000 });
});

test('log tails are bounded per build, and long lines are cut', () => {
  const lines = [
    '@nix {"action":"start","fields":["/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-x.drv","",1,1],"id":9,"level":3,"text":"","type":105}',
  ];
  lines.push('@nix {"action":"result","fields":["\\u001b[31mred\\u001b[0m\\r"],"id":9,"type":101}');
  for (let i = 0; i < 100; i++)
    lines.push(`@nix {"action":"result","fields":["line ${i} ${'z'.repeat(i === 99 ? 5000 : 0)}"],"id":9,"type":101}`);
  const p = run(parseLog(lines.join('\n')), { logLines: 5, maxLineLength: 100 });
  const tail = p.logTail('/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-x.drv');
  assert.equal(tail.length, 5);
  assert.equal(tail[0], 'line 95 ');
  assert.ok(tail[4].length < 200);
  const coloured = run(parseLog(lines.slice(0, 2).join('\n'))).logTail('/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-x.drv');
  assert.deepEqual(coloured, ['red']);
});

test('inconsistent input is ignored: results and stops of unknown ids, odd fields, floods of starts', () => {
  const p = new BuildProgress({ maxActivities: 10 });
  const evs = parseLog(
    [
      '@nix {"action":"stop","id":99}',
      '@nix {"action":"result","fields":[1,2,3,4],"id":98,"type":105}',
      '@nix {"action":"result","fields":["x"],"id":97,"type":104}',
      '@nix {"action":"start","id":1,"type":105,"fields":[5]}',
      '@nix {"action":"result","fields":"nope","id":1,"type":101}',
      'garbage',
      '@nix {"action":"result",',
      ...Array.from({ length: 50 }, (_, i) => `@nix {"action":"start","id":${100 + i},"type":0}`),
    ].join('\n'),
  );
  assert.doesNotThrow(() => p.feedAll(evs));
  const s = p.snapshot();
  assert.equal(s.activeActivities, 10);
  assert.equal(s.running.length, 1);
  assert.equal(s.running[0].name, '');
});

test('dry-run plan from internal-json msg records and from text (2.8 sizes)', () => {
  const fromJson = run(events('nix-2.8-dry-run-fetch.jsonl')).snapshot().plan;
  const text = readFileSync(resolve('test/fixtures/captured/log/nix-2.8-dry-run-fetch.stderr.txt'), 'utf8');
  const fromText = parseDryRun(text);
  const expected = {
    builds: ['/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-hlog-fail.drv', '/nix/store/z1ry3gmbbhjmfkzsq7r6svf75bnjyjzj-hlog-uses-fail.drv'],
    fetches: ['/nix/store/6bidm3rvad40105cwybpg4mc0qf9k154-hlog-big-two', '/nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-hlog-big'],
    unbuildable: [],
    downloadBytes: Math.round(4.48 * 1024 * 1024),
    unpackedBytes: Math.round(4.48 * 1024 * 1024),
  };
  assert.deepEqual(fromJson, expected);
  assert.deepEqual(fromText, expected);
  assert.equal(run(events('nix-2.8-dry-run-fetch.jsonl')).statusText(), '2 to build, 2 to fetch (4.5 MiB)');
  const plain = run(events('nix-2.8-dry-run.jsonl')).snapshot().plan;
  assert.deepEqual(plain?.builds.length, 2);
  assert.deepEqual(plain?.fetches, []);
});

test('dry-run plan: singular forms, 2.33+ renderSize units, ≤ 2.3 headers, unbuildable paths, no plan', () => {
  const plan = parseDryRun(
    [
      'this derivation will be built:',
      '  /nix/store/y6rrckmv89p90lh87mskq9xyfrabg857-nixref-nodesc.drv',
      'these 3 paths will be fetched (12.3 MiB download, 1.1 GiB unpacked):',
      '  /nix/store/6bidm3rvad40105cwybpg4mc0qf9k154-a',
      '  /nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-b',
      '  /nix/store/ww2lghnkhrdwnlr4rfxnpnk0b1l93jam-c',
      "don't know how to build these paths (may be caused by read-only store access):",
      '  /nix/store/z1ry3gmbbhjmfkzsq7r6svf75bnjyjzj-d',
      'warning: something else',
      '  /nix/store/not-part-of-a-plan',
    ].join('\n'),
  );
  assert.equal(plan?.builds.length, 1);
  assert.equal(plan?.fetches.length, 3);
  assert.equal(plan?.downloadBytes, Math.round(12.3 * 1024 ** 2));
  assert.equal(plan?.unpackedBytes, Math.round(1.1 * 1024 ** 3));
  assert.deepEqual(plan?.unbuildable, ['/nix/store/z1ry3gmbbhjmfkzsq7r6svf75bnjyjzj-d']);
  assert.equal(parseDryRun('these derivations will be built:\n  /nix/store/a.drv')?.builds.length, 1);
  assert.equal(parseDryRun('this path will be fetched (0.1 KiB download, 512 B unpacked):\n  /nix/store/x')?.unpackedBytes, 512);
  assert.equal(parseDryRun('nothing to see\n'), undefined);
  assert.equal(parseSize('1.5', 'XB'), undefined);
  assert.equal(parseSize('abc', 'MiB'), undefined);
});

test('statusText shows several running builds and downloads without a count', () => {
  assert.equal(
    statusText({
      built: 2,
      total: 5,
      running: [
        { id: '1', drvPath: '/nix/store/x-hello.drv', name: 'hello', phase: 'buildPhase' },
        { id: '2', drvPath: '/nix/store/x-world.drv', name: 'world' },
      ],
      downloads: { done: 0, expected: 0, running: 0, bytesDone: 1258291, bytesExpected: 2000000 },
      failed: [],
      stopped: [],
      errors: 0,
      interrupted: false,
      activeActivities: 5,
    }),
    '2/5 built · hello (buildPhase) +1 · downloading 1.2 MiB',
  );
});

test('plain-text stderr (no internal-json) still gives the plan, errors and failed builds', () => {
  const text = readFileSync(resolve('test/fixtures/captured/errors/nix-2.8-build-dep-failure.stderr.txt'), 'utf8');
  const s = run(parseLog(text)).snapshot();
  assert.equal(s.errors, 2);
  assert.deepEqual(
    s.failed.map((f) => [f.name, f.exitCode]),
    [['hlog-fail', 3]],
  );
});

test('stopped actBuilds / actCopyPaths / setExpected activities keep counting after they are folded away', () => {
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) {
    lines.push(`@nix {"action":"start","id":${i},"level":0,"text":"","type":104}`);
    lines.push(`@nix {"action":"result","fields":[1,1,0,0],"id":${i},"type":105}`);
    lines.push(`@nix {"action":"result","fields":[100,10],"id":${i},"type":106}`);
    lines.push(`@nix {"action":"stop","id":${i}}`);
  }
  const s = run(parseLog(lines.join('\n'))).snapshot();
  assert.deepEqual([s.built, s.total, s.downloads.bytesExpected, s.activeActivities], [1000, 1000, 10000, 0]);
});

test('done counts without a build activity (e.g. remote or hidden work) do not hide a later failure', () => {
  const lines = [
    '@nix {"action":"start","id":1,"level":0,"text":"","type":104}',
    '@nix {"action":"result","fields":[5,6,0,0],"id":1,"type":105}',
    '@nix {"action":"start","fields":["/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-x.drv","",1,1],"id":2,"level":3,"text":"","type":105}',
    '@nix {"action":"result","fields":[5,5,0,1],"id":1,"type":105}',
    '@nix {"action":"stop","id":2}',
  ];
  const s = run(parseLog(lines.join('\n'))).snapshot();
  assert.deepEqual(
    s.failed.map((f) => f.name),
    ['x'],
  );
});

test('what a flood leaves out is counted: activities beyond the limit, failed and stopped builds beyond the list', () => {
  const drv = (i: number) => `/nix/store/${'a'.repeat(31)}${String.fromCharCode(97 + (i % 20))}-x${i}.drv`;
  const lines: string[] = [];
  for (let i = 1; i <= 6; i++) lines.push(`@nix {"action":"start","fields":["${drv(i)}","",1,1],"id":${i},"level":3,"text":"","type":105}`);
  for (let i = 1; i <= 3; i++) lines.push(`@nix {"action":"msg","level":0,"msg":"error: builder for '${drv(i)}' failed with exit code 1"}`);
  for (let i = 1; i <= 6; i++) lines.push(`@nix {"action":"stop","id":${i}}`);
  const s = run(parseLog(lines.join('\n')), { maxActivities: 5, maxListed: 2 }).snapshot();
  assert.equal(s.failed.length, 2);
  assert.equal(s.stopped.length, 2);
  assert.deepEqual(s.omitted, { failed: 1, stopped: 0, activities: 1 });
  const t = run(parseLog(lines.filter((l) => !l.includes('"msg"')).join('\n')), { maxActivities: 5, maxListed: 2 }).snapshot();
  assert.deepEqual(t.omitted, { failed: 0, stopped: 3, activities: 1 });
  // Nothing left out: no `omitted` at all.
  assert.equal(run(events('nix-2.8-build-success.jsonl')).snapshot().omitted, undefined);
});

test('a dry-run plan longer than the limit keeps its first paths and counts the rest', () => {
  const text = ['these 5 derivations will be built:', ...Array.from({ length: 5 }, (_, i) => `  /nix/store/${'b'.repeat(32)}-p${i}.drv`)];
  const parser = new DryRunPlanParser(3);
  for (const l of text) parser.feed(l);
  assert.equal(parser.plan?.builds.length, 3);
  assert.equal(parser.plan?.omitted, 2);
  assert.equal(parseDryRun(text)?.omitted, undefined);
});
