import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allInputs,
  findInput,
  formatFlakeRef,
  inputType,
  isValidInputPath,
  parseFlakeLock,
  splitInputPath,
  type FlakeLock,
  type LockInput,
} from '../../src/core/flake/lock';
import type { FlakeParseError } from '../../src/core/flake/json';

const fixture = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/flake', name), 'utf8');

function lockOf(text: string): FlakeLock {
  const r = parseFlakeLock(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.lock;
}

function input(lock: FlakeLock, p: string | readonly string[]): LockInput {
  const i = findInput(lock, p);
  assert.ok(i, `input ${p}`);
  return i;
}

function error(text: unknown): FlakeParseError {
  const r = parseFlakeLock(text as string);
  if (r.ok) assert.fail('expected an error');
  return r.error;
}

const minimal = (nodes: object, extra: object = {}) => JSON.stringify({ nodes, root: 'root', version: 7, ...extra });
const gitNode = (rev: string, url = 'file:///x') => ({
  locked: { lastModified: 1700000000, narHash: 'sha256-x', ref: 'master', rev, type: 'git', url },
  original: { type: 'git', url },
});

test('real 2.8 lock: inputs are resolved by path, not by node key', () => {
  const text = fixture('nix-2.8-flake.lock.before.json');
  const lock = lockOf(text);
  assert.equal(lock.version, 7);
  assert.equal(lock.rootKey, 'root');
  assert.equal(lock.truncated, false);
  assert.deepEqual(
    lock.inputs.map((i) => i.name),
    ['a', 'b', 'c', 'data', 'e', 'nixpkgs', 'tb'],
  );
  const nixpkgs = input(lock, 'nixpkgs');
  assert.equal(nixpkgs.nodeKey, 'nixpkgs_3');
  assert.equal(nixpkgs.rev, '7fb6ceb28e4359e3b48bb9d5a25f1ddf2476a1d6');
  assert.equal(nixpkgs.shortRev, '7fb6ceb');
  assert.equal(nixpkgs.lastModified, 1763640000);
  assert.equal(nixpkgs.revCount, 2);
  assert.equal(nixpkgs.type, 'git');
  assert.equal(nixpkgs.ref, 'master');
  assert.equal(nixpkgs.original, 'git+file:///tmp/h-flake/nixpkgs');
  assert.equal(nixpkgs.locked, 'git+file:///tmp/h-flake/nixpkgs?ref=master&rev=7fb6ceb28e4359e3b48bb9d5a25f1ddf2476a1d6');
  assert.equal(nixpkgs.narHash, 'sha256-0uTIlz/WKJgiPE5wgFMsnM+BYX/AruEgrkCL8MuNx8I=');
  assert.equal(nixpkgs.isFlake, true);
  assert.equal(input(lock, 'a/nixpkgs').nodeKey, 'nixpkgs');
  assert.equal(input(lock, 'a/nixpkgs').shortRev, 'da8d391');
  assert.equal(input(lock, 'c/a').nodeKey, 'a_2');
  assert.equal(input(lock, 'c/a/nixpkgs').nodeKey, 'nixpkgs_2');
  assert.deepEqual(
    input(lock, 'c').inputs.map((i) => i.id),
    ['c/a'],
  );
  assert.deepEqual(
    input(lock, ['c', 'a']).inputs.map((i) => i.id),
    ['c/a/nixpkgs'],
  );
});

test('real 2.8 lock: follows, follows nothing, non-flake path and tarball inputs', () => {
  const lock = lockOf(fixture('nix-2.8-flake.lock.before.json'));
  const followed = input(lock, 'b/nixpkgs');
  assert.deepEqual(followed.follows, ['nixpkgs']);
  assert.equal(followed.followsStatus, 'resolved');
  assert.equal(followed.nodeKey, 'nixpkgs_3');
  assert.equal(followed.shortRev, '7fb6ceb');
  assert.deepEqual(followed.inputs, []);
  const nothing = input(lock, 'e/flake-compat');
  assert.deepEqual(nothing.follows, []);
  assert.equal(nothing.followsStatus, 'nothing');
  assert.equal(nothing.nodeKey, undefined);
  const data = input(lock, 'data');
  assert.equal(data.type, 'path');
  assert.equal(data.isFlake, false);
  assert.equal(data.original, 'path:/tmp/h-flake/data');
  assert.equal(data.rev, undefined);
  const tb = input(lock, 'tb');
  assert.equal(tb.type, 'tarball');
  assert.equal(tb.lastModified, undefined);
  assert.equal(tb.original, 'file:///tmp/h-flake/data.tar.gz');
  assert.equal(tb.narHash, 'sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=');
  assert.equal(findInput(lock, 'b/nixpkgs/anything'), undefined);
  assert.equal(findInput(lock, 'nope'), undefined);
});

test('real 2.8 lock: node and entry offsets point into the file', () => {
  const text = fixture('nix-2.8-flake.lock.before.json');
  const lock = lockOf(text);
  const raw = JSON.parse(text) as { nodes: Record<string, unknown> };
  for (const i of allInputs(lock)) {
    if (i.nodeKey === undefined || !i.nodeRange) continue;
    const slice = text.slice(i.nodeRange.offset, i.nodeRange.offset + i.nodeRange.length);
    assert.deepEqual(JSON.parse(slice), raw.nodes[i.nodeKey], i.id);
  }
  const entry = input(lock, 'nixpkgs').entryRange;
  assert.equal(text.slice(entry.offset, entry.offset + entry.length), '"nixpkgs": "nixpkgs_3"');
  const follows = input(lock, 'b/nixpkgs').entryRange;
  assert.match(text.slice(follows.offset, follows.offset + follows.length), /^"nixpkgs": \[\s*"nixpkgs"\s*\]$/);
  const node = lock.nodes.get('nixpkgs_3');
  assert.ok(node);
  assert.equal(text.slice(node.keyRange.offset, node.keyRange.offset + node.keyRange.length), '"nixpkgs_3"');
});

test('allInputs lists every input path depth first', () => {
  const lock = lockOf(fixture('nix-2.8-flake.lock.before.json'));
  assert.deepEqual(
    allInputs(lock).map((i) => i.id),
    ['a', 'a/nixpkgs', 'b', 'b/nixpkgs', 'c', 'c/a', 'c/a/nixpkgs', 'data', 'e', 'e/flake-compat', 'nixpkgs', 'tb'],
  );
});

test('github, indirect, tarball channel, sourcehut and gitlab inputs; follows through follows', () => {
  const lock = lockOf(fixture('handwritten-github-flake.lock.json'));
  const nixpkgs = input(lock, 'nixpkgs');
  assert.equal(nixpkgs.type, 'github');
  assert.equal(nixpkgs.original, 'github:NixOS/nixpkgs/nixos-unstable');
  assert.equal(nixpkgs.locked, 'github:NixOS/nixpkgs/e4f5a6b7c8d90a1b2c3d4e5f6a7b8c9d0e1f2a3b');
  assert.equal(nixpkgs.ref, 'nixos-unstable');
  assert.equal(input(lock, 'nixpkgs-stable').original, 'github:NixOS/nixpkgs/nixos-24.05');
  const lib = input(lock, 'flake-parts/nixpkgs-lib');
  assert.equal(lib.followsStatus, 'resolved');
  assert.equal(lib.rev, nixpkgs.rev);
  const gi = input(lock, 'git-hooks/gitignore/nixpkgs');
  assert.deepEqual(gi.follows, ['git-hooks', 'nixpkgs']);
  assert.equal(gi.followsStatus, 'resolved');
  assert.equal(gi.nodeKey, 'nixpkgs');
  assert.equal(input(lock, 'git-hooks/flake-compat').followsStatus, 'nothing');
  const registry = input(lock, 'registry');
  assert.equal(registry.type, 'github');
  assert.equal(registry.original, 'flake:nixpkgs');
  const channel = input(lock, 'channel');
  assert.equal(channel.type, 'tarball');
  assert.equal(channel.original, 'https://channels.nixos.org/nixos-25.05/nixexprs.tar.xz');
  assert.equal(channel.shortRev, 'a50de1b');
  assert.equal(input(lock, 'srht').original, 'sourcehut:~sircmpwn/hare');
  const gl = input(lock, 'gl');
  assert.equal(gl.type, 'gitlab');
  assert.equal(gl.isFlake, false);
  assert.equal(gl.original, 'gitlab:inkscape/inkscape/1.3.x?dir=share');
  assert.equal(input(lock, 'home-manager/nixpkgs').nodeKey, 'nixpkgs_2');
  assert.equal(input(lock, 'a/b/nixpkgs').nodeKey, 'nixpkgs_3');
  // A path through a follows entry continues from its target, as in Nix.
  assert.equal(findInput(lock, 'flake-parts/nixpkgs-lib')?.follows?.join('/'), 'nixpkgs');
});

test('version 5 lock files merge "info" into the locked attributes; version 6 is read', () => {
  const lock = lockOf(fixture('handwritten-lock-v5.json'));
  assert.equal(lock.version, 5);
  const n = input(lock, 'nixpkgs');
  assert.equal(n.lastModified, 1600000000);
  assert.ok(n.narHash?.startsWith('sha256-N'));
  assert.equal(n.original, 'flake:nixpkgs');
  assert.equal(lockOf(minimal({ root: {} }, { version: 6 })).version, 6);
  assert.deepEqual(lockOf(minimal({ root: {} })).inputs, []);
});

test('unsupported versions and malformed files give typed errors with positions', () => {
  const v4 = error(minimal({ root: {} }, { version: 4 }));
  assert.equal(v4.kind, 'unsupported-version');
  assert.match(v4.message, /unsupported lock version 4/);
  assert.equal(error(minimal({ root: {} }, { version: 8 })).kind, 'unsupported-version');
  assert.equal(error('{"nodes":{"root":{}},"root":"root"}').kind, 'unsupported-version');
  assert.equal(error(minimal({ root: {} }, { version: '7' })).kind, 'schema');
  assert.equal(error(minimal({ root: {} }, { version: 7.5 })).kind, 'schema');

  const text = fixture('nix-2.8-flake.lock.before.json');
  const truncated = error(text.slice(0, 1000));
  assert.equal(truncated.kind, 'invalid-json');
  assert.ok(truncated.line !== undefined && truncated.line > 30);
  assert.ok(truncated.offset !== undefined && truncated.offset >= 990);
  assert.match(truncated.message, /truncated/);
  const comma = error('{\n  "version": 7,,\n}');
  assert.equal(comma.kind, 'invalid-json');
  assert.equal(comma.line, 2);
  assert.equal(comma.column, 16);
  assert.equal(error('{"version":7,"root":"root","nodes":{"root":{}}} // c').kind, 'invalid-json');
  assert.equal(error('').kind, 'empty');
  assert.equal(error(undefined).kind, 'empty');
  assert.equal(error('[]').kind, 'schema');
  assert.equal(error('{"version":7,"nodes":{"root":{}}}').kind, 'schema');
  assert.equal(error('{"version":7,"root":5,"nodes":{}}').kind, 'schema');
  assert.equal(error('{"version":7,"root":"root","nodes":[]}').kind, 'schema');
  assert.equal(error('{"version":7,"root":"root","nodes":{}}').kind, 'missing-node');
  assert.equal(error('{"version":7,"root":"root"}').kind, 'schema');
});

test('wrong types in every field give a schema error at the value', () => {
  const cases: [object, string[]][] = [
    [{ root: { inputs: { x: 'x' } }, x: 5 }, ['nodes', 'x']],
    [{ root: { inputs: 5 } }, ['nodes', 'root', 'inputs']],
    [{ root: { inputs: { x: 5 } } }, ['nodes', 'root', 'inputs', 'x']],
    [{ root: { inputs: { x: ['a', 5] } } }, ['nodes', 'root', 'inputs', 'x', '1']],
    [{ root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: 'git' } }, ['nodes', 'x', 'locked']],
    [{ root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: { ...gitNode('a').locked, rev: 5 } } }, ['nodes', 'x', 'locked', 'rev']],
    [
      { root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: { ...gitNode('a').locked, type: null } } },
      ['nodes', 'x', 'locked', 'type'],
    ],
    [
      { root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: { ...gitNode('a').locked, lastModified: -1 } } },
      ['nodes', 'x', 'locked', 'lastModified'],
    ],
    [
      { root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: { ...gitNode('a').locked, lastModified: 1.5 } } },
      ['nodes', 'x', 'locked', 'lastModified'],
    ],
    [
      { root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: { ...gitNode('a').locked, revCount: '3' } } },
      ['nodes', 'x', 'locked', 'revCount'],
    ],
    [{ root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), original: [] } }, ['nodes', 'x', 'original']],
    [{ root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), flake: 'no' } }, ['nodes', 'x', 'flake']],
    [{ root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), parent: 'a' } }, ['nodes', 'x', 'parent']],
    [{ root: { inputs: { x: 'x' } }, x: { original: gitNode('a').original } }, ['nodes', 'x', 'locked']],
  ];
  for (const [nodes, expectedPath] of cases) {
    const text = minimal(nodes);
    const e = error(text);
    assert.equal(e.kind, 'schema', JSON.stringify(nodes));
    assert.deepEqual(e.path, expectedPath);
    assert.ok(e.offset !== undefined && e.offset > 0 && e.offset < text.length);
    assert.ok(e.line === 1 && e.column !== undefined);
  }
  // Unknown attributes of any type are ignored; unreachable nodes are not checked.
  const lock = lockOf(
    minimal({ root: { inputs: { x: 'x' } }, x: { ...gitNode('a'), locked: { ...gitNode('a').locked, future: [1] } }, junk: 5 }),
  );
  assert.equal(input(lock, 'x').rev, 'a');
});

