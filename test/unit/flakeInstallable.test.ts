import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  flakeRefForFolder,
  formatAttrPath,
  installable,
  nixosToplevelAttrPath,
  nixosToplevelInstallable,
  parseAttrPath,
  parseInstallable,
  quoteAttrName,
  shortInstallable,
  withDir,
  type InstallableResult,
} from '../../src/core/flake/installable';

const fixture = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/flake', name), 'utf8');

function ok<T>(r: InstallableResult<T>): T {
  if (!r.ok) assert.fail(r.error.message);
  return r.value;
}

function errKind<T>(r: InstallableResult<T>): string {
  assert.equal(r.ok, false);
  return r.ok ? '' : r.error.kind;
}

test('attribute names are quoted when they are not identifiers', () => {
  assert.equal(quoteAttrName('hello'), 'hello');
  assert.equal(quoteAttrName('x86_64-linux'), 'x86_64-linux');
  assert.equal(quoteAttrName("foo'"), "foo'");
  assert.equal(quoteAttrName('my.host'), '"my.host"');
  assert.equal(quoteAttrName('me@laptop'), '"me@laptop"');
  assert.equal(quoteAttrName('a b'), '"a b"');
  assert.equal(quoteAttrName('1password'), '"1password"');
  assert.equal(quoteAttrName(''), undefined);
  assert.equal(quoteAttrName('a"b'), undefined);
  assert.equal(ok(formatAttrPath(['nixosConfigurations', 'my.host', 'config'])), 'nixosConfigurations."my.host".config');
  assert.equal(errKind(formatAttrPath(['a', 'say "hi"'])), 'unquotable-name');
  assert.equal(errKind(formatAttrPath(['a', ''])), 'empty-name');
});

test('installables resolve to exactly the attribute path (verified with real Nix 2.8)', () => {
  const rows = fixture('nix-2.8-installables.tsv')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t'));
  assert.ok(rows.length >= 10);
  for (const [nameJson, inst, printed] of rows) {
    const name = JSON.parse(nameJson) as string;
    const hash = inst.indexOf('#');
    const ref = inst.slice(0, hash);
    const built = ok(installable(ref, ['t', name]));
    if (printed.startsWith('error:')) {
      assert.notEqual(built, inst, `${inst} does not work in Nix, so it must not be produced`);
    } else {
      assert.equal(built, inst, name);
      assert.deepEqual(ok(parseInstallable(inst)).attrPath, ['t', name]);
    }
  }
});

test('installable forms', () => {
  assert.equal(ok(installable('.', ['packages', 'x86_64-linux', 'hello'])), '.#packages.x86_64-linux.hello');
  assert.equal(ok(installable('/src/f', [])), '/src/f');
  assert.equal(errKind(installable('', ['a'])), 'missing-flake-ref');
  assert.equal(errKind(installable('.', ['a"b'])), 'unquotable-name');
  assert.equal(
    ok(installable('/src/f', nixosToplevelAttrPath('my.host'))),
    '/src/f#nixosConfigurations."my.host".config.system.build.toplevel',
  );
  assert.equal(
    ok(nixosToplevelInstallable('git+file:///src/f', 'plain')),
    'git+file:///src/f#nixosConfigurations."plain".config.system.build.toplevel',
  );
  assert.equal(ok(nixosToplevelInstallable('.', 'my host')), '.#nixosConfigurations."my%20host".config.system.build.toplevel');
  assert.equal(errKind(nixosToplevelInstallable('.', '')), 'empty-name');
  assert.equal(errKind(nixosToplevelInstallable('.', 'a"b')), 'unquotable-name');
});

test('installables round-trip through parseInstallable', () => {
  const names = ['hello', 'my.host', 'a b', 'x#y', 'p%q', 'c^d', 'ü', 'back\\slash', 'me@laptop', '日本', 'a?b&c=d', 'tab\there', '{x}'];
  for (const name of names) {
    const text = ok(installable('github:o/r', ['legacyPackages', 'x86_64-linux', name]));
    const parsed = ok(parseInstallable(text));
    assert.equal(parsed.flakeRef, 'github:o/r');
    assert.deepEqual(parsed.attrPath, ['legacyPackages', 'x86_64-linux', name], text);
    assert.equal(parsed.outputs, undefined);
  }
});

test('parseInstallable reads what users type, like Nix does', () => {
  assert.deepEqual(ok(parseInstallable('.#hello')), { flakeRef: '.', attrPath: ['hello'], fragment: 'hello' });
  assert.deepEqual(ok(parseInstallable('  nixpkgs  ')), { flakeRef: 'nixpkgs', attrPath: [], fragment: '' });
  const withOutputs = ok(parseInstallable('github:NixOS/nixpkgs/nixos-24.05#legacyPackages.x86_64-linux.hello^out,dev'));
  assert.equal(withOutputs.flakeRef, 'github:NixOS/nixpkgs/nixos-24.05');
  assert.deepEqual(withOutputs.attrPath, ['legacyPackages', 'x86_64-linux', 'hello']);
  assert.deepEqual(withOutputs.outputs, ['out', 'dev']);
  assert.equal(ok(parseInstallable('.#hello^*')).outputs, 'all');
  assert.deepEqual(ok(parseInstallable('.#nixosConfigurations."my.host".config')).attrPath, ['nixosConfigurations', 'my.host', 'config']);
  // Quotes may cover part of a name; there are no escapes.
  assert.deepEqual(ok(parseInstallable('.#a."b.c"d')).attrPath, ['a', 'b.cd']);
  assert.deepEqual(ok(parseInstallable('.#a."x\\"')).attrPath, ['a', 'x\\']);
  // The flake reference ends at the first '#'.
  assert.deepEqual(ok(parseInstallable('a#b#c')), { flakeRef: 'a', attrPath: ['b#c'], fragment: 'b#c' });
  // A trailing dot is dropped, as in Nix.
  assert.deepEqual(ok(parseInstallable('.#a.')).attrPath, ['a']);
  assert.equal(errKind(parseInstallable('#hello')), 'missing-flake-ref');
  assert.equal(errKind(parseInstallable('')), 'missing-flake-ref');
  assert.equal(errKind(parseInstallable('.#"unterminated')), 'missing-quote');
  assert.equal(errKind(parseInstallable('.#a..b')), 'empty-name');
  assert.equal(errKind(parseInstallable('.#a.%ZZ')), 'bad-percent-encoding');
  assert.equal(errKind(parseInstallable('.#x^')), 'bad-outputs');
  assert.equal(errKind(parseInstallable('.#"c^d"')), 'bad-outputs');
  assert.deepEqual(ok(parseAttrPath('')), []);
});

