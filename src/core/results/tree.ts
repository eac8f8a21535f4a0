// Two build results compared file by file: what was added, removed or changed between two store paths (a folder or
// a single file each), multi-document YAML compared per resource so a reordered render is no change. Bounded: at
// most MAX_FILES files per side, files above MAX_COMPARE_BYTES compared by size and a hash. Also the flake reference
// of a committed revision. No `vscode` import.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { diffYamlDocuments, isYamlName, MAX_YAML_BYTES, type ResourceChange } from './yaml';
import { flakeRefForFolder } from '../flake/installable';

export const MAX_FILES = 20_000;
/** Files larger than this are compared by hash, never read as text. */
export const MAX_COMPARE_BYTES = 16 * 1024 * 1024;

export interface ResultFile {
  /** Relative to the result's root, `/`-separated; `''` when the result is a single file. */
  rel: string;
  kind: 'file' | 'symlink';
  size: number;
  /** The link's target (symlink). */
  target?: string;
}

export interface FileChange {
  rel: string;
  status: 'added' | 'removed' | 'changed';
  /** Per-resource changes of a multi-document YAML file (changed files only; unchanged resources left out). */
  resources?: ResourceChange[];
}

export interface TreeDiff {
  changes: FileChange[];
  /** Files whose bytes differ but whose resources are the same (a reordered render). */
  reordered: string[];
  /** The listing stopped at MAX_FILES on one side. */
  truncated: boolean;
}

/** The files of a result (a folder walked, or the file itself), sorted by path. */
export async function listResult(root: string, max = MAX_FILES): Promise<{ files: ResultFile[]; truncated: boolean }> {
  const files: ResultFile[] = [];
  let truncated = false;
  const top = await lstat(root);
  if (!top.isDirectory()) {
    if (top.isSymbolicLink()) return { files: [{ rel: '', kind: 'symlink', size: 0, target: await readlink(root) }], truncated };
    return { files: [{ rel: '', kind: 'file', size: top.size }], truncated };
  }
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (files.length >= max) {
        truncated = true;
        return;
      }
      const p = join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p, r);
      else if (e.isSymbolicLink()) files.push({ rel: r, kind: 'symlink', size: 0, target: await readlink(p) });
      else if (e.isFile()) files.push({ rel: r, kind: 'file', size: (await stat(p)).size });
    }
  };
  await walk(root, '');
  return { files, truncated };
}

async function digest(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

function pathOf(root: string, rel: string): string {
  return rel ? join(root, rel) : root;
}

/**
 * Compares two results. A single-file result is compared with a single-file one as `''`; a folder with a file
 * changes everything.
 */
export async function diffResults(before: string, after: string): Promise<TreeDiff> {
  const [a, b] = await Promise.all([listResult(before), listResult(after)]);
  const old = new Map(a.files.map((f) => [f.rel, f]));
  const changes: FileChange[] = [];
  const reordered: string[] = [];
  for (const f of b.files) {
    const o = old.get(f.rel);
    old.delete(f.rel);
    if (!o) {
      changes.push({ rel: f.rel, status: 'added' });
      continue;
    }
    if (o.kind !== f.kind) {
      changes.push({ rel: f.rel, status: 'changed' });
      continue;
    }
    if (f.kind === 'symlink') {
      if (o.target !== f.target) changes.push({ rel: f.rel, status: 'changed' });
      continue;
    }
    const pa = pathOf(before, o.rel);
    const pb = pathOf(after, f.rel);
    if (o.size > MAX_COMPARE_BYTES || f.size > MAX_COMPARE_BYTES) {
      if (o.size !== f.size || (await digest(pa)) !== (await digest(pb))) changes.push({ rel: f.rel, status: 'changed' });
      continue;
    }
    const [x, y] = await Promise.all([readFile(pa), readFile(pb)]);
    if (x.equals(y)) continue;
    const name = f.rel || after;
    if (isYamlName(name) && x.length <= MAX_YAML_BYTES && y.length <= MAX_YAML_BYTES) {
      const resources = diffYamlDocuments(x.toString('utf8'), y.toString('utf8')).filter((r) => r.status !== 'unchanged');
      if (resources.length === 0) reordered.push(f.rel);
      else changes.push({ rel: f.rel, status: 'changed', resources });
      continue;
    }
    changes.push({ rel: f.rel, status: 'changed' });
  }
  for (const o of old.values()) changes.push({ rel: o.rel, status: 'removed' });
  changes.sort((p, q) => (p.rel < q.rel ? -1 : p.rel > q.rel ? 1 : 0));
  return { changes, reordered, truncated: a.truncated || b.truncated };
}

/**
 * The flake reference of a folder's flake at a committed revision: `git+file://<root>?dir=<sub>&rev=<rev>` (the
 * revision's tree, not the working tree). Undefined when the revision is not a full commit hash.
 */
export function revisionFlakeRef(flakeDir: string, gitRoot: string, rev: string): string | undefined {
  if (!/^[0-9a-f]{40}$/.test(rev)) return undefined;
  const r = flakeRefForFolder(flakeDir, { scheme: 'git', gitRoot });
  if (!r.ok) return undefined;
  return `${r.value}${r.value.includes('?') ? '&' : '?'}rev=${rev}`;
}