test('missing nodes, cycles through the root and cycles of node keys', () => {
  const missing = error(minimal({ root: { inputs: { x: 'nope' } } }));
  assert.equal(missing.kind, 'missing-node');
  assert.match(missing.message, /nope/);
  assert.ok(missing.offset !== undefined && missing.offset > 0);
  assert.match(error(minimal({ root: { inputs: { x: 'root' } } })).message, /cycle to the root/);
  const keys = lockOf(
    minimal({ root: { inputs: { a: 'a' } }, a: { ...gitNode('1'), inputs: { b: 'b' } }, b: { ...gitNode('2'), inputs: { a: 'a' } } }),
  );
  const cyc = input(keys, 'a/b/a');
  assert.equal(cyc.cycle, true);
  assert.deepEqual(cyc.inputs, []);
});

test('cycles and dead ends in follows are detected, not looped over', () => {
  const lock = lockOf(
    minimal({
      root: { inputs: { a: 'a', self1: ['self1'], x: ['y'], y: ['x'], dangling: ['nope'], deep: ['a', 'missing'], thru: ['a', 'n'] } },
      a: { ...gitNode('1'), inputs: { n: 'n', back: ['a', 'back'] } },
      n: gitNode('2'),
    }),
  );
  assert.equal(input(lock, 'self1').followsStatus, 'cycle');
  assert.equal(input(lock, 'x').followsStatus, 'cycle');
  assert.equal(input(lock, 'y').followsStatus, 'cycle');
  assert.equal(input(lock, 'dangling').followsStatus, 'missing');
  assert.equal(input(lock, 'deep').followsStatus, 'missing');
  assert.equal(input(lock, 'thru').followsStatus, 'resolved');
  assert.equal(input(lock, 'thru').rev, '2');
  assert.equal(input(lock, 'a/back').followsStatus, 'cycle');
  assert.equal(findInput(lock, 'x/anything'), undefined);
});

