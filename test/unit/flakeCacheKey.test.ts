// The cheap key that decides whether a flake's outputs must be evaluated again: what a git flake can see changes it,
// nothing else does. Real git repositories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flakeCacheKey, type CacheKeyOptions } from '../../src/core/flake/cacheKey';
import { run } from '../../src/core/nix/process';
import { commitAll, makeRepo, scratchDir } from '../support/nix';

const FLAKE = '{ outputs = { self }: { }; }\n';

function repo(): string {
  return makeRepo(mkdtempSync(join(scratchDir(), 'cachekey-')), { 'flake.nix': FLAKE, 'pkgs/a.nix': '1\n' });
}

test('the same state gives the same key; untracked files do not change it (a git flake cannot see them)', async () => {
  const dir = repo();
  const k1 = await flakeCacheKey(dir);
  assert.match(String(k1), /^[0-9a-f]{64}$/);
  assert.equal(await flakeCacheKey(dir), k1);
  writeFileSync(join(dir, 'notes.txt'), 'untracked\n');
  writeFileSync(join(dir, 'pkgs', 'b.nix'), 'untracked too\n');
  assert.equal(await flakeCacheKey(dir), k1);
});

test('an edit of a tracked file changes the key, and undoing it gives the first key back', async () => {
  const dir = repo();
  const k1 = await flakeCacheKey(dir);
  writeFileSync(join(dir, 'pkgs', 'a.nix'), '2\n');
  const k2 = await flakeCacheKey(dir);
  assert.notEqual(k2, k1);
  writeFileSync(join(dir, 'pkgs', 'a.nix'), '1\n');
  assert.equal(await flakeCacheKey(dir), k1, 'a clean tree at the same HEAD');
});

test('flake.lock, a new commit (HEAD) and a file added to the index change the key', async () => {
  const dir = repo();
  const k1 = await flakeCacheKey(dir);
  writeFileSync(join(dir, 'flake.lock'), '{"nodes":{"root":{}},"root":"root","version":7}\n');
  const withLock = await flakeCacheKey(dir);
  assert.notEqual(withLock, k1, 'flake.lock is read even when untracked');
  commitAll(dir, 'lock');
  const committed = await flakeCacheKey(dir);
  assert.notEqual(committed, k1, 'HEAD moved');
  writeFileSync(join(dir, 'pkgs', 'new.nix'), 'new\n');
  assert.equal(await flakeCacheKey(dir), committed, 'untracked: invisible');
  execFileSync('git', ['add', '-N', 'pkgs/new.nix'], { cwd: dir });
  assert.notEqual(await flakeCacheKey(dir), committed, 'added with git add -N: the flake sees it');
});

test("the caller's parts (Nix version, systems, settings) are part of the key", async () => {
  const dir = repo();
  const a = await flakeCacheKey(dir, { extra: ['Nix 2.8.0', 'x86_64-linux'] });
  const b = await flakeCacheKey(dir, { extra: ['Nix 2.34.8', 'x86_64-linux'] });
  assert.notEqual(a, b);
  assert.equal(await flakeCacheKey(dir, { extra: ['Nix 2.8.0', 'x86_64-linux'] }), a);
});

test('git output without both lines of rev-parse (top level, HEAD) gives no key', async () => {
  const dir = repo();
  assert.match(String(await flakeCacheKey(dir)), /^[0-9a-f]{64}$/);
  const topOnly: CacheKeyOptions['run'] = async (file, args, opts) => {
    const r = await run(file, args, opts);
    return args.includes('rev-parse') ? { ...r, stdout: r.stdout.split('\n')[0] ?? '' } : r;
  };
  assert.equal(await flakeCacheKey(dir, { run: topOnly }), undefined);
});

test('outside a git work tree there is no key: nothing is cached', async () => {
  const dir = mkdtempSync(join(scratchDir(), 'plain-'));
  writeFileSync(join(dir, 'flake.nix'), FLAKE);
  assert.equal(await flakeCacheKey(dir), undefined);
});
