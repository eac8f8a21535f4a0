// Image files in build outputs (an ISO under iso/, a VM disk, a docker/OCI tarball that is the output itself), found
// by name and copied next to a medium's cache with their sizes. No `vscode` import.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

const IMAGE = /\.(?:iso|img|qcow2|raw|vhd|vhdx|vmdk|vdi|ova|tar|tar\.gz|tgz|tar\.zst|tar\.xz)$/i;
const MAX_DEPTH = 3;
const MAX_ENTRIES = 5000;

export interface ImageFile {
  /** Where it is in the store. */
  path: string;
  /** The name it gets on the medium. */
  name: string;
  size: number;
}

export function isImageName(name: string): boolean {
  return IMAGE.test(name);
}

/**
 * The image files of one output: the output itself when it is such a file (dockerTools), else the files named like
 * images within three levels of it (nixos-generators, `iso/*.iso`). Symbolic links are not followed: an output's
 * links point into its dependencies, which are not its images. At most MAX_ENTRIES entries are looked at.
 */
export async function findImages(outPath: string): Promise<ImageFile[]> {
  const st = await lstat(outPath);
  const nameOf = (p: string) => basename(p).replace(/^[0-9a-df-np-sv-z]{32}-/, '');
  if (st.isFile()) return isImageName(outPath) ? [{ path: outPath, name: nameOf(outPath), size: st.size }] : [];
  if (!st.isDirectory()) return [];
  const found: ImageFile[] = [];
  let seen = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (++seen > MAX_ENTRIES) return;
      const p = join(dir, e.name);
      if (e.isFile() && isImageName(e.name)) found.push({ path: p, name: e.name, size: (await stat(p)).size });
      else if (e.isDirectory() && depth < MAX_DEPTH) await walk(p, depth + 1);
    }
  };
  await walk(outPath, 1);
  return found;
}

/**
 * Copies an image into `<medium>/images/` under a name not taken yet by an earlier image of this export, through a
 * temporary file renamed when complete (a cancelled copy leaves nothing that looks whole). Returns its name there.
 */
export async function copyImage(
  image: ImageFile,
  medium: string,
  taken: Set<string>,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<string> {
  const dir = join(medium, 'images');
  await mkdir(dir, { recursive: true });
  let name = image.name;
  for (let i = 2; taken.has(name); i++) name = image.name.replace(/^([^.]*)/, `$1-${i}`);
  taken.add(name);
  const tmp = join(dir, `.${name}.partial`);
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      opts.onBytes?.(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(image.path), count, createWriteStream(tmp, { mode: 0o644 }), { signal: opts.signal });
    await rename(tmp, join(dir, name));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return `images/${name}`;
}
