import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holding, isInside } from '../../src/core/flake/holding';

test('isInside compares whole path segments', () => {
  assert.equal(isInside('/w/a', '/w/a/flake.nix'), true);
  assert.equal(isInside('/w/a', '/w/a'), true);
  assert.equal(isInside('/w/a/', '/w/a/x.nix'), true);
  assert.equal(isInside('/w/a', '/w/ab/flake.nix'), false);
  assert.equal(isInside('/w/a', '/w/flake.nix'), false);
  assert.equal(isInside('/', '/anything'), true);
  assert.equal(isInside('/w/my flake #1 ?x=%41', '/w/my flake #1 ?x=%41/hosts/web.nix'), true);
});

test('holding lists the folders that contain a file, innermost first', () => {
  const dirs = ['/w', '/w/infra', '/w/infra/sub', '/w/other', '/w/infra-2'];
  assert.deepEqual(
    holding(dirs, (d) => d, '/w/infra/sub/modules/x.nix'),
    ['/w/infra/sub', '/w/infra', '/w'],
  );
  assert.deepEqual(
    holding(dirs, (d) => d, '/w/infra-2/flake.nix'),
    ['/w/infra-2', '/w'],
  );
  assert.deepEqual(
    holding(dirs.slice(1), (d) => d, '/elsewhere/x.nix'),
    [],
  );
});
