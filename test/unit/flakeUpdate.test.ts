import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseNixVersion, type NixVersion } from '../../src/core/nix/version';
import { parseFlakeLock, type FlakeLock } from '../../src/core/flake/lock';
import {
  describeState,
  diffLocks,
  diffSummary,
  explainUpdateFailure,
  lockArgs,
  parseLockUpdateMessages,
  planCancelRestore,
  updateArgs,
} from '../../src/core/flake/update';

const fixture = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/flake', name), 'utf8');

function version(banner: string): NixVersion {
  const v = parseNixVersion(banner);
  assert.ok(v, banner);
  return v;
}

function lockOf(text: string): FlakeLock {
  const r = parseFlakeLock(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.lock;
}

test('update arguments for Nix ≤ 2.18', () => {
  for (const banner of ['nix (Nix) 2.8.0', 'nix (Nix) 2.18.1']) {
    const v = version(banner);
    assert.deepEqual(updateArgs(v, '/src/f', []), ['flake', 'update', '/src/f']);
    assert.deepEqual(updateArgs(v, '/src/f', ['nixpkgs', 'home-manager/nixpkgs']), [
      'flake',
      'lock',
      '/src/f',
      '--update-input',
      'nixpkgs',
      '--update-input',
      'home-manager/nixpkgs',
    ]);
    assert.deepEqual(updateArgs(v, '/src/f', [], { commitLockFile: true }), ['flake', 'update', '--commit-lock-file', '/src/f']);
    assert.deepEqual(updateArgs(v, '/src/f', ['a'], { commitLockFile: true }), [
      'flake',
      'lock',
      '--commit-lock-file',
      '/src/f',
      '--update-input',
      'a',
    ]);
  }
});

test('update arguments for Nix ≥ 2.19, Lix and Determinate', () => {
  for (const banner of [
    'nix (Nix) 2.19.0',
    'nix (Nix) 2.19.1',
    'nix (Nix) 2.33.0',
    'nix (Lix, like Nix) 2.91.1',
    'nix (Determinate Nix 3.14.0) 2.32.4',
  ]) {
    const v = version(banner);
    assert.deepEqual(updateArgs(v, '/src/f', []), ['flake', 'update', '--flake', '/src/f'], banner);
    assert.deepEqual(updateArgs(v, '/src/f', ['nixpkgs', 'a/b']), ['flake', 'update', '--flake', '/src/f', 'nixpkgs', 'a/b']);
    assert.deepEqual(updateArgs(v, '.', ['x'], { commitLockFile: true }), ['flake', 'update', '--commit-lock-file', '--flake', '.', 'x']);
  }
  assert.deepEqual(lockArgs('/src/f'), ['flake', 'lock', '/src/f']);
});

test('real 2.8 --update-input messages', () => {
  const m = parseLockUpdateMessages(fixture('nix-2.8-lock-update-input-a.stderr.txt'));
  assert.equal(m.lockFile, '/tmp/h-flake/root/flake.lock');
  assert.equal(m.created, false);
  assert.deepEqual(m.added, []);
  assert.deepEqual(m.removed, []);
  assert.deepEqual(m.unknownInputs, []);
  assert.deepEqual(
    m.updated.map((u) => [u.path, u.from.shortRev, u.from.date, u.to.shortRev, u.to.date]),
    [
      ['a', '8bcc058', '2025-10-02', '8d5690e', '2026-11-25'],
      ['a/nixpkgs', 'da8d391', '2025-10-01', '7fb6ceb', '2025-11-20'],
    ],
  );
  assert.equal(m.updated[1].from.ref, 'git+file:///tmp/h-flake/nixpkgs?ref=master&rev=da8d391a26e75fecee26bf92e706c9372a4c647c');
  assert.equal(m.updated[1].to.rev, '7fb6ceb28e4359e3b48bb9d5a25f1ddf2476a1d6');
});

test('real 2.8 unknown input warnings, and added / removed inputs', () => {
  assert.deepEqual(parseLockUpdateMessages(fixture('nix-2.8-lock-update-input-unknown.stderr.txt')).unknownInputs, [
    'b/nixpkgs',
    'doesnotexist',
  ]);
  const m = parseLockUpdateMessages(fixture('nix-2.8-lock-added-removed.stderr.txt'));
  assert.deepEqual(
    m.added.map((a) => [a.path, a.shortRev, a.date]),
    [
      ['extra', '117e405', '2026-11-25'],
      ['extra/nixpkgs', '7fb6ceb', '2025-11-20'],
    ],
  );
  assert.deepEqual(m.removed, [{ path: 'tb' }]);
  assert.deepEqual(m.updated, []);
});

test('real 2.8 --commit-lock-file, no-change and internal-json runs', () => {
  const commit = parseLockUpdateMessages(fixture('nix-2.8-update-commit.stderr.txt'));
  assert.equal(commit.committedRevision, '759dcf7950c8bd52bbcf46ba500c7c6c2643b94e');
  assert.deepEqual(
    commit.updated.map((u) => `${u.path} ${u.from.shortRev}→${u.to.shortRev}`),
    ['nixpkgs 7fb6ceb→25ae523'],
  );
  // The commit message carries the same diff.
  assert.deepEqual(
    parseLockUpdateMessages(fixture('nix-2.8-update-commit.gitlog.txt')).updated.map((u) => u.to.date),
    ['2026-01-15'],
  );
  const none = parseLockUpdateMessages(fixture('nix-2.8-update-nochange.stderr.txt'));
  assert.deepEqual([none.added, none.removed, none.updated, none.unknownInputs], [[], [], [], []]);
  assert.equal(none.lockFile, undefined);
  const ij = parseLockUpdateMessages(fixture('nix-2.8-lock-update-input-internal-json.stderr.txt'));
  assert.equal(ij.lockFile, '/tmp/h-flake/root/flake.lock');
  assert.deepEqual(
    ij.updated.map((u) => [u.path, u.from.shortRev, u.to.shortRev]),
    [['extra', '117e405', '9f81e1e']],
  );
  // 2.8 on a flake reference that is really an input name: not an update message at all.
  const wrong = parseLockUpdateMessages(fixture('nix-2.8-update-input-name-error.stderr.txt'));
  assert.deepEqual([wrong.updated, wrong.unknownInputs], [[], []]);
});

test('newer formats: double-quoted lock paths, follows entries, new unknown-input wordings', () => {
  const m = parseLockUpdateMessages(fixture('handwritten-nix-master-update.stderr.txt'));
  assert.equal(m.lockFile, '/home/u/my flake/flake.lock');
  assert.deepEqual(m.unknownInputs, ['nixpkgs.foo', 'doesnotexist']);
  assert.deepEqual(
    m.updated.map((u) => [u.path, u.from.shortRev, u.from.date, u.to.shortRev ?? u.to.follows, u.to.date]),
    [
      ['nixpkgs', 'a1b2c3d', '2025-10-01', 'e4f5a6b', '2025-11-20'],
      ['home-manager/nixpkgs', '0000000', '2025-06-27', 'nixpkgs', undefined],
    ],
  );
  assert.deepEqual(
    m.added.map((a) => [a.path, a.shortRev ?? a.follows]),
    [
      ['treefmt', '1111111'],
      ['treefmt/nixpkgs', 'nixpkgs'],
    ],
  );
  assert.deepEqual(
    m.removed.map((r) => r.path),
    ['flake-utils', 'flake-utils/systems'],
  );
  const created = parseLockUpdateMessages(fixture('handwritten-nix-2.35-create.stderr.txt'));
  assert.equal(created.created, true);
  assert.equal(created.lockFile, '/src/new/flake.lock');
  assert.deepEqual(
    created.added.map((a) => a.path),
    ['nixpkgs'],
  );
});

test('ANSI colours of a terminal are stripped', () => {
  const tty =
    "\x1b[35;1mwarning:\x1b[0m updating lock file '/x/flake.lock':\n" +
    "• \x1b[1mUpdated input 'nixpkgs':\x1b[0m\n" +
    "    'github:NixOS/nixpkgs/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' (2025-10-01)\n" +
    "  → 'github:NixOS/nixpkgs/e4f5a6b7c8d90a1b2c3d4e5f6a7b8c9d0e1f2a3b' (2025-11-20)\n" +
    "• \x1b[32;1mAdded input 'x':\x1b[0m\n    'path:/x?lastModified=1&narHash=sha256-x'\n" +
    "• \x1b[31;1mRemoved input 'y'\x1b[0m\n";
  const m = parseLockUpdateMessages(tty);
  assert.equal(m.updated[0].to.shortRev, 'e4f5a6b');
  assert.deepEqual(m.added, [{ path: 'x', ref: 'path:/x?lastModified=1&narHash=sha256-x' }]);
  assert.deepEqual(m.removed, [{ path: 'y' }]);
});

test('hostile stderr never throws', () => {
  const empty = { created: false, added: [], removed: [], updated: [], unknownInputs: [] };
  assert.deepEqual(parseLockUpdateMessages(''), empty);
  assert.deepEqual(parseLockUpdateMessages(undefined as unknown as string), empty);
  assert.deepEqual(parseLockUpdateMessages('x'.repeat(10 * 1024 * 1024)), empty);
  const cut = parseLockUpdateMessages("• Updated input 'a':\n");
  assert.deepEqual(cut.updated, [{ path: 'a', from: {}, to: {} }]);
  assert.deepEqual(parseLockUpdateMessages('@nix {"action":"msg"}\n@nix {oops').updated, []);
});

test('diffLocks: a real update of one input', () => {
  const changes = diffLocks(
    lockOf(fixture('nix-2.8-flake.lock.before-update.json')),
    lockOf(fixture('nix-2.8-flake.lock.after-update.json')),
  );
  const changed = changes.filter((c) => c.change !== 'unchanged');
  assert.equal(changed.length, 1);
  assert.equal(changed[0].path, 'nixpkgs');
  assert.equal(changed[0].summary, 'nixpkgs: 2025-11-20 (7fb6ceb) → 2026-01-15 (25ae523)');
  assert.deepEqual(changed[0].from, {
    rev: '7fb6ceb28e4359e3b48bb9d5a25f1ddf2476a1d6',
    shortRev: '7fb6ceb',
    date: '2025-11-20',
    lastModified: 1763640000,
    narHash: 'sha256-0uTIlz/WKJgiPE5wgFMsnM+BYX/AruEgrkCL8MuNx8I=',
    locked: 'git+file:///tmp/h-flake/nixpkgs?ref=master&rev=7fb6ceb28e4359e3b48bb9d5a25f1ddf2476a1d6',
  });
  const follows = changes.find((c) => c.path === 'b/nixpkgs');
  assert.equal(follows?.change, 'unchanged');
  assert.deepEqual(follows?.from, { follows: 'nixpkgs' });
  assert.deepEqual(diffSummary(changes), ['nixpkgs: 2025-11-20 (7fb6ceb) → 2026-01-15 (25ae523)']);
});

test('diffLocks: added, removed and updated inputs, sorted by path', () => {
  const before = lockOf(fixture('nix-2.8-flake.lock.before.json'));
  const after = lockOf(fixture('nix-2.8-flake.lock.before-update.json'));
  const changes = diffLocks(before, after).filter((c) => c.change !== 'unchanged');
  assert.deepEqual(
    changes.map((c) => [c.path, c.change]),
    [
      ['a', 'updated'],
      ['a/nixpkgs', 'updated'],
      ['extra', 'added'],
      ['extra/nixpkgs', 'added'],
      ['tb', 'removed'],
    ],
  );
  assert.equal(changes[1].summary, 'a/nixpkgs: 2025-10-01 (da8d391) → 2025-11-20 (7fb6ceb)');
  assert.equal(changes[2].summary, `extra: added, ${changes[2].to?.date} (117e405)`);
  assert.equal(changes[4].summary, 'tb: removed');
  assert.equal(changes[4].to, undefined);
});

test('describeState covers follows and inputs without a revision', () => {
  assert.equal(describeState({ follows: 'nixpkgs' }), 'follows nixpkgs');
  assert.equal(describeState({ follows: '' }), 'follows nothing');
  assert.equal(describeState({ narHash: 'sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=' }), 'unknown date (HDfQGvQ)');
  assert.equal(describeState({ date: '2025-01-01', locked: 'path:/x' }), '2025-01-01 (path:/x)');
  assert.equal(describeState({}), 'unknown date');
  const text = (rev: string | string[]) =>
    JSON.stringify({
      nodes: {
        root: { inputs: { x: rev } },
        ...(typeof rev === 'string'
          ? {
              [rev]: {
                locked: { type: 'git', url: 'file:///x', rev, lastModified: 1759320000 },
                original: { type: 'git', url: 'file:///x' },
              },
            }
          : {}),
        n: {
          locked: { type: 'git', url: 'file:///n', rev: 'n'.repeat(40), lastModified: 1759320000 },
          original: { type: 'git', url: 'file:///n' },
        },
      },
      root: 'root',
      version: 7,
    });
  const toFollows = diffLocks(lockOf(text('abcdef0123')), lockOf(text([])));
  assert.equal(toFollows.find((c) => c.path === 'x')?.summary, 'x: 2025-10-01 (abcdef0) → follows nothing');
});

test('the flake core index exports the public API: every export of every flake module, as the same value', async () => {
  const index = (await import('../../src/core/flake')) as Record<string, unknown>;
  const modules = await Promise.all([
    import('../../src/core/flake/duplicates'),
    import('../../src/core/flake/installable'),
    import('../../src/core/flake/lock'),
    import('../../src/core/flake/show'),
    import('../../src/core/flake/stderr'),
    import('../../src/core/flake/time'),
    import('../../src/core/flake/update'),
    import('../../src/core/flake/warnings'),
  ]);
  const expected = new Map<string, unknown>();
  for (const m of modules) for (const [name, value] of Object.entries(m)) expected.set(name, value);
  // Nothing missing, nothing extra (json.ts is internal: only its types are exported).
  assert.deepEqual(Object.keys(index).sort(), [...expected.keys()].sort());
  for (const [name, value] of expected) assert.equal(index[name], value, name);
  assert.ok(expected.size > 20, `${expected.size} exports`);
});

const captured = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/update', name), 'utf8');

test('explainUpdateFailure: a host that does not resolve, on 2.8 and 2.34 (with and without nixFlakes.offline)', () => {
  for (const v of ['2.8', '2.34']) {
    for (const c of ['network', 'offline']) {
      const f = explainUpdateFailure(captured(`nix-${v}-${c}.stderr.txt`), { offline: c === 'offline' });
      assert.equal(f.kind, 'network', `${v} ${c}`);
      assert.equal(f.lockWritten, false);
      assert.match(f.message, /^Updating needs the network to fetch new revisions/);
      assert.equal(/nixFlakes\.offline is on/.test(f.message), c === 'offline');
      assert.match(
        f.message,
        /Could not download https:\/\/nix-flakes-capture\.invalid\/src\.tar\.gz: Could(?:n't| not) resolve host.*\.$/,
        f.message,
      );
      assert.doesNotMatch(f.message, /invalid\)/, "the wrapper's closing parenthesis is dropped");
    }
  }
  assert.equal(explainUpdateFailure(captured('nix-2.34-network.stderr.txt')).input, 'remote');
  assert.match(explainUpdateFailure(captured('nix-2.34-network.stderr.txt')).message, /\(input remote\)/);
});

test('explainUpdateFailure: a lock commit git refuses (a hook; no identity), on 2.8 and 2.34', () => {
  for (const v of ['2.8', '2.34']) {
    const hook = explainUpdateFailure(captured(`nix-${v}-commit-hook.stderr.txt`), { commitLockFile: true });
    assert.equal(hook.kind, 'commit-refused', v);
    assert.equal(hook.lockWritten, true, 'nix wrote flake.lock before it ran git');
    assert.match(
      hook.message,
      /^flake\.lock could not be committed \(nixFlakes\.inputs\.commitLockFile\): git commit failed \(exit code 1\): refused by a hook\..* The updated flake\.lock is on disk, not committed\.$/,
      hook.message,
    );
    const who = explainUpdateFailure(captured(`nix-${v}-commit-identity.stderr.txt`), { commitLockFile: true });
    assert.equal(who.kind, 'commit-identity', v);
    assert.match(who.message, /git commit failed because git does not know who you are\. Set user\.name and user\.email/);
    // Without --commit-lock-file the same text is not read as a commit failure.
    assert.notEqual(explainUpdateFailure(captured(`nix-${v}-commit-hook.stderr.txt`)).kind, 'commit-refused');
  }
});

test('explainUpdateFailure: an indirect input no registry knows, on 2.8 and 2.34', () => {
  for (const v of ['2.8', '2.34']) {
    const f = explainUpdateFailure(captured(`nix-${v}-registry.stderr.txt`));
    assert.equal(f.kind, 'registry', v);
    assert.match(f.message, /^No flake registry knows 'nosuchname'.*write the input's full URL in flake\.nix/);
  }
  assert.match(explainUpdateFailure(captured('nix-2.34-registry.stderr.txt')).message, /'nosuchname' \(input nosuchname\)/);
  assert.equal(explainUpdateFailure(fixture('nix-2.8-update-input-name-error.stderr.txt')).kind, 'registry');
});

test("explainUpdateFailure: other failures give Nix's innermost message, the input and the position", () => {
  const gone28 = explainUpdateFailure(captured('nix-2.8-missing-path.stderr.txt'));
  assert.equal(gone28.kind, 'other');
  assert.match(gone28.message, /^Update failed: getting status of '\/tmp\/[^']*\/gone\/local': No such file or directory$/);
  const gone234 = explainUpdateFailure(captured('nix-2.34-missing-path.stderr.txt'));
  assert.match(gone234.message, /^Update failed \(input local\): path '\/\/tmp\/[^']*\/gone\/local' does not exist$/);
  for (const v of ['2.8', '2.34']) {
    const syntax = explainUpdateFailure(captured(`nix-${v}-syntax.stderr.txt`), { offline: true });
    assert.equal(syntax.kind, 'other', 'nixFlakes.offline does not make every failure a network one');
    assert.match(syntax.message, /^Update failed: syntax error, unexpected ';' \(\S*flake\.nix:1:12\)$/, syntax.message);
  }
  // No error block at all: the last lines; garbage never throws.
  assert.equal(explainUpdateFailure('something\nwent\nwrong\n').message, 'Update failed: something went wrong');
  assert.equal(explainUpdateFailure('').message, 'Update failed: nix gave no message');
  assert.equal(explainUpdateFailure(undefined as unknown as string).kind, 'other');
  // ANSI colours (a terminal-like stderr) are ignored.
  assert.equal(
    explainUpdateFailure("\x1b[31;1merror:\x1b[0m program \x1b[35;1m'git'\x1b[0m failed with exit code 1", { commitLockFile: true }).kind,
    'commit-refused',
  );
});

test('planCancelRestore: a lock holding exactly what the cancelled run announced is put back (real 2.8 and 2.34 runs)', () => {
  for (const v of ['2.8', '2.34']) {
    const before = captured(`nix-${v}-create.flake.lock.json`);
    const after = captured(`nix-${v}-update-one.flake.lock.json`);
    const stderr = captured(`nix-${v}-update-one.stderr.txt`);
    assert.deepEqual(planCancelRestore(before, after, stderr), { action: 'restore', text: before }, v);
    // Nix was stopped half-way through writing the file it announced.
    assert.deepEqual(planCancelRestore(before, after.slice(0, after.length >> 1), stderr), { action: 'restore', text: before }, v);
    // Nothing changed: nothing to do, whatever Nix said.
    assert.deepEqual(planCancelRestore(before, before, stderr), { action: 'none' });
    assert.deepEqual(planCancelRestore(undefined, undefined, ''), { action: 'none' });
  }
});

test('planCancelRestore: a lock that changed for another reason is kept (Nix announced nothing, other inputs, other revisions, removed)', () => {
  for (const v of ['2.8', '2.34']) {
    const before = captured(`nix-${v}-create.flake.lock.json`);
    const after = captured(`nix-${v}-update-one.flake.lock.json`);
    const stderr = captured(`nix-${v}-update-one.stderr.txt`);
    const keep = { action: 'keep', why: 'changed-elsewhere' };
    // Nix never got to announce a write (cancelled while fetching): a changed lock is someone else's (an edit, git pull).
    assert.deepEqual(planCancelRestore(before, after, ''), keep, v);
    assert.deepEqual(planCancelRestore(before, `${before} `, captured(`nix-${v}-network.stderr.txt`)), keep);
    // Nix's change plus another input changed by someone else.
    const lock = JSON.parse(after) as { nodes: Record<string, { locked?: { narHash?: string; lastModified?: number } }> };
    const both = structuredClone(lock);
    both.nodes.two.locked!.narHash = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    assert.deepEqual(planCancelRestore(before, JSON.stringify(both, null, 2), stderr), keep, v);
    // Another input changed, and not the one Nix announced.
    const other = JSON.parse(before) as typeof lock;
    other.nodes.two.locked!.lastModified = 1;
    assert.deepEqual(planCancelRestore(before, JSON.stringify(other, null, 2), stderr), keep);
    // The file went away: Nix never removes it.
    assert.deepEqual(planCancelRestore(before, undefined, stderr), { action: 'keep', why: 'removed-elsewhere' });
    // Someone created a lock while an update that found none ran, Nix announcing an update rather than a creation.
    assert.deepEqual(planCancelRestore(undefined, after, stderr), keep);
  }
});

test('planCancelRestore: revisions must be the ones Nix announced', () => {
  const stderr = fixture('nix-2.8-update-commit.stderr.txt');
  const before = fixture('nix-2.8-flake.lock.before-update.json');
  const after = fixture('nix-2.8-flake.lock.after-update.json');
  assert.deepEqual(planCancelRestore(before, after, stderr), { action: 'restore', text: before });
  const rev = '25ae52384ad1066e67015853c35cc86815772f8e';
  assert.ok(after.includes(rev));
  const otherRev = after.replaceAll(rev, 'f'.repeat(40));
  assert.deepEqual(planCancelRestore(before, otherRev, stderr), { action: 'keep', why: 'changed-elsewhere' });
});

test('planCancelRestore: a lock the cancelled run created is removed (2.8 lists no inputs, 2.34 lists them)', () => {
  for (const v of ['2.8', '2.34']) {
    const created = captured(`nix-${v}-create.flake.lock.json`);
    const stderr = captured(`nix-${v}-create.stderr.txt`);
    assert.deepEqual(planCancelRestore(undefined, created, stderr), { action: 'remove' }, v);
    assert.deepEqual(planCancelRestore(undefined, created.slice(0, 40), stderr), { action: 'remove' }, v);
    // "creating" announced, but the lock was there already: not the file Nix created.
    assert.deepEqual(planCancelRestore(created, `${created}\n`, stderr), { action: 'keep', why: 'changed-elsewhere' });
  }
  // 2.34 announced two inputs; a lock with a third is not (only) Nix's.
  const lock = JSON.parse(captured('nix-2.34-create.flake.lock.json')) as {
    nodes: Record<string, unknown> & { root: { inputs: Record<string, string> } };
  };
  lock.nodes.three = lock.nodes.two;
  lock.nodes.root.inputs.three = 'three';
  assert.deepEqual(planCancelRestore(undefined, JSON.stringify(lock), captured('nix-2.34-create.stderr.txt')), {
    action: 'keep',
    why: 'changed-elsewhere',
  });
});

test('explainUpdateFailure: a hook that refuses before git reads the commit message (2.26: "writing to file: Broken pipe") is a commit failure', () => {
  const stderr = [
    'warning: updating lock file \'"/tmp/multi/flake.lock"\':',
    "• Updated input 'lib-src':",
    "    'path:/tmp/lib-src?lastModified=1&narHash=sha256-a' (2026-12-01)",
    "  → 'path:/tmp/lib-src?lastModified=1&narHash=sha256-b' (2026-12-01)",
    'refused by a hook',
    'error:',
    "       … while updating the lock file of flake 'git+file:///tmp/multi?ref=refs/heads/main&rev=5102838b0cdb1726037927aa478400d47ce14ca2'",
    '',
    '       error: writing to file: Broken pipe',
  ].join('\n');
  const f = explainUpdateFailure(stderr, { commitLockFile: true });
  assert.equal(f.kind, 'commit-refused');
  assert.match(f.message, /could not be committed .*git ended before it read the commit message.*: refused by a hook/);
  assert.notEqual(explainUpdateFailure(stderr, {}).kind, 'commit-refused', 'only when the update committed');
});
