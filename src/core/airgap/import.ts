// Importing a medium into the local store: `nix copy --from file://…` of the paths its manifest lists (or, for a
// medium without one, an export that did not finish, of the paths its .narinfo files name), signatures checked
// against the keys the store trusts (and those the user added for imports); what was added read from the copy's
// records. A tampered or damaged file is refused by Nix (hash or checksum mismatch) and reported as such.
// No `vscode` import.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cachedPaths, inspectFolder, MANIFEST, mediumUri, nixPathFor, parseManifest, type Manifest } from './medium';
import { CopyProgressReader, type CopyProgress } from './progress';
import { AirgapError, runNix, type NixRunner } from './nix';

export interface MediumContents {
  /** The manifest, when the export finished. */
  manifest?: Manifest;
  /** Why a manifest that is there could not be read. */
  manifestProblem?: string;
  /** The paths to import: the manifest's, else every path the cache holds. */
  paths: string[];
  /** No manifest: the export was cancelled or failed, and the medium may lack paths. */
  incomplete: boolean;
}

/** What a folder offers for an import. Throws when it holds no binary cache. */
export async function readMedium(dir: string): Promise<MediumContents> {
  const st = await inspectFolder(dir);
  if (!st.exists) throw new AirgapError('failed', `${dir} does not exist.`, '', '');
  if (!st.cache) throw new AirgapError('failed', `${dir} holds no binary cache (no nix-cache-info): not an offline medium.`, '', '');
  if (st.manifest) {
    const text = await readFile(join(dir, MANIFEST), 'utf8');
    const m = text.length > 64 << 20 ? { ok: false as const, reason: 'the manifest is too large' } : parseManifest(text);
    if (m.ok) return { manifest: m.manifest, paths: m.manifest.paths, incomplete: false };
    return { manifestProblem: m.reason, paths: await cachedPaths(dir), incomplete: true };
  }
  return { paths: await cachedPaths(dir), incomplete: true };
}

export interface ImportOptions {
  /** Public keys trusted for this import besides the store's (`extra-trusted-public-keys`; needs a trusted user). */
  trustedKeys?: readonly string[];
  /** Another store to import into (`--store`, e.g. `local?root=/mnt`): tests, or a system being installed. */
  store?: string;
}

/** The arguments after `nix copy` that import `paths` from a medium. Signatures are always checked. */
export function importArgs(uri: string, paths: readonly string[], opts: ImportOptions = {}): string[] {
  const keys = (opts.trustedKeys ?? []).filter((k) => /^[^\s:]+:[A-Za-z0-9+/]+={0,2}$/.test(k));
  return [
    '--from',
    uri,
    ...(opts.store ? ['--store', opts.store] : []),
    ...(keys.length ? ['--option', 'extra-trusted-public-keys', keys.join(' ')] : []),
    '--log-format',
    'internal-json',
    '-v',
    ...paths,
  ];
}

export interface ImportResult {
  contents: MediumContents;
  /** Paths added to the store (those it did not hold yet). */
  added: string[];
  progress: CopyProgress;
}

/** Imports a medium. Throws AirgapError (`unsigned`, `corrupt`, `incomplete`, `failed`) or CancelledError. */
export async function importMedium(
  r: NixRunner,
  dir: string,
  opts: ImportOptions & { privateDir: string; signal?: AbortSignal; onProgress?: (p: CopyProgress) => void },
): Promise<ImportResult> {
  const contents = await readMedium(dir);
  if (contents.paths.length === 0) throw new AirgapError('incomplete', `${dir} holds no store path.`, '', '');
  const uri = mediumUri(await nixPathFor(dir, opts.privateDir));
  const reader = new CopyProgressReader();
  await runNix(r, ['copy'], importArgs(uri, contents.paths, opts), {
    signal: opts.signal,
    what: 'Importing the medium',
    onStderrLine: (l) => {
      if (reader.feed(l)) opts.onProgress?.(reader.progress);
    },
  });
  return { contents, added: [...reader.copied], progress: reader.progress };
}
