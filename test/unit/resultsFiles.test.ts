import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { diffYamlDocuments, readResourceFields, sameResources, splitYamlDocuments } from '../../src/core/results/yaml';
import { normaliseTarName, parsePax, readTar, TarError, writeTar } from '../../src/core/results/tar';
import { diffImages, imageDiffMarkdown, imageMarkdown, mdText, readImageArchive, type ImageInfo } from '../../src/core/results/image';
import { dockerArchive, FIXTURE_IMAGES, ociArchive } from '../support/ociArchive';

const RENDER = `---
# Source: shop/templates/namespace.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
# Source: shop/templates/config.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: shop
data:
  greeting: "hello"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels: { app: shop }
  name: app
  namespace: "shop"
spec:
  replicas: 2
`;

function reorder(text: string): string {
  const docs = text.split(/^---\n/m).filter(Boolean);
  return docs
    .reverse()
    .map((d) => `---\n${d}`)
    .join('');
}

test('YAML documents: split on --- markers, named by kind, namespace and name', () => {
  const docs = splitYamlDocuments(RENDER);
  assert.deepEqual(
    docs.map((d) => d.key),
    ['Namespace shop', 'ConfigMap shop/app-config', 'Deployment shop/app'],
  );
  assert.equal(docs[1]!.line, 8);
  assert.ok(docs[1]!.text.startsWith('# Source: shop/templates/config.yaml\napiVersion: v1'));
  assert.ok(!docs[2]!.text.includes('---'));
});

test('YAML documents: empty and comment-only documents dropped, directives, ... ends, --- with content, unnamed ones numbered', () => {
  const docs = splitYamlDocuments(
    '%YAML 1.2\n---\n# only a comment\n---\n\n---\nkind: A\nmetadata:\n  name: a\n...\n--- {x: 1}\n---\nplain: 1\n',
  );
  assert.deepEqual(
    docs.map((d) => d.key),
    ['A a', 'document 1', 'document 2'],
  );
  assert.equal(docs[1]!.text, '{x: 1}');
});

test('YAML documents: the same resource twice is told apart by order; a block scalar holding --- lines indented is one document', () => {
  const docs = splitYamlDocuments('kind: A\nmetadata:\n  name: a\n---\nkind: A\nmetadata:\n  name: a\ndata:\n  s: |\n    ---\n    x\n');
  assert.deepEqual(
    docs.map((d) => d.key),
    ['A a', 'A a (2)'],
  );
  assert.match(docs[1]!.text, / {4}---/);
});

test('resource fields: quoted, commented, flow-style metadata, nested names ignored', () => {
  assert.deepEqual(
    readResourceFields([
      'kind: "Service" # a comment',
      'metadata:',
      '  annotations:',
      '    name: not-this',
      "  name: 'it''s'",
      '  namespace: ns # here',
    ]),
    {
      kind: 'Service',
      name: "it's",
      namespace: 'ns',
    },
  );
  assert.deepEqual(readResourceFields(['kind: Secret', 'metadata: {name: s, namespace: "n"}']), {
    kind: 'Secret',
    name: 's',
    namespace: 'n',
  });
  assert.deepEqual(readResourceFields(['kind: |', '  x', 'metadata:', '  name: *alias']), {});
});

test('YAML diff: a reordered render is no change; one changed value is that resource changed', () => {
  assert.ok(sameResources(RENDER, reorder(RENDER)));
  assert.ok(diffYamlDocuments(RENDER, reorder(RENDER)).every((c) => c.status === 'unchanged'));
  const changed = diffYamlDocuments(RENDER, RENDER.replace('replicas: 2', 'replicas: 3'));
  assert.deepEqual(
    changed.filter((c) => c.status !== 'unchanged').map((c) => [c.key, c.status]),
    [['Deployment shop/app', 'changed']],
  );
  const added = diffYamlDocuments(RENDER, `${RENDER}---\nkind: Service\nmetadata:\n  name: web\n`);
  assert.deepEqual(
    added.filter((c) => c.status !== 'unchanged').map((c) => [c.key, c.status]),
    [['Service web', 'added']],
  );
  const removed = diffYamlDocuments(RENDER, RENDER.split('---\napiVersion: apps/v1')[0]!);
  assert.deepEqual(
    removed.filter((c) => c.status !== 'unchanged').map((c) => [c.key, c.status]),
    [['Deployment shop/app', 'removed']],
  );
  assert.ok(sameResources(RENDER, RENDER.replace(/\n/g, '  \r\n')), 'trailing spaces and CRLF are no change');
});

