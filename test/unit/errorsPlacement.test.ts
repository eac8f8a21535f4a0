import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import { placeError } from '../../src/core/errors/placement';
import { createStoreMapper, sourcesFromFlake, type KnownSource } from '../../src/core/errors/storePath';
import { parseStorePath } from '../../src/core/nix/store';

const read = (name: string) => readFileSync(resolve('test/fixtures/captured/errors', name), 'utf8');
const json = (name: string): unknown => JSON.parse(read(name));
const firstError = (name: string) => {
  const errs = parseNixErrors(read(name));
  assert.ok(errs.length > 0, name);
  return errs[0];
};

const SRC = '/nix/store/0rvjfxp1xpxdx5lxz9jm9i78hx17fxl4-source';
const MOD = '/nix/store/lz2f0izpj3vac4yhwcdk8201v7s9m5n6-source';
const LIB = '/nix/store/vnx815ca5dwmxqk1v6n8bfb67zh906y9-source';

/** The NixOS module example: the flake checked out at /ws/demo, nixpkgs lib as an input outside the workspace. */
const moduleSources: KnownSource[] = [
  { storePath: MOD, localPath: '/ws/demo', label: 'flake' },
  { storePath: LIB, label: 'input nixpkgs-lib' },
];
const moduleMap = createStoreMapper({ sources: moduleSources, workspaceRoots: ['/ws/demo'] });

test('parseStorePath', () => {
  assert.deepEqual(parseStorePath(`${SRC}/errors/a.nix`), {
    storeDir: '/nix/store',
    hash: '0rvjfxp1xpxdx5lxz9jm9i78hx17fxl4',
    name: 'source',
    root: SRC,
    rel: 'errors/a.nix',
  });
  assert.equal(parseStorePath(SRC)?.rel, '');
  assert.equal(parseStorePath('/nix/store/short-source/a.nix'), undefined);
  assert.equal(parseStorePath('/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-source/a.nix'), undefined, 'e is not base-32');
  assert.equal(parseStorePath('/home/u/a.nix'), undefined);
  assert.equal(parseStorePath('/opt/store/0rvjfxp1xpxdx5lxz9jm9i78hx17fxl4-source/x', '/opt/store/')?.rel, 'x');
});

test('root flake: metadata .path maps to the git root', () => {
  const metadata = json('nix-2.8-metadata.json') as { locked: object };
  const sources = sourcesFromFlake({ gitRoot: '/ws/f', metadata });
  assert.deepEqual(sources, [{ storePath: SRC, localPath: '/ws/f', label: 'flake', locked: metadata.locked }]);
  const map = createStoreMapper({ sources, workspaceRoots: ['/ws/f'] });
  assert.deepEqual(map(`${SRC}/errors/missing-attr.nix`), {
    kind: 'workspace',
    path: '/ws/f/errors/missing-attr.nix',
    match: 'hash',
    label: 'flake',
  });
  const e = firstError('nix-2.8-eval-missingAttr.jsonl');
  assert.deepEqual(placeError(e, map).target, { path: '/ws/f/errors/missing-attr.nix', line: 5, column: 22, from: 'error' });
});

test('subflake (?dir=sub): the store path is the repository root, so sub/flake.nix maps under the git root', () => {
  const meta = json('nix-2.8-metadata-subflake.json') as { path: string; locked: { dir: string } };
  assert.equal(meta.locked.dir, 'sub');
  const map = createStoreMapper({ sources: sourcesFromFlake({ gitRoot: '/ws/f', metadata: meta }), workspaceRoots: ['/ws/f'] });
  const e = firstError('nix-2.8-eval-subflake.jsonl');
  assert.deepEqual(placeError(e, map).target, { path: '/ws/f/sub/flake.nix', line: 4, column: 23, from: 'error' });
  // The same from the text form.
  assert.deepEqual(placeError(firstError('nix-2.8-eval-subflake.stderr.txt'), map).target?.path, '/ws/f/sub/flake.nix');
});

