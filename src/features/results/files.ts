// A read-only file system over build results in the store (`nix-result:/nix/store/<hash>-<name>/…`): documents open
// with their language (YAML as YAML), nothing can be written, and only store paths are served. The Build Results view
// lists the results opened, their folders read lazily.
import * as vscode from 'vscode';
import { readFile, readdir, stat, lstat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseStorePath, storePathName } from '../../core/nix/store';

export const SCHEME = 'nix-result';

/** The `nix-result:` URI of a store path. */
export function resultUri(path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME, path });
}

/** The store path of a `nix-result:` URI; throws FileNotFound for anything outside the store. */
function storePath(uri: vscode.Uri): string {
  const p = uri.path;
  if (!parseStorePath(p) || p.split('/').includes('..')) throw vscode.FileSystemError.FileNotFound(uri);
  return p;
}

function fsError(e: unknown, uri: vscode.Uri): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return vscode.FileSystemError.FileNotFound(uri);
  if (code === 'EACCES' || code === 'EPERM') return vscode.FileSystemError.NoPermissions(uri);
  return e as Error;
}

export class ResultFiles implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  watch(): vscode.Disposable {
    // Store paths never change.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const p = storePath(uri);
    try {
      const [s, l] = await Promise.all([stat(p), lstat(p)]);
      const type =
        (s.isDirectory() ? vscode.FileType.Directory : vscode.FileType.File) | (l.isSymbolicLink() ? vscode.FileType.SymbolicLink : 0);
      return { type, ctime: s.ctimeMs, mtime: s.mtimeMs, size: s.size, permissions: vscode.FilePermission.Readonly };
    } catch (e) {
      throw fsError(e, uri);
    }
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const p = storePath(uri);
    try {
      const entries = await readdir(p, { withFileTypes: true });
      return entries
        .slice(0, 10_000)
        .map((e): [string, vscode.FileType] => [
          e.name,
          e.isDirectory()
            ? vscode.FileType.Directory
            : e.isSymbolicLink()
              ? vscode.FileType.SymbolicLink | vscode.FileType.File
              : vscode.FileType.File,
        ]);
    } catch (e) {
      throw fsError(e, uri);
    }
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    try {
      return await readFile(storePath(uri));
    } catch (e) {
      throw fsError(e, uri);
    }
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  writeFile(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  delete(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}

/** A node of the Build Results view: a result, or a folder or file inside one. */
export interface ResultNode {
  path: string;
  label: string;
  dir: boolean;
  root?: boolean;
  parent?: ResultNode;
}

export class ResultsTree implements vscode.TreeDataProvider<ResultNode> {
  private readonly emitter = new vscode.EventEmitter<ResultNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly roots: () => readonly { label: string; path: string }[]) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getTreeItem(n: ResultNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      n.label,
      n.dir
        ? n.root
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None,
    );
    item.resourceUri = resultUri(n.path);
    item.contextValue = n.root ? 'nix:result' : n.dir ? 'nix:result:folder' : 'nix:result:file';
    if (n.root) {
      item.description = storePathName(n.path);
      item.tooltip = n.path;
      item.iconPath = new vscode.ThemeIcon('package');
    }
    if (!n.dir) item.command = { command: 'vscode.open', title: 'Open', arguments: [resultUri(n.path)] };
    return item;
  }

  getParent(n: ResultNode): ResultNode | undefined {
    return n.parent;
  }

  async getChildren(n?: ResultNode): Promise<ResultNode[]> {
    if (!n) return this.roots().map((r) => ({ path: r.path, label: r.label, dir: true, root: true }));
    const entries = await readdir(n.path, { withFileTypes: true }).catch(() => []);
    const nodes = await Promise.all(
      entries.slice(0, 5000).map(async (e) => {
        const path = `${n.path}/${e.name}`;
        const dir =
          e.isDirectory() ||
          (e.isSymbolicLink() &&
            (await stat(path).then(
              (s) => s.isDirectory(),
              () => false,
            )));
        return { path, label: basename(path), dir, parent: n };
      }),
    );
    return nodes.sort((a, b) => (a.dir === b.dir ? a.label.localeCompare(b.label) : a.dir ? -1 : 1));
  }
}