test('short forms for display', () => {
  const opts = { system: 'x86_64-linux' };
  assert.equal(shortInstallable('.', ['packages', 'x86_64-linux', 'hello'], opts), '.#hello');
  assert.equal(shortInstallable('.', ['packages', 'aarch64-linux', 'hello'], opts), '.#packages.aarch64-linux.hello');
  assert.equal(shortInstallable('.', ['devShells', 'x86_64-linux', 'default'], { ...opts, command: 'develop' }), '.#default');
  assert.equal(shortInstallable('.', ['devShells', 'x86_64-linux', 'default'], opts), '.#devShells.x86_64-linux.default');
  assert.equal(shortInstallable('.', ['apps', 'x86_64-linux', 'fmt'], { ...opts, command: 'run' }), '.#fmt');
  assert.equal(shortInstallable('.', ['nixosConfigurations', 'my.host'], opts), '.#nixosConfigurations."my.host"');
  assert.equal(shortInstallable('.', ['packages', 'x86_64-linux', 'a b'], opts), '.#"a b"');
  assert.equal(shortInstallable('.', ['packages', 'x86_64-linux', 'say "hi"'], opts), '.#say "hi"');
  assert.equal(shortInstallable('.', []), '.');
});

test('flake references for folders', () => {
  assert.equal(ok(flakeRefForFolder('/home/u/proj')), '/home/u/proj');
  assert.equal(ok(flakeRefForFolder('/home/u/proj/')), '/home/u/proj');
  assert.equal(ok(flakeRefForFolder('/')), '/');
  assert.equal(errKind(flakeRefForFolder('proj')), 'not-absolute');
  assert.equal(ok(flakeRefForFolder('/home/u/proj', { scheme: 'path' })), 'path:/home/u/proj');
  assert.equal(ok(flakeRefForFolder('/home/u/my proj', { scheme: 'path' })), 'path:/home/u/my%20proj');
  assert.equal(ok(flakeRefForFolder('/repo', { scheme: 'git', gitRoot: '/repo' })), 'git+file:///repo');
  assert.equal(ok(flakeRefForFolder('/repo/sub/dir', { scheme: 'git', gitRoot: '/repo/' })), 'git+file:///repo?dir=sub/dir');
  assert.equal(errKind(flakeRefForFolder('/other', { scheme: 'git', gitRoot: '/repo' })), 'outside-git-root');
  assert.equal(errKind(flakeRefForFolder('/repo2/x', { scheme: 'git', gitRoot: '/repo' })), 'outside-git-root');
  assert.equal(errKind(flakeRefForFolder('/repo', { scheme: 'git' })), 'outside-git-root');
  // A plain path with '?' or '#' would be misread by Nix: fall back to an encoded URL.
  assert.equal(ok(flakeRefForFolder('/x/a#b')), 'path:/x/a%23b');
  assert.equal(ok(flakeRefForFolder('/x/a#b/sub', { gitRoot: '/x/a#b' })), 'git+file:///x/a%23b?dir=sub');
  assert.equal(withDir('git+file:///repo', 'sub'), 'git+file:///repo?dir=sub');
  assert.equal(withDir('git+file:///repo?ref=main', '/sub/'), 'git+file:///repo?ref=main&dir=sub');
  assert.equal(withDir('/repo', ''), '/repo');
});

test('folderFlakeRef: a plain path when every Nix reads it as that path, else an encoded git+file or path reference', async () => {
  const { folderFlakeRef } = await import('../../src/core/flake/installable');
  assert.deepEqual(folderFlakeRef('/src/infra', '/src/infra'), { ok: true, value: '/src/infra' });
  const odd = folderFlakeRef('/src/my flake #1 ?x=%41', '/src/my flake #1 ?x=%41');
  assert.ok(odd.ok && odd.needsEncoding);
  assert.equal(odd.ok && odd.value, 'git+file:///src/my%20flake%20%231%20%3Fx=%2541');
  const sub = folderFlakeRef('/src/repo/hosts #2', '/src/repo');
  assert.equal(sub.ok && sub.value, 'git+file:///src/repo?dir=hosts%20%232');
  const plain = folderFlakeRef('/data/with space', undefined);
  assert.equal(plain.ok && plain.value, 'path:/data/with%20space');
  assert.equal(folderFlakeRef('relative', undefined).ok, false);
});