test('a path input inside the workspace maps to its directory; outside it is only labelled', () => {
  const args = {
    gitRoot: '/tmp/h-log/g',
    metadata: json('nix-2.8-metadata-path-input.json'),
    archive: json('nix-2.8-archive-path-input.json'),
  };
  const sources = sourcesFromFlake(args);
  assert.deepEqual(
    sources.map(({ locked, ...s }) => [s, locked?.type]),
    [
      [{ storePath: '/nix/store/lqsaklhhkxmavxp7jd8f5lpc7153qjsy-source', localPath: '/tmp/h-log/g', label: 'flake' }, 'git'],
      [{ storePath: '/nix/store/v584rkc6rnc4v6ndbjk2vm3f5v37km6k-source', localPath: '/tmp/h-log/g/lib', label: 'input local' }, 'path'],
    ],
  );
  const e = firstError('nix-2.8-eval-path-input-trace.jsonl');
  const inside = placeError(e, createStoreMapper({ sources, workspaceRoots: ['/tmp/h-log/g'] }));
  assert.deepEqual(inside.target, { path: '/tmp/h-log/g/lib/bad.nix', line: 2, column: 15, from: 'error' });
  assert.deepEqual(
    inside.related.map((r) => [r.line, r.column]),
    [[2, 3]],
  );
  const outside = placeError(e, createStoreMapper({ sources, workspaceRoots: ['/elsewhere'] }));
  assert.equal(outside.target, undefined);
  assert.equal(outside.inputLabel, 'input local');
});

test('inputs known only by store path (flake archive) are labelled "input X", nested ones by their chain', () => {
  const archive = {
    path: '/nix/store/pfc1f0rk46lc17a4dywvmhzpmr6wfsz2-source',
    inputs: {
      nixpkgs: { path: '/nix/store/b2zndz7w6bjr5b0scmhm641c06falhvh-source', inputs: {} },
      hm: {
        path: '/nix/store/j9a1rl10h69yzrx3zr5r9diak86sd0lw-source',
        inputs: { nixpkgs: { path: '/nix/store/0hig558yayzwkq431h2jr19gfivag1p8-source', inputs: {} } },
      },
    },
  };
  const sources = sourcesFromFlake({ gitRoot: '/ws/p', archive });
  assert.deepEqual(
    sources.map((s) => [s.label, s.localPath]),
    [
      ['flake', '/ws/p'],
      ['input nixpkgs', undefined],
      ['input hm', undefined],
      ['input hm/nixpkgs', undefined],
    ],
  );
  const map = createStoreMapper({ sources, workspaceRoots: ['/ws/p'], exists: () => true });
  assert.deepEqual(map('/nix/store/b2zndz7w6bjr5b0scmhm641c06falhvh-source/lib/default.nix'), {
    kind: 'input',
    label: 'input nixpkgs',
    storePath: '/nix/store/b2zndz7w6bjr5b0scmhm641c06falhvh-source',
    rel: 'lib/default.nix',
  });
});

test('fallback: an unknown -source hash maps to <root>/<rel> when that file exists; exact hashes win', () => {
  const existing = new Set(['/ws/demo/hosts/recursion.nix', '/ws/other/flake.nix']);
  const map = createStoreMapper({ sources: [], workspaceRoots: ['/ws/other', '/ws/demo'], exists: (p) => existing.has(p) });
  assert.deepEqual(map(`${MOD}/hosts/recursion.nix`), { kind: 'workspace', path: '/ws/demo/hosts/recursion.nix', match: 'fallback' });
  assert.deepEqual(map(`${LIB}/lib/modules.nix`), { kind: 'external', path: `${LIB}/lib/modules.nix` });
  // Not a source tree (a build output): no fallback.
  assert.equal(map('/nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-hlog-big/flake.nix').kind, 'external');
  // A known input with the same relative path as a workspace file stays an input.
  const withInput = createStoreMapper({
    sources: [{ storePath: LIB, label: 'input nixpkgs' }],
    workspaceRoots: ['/ws/other'],
    exists: () => true,
  });
  assert.equal(withInput(`${LIB}/flake.nix`).kind, 'input');
  // Without `exists`, no fallback at all.
  assert.equal(createStoreMapper({ sources: [], workspaceRoots: ['/ws/demo'] })(`${MOD}/hosts/recursion.nix`).kind, 'external');
});

test('local paths, non-file origins and hostile paths', () => {
  assert.deepEqual(moduleMap('/ws/demo/hosts/a.nix'), { kind: 'workspace', path: '/ws/demo/hosts/a.nix', match: 'local' });
  assert.deepEqual(moduleMap('/ws/demo/../etc/passwd'), { kind: 'external', path: '/ws/demo/../etc/passwd' });
  assert.deepEqual(moduleMap('/home/u/x.nix'), { kind: 'external', path: '/home/u/x.nix' });
  assert.deepEqual(moduleMap('«string»'), { kind: 'none' });
  assert.deepEqual(moduleMap(''), { kind: 'none' });
  assert.deepEqual(moduleMap(`${MOD}/../../etc/passwd`), { kind: 'external', path: `${MOD}/../../etc/passwd` });
  assert.deepEqual(moduleMap(`${MOD}/a/../b.nix`), { kind: 'workspace', path: '/ws/demo/b.nix', match: 'hash', label: 'flake' });
  assert.doesNotThrow(() => sourcesFromFlake({ gitRoot: '/x', metadata: { path: 5, locks: { nodes: 'no' } }, archive: [1, 2] }));
  assert.deepEqual(sourcesFromFlake({ gitRoot: '/x', metadata: null }), []);
});

