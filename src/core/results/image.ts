// Container images as a build leaves them, read without a container engine: an OCI image layout (`oci-layout`,
// `index.json`, `blobs/sha256/…`) as a folder or inside a tar archive, and a docker archive (`manifest.json` with
// `Config` and `Layers`, as `docker save` and nixpkgs' dockerTools write it), plain or gzip-compressed. Each image:
// platform, layers with sizes, environment, entrypoint, command, labels. Two images compared layer by layer and
// field by field. Everything read is untrusted: JSON is size-bounded and checked field by field. No `vscode` import.
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { readTar, type TarEntry } from './tar';

/** A JSON document of the image (index, manifest, config) larger than this is refused. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
const MAX_ITEMS = 1000;
const MAX_STRING = 8192;

export interface ImageLayer {
  /** The layer's digest: the descriptor's (OCI), else its diff id from the config (docker), else its file name. */
  digest: string;
  /** Bytes as stored in the archive. */
  size: number;
  mediaType?: string;
  /** The history entry that made it (`created_by`), when the config says. */
  createdBy?: string;
}

export interface ImageInfo {
  format: 'oci' | 'docker';
  /** Tags (docker `RepoTags`, OCI `org.opencontainers.image.ref.name`). */
  tags: string[];
  /** `os/architecture[/variant]`. */
  platform: string;
  created?: string;
  configDigest?: string;
  layers: ImageLayer[];
  /** The layers' bytes in all. */
  totalSize: number;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir?: string;
  user?: string;
  labels: Record<string, string>;
  exposedPorts: string[];
}

export type ImageRead = { ok: true; images: ImageInfo[] } | { ok: false; error: string };

/** The files of an archive or folder the image reader needs: sizes of all, data of the small ones. */
export interface ImageFiles {
  sizes: Map<string, number>;
  read(name: string): Promise<Buffer | undefined>;
}

type Json = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? (v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v) : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v)
    ? v
        .slice(0, MAX_ITEMS)
        .map(str)
        .filter((x): x is string => x !== undefined)
    : [];
}

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

async function json(files: ImageFiles, name: string): Promise<Json | unknown[] | undefined> {
  const size = files.sizes.get(name);
  if (size === undefined) return undefined;
  if (size > MAX_JSON_BYTES) throw new Error(`${name} is larger than ${MAX_JSON_BYTES} bytes`);
  const data = await files.read(name);
  if (!data) return undefined;
  try {
    const v = JSON.parse(data.toString('utf8')) as unknown;
    return Array.isArray(v) ? v : obj(v);
  } catch {
    throw new Error(`${name} is not JSON`);
  }
}

const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]{32,256})$/;

function blobPath(digest: string): string | undefined {
  const m = DIGEST.exec(digest);
  return m ? `blobs/${m[1]}/${m[2]}` : undefined;
}

/** The image's config (`config`, `history`, platform), read into the info. */
function applyConfig(info: ImageInfo, config: Json | undefined): void {
  if (!config) return;
  const c = obj(config.config) ?? {};
  info.platform = [str(config.os) ?? 'unknown', str(config.architecture) ?? 'unknown', str(config.variant)].filter(Boolean).join('/');
  info.created = str(config.created);
  info.env = strings(c.Env);
  info.entrypoint = strings(c.Entrypoint);
  info.cmd = strings(c.Cmd);
  info.workingDir = str(c.WorkingDir) || undefined;
  info.user = str(c.User) || undefined;
  const labels = obj(c.Labels) ?? {};
  info.labels = Object.fromEntries(
    Object.entries(labels)
      .slice(0, MAX_ITEMS)
      .map(([k, v]) => [k.slice(0, MAX_STRING), str(v) ?? ''] as const),
  );
  info.exposedPorts = Object.keys(obj(c.ExposedPorts) ?? {}).slice(0, MAX_ITEMS);
  // History entries that made a layer (not `empty_layer`) line up with the layers.
  const history = Array.isArray(config.history) ? config.history.slice(0, MAX_ITEMS * 10).map(obj) : [];
  const made = history.filter((h) => h && h.empty_layer !== true);
  if (made.length === info.layers.length) info.layers.forEach((l, i) => (l.createdBy = str(made[i]?.created_by) || str(made[i]?.comment)));
}

function emptyInfo(format: ImageInfo['format']): ImageInfo {
  return {
    format,
    tags: [],
    platform: 'unknown',
    layers: [],
    totalSize: 0,
    env: [],
    entrypoint: [],
    cmd: [],
    labels: {},
    exposedPorts: [],
  };
}

