import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nixosRebuildArgs } from '../../src/core/nix/rebuild';

test("nixos-rebuild never writes the lock file unless asked, and carries --offline and the user's --option", () => {
  assert.deepEqual(nixosRebuildArgs('dry-build', '/src/infra', 'web'), {
    ok: true,
    value: ['dry-build', '--flake', '/src/infra#web', '--no-write-lock-file', '--show-trace'],
  });
  const r = nixosRebuildArgs('dry-build', '/src/infra', 'web', {
    offline: true,
    extraArgs: ['--option', 'max-jobs', '4', '-L', '--accept-flake-config', '--option', 'accept-flake-config', 'true'],
  });
  assert.deepEqual(r.ok && r.value, [
    'dry-build',
    '--flake',
    '/src/infra#web',
    '--no-write-lock-file',
    '--offline',
    '--option',
    'max-jobs',
    '4',
    '--show-trace',
  ]);
  const w = nixosRebuildArgs('switch', '/src/infra', 'web', { writeLockFile: true });
  assert.ok(w.ok && !w.value.includes('--no-write-lock-file'));
});

test('a host name that cannot be an attribute name, or would be read as part of the reference, is refused', () => {
  for (const host of ['', 'a"b', 'a#b', 'a?b', 'a\nb']) {
    const r = nixosRebuildArgs('dry-build', '/src/infra', host);
    assert.equal(r.ok, false, JSON.stringify(host));
  }
  assert.ok(nixosRebuildArgs('dry-build', '/src/infra', 'my.host').ok);
  assert.ok(
    nixosRebuildArgs('dry-build', '/src/infra', '<img src=x onerror=alert(1)>').ok,
    'any name Nix can hold is passed as one argument',
  );
});