test('YAML: bounded on large and hostile input', () => {
  const many = Array.from({ length: 30_000 }, (_, i) => `kind: A\nmetadata:\n  name: n${i}\n`).join('---\n');
  const t = Date.now();
  const docs = splitYamlDocuments(many);
  assert.ok(docs.length <= 20_000);
  assert.ok(Date.now() - t < 3000);
  const long = `kind: ${'K'.repeat(100_000)}\nmetadata:\n  name: x\n`;
  assert.ok(splitYamlDocuments(long)[0]!.key.length < 1100);
});

async function* chunks(buf: Buffer, size: number) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

test('tar: headers of every entry, data of the wanted ones, across any chunking; pax long names', async () => {
  const long = `${'d/'.repeat(70)}file.txt`;
  const tar = writeTar([
    { name: './a.txt', data: 'alpha' },
    { name: long, data: 'long name' },
    { name: 'big.bin', data: Buffer.alloc(5000, 1) },
  ]);
  for (const size of [1, 7, 512, 100_000]) {
    const t = await readTar(chunks(tar, size), (e) => e.name !== 'big.bin');
    assert.deepEqual(
      t.entries.map((e) => [e.name, e.size, e.type]),
      [
        ['a.txt', 5, 'file'],
        [long, 9, 'file'],
        ['big.bin', 5000, 'file'],
      ],
    );
    assert.equal(t.data.get('a.txt')!.toString(), 'alpha');
    assert.equal(t.data.get(long)!.toString(), 'long name');
    assert.ok(!t.data.has('big.bin'));
  }
  const budget = await readTar(chunks(tar, 512), () => true, { maxKeptBytes: 100 });
  assert.deepEqual(budget.leftOut, ['big.bin']);
  assert.deepEqual(parsePax(Buffer.from('12 path=abc\n')), { path: 'abc' });
  assert.equal(normaliseTarName('././/x/y/'), 'x/y');
});

test('tar: not an archive, a bad checksum, a truncated archive and too many entries are errors', async () => {
  await assert.rejects(
    readTar(chunks(Buffer.from('{"not": "a tar"}'.padEnd(1024, ' ')), 512), () => true),
    TarError,
  );
  const tar = writeTar([
    { name: 'a', data: 'x' },
    { name: 'b', data: 'y' },
  ]);
  const bad = Buffer.from(tar);
  bad[512 * 2 + 10] = 0x41;
  await assert.rejects(
    readTar(chunks(bad, 512), () => true),
    /checksum/,
  );
  await assert.rejects(
    readTar(chunks(tar.subarray(0, 512 + 100), 512), () => true),
    /ends inside/,
  );
  await assert.rejects(
    readTar(chunks(tar, 512), () => true, { maxEntries: 1 }),
    /more than 1 entries/,
  );
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'results-unit-'));
}

