// Exporting for offline use: what the user chose is built (or its dev environment made), its closure copied into a
// `file://` binary cache in the chosen folder (compressed), the flake's inputs with it (`nix flake archive --to`), the
// paths signed there (`nix store sign --store file://…`, this store is left as it was) when a key is given, image
// files copied beside the cache, then OFFLINE.txt and, last and atomically, the manifest. A cancelled or failed
// export leaves no manifest: the folder does not claim to be a complete medium. No `vscode` import.
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic';
import { CancelledError } from '../nix/process';
import { readBuildOutputs } from '../nix/build';
import { signArgs, publicKeyOf } from '../nix/sign';
import { parsePathInfo } from '../deploy/diff';
import {
  commandsFor,
  MANIFEST,
  MANIFEST_FORMAT,
  mediumUri,
  nixPathFor,
  README,
  renderReadme,
  type Compression,
  type ItemKind,
  type Manifest,
  type ManifestImage,
  type ManifestItem,
} from './medium';
import { CopyProgressReader, formatBytes, type CopyProgress } from './progress';
import { copyImage, findImages } from './images';
import { AirgapError, runNix, type NixRunner } from './nix';

export interface ExportItem {
  display: string;
  kind: ItemKind;
  /** `flakeRef#attrPath` */
  installable: string;
}

export interface ExportRequest {
  flakeRef: string;
  /** Empty: the flake and its inputs only. */
  items: ExportItem[];
  /** The folder (a mounted disk). */
  medium: string;
  compression?: Compression;
  /** A secret key file (`nix key generate-secret`): the medium's paths are signed with it. */
  keyFile?: string;
  /** Copy image files found in the outputs next to the cache (default true). */
  images?: boolean;
  /** A private folder of ours (dev environments' profiles, a link to a medium whose path has a space). */
  privateDir: string;
  /** The time written into the manifest (default now). */
  now?: Date;
}

export type ExportPhase = 'prepare' | 'build' | 'closure' | 'copy' | 'inputs' | 'sign' | 'images' | 'manifest';

export interface ExportProgress {
  phase: ExportPhase;
  message: string;
  copy?: CopyProgress;
  /** Image bytes copied, of how many. */
  images?: { done: number; total: number };
}

export interface ExportResult {
  manifest: Manifest;
  /** Paths written to the cache by this export (those it did not hold yet). */
  copied: number;
  /** Bytes the cache files take (compressed). */
  bytesWritten: number;
  durationMs: number;
}

/** `nix build --json` output (read by the build core): every output path, checked to be a store path. */
export function parseBuildOutputs(stdout: string): string[] {
  const out = Object.values(readBuildOutputs(stdout)).filter((p) => /^\/[A-Za-z0-9._+\-/]+$/.test(p));
  if (out.length === 0) throw new Error('nix build --json gave no output path');
  return out;
}

/** `nix flake archive --json`: the flake's own source and every input's, without repeats. */
export function parseArchive(stdout: string): string[] {
  const seen = new Set<string>();
  const walk = (n: unknown, depth: number): void => {
    if (!n || typeof n !== 'object' || depth > 64) return;
    const node = n as { path?: unknown; inputs?: Record<string, unknown> };
    if (typeof node.path === 'string' && /^\/[A-Za-z0-9._+\-/]+$/.test(node.path)) seen.add(node.path);
    if (node.inputs && typeof node.inputs === 'object') for (const i of Object.values(node.inputs)) walk(i, depth + 1);
  };
  walk(JSON.parse(stdout), 0);
  return [...seen];
}

/** `nix flake metadata --json`: the revision, the source's store path, the subfolder. */
export function parseMetadata(stdout: string): { revision?: string; storePath?: string; dir?: string } {
  const v = JSON.parse(stdout) as { revision?: unknown; path?: unknown; locked?: { dir?: unknown }; original?: { dir?: unknown } };
  const dir = typeof v.locked?.dir === 'string' ? v.locked.dir : typeof v.original?.dir === 'string' ? v.original.dir : undefined;
  return {
    ...(typeof v.revision === 'string' && /^[0-9a-f]{40,64}$/.test(v.revision) ? { revision: v.revision } : {}),
    ...(typeof v.path === 'string' && /^\/[A-Za-z0-9._+\-/]+$/.test(v.path) ? { storePath: v.path } : {}),
    ...(dir && /^[A-Za-z0-9._+\-/]+$/.test(dir) ? { dir } : {}),
  };
}