/** The images of an OCI layout (its index, nested indexes followed to a bounded depth). */
async function readOci(files: ImageFiles): Promise<ImageInfo[]> {
  const index = obj(await json(files, 'index.json'));
  if (!index) throw new Error('index.json is not an object');
  const out: ImageInfo[] = [];
  const visit = async (descriptors: unknown, depth: number, tags: string[]) => {
    if (!Array.isArray(descriptors)) return;
    for (const d of descriptors.slice(0, MAX_ITEMS).map(obj)) {
      if (!d || out.length >= MAX_ITEMS) continue;
      const digest = str(d.digest) ?? '';
      const path = blobPath(digest);
      if (!path) throw new Error(`a descriptor has no valid digest: ${JSON.stringify(digest.slice(0, 80))}`);
      const ref = str(obj(d.annotations)?.['org.opencontainers.image.ref.name']);
      const here = ref ? [...tags, ref] : tags;
      const m = obj(await json(files, path));
      if (!m) throw new Error(`the blob ${digest} is missing from the archive`);
      if (Array.isArray(m.manifests)) {
        if (depth < 4) await visit(m.manifests, depth + 1, here);
        continue;
      }
      const info = emptyInfo('oci');
      info.tags = here;
      const cfg = obj(m.config);
      info.configDigest = str(cfg?.digest);
      info.layers = (Array.isArray(m.layers) ? m.layers.slice(0, MAX_ITEMS) : []).map((l) => {
        const o = obj(l) ?? {};
        const dg = str(o.digest) ?? '?';
        const p = blobPath(dg);
        return { digest: dg, size: num(o.size) ?? (p ? files.sizes.get(p) : undefined) ?? 0, mediaType: str(o.mediaType) };
      });
      const cfgPath = info.configDigest ? blobPath(info.configDigest) : undefined;
      applyConfig(info, cfgPath ? obj(await json(files, cfgPath)) : undefined);
      const platform = obj(d.platform);
      if (info.platform === 'unknown/unknown' && platform)
        info.platform = [str(platform.os), str(platform.architecture), str(platform.variant)].filter(Boolean).join('/');
      info.totalSize = info.layers.reduce((s, l) => s + l.size, 0);
      out.push(info);
    }
  };
  await visit(index.manifests, 0, []);
  return out;
}

/** The images of a docker archive's manifest.json. */
async function readDocker(files: ImageFiles): Promise<ImageInfo[]> {
  const manifest = await json(files, 'manifest.json');
  if (!Array.isArray(manifest)) throw new Error('manifest.json is not a list');
  const out: ImageInfo[] = [];
  for (const e of manifest.slice(0, MAX_ITEMS).map(obj)) {
    if (!e) continue;
    const info = emptyInfo('docker');
    info.tags = strings(e.RepoTags);
    const configName = str(e.Config);
    const config = configName ? obj(await json(files, normalise(configName))) : undefined;
    if (configName && !config) throw new Error(`${configName} is missing from the archive`);
    info.configDigest = configName ? `sha256:${/([0-9a-f]{64})/.exec(configName)?.[1] ?? configName}` : undefined;
    const diffIds = strings(obj(config?.rootfs)?.diff_ids);
    info.layers = strings(e.Layers).map((name, i) => ({ digest: diffIds[i] ?? name, size: files.sizes.get(normalise(name)) ?? 0 }));
    applyConfig(info, config);
    info.totalSize = info.layers.reduce((s, l) => s + l.size, 0);
    out.push(info);
  }
  return out;
}

