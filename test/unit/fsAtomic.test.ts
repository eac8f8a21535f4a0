import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveWriteTarget, writeFileAtomic } from '../../src/core/fs/atomic';

const dir = () => mkdtempSync(join(tmpdir(), 'nix-flakes-atomic-'));

test('writeFileAtomic replaces the content and leaves no temporary file', async () => {
  const d = dir();
  const f = join(d, 'flake.lock');
  writeFileSync(f, 'old\n');
  await writeFileAtomic(f, 'new\n');
  assert.equal(readFileSync(f, 'utf8'), 'new\n');
  assert.deepEqual(readdirSync(d), ['flake.lock']);
  await writeFileAtomic(join(d, 'fresh.lock'), new TextEncoder().encode('bytes'));
  assert.equal(readFileSync(join(d, 'fresh.lock'), 'utf8'), 'bytes');
});

test('writeFileAtomic keeps a symlink a symlink and writes its target (relative, chained, in another directory)', async () => {
  const d = dir();
  mkdirSync(join(d, 'store'));
  mkdirSync(join(d, 'flake'));
  const real = join(d, 'store', 'real.lock');
  writeFileSync(real, 'old\n');
  symlinkSync('../store/real.lock', join(d, 'flake', 'middle.lock'));
  symlinkSync('middle.lock', join(d, 'flake', 'flake.lock'));
  await writeFileAtomic(join(d, 'flake', 'flake.lock'), 'new\n');
  assert.ok(lstatSync(join(d, 'flake', 'flake.lock')).isSymbolicLink(), 'still a symlink');
  assert.equal(readlinkSync(join(d, 'flake', 'flake.lock')), 'middle.lock');
  assert.ok(lstatSync(join(d, 'flake', 'middle.lock')).isSymbolicLink());
  assert.equal(readFileSync(real, 'utf8'), 'new\n');
  // The temporary file was made beside the target (the same file system), and is gone.
  assert.deepEqual(readdirSync(join(d, 'store')), ['real.lock']);
  assert.deepEqual(readdirSync(join(d, 'flake')).sort(), ['flake.lock', 'middle.lock']);
});

test('writeFileAtomic through a dangling symlink creates the file it names; a cycle is refused', async () => {
  const d = dir();
  symlinkSync('target.lock', join(d, 'flake.lock'));
  assert.equal(await resolveWriteTarget(join(d, 'flake.lock')), join(d, 'target.lock'));
  await writeFileAtomic(join(d, 'flake.lock'), 'created\n');
  assert.ok(lstatSync(join(d, 'flake.lock')).isSymbolicLink());
  assert.equal(readFileSync(join(d, 'target.lock'), 'utf8'), 'created\n');
  symlinkSync('b', join(d, 'a'));
  symlinkSync('a', join(d, 'b'));
  await assert.rejects(writeFileAtomic(join(d, 'a'), 'x'), /ELOOP/);
});

test('writeFileAtomic keeps the mode of the file it replaces, exactly (the umask does not apply)', async () => {
  const d = dir();
  for (const mode of [0o600, 0o640, 0o664, 0o755, 0o444]) {
    const f = join(d, `m${mode.toString(8)}`);
    writeFileSync(f, 'old');
    chmodSync(f, mode);
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(f, 'new');
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(f).mode & 0o7777, mode, mode.toString(8));
    assert.equal(readFileSync(f, 'utf8'), 'new');
  }
  // A new file gets the usual mode: 0666 less the umask.
  const old = process.umask(0o022);
  try {
    await writeFileAtomic(join(d, 'new'), 'x');
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(join(d, 'new')).mode & 0o777, 0o644);
});

test('a write that fails half-way (file size limit: EFBIG) leaves the original intact and no temporary file', async (t) => {
  if (!existsSync('/usr/bin/prlimit') && !existsSync('/bin/prlimit')) return t.skip('prlimit is not available');
  const d = dir();
  const f = join(d, 'flake.lock');
  const original = `${'{"old": true}\n'.repeat(400)}`;
  writeFileSync(f, original);
  // RLIMIT_FSIZE on this process only (soft limit; Node ignores SIGXFSZ, so the write fails with EFBIG).
  execFileSync('prlimit', ['--pid', String(process.pid), '--fsize=1024:']);
  try {
    await assert.rejects(writeFileAtomic(f, 'x'.repeat(64 * 1024)), (e: NodeJS.ErrnoException) => e.code === 'EFBIG');
  } finally {
    execFileSync('prlimit', ['--pid', String(process.pid), '--fsize=unlimited:']);
  }
  assert.equal(readFileSync(f, 'utf8'), original);
  assert.deepEqual(readdirSync(d), ['flake.lock']);
});

test('concurrent writes to one file never mix or fail: the result is one of them whole', async () => {
  const d = dir();
  const f = join(d, 'flake.lock');
  writeFileSync(f, 'old');
  const contents = Array.from({ length: 16 }, (_, i) => String(i).repeat(100_000));
  await Promise.all(contents.map((c) => writeFileAtomic(f, c)));
  assert.ok(contents.includes(readFileSync(f, 'utf8')));
  assert.deepEqual(readdirSync(d), ['flake.lock']);
});
