// Offline media with the real nix: a host's closure and its flake's inputs exported to a file:// cache in a folder
// (whose path holds a space), imported into separate chroot stores (`local?root=…`), evaluated there with the input's
// repository gone and no substituter, a tampered file and unsigned media refused, readiness of a partly imported
// closure, a cancelled export, image files; and the pure parts (progress records, the manifest, keys).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, run } from '../../src/core/nix/process';
import { EXPERIMENTAL } from '../../src/core/nix/args';
import { isPublicKey, isUnsignedRefusal, publicKeyOf, signArgs } from '../../src/core/nix/sign';
import {
  AirgapError,
  archiveArgs,
  checkReadiness,
  CopyProgressReader,
  exportCopyArgs,
  exportMedium,
  importArgs,
  importMedium,
  isPlainPath,
  MANIFEST,
  mediumUri,
  nixPathFor,
  parseManifest,
  readinessArgs,
  readMedium,
  readReadiness,
  type ExportProgress,
  type Manifest,
  type NixRunner,
} from '../../src/core/airgap';
import { copyFixture, makeRepo, nixTestEnv, scratchDir, testNix } from '../support/nix';
import { makeSigningKey } from '../support/testHost';

const env = nixTestEnv();
const runner: NixRunner = { nix: testNix(), exec: (f, a, o) => run(f, a, o), env };
const nix = (...args: string[]) =>
  execFileSync(testNix(), [...EXPERIMENTAL, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const chroot = (name: string) => mkdtempSync(join(scratchDir(), `${name}-`));
const storeOf = (root: string) => `local?root=${root}`;
const validIn = (root: string, p: string) =>
  existsSync(join(root, p)) &&
  (() => {
    try {
      nix('path-info', '--store', storeOf(root), p);
      return true;
    } catch {
      return false;
    }
  })();

test('arguments: export copy, archive, sign in the medium, import with extra keys, readiness with only the media', () => {
  assert.deepEqual(exportCopyArgs('file:///m?compression=zstd', ['/nix/store/a-x']), [
    '--to',
    'file:///m?compression=zstd',
    '--log-format',
    'internal-json',
    '-v',
    '/nix/store/a-x',
  ]);
  assert.deepEqual(archiveArgs('file:///m', '/f'), ['--json', '--to', 'file:///m', '--log-format', 'internal-json', '-v', '/f']);
  assert.deepEqual(signArgs(['/nix/store/a-x'], '/k.sec', { store: 'file:///m' }), [
    '--store',
    'file:///m',
    '-r',
    '--key-file',
    '/k.sec',
    '/nix/store/a-x',
  ]);
  assert.deepEqual(signArgs(['/nix/store/a-x'], '/k.sec'), ['-r', '--key-file', '/k.sec', '/nix/store/a-x']);
  assert.deepEqual(importArgs('file:///m', ['/nix/store/a-x'], { trustedKeys: ['k-1:AAAA', 'bad key'], store: 'local?root=/r' }), [
    '--from',
    'file:///m',
    '--store',
    'local?root=/r',
    '--option',
    'extra-trusted-public-keys',
    'k-1:AAAA',
    '--log-format',
    'internal-json',
    '-v',
    '/nix/store/a-x',
  ]);
  assert.deepEqual(readinessArgs(['.#a'], { media: ['/m1', '/m2'] }), [
    '--dry-run',
    '--offline',
    '--option',
    'substitute',
    'true',
    '--option',
    'substituters',
    'file:///m1 file:///m2',
    '.#a',
  ]);
  assert.deepEqual(readinessArgs(['.#a']), [
    '--dry-run',
    '--offline',
    '--option',
    'substitute',
    'false',
    '--option',
    'substituters',
    '',
    '.#a',
  ]);
  assert.equal(mediumUri('/m', { compression: 'xz' }), 'file:///m?compression=xz');
  assert.ok(isPlainPath('/media/usb/export-1'));
  for (const bad of ['/media/USB DISK', '/m?x', '/m#x', '/m%20', 'relative', '/a//b']) assert.ok(!isPlainPath(bad), bad);
  assert.throws(() => mediumUri('/media/USB DISK'));
});

test('a public key from a secret key file is what nix key convert-secret-to-public prints; other text is none', () => {
  const key = makeSigningKey('airgap-test-1');
  assert.equal(publicKeyOf(readFileSync(key.secretFile, 'utf8')), key.publicKey);
  assert.ok(isPublicKey(key.publicKey));
  assert.equal(publicKeyOf(key.publicKey), undefined);
  assert.equal(publicKeyOf('not a key'), undefined);
  assert.ok(isUnsignedRefusal("error: cannot add path '/nix/store/x' because it lacks a signature by a trusted key"));
  assert.ok(isUnsignedRefusal("error: cannot add path '/nix/store/x' because it lacks a valid signature"));
});

// Captured from `nix copy --to file://… --log-format internal-json -v` (2.34 shape, ids shortened).
const COPY_234 = [
  '@nix {"action":"start","id":1,"level":3,"parent":0,"text":"copying 2 paths","type":103}',
  '@nix {"action":"result","fields":[100,3000],"id":1,"type":106}',
  '@nix {"action":"start","fields":["/nix/store/03m15lzhxb4jc8fdccryryf3vy17mj23-coreutils-9.5","local","file:///m"],"id":2,"level":3,"parent":0,"text":"copying path","type":100}',
  '@nix {"action":"result","fields":[500,1000,0,0],"id":2,"type":105}',
  '@nix {"action":"stop","id":2}',
  '@nix {"action":"msg","level":4,"msg":"copying path \'/nix/store/03m15lzhxb4jc8fdccryryf3vy17mj23-coreutils-9.5\' (1000 bytes, compressed 60.0% in 1 ms) to binary cache"}',
  '@nix {"action":"result","fields":[1,2,1,0],"id":1,"type":105}',
  '@nix {"action":"start","fields":["/nix/store/xh49rgiccrrsa1i5yp3s76gwj8mj9zzv-nixos-system-good","local","file:///m"],"id":3,"level":3,"parent":0,"text":"copying path","type":100}',
  '@nix {"action":"result","fields":[1200,2000,0,0],"id":3,"type":105}',
];

test('copy progress: paths and bytes from the records of 2.34, and from path sizes where 2.8 gives none', () => {
  const r = new CopyProgressReader();
  for (const l of COPY_234) r.feed(l);
  assert.deepEqual(r.progress, {
    pathsDone: 1,
    pathsTotal: 2,
    bytesDone: 1000 + 1200,
    bytesTotal: 3000,
    bytesWritten: 400,
    current: '/nix/store/xh49rgiccrrsa1i5yp3s76gwj8mj9zzv-nixos-system-good',
  });
  r.feed('@nix {"action":"stop","id":3}');
  assert.equal(r.progress.pathsDone, 2);
  assert.deepEqual(r.copied, [
    '/nix/store/03m15lzhxb4jc8fdccryryf3vy17mj23-coreutils-9.5',
    '/nix/store/xh49rgiccrrsa1i5yp3s76gwj8mj9zzv-nixos-system-good',
  ]);
  // 2.8: no expected bytes, no per-path progress: the sizes from path-info count.
  const sizes = new Map([
    ['/nix/store/a-x', 100],
    ['/nix/store/b-y', 300],
  ]);
  const old = new CopyProgressReader(sizes);
  old.feed('@nix {"action":"start","id":9,"level":3,"text":"copying 2 paths","type":103}');
  old.feed('@nix {"action":"start","fields":["/nix/store/b-y","local","file:///m"],"id":10,"level":3,"text":"copying path","type":100}');
  old.feed('@nix {"action":"stop","id":10}');
  assert.deepEqual(old.progress, { pathsDone: 1, pathsTotal: 2, bytesDone: 300, bytesTotal: 400, bytesWritten: 0 });
  // Untrusted lines: nothing thrown, nothing counted.
  for (const l of ['@nix {', '@nix {"action":"stop","id":77}', 'plain text', '@nix {"action":"start","fields":[3],"id":11,"type":100}'])
    old.feed(l);
  assert.equal(old.progress.pathsDone, 1);
});

test('readiness read from a dry run: nothing to fetch, from the media, to build, an input the evaluation lacks', () => {
  assert.deepEqual(readReadiness([], undefined, 0), {
    ready: true,
    fromMedia: [],
    toBuild: [],
    unbuildable: [],
    summary: 'Ready: nothing to fetch; everything is in the store.',
  });
  const fetch = readReadiness(
    ['these 2 paths will be fetched (1.9 KiB download, 6.3 KiB unpacked):', '  /nix/store/a-x', '  /nix/store/b-y'],
    undefined,
    1,
  );
  assert.ok(fetch.ready);
  assert.deepEqual(fetch.fromMedia, ['/nix/store/a-x', '/nix/store/b-y']);
  const build = readReadiness(['this derivation will be built:', '  /nix/store/jax9s7mpb25al9fwvig2c25s169mfp59-z.drv'], undefined, 0);
  assert.ok(!build.ready);
  assert.deepEqual(build.toBuild, ['/nix/store/jax9s7mpb25al9fwvig2c25s169mfp59-z.drv']);
  assert.match(build.summary, /1 derivation would be built \(z\)/);
  const input = readReadiness([], 'error: Git repository "/src/nixpkgs" does not exist.', 0);
  assert.ok(!input.ready);
  assert.match(input.summary, /\/src\/nixpkgs would be fetched from the network/);
});

test('a manifest from a disk is checked: hostile paths, image names and keys are refused', () => {
  const good: Manifest = {
    format: 'nix-flakes-offline',
    version: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    flake: { ref: '/src/f' },
    items: [],
    inputs: ['/nix/store/a-source'],
    paths: ['/nix/store/a-source'],
    closure: { paths: 1, narBytes: 10 },
    compression: 'zstd',
    images: [],
    commands: [],
  };
  assert.ok(parseManifest(JSON.stringify(good)).ok);
  const bad = (patch: object) => parseManifest(JSON.stringify({ ...good, ...patch })).ok;
  assert.ok(!bad({ paths: ['/nix/store/a; rm -rf /'] }));
  assert.ok(!bad({ paths: [] }));
  assert.ok(!bad({ images: [{ file: 'images/../../etc/passwd', size: 1, from: '/nix/store/x' }] }));
  assert.ok(!bad({ publicKey: 'k:notbase64!' }));
  assert.ok(!bad({ version: 2 }));
  assert.ok(!parseManifest('{').ok);
});

describe('media with the real nix', () => {
  const copies = new Map<string, string>();
  let flake: string;
  let stub: string;
  let key: { secretFile: string; publicKey: string };
  let medium: string;
  let manifest: Manifest;
  let toplevel: string;
  let closure: string[];
  const hostItem = () => ({
    display: '.#good',
    kind: 'host' as const,
    installable: `${flake}#nixosConfigurations.good.config.system.build.toplevel`,
  });
  const privateDir = join(scratchDir(), 'airgap-private');

  before(() => {
    flake = copyFixture('hosts', copies);
    stub = copies.get('nixpkgs-stub')!;
    key = makeSigningKey(`airgap-${process.pid}`);
    // A mounted disk's path often holds a space, which a store URL cannot carry.
    medium = join(mkdtempSync(join(scratchDir(), 'usb-')), 'USB DISK', 'export');
  });
  after(() => {
    if (stub && !existsSync(stub) && existsSync(`${stub}.away`)) renameSync(`${stub}.away`, stub);
  });

  test("export: the host's closure and the flake's inputs in a signed cache, progress in paths and bytes, the manifest last", async () => {
    const seen: ExportProgress[] = [];
    const r = await exportMedium(
      runner,
      { flakeRef: flake, items: [hostItem()], medium, keyFile: key.secretFile, privateDir },
      { onProgress: (p) => seen.push(p) },
    );
    manifest = r.manifest;
    toplevel = manifest.items[0]!.paths[0]!;
    assert.match(toplevel, /-nixos-system-good$/);
    closure = nix('path-info', '-r', toplevel).split('\n').sort();
    assert.equal(manifest.closure.paths, closure.length);
    assert.equal(manifest.publicKey, key.publicKey);
    // The flake's own source and nixpkgs-stub's.
    assert.equal(manifest.inputs.length, 2);
    assert.ok(manifest.flake.storePath && manifest.inputs.includes(manifest.flake.storePath));
    assert.ok(manifest.flake.revision && /^[0-9a-f]{40}$/.test(manifest.flake.revision));
    assert.deepEqual(new Set(manifest.paths), new Set([toplevel, ...manifest.inputs]));
    // Every path of the closure and every input is in the cache, signed.
    for (const p of [...closure, ...manifest.inputs]) {
      const info = readFileSync(join(medium, `${p.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`), 'utf8');
      assert.match(info, /^Compression: zstd$/m);
      assert.ok(info.includes(`Sig: ${key.publicKey.split(':')[0]}:`), `${p} is signed`);
    }
    const phases = [...new Set(seen.map((p) => p.phase))];
    assert.deepEqual(
      phases.filter((p) => p !== 'images'),
      ['prepare', 'build', 'closure', 'copy', 'inputs', 'sign', 'manifest'],
    );
    const lastCopy = seen.filter((p) => p.phase === 'copy').at(-1)!.copy!;
    // The closure may have been exported by an earlier test run into another folder: this folder was empty.
    assert.equal(lastCopy.pathsDone, closure.length);
    assert.equal(lastCopy.bytesDone, manifest.closure.narBytes);
    assert.ok(r.bytesWritten > 0);
    // The manifest is read back as what was written; the text for people names the commands.
    const back = await readMedium(medium);
    assert.ok(!back.incomplete);
    assert.deepEqual(back.manifest, manifest);
    const readme = readFileSync(join(medium, 'OFFLINE.txt'), 'utf8');
    assert.ok(readme.includes(`nix --extra-experimental-features 'nix-command flakes' copy --from "file://$MEDIUM" ${toplevel}`));
    assert.ok(readme.includes(key.publicKey));
    assert.ok(readme.includes(`sudo nix-env -p /nix/var/nix/profiles/system --set ${toplevel}`));
  });

  test('import into a separate chroot store with the key; there, with no substituter and --offline, the toplevel is valid and the flake evaluates without its input repository', async () => {
    const root = chroot('airgap-import');
    let progressed = 0;
    const r = await importMedium(runner, medium, {
      privateDir,
      store: storeOf(root),
      trustedKeys: [key.publicKey],
      onProgress: () => progressed++,
    });
    assert.ok(progressed > 0);
    assert.deepEqual(new Set(r.added), new Set([...closure, ...manifest.inputs]));
    for (const p of [...closure, ...manifest.inputs]) assert.ok(validIn(root, p), `${p} is valid in the chroot store`);
    renameSync(stub, `${stub}.away`);
    try {
      const out = nix(
        'eval',
        '--store',
        storeOf(root),
        '--offline',
        '--option',
        'substituters',
        '',
        '--raw',
        `${flake}#nixosConfigurations.good.config.system.build.toplevel.outPath`,
      );
      assert.equal(out, toplevel);
      const ready = await checkReadiness(runner, [hostItem().installable], { store: storeOf(root) });
      assert.ok(ready.ready, ready.summary);
      assert.deepEqual([ready.fromMedia, ready.toBuild], [[], []]);
      // The flake's own source from the medium, as the manifest's commands name it.
      const meta = JSON.parse(
        nix(
          'flake',
          'metadata',
          '--json',
          '--store',
          storeOf(root),
          '--offline',
          '--option',
          'substituters',
          '',
          manifest.flake.offlineRef!,
        ),
      ) as { path: string };
      assert.equal(meta.path, manifest.flake.storePath);
    } finally {
      renameSync(`${stub}.away`, stub);
    }
  });

  test('an unsigned medium is refused where signatures are required; a signed one without its key too; with the key it is accepted', async () => {
    const unsigned = join(chroot('airgap-unsigned'), 'm');
    await exportMedium(runner, { flakeRef: flake, items: [hostItem()], medium: unsigned, privateDir });
    const refused = await importMedium(runner, unsigned, { privateDir, store: storeOf(chroot('airgap-r1')) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof AirgapError && refused.kind === 'unsigned', String(refused));
    assert.match(refused.message, /not signed by a key it trusts/);
    const root2 = chroot('airgap-r2');
    const noKey = await importMedium(runner, medium, { privateDir, store: storeOf(root2) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(noKey instanceof AirgapError && noKey.kind === 'unsigned');
    assert.ok(!validIn(root2, toplevel));
    await importMedium(runner, medium, { privateDir, store: storeOf(root2), trustedKeys: [key.publicKey] });
    assert.ok(validIn(root2, toplevel));
  });

  test('a tampered file in the cache is refused on import: the path is not added', async () => {
    const copy = join(chroot('airgap-tampered'), 'm');
    cpSync(medium, copy, { recursive: true });
    const info = readFileSync(join(copy, `${toplevel.slice(11, 43)}.narinfo`), 'utf8');
    const nar = join(copy, /^URL: (\S+)$/m.exec(info)![1]!);
    const bytes = readFileSync(nar);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(nar, bytes);
    const root = chroot('airgap-r3');
    const e = await importMedium(runner, copy, { privateDir, store: storeOf(root), trustedKeys: [key.publicKey] }).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(e instanceof AirgapError && e.kind === 'corrupt', String(e));
    assert.ok(!validIn(root, toplevel));
  });

  test('readiness of a host whose closure is partly in the store lists exactly the missing paths: from the medium, or to build without it', async () => {
    const root = chroot('airgap-partial');
    const leaves = closure.filter((p) => !/-(nixos-system-good|system-path)$/.test(p));
    const missing = closure.filter((p) => !leaves.includes(p)).sort();
    assert.equal(missing.length, 2);
    const plain = await nixPathFor(medium, privateDir);
    nix('copy', '--from', mediumUri(plain), '--no-check-sigs', '--store', storeOf(root), ...leaves, ...manifest.inputs);
    const withMedium = await checkReadiness(runner, [hostItem().installable], {
      store: storeOf(root),
      media: [plain],
      trustedKeys: [key.publicKey],
    });
    assert.ok(withMedium.ready, withMedium.summary);
    assert.deepEqual([...withMedium.fromMedia].sort(), missing);
    const alone = await checkReadiness(runner, [hostItem().installable], { store: storeOf(root) });
    assert.ok(!alone.ready);
    assert.deepEqual(alone.toBuild.map((d) => d.replace(/^.*?-/, '')).sort(), ['nixos-system-good.drv', 'system-path.drv']);
    assert.match(alone.summary, /^Not ready: 2 derivations would be built/);
  });

  test('a cancelled export leaves no manifest; the folder reads as incomplete, with the paths its cache holds', async () => {
    const dir = join(chroot('airgap-cancel'), 'm');
    // A complete export first, then one cancelled as it copies: the old manifest must not survive.
    await exportMedium(runner, { flakeRef: flake, items: [hostItem()], medium: dir, privateDir });
    assert.ok(existsSync(join(dir, MANIFEST)));
    const ac = new AbortController();
    const e = await exportMedium(
      runner,
      { flakeRef: flake, items: [hostItem()], medium: dir, privateDir },
      { signal: ac.signal, onProgress: (p) => p.phase === 'copy' && ac.abort() },
    ).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(e instanceof CancelledError, String(e));
    assert.ok(!existsSync(join(dir, MANIFEST)));
    const m = await readMedium(dir);
    assert.ok(m.incomplete && !m.manifest);
    assert.deepEqual(m.paths, [...closure, ...manifest.inputs].sort());
  });

  test('images: an ISO inside an output and a tarball that is the output are copied next to the cache with their sizes', async () => {
    const dir = makeRepo(mkdtempSync(join(scratchDir(), 'images-')), {
      'flake.nix': `{
  outputs = { self }: let
    mk = name: script: builtins.derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" script ]; marker = "${process.pid}-${Date.now()}"; };
  in {
    packages.x86_64-linux.iso = mk "nixos-iso" "/bin/mkdir -p $out/iso && /usr/bin/head -c 3000 /dev/zero > $out/iso/nixos-test.iso && echo hi > $out/README";
    packages.x86_64-linux.oci = mk "image.tar.gz" "/usr/bin/head -c 1234 /dev/zero > $out";
  };
}
`,
    });
    const out = join(chroot('airgap-images'), 'm');
    const r = await exportMedium(runner, {
      flakeRef: dir,
      items: [
        { display: '.#iso', kind: 'package', installable: `${dir}#packages.x86_64-linux.iso` },
        { display: '.#oci', kind: 'package', installable: `${dir}#packages.x86_64-linux.oci` },
      ],
      medium: out,
      privateDir,
    });
    assert.deepEqual(
      r.manifest.images.map((i) => [i.file, i.size]),
      [
        ['images/nixos-test.iso', 3000],
        ['images/image.tar.gz', 1234],
      ],
    );
    assert.equal(statSync(join(out, 'images/nixos-test.iso')).size, 3000);
    assert.equal(statSync(join(out, 'images/image.tar.gz')).size, 1234);
    assert.deepEqual(readdirSync(join(out, 'images')).sort(), ['image.tar.gz', 'nixos-test.iso']);
    assert.ok(readFileSync(join(out, 'OFFLINE.txt'), 'utf8').includes('images/nixos-test.iso  2.9 KiB'));
  });
});
