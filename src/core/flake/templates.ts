// Flake templates: the templates a flake lists, the reference `nix flake init -t` is given, and the check that a
// template's files would overwrite nothing in the chosen folder. No `vscode` import.
//
// `nix flake init` refuses to overwrite differently on each version (measured): 2.8 stops at the first conflicting
// file, after writing the files it copied before it; 2.34 writes every file that does not conflict, then fails. So
// the files are first written by `nix flake init` into an empty folder of ours, compared with the chosen folder, and
// nothing is written there when one of them would replace a different file.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { installable } from './installable';
import { allLeaves, type FlakeShowModel } from './show';

export interface TemplateInfo {
  /** `['templates', 'rust']` or `['defaultTemplate']`. */
  attrPath: string[];
  /** `rust`, or `default` for `defaultTemplate`. */
  name: string;
  description?: string;
}

/** The templates a flake's outputs list (`templates.<name>` and the legacy `defaultTemplate`). */
export function templatesOf(model: FlakeShowModel): TemplateInfo[] {
  return allLeaves(model)
    .filter((l) => l.kind === 'template' && (l.attrPath[0] === 'templates' || l.attrPath[0] === 'defaultTemplate'))
    .map((l) => ({ attrPath: l.attrPath, name: l.attrPath[0] === 'defaultTemplate' ? 'default' : l.name, description: l.description }));
}

/** True when an attribute path names a template (`templates.<name>` or `defaultTemplate`). */
export function isTemplatePath(attrPath: readonly string[]): boolean {
  return (attrPath[0] === 'templates' && attrPath.length === 2) || (attrPath[0] === 'defaultTemplate' && attrPath.length === 1);
}

/** The `-t` reference of a template of a flake: `<flakeRef>#templates.<name>`. */
export function templateRef(flakeRef: string, attrPath: readonly string[]): string | undefined {
  const r = installable(flakeRef, attrPath);
  return r.ok ? r.value : undefined;
}

/** The arguments after `nix flake init` (which takes no flake-locking options). */
export function templateInitArgs(ref: string): string[] {
  return ['-t', ref];
}

/**
 * A reference the user typed (`github:owner/repo#rust`, `templates#python`, `./dir#x`): one word, not an option.
 * Nix checks the rest.
 */
export function checkTemplateReference(text: string): { ok: true; value: string } | { ok: false; message: string } {
  const v = text.trim();
  if (v === '') return { ok: false, message: 'Type a flake reference, e.g. templates#rust or github:owner/repo#name.' };
  if (v.startsWith('-')) return { ok: false, message: 'A flake reference does not start with "-".' };
  if (/[\s\0-\x1f\x7f]/.test(v)) return { ok: false, message: 'A flake reference has no spaces or control characters.' };
  return { ok: true, value: v };
}

export interface TreeEntry {
  /** Relative, `/`-separated. */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/** Every entry below `dir`, parents before their children, sorted (at most `max`). */
export async function listTree(dir: string, max = 10_000): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    for (const name of names) {
      if (out.length >= max) throw new Error(`the template has more than ${max} files`);
      const path = rel ? `${rel}/${name}` : name;
      const s = await lstat(join(dir, path));
      const kind = s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
      out.push({ path, kind });
      if (kind === 'dir') await walk(path);
    }
  };
  await walk('');
  return out;
}

export interface TemplatePlan {
  /** Files and links that do not exist in the target yet: what the template adds. */
  added: string[];
  /** Files already there with the same content (left as they are). */
  identical: string[];
  /** Paths that exist in the target with other content or of another kind: the template is refused. */
  conflicts: string[];
}

/**
 * Compares a template's files (written into `staged`) with the folder they would go to. A conflict is anything in
 * the way that differs: a file with other content, a link to elsewhere, a file where a folder goes or the reverse.
 */
export async function planTemplate(staged: string, target: string, entries?: readonly TreeEntry[]): Promise<TemplatePlan> {
  const plan: TemplatePlan = { added: [], identical: [], conflicts: [] };
  for (const e of entries ?? (await listTree(staged))) {
    const there = await lstat(join(target, e.path)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : err));
    if (there === undefined) {
      if (e.kind !== 'dir') plan.added.push(e.path);
      continue;
    }
    if (there instanceof Error) {
      // ENOTDIR: a file where one of its folders goes.
      plan.conflicts.push(e.path);
      continue;
    }
    if (e.kind === 'dir') {
      if (!there.isDirectory()) plan.conflicts.push(e.path);
    } else if (e.kind === 'file' && there.isFile()) {
      const [a, b] = await Promise.all([readFile(join(staged, e.path)), readFile(join(target, e.path))]);
      (a.equals(b) ? plan.identical : plan.conflicts).push(e.path);
    } else if (e.kind === 'symlink' && there.isSymbolicLink()) {
      const [a, b] = await Promise.all([readlink(join(staged, e.path)), readlink(join(target, e.path))]);
      (a === b ? plan.identical : plan.conflicts).push(e.path);
    } else plan.conflicts.push(e.path);
  }
  // A conflict below a folder that conflicts is said once, as the folder.
  plan.conflicts = plan.conflicts.filter((c) => !plan.conflicts.some((p) => p !== c && c.startsWith(`${p}/`)));
  return plan;
}

/**
 * The template's `welcomeText` from `nix flake init`'s stderr: what is left without the lines about files and
 * warnings (2.8 indents it, 2.34 does not).
 */
export function welcomeText(stderrLines: readonly string[]): string | undefined {
  const kept = stderrLines.filter(
    (l) => !/^(wrote: |skipping identical file: |warning: |refusing to overwrite |\s*please merge it manually|error: )/.test(l.trimStart()),
  );
  const nonEmpty = kept.filter((l) => l.trim() !== '');
  if (nonEmpty.length === 0) return undefined;
  const indent = Math.min(...nonEmpty.map((l) => l.length - l.trimStart().length));
  return kept
    .map((l) => l.slice(indent))
    .join('\n')
    .trim();
}