test('long follows chains and exponential graphs stay bounded', () => {
  const nodes: Record<string, object> = { root: { inputs: { f0: ['f1'] } } };
  const rootInputs = (nodes.root as { inputs: Record<string, unknown> }).inputs;
  for (let i = 1; i < 1000; i++) rootInputs[`f${i}`] = [`f${i + 1}`];
  rootInputs.f1000 = 'n';
  nodes.n = gitNode('9');
  const chain = lockOf(minimal(nodes));
  assert.deepEqual([input(chain, 'f0').followsStatus, input(chain, 'f0').rev], ['resolved', '9'], 'a chain of 1,000 follows is no cycle');
  assert.equal(input(chain, 'f999').followsStatus, 'resolved');

  const dag: Record<string, object> = { root: { inputs: { l0: 'l0' } } };
  for (let i = 0; i < 40; i++) dag[`l${i}`] = { ...gitNode(String(i)), inputs: { left: `l${i + 1}`, right: `l${i + 1}` } };
  dag.l40 = gitNode('end');
  const start = Date.now();
  const big = lockOf(minimal(dag));
  assert.equal(big.truncated, true);
  assert.ok(allInputs(big).length <= 20_000);
  assert.ok(Date.now() - start < 5000);
});

test('hostile sizes and keys', () => {
  const url = `file:///${'u'.repeat(10 * 1024 * 1024)}`;
  const lock = lockOf(minimal({ root: { inputs: { x: 'x' } }, x: gitNode('abc', url) }));
  assert.ok((input(lock, 'x').original ?? '').length < 5000);
  assert.equal(error('x'.repeat(10 * 1024 * 1024)).kind, 'invalid-json');
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.ok(['too-deep', 'schema'].includes(error(deep).kind));
  const protoText =
    `{"version":7,"root":"root","nodes":{"root":{"inputs":{"__proto__":"__proto__","constructor":"constructor"}},` +
    `"__proto__":${JSON.stringify(gitNode('p'))},"constructor":${JSON.stringify(gitNode('c'))}}}`;
  const proto = lockOf(protoText);
  assert.deepEqual(
    proto.inputs.map((i) => i.name),
    ['__proto__', 'constructor'],
  );
  assert.equal(input(proto, '__proto__').rev, 'p');
  assert.equal(input(proto, 'constructor').rev, 'c');
  assert.equal(({} as Record<string, unknown>).rev, undefined);
});

