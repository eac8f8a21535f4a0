// Where a flake's files are: its git work tree, the flake reference every command uses for it, and the mapping of
// store paths in Nix's messages back to workspace files. Shared by every feature that shows Nix's errors.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../context';
import { folderFlakeRef, installable } from '../core/flake/installable';
import { formatString } from '../core/source';
import { describe } from '../core/nix/version';
import { createStoreMapper, localizePaths, sourcesFromFlake, type MappedFile } from '../core/errors/storePath';
import type { Flake } from './flakes';

export type Mapper = (file: string) => MappedFile;

/**
 * The root of the git work tree a flake lives in (cached in the context: it does not change): Nix copies that whole
 * tree to the store, also for a flake in a subdirectory. The workspace folder when the flake is not in git (or the
 * folder is not trusted: then git does not run).
 */
export function gitRootOf(ctx: Ctx, flake: Flake): Promise<string> {
  const key = flake.uri.fsPath;
  let root = ctx.gitRoots.get(key);
  if (!root) {
    root = ctx.git(['-C', key, 'rev-parse', '--show-toplevel'], { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.stdout.trim() || flake.folder.uri.fsPath,
      () => flake.folder.uri.fsPath,
    );
    if (ctx.trusted) ctx.gitRoots.set(key, root);
  }
  return root;
}

/**
 * The flake reference every command uses for a flake of the workspace (see `folderFlakeRef`). Throws, saying why,
 * when this Nix cannot read the folder's path (Nix 2.8 does not decode percent-encoded references: measured; assumed
 * for every Nix before 2.26, the oldest newer one measured).
 */
export async function flakeRef(ctx: Ctx, flake: Flake): Promise<string> {
  const dir = flake.uri.fsPath;
  const root = await gitRootOf(ctx, flake);
  const inGit = existsSync(join(root, '.git'));
  const r = folderFlakeRef(dir, inGit ? root : undefined);
  if (!r.ok) throw new Error(r.error.message);
  if (r.needsEncoding) {
    const nix = await ctx.nix();
    if (nix.ok && nix.nix.version.major === 2 && nix.nix.version.minor < 26) {
      throw new Error(
        `${describe(nix.nix.version)} cannot read a flake in a folder whose path holds a space, '#', '?' or '%' (${dir}): rename the folder, or use Nix 2.26 or newer.`,
      );
    }
  }
  return r.value;
}

/**
 * Maps store paths in a flake's errors and positions to workspace files: exactly by store hash when the flake's
 * `nix flake metadata` / `nix flake archive` output is given, else by the path relative to the git root. Files that
 * newer Nix names by reference (`«github:NixOS/nixpkgs/<rev>»/lib/x.nix`) are found in the flake's lock file: a
 * local one in the workspace, an input by its name.
 */
export async function flakeMapper(ctx: Ctx, flake: Flake, storeDir: string, metadata?: unknown, archive?: unknown): Promise<Mapper> {
  const gitRoot = await gitRootOf(ctx, flake);
  const lock = metadata === undefined ? await readLock(flake) : undefined;
  return createStoreMapper({
    sources: sourcesFromFlake({ gitRoot, metadata, archive, lock }),
    workspaceRoots: [gitRoot, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)],
    exists: existsSync,
    storeDir,
  });
}

/** The flake's flake.lock, parsed; undefined when there is none or it is not JSON. */
async function readLock(flake: Flake): Promise<unknown> {
  try {
    return JSON.parse(await readFile(vscode.Uri.joinPath(flake.uri, 'flake.lock').fsPath, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Paths in a message shown as what they stand for: a workspace file as its workspace path, a file of an input as
 * `«input nixpkgs»/lib/x.nix` (store paths, and newer Nix's `«git+file:///…?rev=…»/x.nix`).
 */
export function localizeMessage(message: string, map: Mapper): string {
  return localizePaths(message, map, (m) =>
    m.kind === 'workspace' ? vscode.workspace.asRelativePath(m.path, true) : m.kind === 'input' ? `«${m.label}»/${m.rel}` : undefined,
  );
}

/** Where a listed position is, as Nix prints it from `unsafeGetAttrPos` (1-based line and column). */
interface NixPosition {
  file: string;
  line: number;
  column: number;
}

function readPosition(json: unknown): NixPosition | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const p = json as Record<string, unknown>;
  if (typeof p.file !== 'string' || typeof p.line !== 'number' || !Number.isInteger(p.line) || p.line < 1) return undefined;
  return { file: p.file, line: p.line, column: typeof p.column === 'number' && Number.isInteger(p.column) && p.column > 0 ? p.column : 1 };
}

/**
 * Where an attribute of a flake's outputs is written in the workspace: the position of its name in the set that
 * holds it (`builtins.unsafeGetAttrPos`: forces nothing but that set). Undefined when Nix does not know, the file
 * is not in the workspace, or the query fails or times out (`timeoutMs`, default 60 s; `signal` cancels it).
 */
export async function attrPosition(
  ctx: Ctx,
  flake: Flake,
  attrPath: readonly string[],
  opts: { signal?: AbortSignal; timeoutMs?: number; mapper?: Mapper } = {},
): Promise<vscode.Location | undefined> {
  const parent = attrPath.slice(0, -1);
  const name = attrPath[attrPath.length - 1];
  if (name === undefined || parent.length === 0) return undefined;
  try {
    const inst = installable(await flakeRef(ctx, flake), parent);
    if (!inst.ok) return undefined;
    const bound = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
    const signal = opts.signal ? AbortSignal.any([opts.signal, bound]) : bound;
    const json = await ctx.nixJson(['eval'], ['--json', inst.value, '--apply', `s: builtins.unsafeGetAttrPos ${formatString(name)} s`], {
      cwd: flake.uri.fsPath,
      scope: flake.folder,
      signal,
    });
    const pos = readPosition(json);
    if (!pos) return undefined;
    const mapper = opts.mapper ?? (await flakeMapper(ctx, flake, (await ctx.requireNix()).storeDir));
    const m = mapper(pos.file);
    if (m.kind !== 'workspace') return undefined;
    return new vscode.Location(vscode.Uri.file(m.path), new vscode.Position(pos.line - 1, pos.column - 1));
  } catch {
    return undefined;
  }
}