/** The arguments after `nix copy` that write paths into a medium, with progress records. */
export function exportCopyArgs(uri: string, paths: readonly string[]): string[] {
  return ['--to', uri, '--log-format', 'internal-json', '-v', ...paths];
}

/** The arguments after `nix flake archive` that write a flake's inputs into a medium and print their paths. */
export function archiveArgs(uri: string, flakeRef: string): string[] {
  return ['--json', '--to', uri, '--log-format', 'internal-json', '-v', flakeRef];
}

const check = (signal: AbortSignal | undefined, where: string) => {
  if (signal?.aborted) throw new CancelledError(`export, ${where}`, []);
};

/**
 * Exports for offline use. Throws CancelledError when cancelled and AirgapError when a step fails; in both cases
 * no manifest is left in the folder (an earlier one is removed before anything is written).
 */
export async function exportMedium(
  r: NixRunner,
  req: ExportRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: ExportProgress) => void } = {},
): Promise<ExportResult> {
  const started = Date.now();
  const { signal } = opts;
  const report = (p: ExportProgress) => opts.onProgress?.(p);
  const compression = req.compression ?? 'zstd';
  report({ phase: 'prepare', message: 'Preparing the folder' });
  await mkdir(req.medium, { recursive: true });
  // Whatever happens next, the folder does not claim to be complete until the new manifest is written.
  await unlink(join(req.medium, MANIFEST)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  await mkdir(req.privateDir, { recursive: true });
  const nixPath = await nixPathFor(req.medium, req.privateDir);
  const writeUri = mediumUri(nixPath, { compression });
  const plainUri = mediumUri(nixPath);
  const work = await mkdtemp(join(req.privateDir, 'export-'));
  try {
    const publicKey = req.keyFile ? publicKeyOf(await readFile(req.keyFile, 'utf8')) : undefined;
    if (req.keyFile && !publicKey)
      throw new AirgapError('failed', `${req.keyFile} is not a Nix secret key (nix key generate-secret).`, '', '');

    // Steps that do not wait on each other run side by side (the flake's metadata with the builds, its inputs with
    // the closure's copy): each is a nix process that evaluates or copies on its own. A step that fails ends the
    // others (`own`), as a cancel does.
    const own = new AbortController();
    const stop = () => own.abort();
    signal?.addEventListener('abort', stop, { once: true });
    const both = own.signal;
    check(signal, 'metadata');
    const metaRun = runNix(r, ['flake', 'metadata'], ['--json', req.flakeRef], {
      signal: both,
      flakeOptions: true,
      what: 'Reading the flake',
    });
    metaRun.catch(() => undefined);
    try {
      const items: ManifestItem[] = [];
      for (const [i, item] of req.items.entries()) {
        check(signal, 'build');
        report({ phase: 'build', message: `${item.kind === 'devShell' ? 'Making the environment of' : 'Building'} ${item.display}` });
        let paths: string[];
        if (item.kind === 'devShell') {
          const profile = join(work, `shell-${i}`);
          await runNix(r, ['print-dev-env'], ['--profile', profile, item.installable], {
            signal: both,
            flakeOptions: true,
            what: `Making the environment of ${item.display}`,
            onStdoutLine: () => undefined,
          });
          paths = [await realpath(profile)];
        } else {
          paths = parseBuildOutputs(
            (
              await runNix(r, ['build'], ['--json', '--no-link', item.installable], {
                signal: both,
                flakeOptions: true,
                what: `Building ${item.display}`,
              })
            ).stdout,
          );
        }
        items.push({ display: item.display, kind: item.kind, installable: item.installable, paths });
      }
      const roots = [...new Set(items.flatMap((i) => i.paths))];
      const meta = parseMetadata((await metaRun).stdout);

      check(signal, 'closure');
      report({ phase: 'closure', message: 'Reading the closure' });
      const sizes = new Map<string, number>();
      if (roots.length) {
        const info = await runNix(r, ['path-info'], ['-r', '--json', ...roots], { signal: both, what: 'Reading the closure' });
        for (const p of parsePathInfo(info.stdout)) sizes.set(p.path, p.narSize);
      }

      let copied = 0;
      check(signal, 'copy');
      // The inputs are archived while the closure is copied; their progress is shown once the closure's is done.
      const inputsReader = new CopyProgressReader();
      let copying = roots.length > 0;
      const archiveRun = runNix(r, ['flake', 'archive'], archiveArgs(writeUri, req.flakeRef), {
        signal: both,
        flakeOptions: true,
        what: "Copying the flake's inputs",
        onStderrLine: (l) =>
          inputsReader.feed(l) &&
          !copying &&
          report({ phase: 'inputs', message: "Copying the flake's inputs", copy: inputsReader.progress }),
        keepStdout: true,
      });
      archiveRun.catch(() => undefined);
      if (roots.length) {
        const reader = new CopyProgressReader(sizes);
        report({
          phase: 'copy',
          message: `Copying the closure of ${roots.length} output${roots.length === 1 ? '' : 's'}`,
          copy: reader.progress,
        });
        await runNix(r, ['copy'], exportCopyArgs(writeUri, roots), {
          signal: both,
          what: 'Copying the closure',
          onStderrLine: (l) => reader.feed(l) && report({ phase: 'copy', message: 'Copying the closure', copy: reader.progress }),
        });
        copied += reader.copied.length;
        copying = false;
      }

      check(signal, 'inputs');
      report({ phase: 'inputs', message: "Copying the flake's inputs", copy: inputsReader.progress });
      const inputs = parseArchive((await archiveRun).stdout);
      copied += inputsReader.copied.length;
      const all = [...new Set([...roots, ...inputs])];

      if (req.keyFile) {
        check(signal, 'sign');
        report({ phase: 'sign', message: 'Signing the paths on the medium' });
        await runNix(r, ['store', 'sign'], signArgs(all, req.keyFile, { store: plainUri }), { signal, what: 'Signing' });
      }

      const images: ManifestImage[] = [];
      if (req.images !== false) {
        const found = [];
        for (const item of items)
          if (item.kind !== 'devShell' && item.kind !== 'host') for (const p of item.paths) found.push(...(await findImages(p)));
        if (found.length) {
          const total = found.reduce((s, f) => s + f.size, 0);
          let done = 0;
          const taken = new Set<string>();
          for (const img of found) {
            check(signal, 'images');
            report({ phase: 'images', message: `Copying ${img.name}`, images: { done, total } });
            const file = await copyImage(img, req.medium, taken, { signal, onBytes: (n) => (done += n) });
            images.push({ file, size: img.size, from: img.path });
          }
        }
      }

      check(signal, 'manifest');
      report({ phase: 'manifest', message: 'Writing the manifest' });
      const offlineRef = meta.storePath ? `path:${meta.storePath}${meta.dir ? `?dir=${meta.dir}` : ''}` : undefined;
      const base: Omit<Manifest, 'commands'> = {
        format: MANIFEST_FORMAT,
        version: 1,
        createdAt: (req.now ?? new Date()).toISOString(),
        flake: {
          ref: req.flakeRef,
          ...(meta.revision ? { revision: meta.revision } : {}),
          ...(meta.storePath ? { storePath: meta.storePath } : {}),
          ...(offlineRef ? { offlineRef } : {}),
        },
        items,
        inputs,
        paths: all,
        closure: { paths: sizes.size, narBytes: [...sizes.values()].reduce((a, b) => a + b, 0) },
        compression,
        ...(publicKey ? { publicKey } : {}),
        images,
      };
      const manifest: Manifest = { ...base, commands: commandsFor(base) };
      await writeFileAtomic(join(req.medium, README), renderReadme(manifest, formatBytes));
      check(signal, 'manifest');
      await writeFileAtomic(join(req.medium, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      return { manifest, copied, bytesWritten: await cacheBytes(req.medium), durationMs: Date.now() - started };
    } finally {
      // A failed or cancelled step ends the ones running beside it.
      stop();
      signal?.removeEventListener('abort', stop);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The bytes a medium's cache files take (nar/ and the .narinfo files). */
export async function cacheBytes(dir: string): Promise<number> {
  let total = 0;
  const add = async (d: string) => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names)
      if (n.endsWith('.narinfo') || d.endsWith('/nar')) total += (await stat(join(d, n)).catch(() => ({ size: 0 }))).size;
  };
  await add(dir);
  await add(join(dir, 'nar'));
  return total;
}
