// Writing a user's file so that it is either the old file or the new one, never half of each: the new content goes
// to a temporary file beside the target (same directory, so the same file system) and replaces it by rename. A
// symlink stays a symlink (its final target is written), and the target keeps its mode (and owner, where we may).
// No `vscode` import.

import { randomBytes } from 'node:crypto';
import { lstat, open, readlink, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Symlinks followed before giving up (the kernel's own limit is 40). */
const MAX_LINKS = 40;

/**
 * The file a write to `path` should replace: `path` itself, or the end of its chain of symlinks (relative links
 * resolved against the link's own directory). A dangling link resolves to the missing file it names, which the
 * write then creates. Throws `ELOOP` for a cycle.
 */
export async function resolveWriteTarget(path: string): Promise<string> {
  let p = resolve(path);
  for (let i = 0; i <= MAX_LINKS; i++) {
    let st;
    try {
      st = await lstat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
    if (!st.isSymbolicLink()) return p;
    p = resolve(dirname(p), await readlink(p));
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links: ${path}`), { code: 'ELOOP', path });
}

/**
 * Replaces the content of `path` atomically. A symlink at `path` (or a chain of them) is kept and its final target
 * written; an existing target keeps its permission bits (and owner and group when the process may set them); a new
 * file gets the usual mode (0666 less the umask). The data is flushed to disk before the rename. On any failure the
 * temporary file is removed and the original is left as it was.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const target = await resolveWriteTarget(path);
  let existing: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = await stat(target);
    existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  // `wx`: never follow or reuse something that is already there under the temporary name.
  const handle = await open(tmp, 'wx', existing ? 0o600 : 0o666);
  try {
    try {
      await handle.writeFile(data);
      // chmod on the handle is not masked by the umask: the mode is the original's exactly.
      if (existing) {
        if (process.getuid && (existing.uid !== process.getuid() || existing.gid !== process.getgid?.())) {
          await handle.chown(existing.uid, existing.gid).catch(() => undefined);
        }
        await handle.chmod(existing.mode);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(target));
}

/** Makes a rename in `dir` durable where the platform allows it (best effort). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Not every platform or file system can sync a directory; the rename itself is already atomic.
  }
}