test('formatFlakeRef renders fetcher attributes as flake references', () => {
  assert.equal(formatFlakeRef({ type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' }), 'github:NixOS/nixpkgs/nixos-24.05');
  assert.equal(formatFlakeRef({ type: 'github', owner: 'o', repo: 'r', ref: 'main', rev: 'abc' }), 'github:o/r/abc?ref=main');
  assert.equal(
    formatFlakeRef({ type: 'github', owner: 'o', repo: 'r', host: 'ghe.example', dir: 'sub' }),
    'github:o/r?dir=sub&host=ghe.example',
  );
  assert.equal(formatFlakeRef({ type: 'git', url: 'file:///x', ref: 'main' }), 'git+file:///x?ref=main');
  assert.equal(
    formatFlakeRef({ type: 'git', url: 'https://h/r?dir=a', submodules: true, shallow: false }),
    'git+https://h/r?dir=a&shallow=0&submodules=1',
  );
  assert.equal(formatFlakeRef({ type: 'git', url: 'git://h/r' }), 'git://h/r');
  assert.equal(formatFlakeRef({ type: 'path', path: '/x', lastModified: 5, narHash: 'sha256-x' }), 'path:/x');
  assert.equal(formatFlakeRef({ type: 'tarball', url: 'https://x/y.tar.gz' }), 'https://x/y.tar.gz');
  assert.equal(formatFlakeRef({ type: 'indirect', id: 'nixpkgs' }), 'flake:nixpkgs');
  assert.equal(formatFlakeRef({ type: 'indirect', id: 'nixpkgs', ref: 'nixos-24.05' }), 'flake:nixpkgs/nixos-24.05');
  assert.equal(formatFlakeRef({ type: 'hg', url: 'https://hg/x', rev: 'r' }), 'hg+https://hg/x?rev=r');
  assert.equal(formatFlakeRef({ type: 'weird', a: 'b c' }), 'weird:?a=b%20c');
  assert.equal(inputType('hg'), 'mercurial');
  assert.equal(inputType('weird'), 'unknown');
  assert.equal(inputType(undefined), 'unknown');
});

test('input paths', () => {
  assert.deepEqual(splitInputPath('a//b/'), ['a', 'b']);
  assert.equal(isValidInputPath('home-manager/nixpkgs'), true);
  assert.equal(isValidInputPath(['flake_parts', 'nixpkgs-lib']), true);
  assert.equal(isValidInputPath('nixpkgs.foo'), false);
  assert.equal(isValidInputPath('1up'), false);
  assert.equal(isValidInputPath(''), false);
  assert.equal(isValidInputPath([]), false);
  assert.equal(isValidInputPath('--flake'), false);
});

// Crafted lock files of about 1 MB (flake.lock is read in Restricted Mode, on every change): every shape parses in
// time linear in its size. Times are CPU time of this process (not inflated by other processes on a loaded machine);
// the bound is generous: 1 s, or 40 times JSON.parse of the same text on a machine slow enough to need more (the
// parse itself takes 5-20 times JSON.parse). The figures before the fix are in the test names.
function cpuMs<T>(fn: () => T): [T, number] {
  const c0 = process.cpuUsage();
  const r = fn();
  const c = process.cpuUsage(c0);
  return [r, (c.user + c.system) / 1000];
}

/** Parses `text`, timed, and asserts the bound. */
function timedLock(text: string, what = 'parse'): FlakeLock {
  const [, jsonMs] = cpuMs(() => JSON.parse(text));
  const [lock, ms] = cpuMs(() => lockOf(text));
  const bound = Math.max(1000, 40 * jsonMs);
  assert.ok(ms < bound, `${what}: ${ms.toFixed(0)} ms of CPU (bound ${bound.toFixed(0)} ms; JSON.parse ${jsonMs.toFixed(1)} ms)`);
  return lock;
}

/** Root inputs f0 → f1 → … → f(n-1) (each follows the next), the last locked to node `n`. */
function followsChainLock(n: number): string {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < n - 1; i++) inputs[`f${i}`] = [`f${i + 1}`];
  inputs[`f${n - 1}`] = 'n';
  return minimal({ root: { inputs }, n: gitNode('9') });
}

/** Root inputs f0 → f1 → … → f(n-1) → f0, each following the next. */
function followsCycleLock(n: number): string {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) inputs[`f${i}`] = [`f${(i + 1) % n}`];
  return minimal({ root: { inputs } });
}

/**
 * Follows whose paths go through follows: p0 is node B (which has p0 → B itself); p(k) follows [p(k-1) × width] in
 * the root and in B. Resolving p(k) from scratch walks width^k steps; no cycle anywhere.
 */
function nestedFollowsLock(levels: number, width: number): string {
  const inputs: Record<string, unknown> = { p0: 'B' };
  const bInputs: Record<string, unknown> = { p0: 'B' };
  for (let k = 1; k <= levels; k++) {
    const path = Array.from({ length: width }, () => `p${k - 1}`);
    inputs[`p${k}`] = path;
    bInputs[`p${k}`] = path;
  }
  return minimal({ root: { inputs }, B: { ...gitNode('b'), inputs: bInputs } });
}

test('a 1 MB follows chain (55,000 entries) resolves every entry, in linear time (before: entries past 256 steps were called cycles, 1.9 s)', () => {
  const text = followsChainLock(55_000);
  assert.ok(text.length > 1_000_000);
  const lock = timedLock(text);
  for (const id of ['f0', 'f1', 'f10000', 'f19999']) {
    const i = input(lock, id);
    assert.deepEqual([i.followsStatus, i.nodeKey, i.rev], ['resolved', 'n', '9'], id);
  }
  assert.equal(lock.truncated, true, 'more than MAX_LOCK_INPUTS entries: the listing says it stopped');
  assert.equal(allInputs(lock).length, 20_000);
});

test('a follows cycle of 20,000 entries (and of 50,000, 1 MB) is reported as a cycle for every entry, in linear time (before: 1.6 s)', () => {
  for (const n of [20_000, 50_000]) {
    const lock = timedLock(followsCycleLock(n), `${n}`);
    const all = allInputs(lock);
    assert.equal(all.length, Math.min(n, 20_000));
    assert.equal(lock.truncated, n > 20_000);
    assert.ok(all.every((i) => i.followsStatus === 'cycle'));
    assert.equal(input(lock, 'f0').followsStatus, 'cycle');
  }
});

test('follows through follows through follows (width^depth steps unmemoised) resolve once each (before: not done in 200 s, for a 1.4 KB file)', () => {
  const text = nestedFollowsLock(12, 8);
  const lock = timedLock(text);
  for (let k = 1; k <= 12; k++) {
    const i = input(lock, `p${k}`);
    assert.deepEqual([i.followsStatus, i.nodeKey], ['resolved', 'B'], `p${k}`);
    assert.deepEqual([input(lock, ['p0', `p${k}`]).followsStatus, input(lock, ['p0', `p${k}`]).nodeKey], ['resolved', 'B']);
  }
});

test('20,000 paths to one node with 3,000 attributes: its references are formatted once, not per path (before: 140 s)', () => {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) inputs[`w${i}`] = 'W';
  const extra = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`a${i}`, `v${i}`]));
  const w = gitNode('w');
  const text = minimal({ root: { inputs }, W: { locked: { ...w.locked, ...extra }, original: { ...w.original, ...extra } } });
  const lock = timedLock(text);
  assert.equal(lock.inputs.length, 20_000);
  const first = input(lock, 'w0');
  assert.ok(first.original!.length <= 4097 && first.original!.startsWith('git+file:///x?a0=v0&a1=v1&a10=v10&'));
  assert.ok(lock.inputs.every((i) => i.original === first.original && i.locked === first.locked && i.rev === 'w'));
});

