// Container image archives for tests, written the way image builders write them: an OCI image layout (oci-layout,
// index.json, blobs/sha256/<manifest, config, layers>) in a tar archive, or a docker archive (manifest.json, the
// config, <id>/layer.tar). Deterministic: the same spec gives the same bytes. The fixture flake `results` holds two
// of them (images/v1.tar, images/v2.tar: the second has one changed layer and label); `npx esbuild … && node …`
// of this file's `writeFixtureImages` rewrites them, and a unit test checks they are what this file writes.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTar } from '../../src/core/results/tar';

export interface ImageSpec {
  /** Each layer's files (path → text). */
  layers: Record<string, string>[];
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  labels?: Record<string, string>;
  tag?: string;
  architecture?: string;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function parts(spec: ImageSpec) {
  const layers = spec.layers.map((files) => writeTar(Object.entries(files).map(([name, data]) => ({ name, data }))));
  const diffIds = layers.map((l) => `sha256:${sha(l)}`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: spec.architecture ?? 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:01Z',
      config: { Env: spec.env ?? [], Entrypoint: spec.entrypoint, Cmd: spec.cmd, Labels: spec.labels ?? {}, WorkingDir: '/app' },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: spec.layers.map((_, i) => ({ created: '1970-01-01T00:00:01Z', created_by: `layer ${i + 1}` })),
    }),
  );
  return { layers, diffIds, config };
}

/** An OCI image layout in a tar archive. */
export function ociArchive(spec: ImageSpec): Buffer {
  const { layers, config } = parts(spec);
  const blob = (b: Buffer) => ({ name: `blobs/sha256/${sha(b)}`, data: b });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha(l)}`, size: l.length })),
    }),
  );
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha(manifest)}`,
        size: manifest.length,
        annotations: spec.tag ? { 'org.opencontainers.image.ref.name': spec.tag } : undefined,
      },
    ],
  });
  return writeTar([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: index },
    blob(manifest),
    blob(config),
    ...layers.map(blob),
  ]);
}

/** A docker archive (`docker save`'s format). */
export function dockerArchive(spec: ImageSpec): Buffer {
  const { layers, config } = parts(spec);
  const configName = `${sha(config)}.json`;
  const layerNames = layers.map((l) => `${sha(l)}/layer.tar`);
  const manifest = JSON.stringify([{ Config: configName, RepoTags: spec.tag ? [spec.tag] : [], Layers: layerNames }]);
  return writeTar([
    { name: 'manifest.json', data: manifest },
    { name: configName, data: config },
    ...layers.map((l, i) => ({ name: layerNames[i]!, data: l })),
  ]);
}

/** The two images of the `results` fixture: v2 changes the app layer and the version label. */
export const FIXTURE_IMAGES: Record<'v1' | 'v2', ImageSpec> = {
  v1: {
    layers: [{ 'etc/os-release': 'ID=fixture\n' }, { 'app/server.sh': '#!/bin/sh\necho serving v1\n' }],
    env: ['PATH=/usr/bin:/bin', 'APP_ENV=production'],
    entrypoint: ['/app/server.sh'],
    labels: { 'org.opencontainers.image.version': '1.0' },
    tag: 'shop/app:1.0',
  },
  v2: {
    layers: [{ 'etc/os-release': 'ID=fixture\n' }, { 'app/server.sh': '#!/bin/sh\necho serving v2\n' }],
    env: ['PATH=/usr/bin:/bin', 'APP_ENV=production'],
    entrypoint: ['/app/server.sh'],
    labels: { 'org.opencontainers.image.version': '2.0' },
    tag: 'shop/app:2.0',
  },
};

/** Writes the fixture's images into a folder (test/fixtures/flakes/results/images). */
export function writeFixtureImages(dir: string): void {
  for (const v of ['v1', 'v2'] as const) writeFileSync(join(dir, `${v}.tar`), ociArchive(FIXTURE_IMAGES[v]));
}

if (require.main === module) writeFixtureImages(process.argv[2] ?? 'test/fixtures/flakes/results/images');