test('OCI archive: platform, tag, layers with sizes, env, entrypoint, labels, history', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'v1.tar'), ociArchive(FIXTURE_IMAGES.v1));
  const r = await readImageArchive(join(dir, 'v1.tar'));
  assert.ok(r.ok, r.ok ? '' : r.error);
  const [img] = r.images;
  assert.equal(img!.format, 'oci');
  assert.equal(img!.platform, 'linux/amd64');
  assert.deepEqual(img!.tags, ['shop/app:1.0']);
  assert.equal(img!.layers.length, 2);
  assert.ok(img!.layers.every((l) => /^sha256:[0-9a-f]{64}$/.test(l.digest) && l.size === 2048));
  assert.equal(img!.layers[1]!.createdBy, 'layer 2');
  assert.deepEqual(img!.entrypoint, ['/app/server.sh']);
  assert.deepEqual(img!.env, ['PATH=/usr/bin:/bin', 'APP_ENV=production']);
  assert.deepEqual(img!.labels, { 'org.opencontainers.image.version': '1.0' });
  assert.equal(img!.totalSize, 4096);
  const md = imageMarkdown('image-v1.tar', img!);
  assert.match(md, /\| Platform \| linux\/amd64 \|/);
  assert.match(md, /APP\\_ENV=production/);
});

test('docker archive, gzip-compressed too, and an OCI layout folder read the same image', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'd.tar'), dockerArchive(FIXTURE_IMAGES.v1));
  writeFileSync(join(dir, 'd.tar.gz'), gzipSync(dockerArchive(FIXTURE_IMAGES.v1)));
  const oci = ociArchive(FIXTURE_IMAGES.v1);
  const t = await readTar(Readable.from([oci]), () => true);
  const layout = join(dir, 'layout');
  for (const [name, data] of t.data) {
    mkdirSync(join(layout, name, '..'), { recursive: true });
    writeFileSync(join(layout, name), data);
  }
  const fromOci = await readImageArchive(layout);
  for (const p of [join(dir, 'd.tar'), join(dir, 'd.tar.gz'), layout]) {
    const r = await readImageArchive(p);
    assert.ok(r.ok, `${p}: ${r.ok ? '' : r.error}`);
    const img = r.images[0]!;
    assert.equal(img.platform, 'linux/amd64');
    assert.deepEqual(img.entrypoint, ['/app/server.sh']);
    assert.equal(img.layers.length, 2);
    if (img.format === 'docker')
      assert.deepEqual(
        img.layers.map((l) => l.digest),
        fromOci.ok ? fromOci.images[0]!.layers.map((l) => l.digest) : [],
        'diff ids are the layer digests',
      );
  }
});

test('image reader: what is not an image says so; a missing blob and bad JSON are named', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'x.tar'), writeTar([{ name: 'hello.txt', data: 'hi' }]));
  const r = await readImageArchive(join(dir, 'x.tar'));
  assert.ok(!r.ok && /neither an OCI image layout/.test(r.error));
  writeFileSync(join(dir, 'y.tar'), writeTar([{ name: 'index.json', data: '{"manifests":[{"digest":"sha256:' + 'a'.repeat(64) + '"}]}' }]));
  const y = await readImageArchive(join(dir, 'y.tar'));
  assert.ok(!y.ok && /missing from the archive/.test(y.error));
  writeFileSync(join(dir, 'z.tar'), writeTar([{ name: 'manifest.json', data: '[{' }]));
  const z = await readImageArchive(join(dir, 'z.tar'));
  assert.ok(!z.ok && /not JSON/.test(z.error));
  const n = await readImageArchive(join(dir, 'none.tar'));
  assert.ok(!n.ok && /ENOENT/.test(n.error));
});