function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/** Reads the images of an archive's or folder's files. Never throws: an error says what is wrong. */
export async function readImages(files: ImageFiles): Promise<ImageRead> {
  try {
    if (files.sizes.has('index.json') && (files.sizes.has('oci-layout') || !files.sizes.has('manifest.json')))
      return { ok: true, images: await readOci(files) };
    if (files.sizes.has('manifest.json')) return { ok: true, images: await readDocker(files) };
    return { ok: false, error: 'neither an OCI image layout (index.json) nor a docker archive (manifest.json)' };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Whether an archive entry is worth keeping to read images: the JSON documents, not the layers. */
function small(e: TarEntry): boolean {
  return (
    e.size <= MAX_JSON_BYTES &&
    (/^(index\.json|manifest\.json|oci-layout|repositories)$/.test(e.name) || e.name.endsWith('.json') || e.name.startsWith('blobs/'))
  );
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The files of a tar archive (plain or gzip) on disk: one pass, small entries kept. */
export async function tarImageFiles(path: string): Promise<ImageFiles> {
  const stream = (await isGzip(path)) ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  try {
    const t = await readTar(stream, small, { maxKeptBytes: 64 * 1024 * 1024 });
    const sizes = new Map(t.entries.filter((e) => e.type === 'file').map((e) => [e.name, e.size]));
    return { sizes, read: async (name) => t.data.get(name) };
  } finally {
    stream.destroy();
  }
}

/** The files of an OCI layout folder (its top files and blobs/<alg>/*). */
export async function folderImageFiles(dir: string): Promise<ImageFiles> {
  const sizes = new Map<string, number>();
  for (const n of ['index.json', 'oci-layout', 'manifest.json']) {
    const s = await stat(join(dir, n)).catch(() => undefined);
    if (s?.isFile()) sizes.set(n, s.size);
  }
  for (const alg of await readdir(join(dir, 'blobs')).catch(() => [] as string[])) {
    const names = await readdir(join(dir, 'blobs', alg)).catch(() => [] as string[]);
    for (const n of names.slice(0, 100_000)) {
      const s = await stat(join(dir, 'blobs', alg, n)).catch(() => undefined);
      if (s?.isFile()) sizes.set(`blobs/${alg}/${n}`, s.size);
    }
  }
  return {
    sizes,
    read: async (name) => {
      const size = sizes.get(name);
      if (size === undefined || size > MAX_JSON_BYTES) return undefined;
      return readFile(join(dir, name));
    },
  };
}

/** Whether a path of a build's output looks like an image: an OCI layout folder, or a tar archive by its name. */
export function looksLikeImage(name: string, isDir: boolean, dirEntries: readonly string[] = []): boolean {
  if (isDir) return dirEntries.includes('oci-layout') || (dirEntries.includes('index.json') && dirEntries.includes('blobs'));
  return /\.(tar|tar\.gz|tgz|oci)$/i.test(name);
}

/** Reads the images of an archive (tar, tar.gz) or an OCI layout folder. Never throws. */
export async function readImageArchive(path: string): Promise<ImageRead> {
  try {
    const s = await stat(path);
    const files = s.isDirectory() ? await folderImageFiles(path) : await tarImageFiles(path);
    return await readImages(files);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

export interface LayerChange {
  status: 'same' | 'changed' | 'added' | 'removed';
  /** 1-based position in the image before / after. */
  before?: ImageLayer & { index: number };
  after?: ImageLayer & { index: number };
}

export interface FieldChange {
  field: string;
  before?: string;
  after?: string;
}

export interface ImageDiff {
  layers: LayerChange[];
  /** Platform, entrypoint, command, working dir, user, each env variable and label that differ. */
  fields: FieldChange[];
  /** Total size before and after. */
  size: { before: number; after: number };
  changedLayers: number;
}

function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/**
 * Compares two images: layers position by position (a layer found unchanged elsewhere is `same`; a position whose
 * digest differs is `changed`; extra positions `added` or `removed`), and the config's fields.
 */
export function diffImages(a: ImageInfo, b: ImageInfo): ImageDiff {
  const layers: LayerChange[] = [];
  const n = Math.max(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) {
    const x = a.layers[i] && { ...a.layers[i]!, index: i + 1 };
    const y = b.layers[i] && { ...b.layers[i]!, index: i + 1 };
    if (x && y) layers.push({ status: x.digest === y.digest ? 'same' : 'changed', before: x, after: y });
    else if (x) layers.push({ status: 'removed', before: x });
    else if (y) layers.push({ status: 'added', after: y });
  }
  const fields: FieldChange[] = [];
  const cmp = (field: string, before: string | undefined, after: string | undefined) => {
    if ((before ?? '') !== (after ?? '')) fields.push({ field, before, after });
  };
  const list = (l: readonly string[]) => (l.length ? JSON.stringify(l) : undefined);
  cmp('platform', a.platform, b.platform);
  cmp('entrypoint', list(a.entrypoint), list(b.entrypoint));
  cmp('cmd', list(a.cmd), list(b.cmd));
  cmp('workingDir', a.workingDir, b.workingDir);
  cmp('user', a.user, b.user);
  cmp('exposedPorts', list(a.exposedPorts), list(b.exposedPorts));
  const ea = envMap(a.env);
  const eb = envMap(b.env);
  for (const k of new Set([...ea.keys(), ...eb.keys()]))
    if (ea.get(k) !== eb.get(k)) fields.push({ field: `env ${k}`, before: ea.get(k), after: eb.get(k) });
  for (const k of new Set([...Object.keys(a.labels), ...Object.keys(b.labels)])) {
    if (a.labels[k] !== b.labels[k]) fields.push({ field: `label ${k}`, before: a.labels[k], after: b.labels[k] });
  }
  return {
    layers,
    fields,
    size: { before: a.totalSize, after: b.totalSize },
    changedLayers: layers.filter((l) => l.status !== 'same').length,
  };
}

/** Bytes as people read them. */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Text from the archive, safe inside a Markdown table cell or line: no HTML, no table breaks, no line breaks. */
export function mdText(s: string): string {
  return s
    .replace(/[\\`*_{}[\]<>()#+!|~]/g, (c) => `\\${c}`)
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;');
}

function short(digest: string): string {
  const m = /^([^:]+):([0-9a-f]{12})/.exec(digest);
  return m ? `${m[1]}:${m[2]}` : digest.slice(0, 40);
}

/** One image as a Markdown document (the inspector). */
export function imageMarkdown(title: string, info: ImageInfo): string {
  const out: string[] = [`# ${mdText(title)}`, ''];
  out.push(`| | |`, `|---|---|`);
  out.push(`| Format | ${info.format === 'oci' ? 'OCI image layout' : 'docker archive'} |`);
  if (info.tags.length) out.push(`| Tags | ${info.tags.map(mdText).join(', ')} |`);
  out.push(`| Platform | ${mdText(info.platform)} |`);
  if (info.created) out.push(`| Created | ${mdText(info.created)} |`);
  out.push(`| Entrypoint | ${info.entrypoint.length ? mdText(JSON.stringify(info.entrypoint)) : '—'} |`);
  out.push(`| Command | ${info.cmd.length ? mdText(JSON.stringify(info.cmd)) : '—'} |`);
  if (info.workingDir) out.push(`| Working directory | ${mdText(info.workingDir)} |`);
  if (info.user) out.push(`| User | ${mdText(info.user)} |`);
  if (info.exposedPorts.length) out.push(`| Ports | ${info.exposedPorts.map(mdText).join(', ')} |`);
  out.push(`| Size | ${formatSize(info.totalSize)} in ${info.layers.length} layer${info.layers.length === 1 ? '' : 's'} |`);
  if (info.configDigest) out.push(`| Config | ${mdText(info.configDigest)} |`);
  out.push('', '## Layers', '', '| # | Digest | Size | Created by |', '|---:|---|---:|---|');
  info.layers.forEach((l, i) =>
    out.push(`| ${i + 1} | ${mdText(short(l.digest))} | ${formatSize(l.size)} | ${mdText(l.createdBy ?? '')} |`),
  );
  out.push('', '## Environment', '');
  if (info.env.length) for (const e of info.env) out.push(`- ${mdText(e)}`);
  else out.push('None.');
  out.push('', '## Labels', '');
  const labels = Object.entries(info.labels);
  if (labels.length) {
    out.push('| Label | Value |', '|---|---|');
    for (const [k, v] of labels) out.push(`| ${mdText(k)} | ${mdText(v)} |`);
  } else out.push('None.');
  return `${out.join('\n')}\n`;
}

/** Two images compared, as a Markdown document. */
export function imageDiffMarkdown(title: string, d: ImageDiff): string {
  const out: string[] = [`# ${mdText(title)}`, ''];
  out.push(
    d.changedLayers === 0 && d.fields.length === 0
      ? 'The two images have the same layers and config.'
      : `${d.changedLayers} layer${d.changedLayers === 1 ? '' : 's'} and ${d.fields.length} config field${d.fields.length === 1 ? '' : 's'} differ. Size ${formatSize(d.size.before)} → ${formatSize(d.size.after)}.`,
  );
  out.push('', '## Layers', '', '| # | Status | Before | After |', '|---:|---|---|---|');
  d.layers.forEach((l, i) => {
    const cell = (x?: ImageLayer) => (x ? `${mdText(short(x.digest))} (${formatSize(x.size)})` : '—');
    out.push(`| ${i + 1} | ${l.status} | ${cell(l.before)} | ${cell(l.after)} |`);
  });
  out.push('', '## Config', '');
  if (d.fields.length) {
    out.push('| Field | Before | After |', '|---|---|---|');
    for (const f of d.fields)
      out.push(
        `| ${mdText(f.field)} | ${f.before === undefined ? '—' : mdText(f.before)} | ${f.after === undefined ? '—' : mdText(f.after)} |`,
      );
  } else out.push('No difference.');
  return `${out.join('\n')}\n`;
}
