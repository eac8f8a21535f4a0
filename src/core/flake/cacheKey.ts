// A cheap key for "could this flake's outputs have changed?": the git HEAD, the status of tracked files (with the
// size and modification time of each changed one), flake.lock's content, and whatever else the caller adds (Nix
// version, systems). No hashing of the tree, no nix. Untracked files are invisible to a git flake, so they do not
// count. No `vscode` import.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from '../nix/process';

export interface CacheKeyOptions {
  /** Extra parts: the Nix version, the systems shown, settings that change the result. */
  extra?: readonly string[];
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** How git is run (the extension's gateway, with its trust check and log); default: the process layer. */
  run?: (file: string, args: readonly string[], opts: RunOptions) => Promise<RunResult>;
}

/**
 * The key for the flake in `dir`, or undefined when it is not in a git work tree (then every change may matter,
 * and nothing is cached).
 */
export async function flakeCacheKey(dir: string, opts: CacheKeyOptions = {}): Promise<string | undefined> {
  const git = (...args: string[]) =>
    (opts.run ?? run)('git', ['-C', dir, ...args], { signal: opts.signal, env: opts.env, maxStdout: 16 << 20 });
  let root: string;
  let head: string;
  let status: string;
  try {
    const top = await git('rev-parse', '--show-toplevel', 'HEAD');
    const [r, h] = top.stdout.split('\n');
    if (r === undefined || h === undefined) return undefined;
    root = r;
    head = h;
    status = (await git('status', '--porcelain=v1', '-z', '--untracked-files=no', '--no-renames')).stdout;
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  hash.update(`head ${head}\n`);
  for (const part of opts.extra ?? []) hash.update(`extra ${part}\n`);
  // Entries are "XY path\0"; a changed file's size and mtime change when its content does.
  const entries = status.split('\0').filter(Boolean).sort();
  for (const e of entries) {
    const rel = e.slice(3);
    let meta = 'missing';
    try {
      const s = await stat(join(root, rel));
      meta = `${s.size}:${s.mtimeMs}`;
    } catch {
      // deleted
    }
    hash.update(`dirty ${e.slice(0, 2)} ${rel} ${meta}\n`);
  }
  try {
    hash.update(`lock ${await readFile(join(dir, 'flake.lock'), 'utf8')}\n`);
  } catch {
    hash.update('no lock\n');
  }
  return hash.digest('hex');
}
