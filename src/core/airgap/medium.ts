// An offline medium: a folder holding a `file://` binary cache (nix-cache-info, *.narinfo, nar/), image files beside
// it (images/), a text for people (OFFLINE.txt) and the manifest (nix-offline.json). The manifest is written last and
// atomically: a folder without one is an export that did not finish. No `vscode` import.
import { mkdtemp, readdir, readFile, stat, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { shellQuote } from '../deploy/plan';
import { isPublicKey } from '../nix/sign';
import { EXPERIMENTAL } from '../nix/args';

export const MANIFEST = 'nix-offline.json';
export const README = 'OFFLINE.txt';
export const IMAGES = 'images';
export const MANIFEST_FORMAT = 'nix-flakes-offline';

export type Compression = 'zstd' | 'xz' | 'none';
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'xz', 'none'];

/** A folder path Nix can read inside a `file://` store URL: Nix splits such a URL at `?` and parses no escapes. */
const PLAIN_PATH = /^\/[A-Za-z0-9._+\-/@=:,~]*$/;

export function isPlainPath(dir: string): boolean {
  return PLAIN_PATH.test(dir) && !dir.includes('//');
}

/**
 * The path Nix is given for a medium folder: the folder itself, or, when its path holds characters a store URL cannot
 * carry (a space in "/media/USB DISK"), a symbolic link to it in `privateDir` (a folder of ours).
 */
export async function nixPathFor(dir: string, privateDir: string): Promise<string> {
  const abs = resolve(dir);
  if (isPlainPath(abs)) return abs;
  const holder = await mkdtemp(join(privateDir, 'medium-'));
  const link = join(holder, 'medium');
  await symlink(abs, link);
  if (!isPlainPath(link)) throw new Error(`The extension's storage path cannot be used in a store URL: ${link}`);
  return link;
}

/** `file://<dir>` with the compression of new files (export) or without parameters (import, readiness, signing). */
export function mediumUri(dir: string, opts: { compression?: Compression } = {}): string {
  if (!isPlainPath(dir)) throw new Error(`Not a path Nix can read in a store URL: ${JSON.stringify(dir)}`);
  return `file://${dir}${opts.compression ? `?compression=${opts.compression}` : ''}`;
}

export type ItemKind = 'host' | 'package' | 'check' | 'devShell' | 'other';

/** One thing exported: what the user chose, the installable, the store paths it stands for. */
export interface ManifestItem {
  display: string;
  kind: ItemKind;
  installable: string;
  /** The store paths to import for it (a build's outputs; a dev shell's environment). */
  paths: string[];
}

export interface ManifestImage {
  /** Relative to the medium: `images/<name>`. */
  file: string;
  size: number;
  /** The store path it was copied from. */
  from: string;
}

export interface ManifestCommand {
  what: string;
  /** A command line for a POSIX shell, run in the medium's folder. */
  command: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  createdAt: string;
  flake: {
    /** The reference it was exported from. */
    ref: string;
    /** The git revision, when the flake is a clean git tree. */
    revision?: string;
    /** The flake's own source in the store (`nix flake metadata`), imported with the inputs. */
    storePath?: string;
    /** `path:<storePath>` (with `?dir=` for a flake in a subfolder): how the other side refers to it. */
    offlineRef?: string;
  };
  items: ManifestItem[];
  /** The flake's source and its inputs' (`nix flake archive`). */
  inputs: string[];
  /** Every store path to import: the items' paths and the inputs (with their closures). */
  paths: string[];
  closure: { paths: number; narBytes: number };
  compression: Compression;
  /** The public half of the key the medium is signed with. */
  publicKey?: string;
  images: ManifestImage[];
  commands: ManifestCommand[];
}

const STORE_PATH = /^\/[A-Za-z0-9._+\-/]+$/;
const MAX_PATHS = 100_000;
const MAX_TEXT = 4096;

function str(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length <= max;
}
function paths(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= MAX_PATHS && v.every((p) => str(p) && STORE_PATH.test(p));
}

/**
 * Reads a manifest (untrusted: it came on a disk). Returns it when every field has its type, else a reason. Store
 * paths must be plain absolute paths; text is bounded.
 */
export function parseManifest(text: string): { ok: true; manifest: Manifest } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the manifest is not JSON' };
  }
  const m = v as Partial<Manifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT) return { ok: false, reason: 'not a manifest of an offline medium' };
  if (m.version !== 1) return { ok: false, reason: `manifest version ${JSON.stringify(m.version)} is not known` };
  const f = m.flake as Manifest['flake'] | undefined;
  if (
    !f ||
    !str(f.ref) ||
    (f.revision !== undefined && !str(f.revision)) ||
    (f.storePath !== undefined && !(str(f.storePath) && STORE_PATH.test(f.storePath))) ||
    (f.offlineRef !== undefined && !str(f.offlineRef))
  )
    return { ok: false, reason: 'the manifest names no flake' };
  if (
    !Array.isArray(m.items) ||
    m.items.length > 10_000 ||
    !m.items.every((i) => i && str(i.display) && str(i.installable) && str(i.kind) && paths(i.paths))
  )
    return { ok: false, reason: 'the manifest lists bad items' };
  if (!paths(m.inputs) || !paths(m.paths) || m.paths.length === 0)
    return { ok: false, reason: 'the manifest lists no store paths to import' };
  if (!m.closure || !Number.isSafeInteger(m.closure.paths) || !Number.isSafeInteger(m.closure.narBytes))
    return { ok: false, reason: 'the manifest has no closure size' };
  if (!COMPRESSIONS.includes(m.compression as Compression)) return { ok: false, reason: 'unknown compression' };
  if (m.publicKey !== undefined && !(str(m.publicKey) && isPublicKey(m.publicKey)))
    return { ok: false, reason: 'the public key is not one' };
  if (
    !Array.isArray(m.images) ||
    !m.images.every(
      (i) => i && str(i.file) && /^images\/[^/]+$/.test(i.file) && !i.file.includes('..') && Number.isSafeInteger(i.size) && str(i.from),
    )
  )
    return { ok: false, reason: 'the manifest lists bad images' };
  if (!Array.isArray(m.commands) || !m.commands.every((c) => c && str(c.what) && str(c.command, 1 << 20)))
    return { ok: false, reason: 'bad commands' };
  if (!str(m.createdAt)) return { ok: false, reason: 'no date' };
  return { ok: true, manifest: m as Manifest };
}