test('image diff: the second fixture image differs in exactly one layer and its version label', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'v1.tar'), ociArchive(FIXTURE_IMAGES.v1));
  writeFileSync(join(dir, 'v2.tar'), ociArchive(FIXTURE_IMAGES.v2));
  const a = await readImageArchive(join(dir, 'v1.tar'));
  const b = await readImageArchive(join(dir, 'v2.tar'));
  assert.ok(a.ok && b.ok);
  const d = diffImages(a.images[0]!, b.images[0]!);
  assert.deepEqual(
    d.layers.map((l) => l.status),
    ['same', 'changed'],
  );
  assert.equal(d.changedLayers, 1);
  assert.deepEqual(d.fields, [{ field: 'label org.opencontainers.image.version', before: '1.0', after: '2.0' }]);
  const md = imageDiffMarkdown('v1 ↔ v2', d);
  assert.match(md, /1 layer and 1 config field differ/);
  assert.match(md, /\| 2 \| changed \|/);
  const same = diffImages(a.images[0]!, a.images[0]!);
  assert.equal(same.changedLayers + same.fields.length, 0);
  const more: ImageInfo = { ...a.images[0]!, layers: [...a.images[0]!.layers, { digest: 'sha256:x', size: 1 }], env: ['PATH=/x'] };
  const d2 = diffImages(a.images[0]!, more);
  assert.deepEqual(
    d2.layers.map((l) => l.status),
    ['same', 'same', 'added'],
  );
  assert.ok(
    d2.fields.some((f) => f.field === 'env PATH' && f.after === '/x') &&
      d2.fields.some((f) => f.field === 'env APP_ENV' && f.after === undefined),
  );
});

test("Markdown from an archive's text cannot open HTML, links or break a table", () => {
  assert.equal(mdText('<img src=x onerror=1>|[a](javascript:x)\nnext'), '\\<img src=x onerror=1\\>\\|\\[a\\]\\(javascript:x\\) next');
});

test("the fixture flake's images are what test/support/ociArchive.ts writes", () => {
  for (const v of ['v1', 'v2'] as const) {
    assert.ok(readFileSync(join('test/fixtures/flakes/results/images', `${v}.tar`)).equals(ociArchive(FIXTURE_IMAGES[v])), v);
  }
});

test('result trees: added, removed, changed files; a reordered YAML render is no change; a changed resource is named', async () => {
  const { diffResults, revisionFlakeRef } = await import('../../src/core/results/tree');
  const a = tmp();
  const b = tmp();
  const files = (root: string, yaml: string, extra: Record<string, string>) => {
    mkdirSync(join(root, 'manifests'), { recursive: true });
    writeFileSync(join(root, 'manifests', 'all.yaml'), yaml);
    for (const [k, v] of Object.entries(extra)) writeFileSync(join(root, k), v);
  };
  files(a, RENDER, { 'NOTES.txt': 'v1', 'gone.txt': 'x' });
  files(b, reorder(RENDER), { 'NOTES.txt': 'v1', 'new.txt': 'y' });
  let d = await diffResults(a, b);
  assert.deepEqual(
    d.changes.map((c) => [c.rel, c.status]),
    [
      ['gone.txt', 'removed'],
      ['new.txt', 'added'],
    ],
  );
  assert.deepEqual(d.reordered, ['manifests/all.yaml']);
  writeFileSync(join(b, 'manifests', 'all.yaml'), reorder(RENDER).replace('replicas: 2', 'replicas: 3'));
  d = await diffResults(a, b);
  const yaml = d.changes.find((c) => c.rel === 'manifests/all.yaml');
  assert.deepEqual(
    yaml?.resources?.map((r) => [r.key, r.status]),
    [['Deployment shop/app', 'changed']],
  );
  const f1 = join(tmp(), 'settings.yaml');
  const f2 = join(tmp(), 'settings.yaml');
  writeFileSync(f1, 'greeting: hello\n');
  writeFileSync(f2, 'greeting: hi\n');
  assert.deepEqual(
    (await diffResults(f1, f2)).changes.map((c) => [c.rel, c.status]),
    [['', 'changed']],
  );
  assert.equal(revisionFlakeRef('/src/repo/sub', '/src/repo', 'a'.repeat(40)), `git+file:///src/repo?dir=sub&rev=${'a'.repeat(40)}`);
  assert.equal(revisionFlakeRef('/src/repo', '/src/repo', 'a'.repeat(40)), `git+file:///src/repo?rev=${'a'.repeat(40)}`);
  assert.equal(revisionFlakeRef('/src/repo', '/src/repo', 'HEAD; rm'), undefined);
});