test('input ids are bounded in total: a 20 KB input name above a lattice of 20,000 paths (before: 400 MB of ids)', () => {
  const long = `a${'y'.repeat(20_000)}`; // sorted first: its subtree takes the whole listing
  const nodes: Record<string, object> = { root: { inputs: { [long]: 'l0', short: 'l0' } } };
  for (let i = 0; i < 30; i++) nodes[`l${i}`] = { locked: { type: 'path', path: `/l${i}` }, inputs: { a: `l${i + 1}`, b: `l${i + 1}` } };
  nodes.l30 = { locked: { type: 'path', path: '/end' } };
  const lock = timedLock(minimal(nodes));
  const all = allInputs(lock);
  const chars = all.reduce((n, i) => n + i.id.length, 0);
  assert.equal(lock.truncated, true);
  assert.ok(chars <= 16 * 1024 * 1024, `${chars} characters of ids`);
  assert.ok(
    all.some((i) => i.name === long),
    'the long name is listed',
  );
  assert.deepEqual(input(lock, [long, 'a', 'a']).nodeKey, 'l2');
});

test('any 1 MB shape parses in well under a second: a chain of 16,000 nodes, a lattice, follows into a deep chain', () => {
  const chain: Record<string, object> = { root: { inputs: { n0: 'n0', f: ['n0', 'next', 'next', 'next'] } } };
  for (let i = 0; i < 16_000; i++)
    chain[`n${i}`] = { locked: { type: 'path', path: `/n${i}` }, inputs: { next: `n${i + 1}`, back: ['n0'] } };
  chain.n16000 = { locked: { type: 'path', path: '/end' } };
  const text = minimal(chain);
  assert.ok(text.length > 1_000_000);
  const lock = timedLock(text);
  assert.equal(lock.truncated, true, 'expansion stops at the depth limit');
  assert.equal(input(lock, 'f').nodeKey, 'n3');
  assert.equal(input(lock, ['n0', 'next', 'back']).nodeKey, 'n0');
  // Follows whose path is 50,001 names long (through the chain and back), reached through 5,000 paths.
  const far = ['n0', ...Array.from({ length: 50_000 }, (_, i) => (i % 2 ? 'back' : 'next'))];
  const users: Record<string, object> = {
    root: { inputs: { n0: 'n0', u: 'u' } },
    u: { locked: { type: 'path', path: '/u' }, inputs: { far } },
  };
  for (let i = 0; i < 2; i++) users[`n${i}`] = { locked: { type: 'path', path: `/n${i}` }, inputs: { next: `n${i + 1}`, back: ['n0'] } };
  users.n2 = { locked: { type: 'path', path: '/end' } };
  const rootInputs = (users.root as { inputs: Record<string, string> }).inputs;
  for (let i = 0; i < 5_000; i++) rootInputs[`u${i}`] = 'u';
  const farLock = timedLock(minimal(users), 'far follows');
  assert.equal(farLock.truncated, false);
  assert.deepEqual([input(farLock, 'u4999/far').followsStatus, input(farLock, 'u4999/far').nodeKey], ['resolved', 'n0']);
});