const nixCmd = (args: readonly string[]): string =>
  ['nix', ...[...EXPERIMENTAL, ...args].map((a) => (a === 'file://$MEDIUM' ? '"file://$MEDIUM"' : shellQuote(a)))].join(' ');

/** The commands for the machine without network, run in the medium's folder. */
export function commandsFor(m: Omit<Manifest, 'commands'>): ManifestCommand[] {
  const out: ManifestCommand[] = [
    { what: 'Name this folder (its path must hold no space; a store URL cannot carry one)', command: 'MEDIUM="$PWD"' },
  ];
  if (m.publicKey) {
    out.push({
      what: `Trust the key the paths are signed with: add it to trusted-public-keys in /etc/nix/nix.conf (then restart nix-daemon)`,
      command: `echo ${shellQuote(`extra-trusted-public-keys = ${m.publicKey}`)} | sudo tee -a /etc/nix/nix.conf`,
    });
  }
  out.push({
    what: m.publicKey
      ? 'Import (signatures checked)'
      : 'Import (the medium is not signed: nix refuses it unless you are a trusted user and add --no-check-sigs)',
    command: nixCmd(['copy', '--from', 'file://$MEDIUM', ...m.paths]),
  });
  const ref = m.flake.offlineRef;
  for (const item of m.items) {
    const inst = ref && item.installable.includes('#') ? `${ref}#${item.installable.slice(item.installable.indexOf('#') + 1)}` : undefined;
    if (item.kind === 'host') {
      const top = item.paths[0];
      if (inst)
        out.push({
          what: `Check that ${item.display} needs nothing from the network`,
          command: nixCmd(['build', '--offline', '--dry-run', inst]),
        });
      if (top)
        out.push({
          what: `Switch to ${item.display}`,
          command: `sudo nix-env -p /nix/var/nix/profiles/system --set ${shellQuote(top)} && sudo ${shellQuote(`${top}/bin/switch-to-configuration`)} switch`,
        });
    } else if (item.kind === 'devShell') {
      if (inst) out.push({ what: `Enter ${item.display}`, command: nixCmd(['develop', '--offline', inst]) });
    } else if (inst) {
      out.push({ what: `Build ${item.display} (already built: nothing to do)`, command: nixCmd(['build', '--offline', inst]) });
    }
  }
  if (ref) out.push({ what: 'The flake evaluates without network', command: nixCmd(['flake', 'metadata', '--offline', ref]) });
  return out;
}

/** OFFLINE.txt: what is on the medium and the commands, for people. */
export function renderReadme(m: Manifest, formatBytes: (n: number) => string): string {
  const lines = [
    'Offline medium (a Nix binary cache)',
    '',
    `Flake: ${m.flake.ref}${m.flake.revision ? ` (revision ${m.flake.revision})` : ''}`,
    `Exported: ${m.createdAt}`,
    `What: ${m.items.map((i) => `${i.display} (${i.kind})`).join(', ') || 'the flake and its inputs'}`,
    `Closure: ${m.closure.paths} store paths, ${formatBytes(m.closure.narBytes)} unpacked, compression ${m.compression}`,
    m.publicKey ? `Signed with: ${m.publicKey}` : 'Not signed.',
    ...(m.images.length ? ['', 'Images:', ...m.images.map((i) => `  ${i.file}  ${formatBytes(i.size)}`)] : []),
    '',
    'On the machine without network, in this folder:',
    '',
    ...m.commands.flatMap((c) => [`# ${c.what}`, c.command, '']),
  ];
  return `${lines.join('\n')}\n`;
}

/** What a folder holds, before an export into it or an import from it. */
export interface FolderState {
  exists: boolean;
  /** Files in it (up to a bound). */
  entries: number;
  /** It holds a binary cache (nix-cache-info). */
  cache: boolean;
  manifest: boolean;
}

export async function inspectFolder(dir: string): Promise<FolderState> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { exists: false, entries: 0, cache: false, manifest: false };
  }
  return { exists: true, entries: names.length, cache: names.includes('nix-cache-info'), manifest: names.includes(MANIFEST) };
}

/** At most this many .narinfo files are read from a medium without a manifest. */
const MAX_NARINFO = 50_000;

/** The store paths a cache folder holds, from its .narinfo files (`StorePath:`), bounded. */
export async function cachedPaths(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /^[0-9a-df-np-sv-z]{32}\.narinfo$/.test(n)).slice(0, MAX_NARINFO);
  const out: string[] = [];
  for (const n of names) {
    const file = join(dir, n);
    if ((await stat(file)).size > 1 << 20) continue;
    const m = /^StorePath: (\/\S+)$/m.exec(await readFile(file, 'utf8'));
    if (m && STORE_PATH.test(m[1]!)) out.push(m[1]!);
  }
  return out.sort();
}