test('nearest workspace frame: recursion inside nixpkgs lib → the `imports = lib.optional config…` line', () => {
  for (const name of ['nix-2.8-module-recursion-trace.jsonl', 'nix-2.8-module-recursion-trace.stderr.txt']) {
    const e = firstError(name);
    assert.equal(e.kind, 'infinite-recursion');
    const p = placeError(e, moduleMap);
    assert.deepEqual(p.target, { path: '/ws/demo/hosts/recursion.nix', line: 3, column: 13, from: 'trace', frame: 6 });
    assert.equal(p.inputLabel, 'input nixpkgs-lib');
    assert.deepEqual(
      p.related.map((r) => [r.frame, r.line, r.column, r.message]),
      [
        [6, 3, 13, 'from call site'],
        [7, 3, 3, "while evaluating the attribute 'imports'"],
      ],
    );
  }
  // Without --show-trace there is no frame to fall back on.
  const bare = placeError(firstError('nix-2.8-module-recursion.jsonl'), moduleMap);
  assert.equal(bare.target, undefined);
  assert.equal(bare.inputLabel, 'input nixpkgs-lib');
});

test('own position wins over trace frames when it is in the workspace', () => {
  const p = placeError(firstError('nix-2.8-module-missingAttr.jsonl'), moduleMap);
  assert.deepEqual(p.target, { path: '/ws/demo/hosts/missing-attr.nix', line: 3, column: 25, from: 'error' });
  assert.deepEqual(p.sites, []);
});

test('module-option errors that name only files give sites with the option path', () => {
  const unknown = placeError(firstError('nix-2.8-module-unknownOption.jsonl'), moduleMap);
  assert.equal(unknown.target, undefined);
  assert.deepEqual(unknown.sites, [{ path: '/ws/demo/hosts/unknown-option.nix', optionPath: 'services.openssh.enabel', value: 'true' }]);
  const conflict = placeError(firstError('nix-2.8-module-conflict.stderr.txt'), moduleMap);
  assert.deepEqual(conflict.sites, [
    { path: '/ws/demo/hosts/conflict.nix', optionPath: 'networking.hostName', value: '"c1"' },
    { path: '/ws/demo/hosts/conflict.nix', optionPath: 'networking.hostName', value: '"c2"' },
  ]);
  const wrong = placeError(firstError('nix-2.8-module-wrongType-trace.jsonl'), moduleMap);
  assert.deepEqual(wrong.sites, [{ path: '/ws/demo/hosts/wrong-type.nix', optionPath: 'users.users.alice.uid', value: '"1000"' }]);
  assert.equal(wrong.target, undefined, 'every trace frame is in nixpkgs lib');
  assert.deepEqual(placeError(firstError('nix-2.8-module-undefinedOption.jsonl'), moduleMap).sites, []);
  // A definition in an input is not a site.
  const base = firstError('nix-2.8-module-unknownOption.jsonl');
  assert.equal(base.kind, 'option-does-not-exist');
  if (base.kind !== 'option-does-not-exist') return;
  const inLib = placeError({ ...base, definitions: [{ file: `${LIB}/nixos/x.nix`, value: '1' }] }, moduleMap);
  assert.deepEqual(inLib.sites, []);
});

test('untracked files: the workspace path Nix could not see, for every wording', () => {
  const map = createStoreMapper({
    sources: sourcesFromFlake({ gitRoot: '/tmp/h-log/f', metadata: json('nix-2.8-metadata.json') }),
    workspaceRoots: ['/tmp/h-log/f'],
  });
  for (const name of [
    'nix-2.8-eval-untracked.jsonl',
    'nix-2.8-eval-untracked-trace.stderr.txt',
    'src-2.20-untracked.stderr.txt',
    'src-2.28-untracked.stderr.txt',
  ]) {
    const p = placeError(firstError(name), map);
    assert.equal(p.untrackedPath, '/tmp/h-log/f/errors/newfile.nix', name);
  }
  // The trace points at the `import ./errors/newfile.nix` line of flake.nix.
  assert.deepEqual(placeError(firstError('nix-2.8-eval-untracked-trace.jsonl'), map).target, {
    path: '/tmp/h-log/f/flake.nix',
    line: 65,
    column: 21,
    from: 'trace',
    frame: 0,
  });
});

test('positions in --expr code are never placed', () => {
  const p = placeError(firstError('nix-2.8-eval-expr-string.jsonl'), moduleMap);
  assert.deepEqual(p, { sites: [], related: [] });
});
