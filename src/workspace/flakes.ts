// Finding the flakes of the workspace: every flake.nix outside .git, node_modules, result links and the store.
import * as vscode from 'vscode';
import { dirname, relative } from 'node:path';
import { holding } from '../core/flake/holding';

export interface Flake {
  /** The folder holding flake.nix. */
  uri: vscode.Uri;
  /** The workspace folder it belongs to. */
  folder: vscode.WorkspaceFolder;
  /** A short name for display: the folder name, or its path relative to the workspace folder. */
  label: string;
}

const EXCLUDE = '{**/.git/**,**/node_modules/**,**/result/**,**/result-*/**,/nix/store/**,**/.direnv/**}';

export async function discoverFlakes(token?: vscode.CancellationToken): Promise<Flake[]> {
  const found = await vscode.workspace.findFiles('**/flake.nix', EXCLUDE, 500, token);
  const flakes: Flake[] = [];
  for (const file of found) {
    const folder = vscode.workspace.getWorkspaceFolder(file);
    if (!folder) continue;
    const dir = vscode.Uri.file(dirname(file.fsPath));
    const rel = relative(folder.uri.fsPath, dir.fsPath);
    flakes.push({ uri: dir, folder, label: rel ? `${folder.name}/${rel}` : folder.name });
  }
  return flakes.sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * The flakes that hold a file, innermost first (a flake inside another flake's folder comes before it). With
 * `orFolder`, a file outside every flake's folder (a module imported from elsewhere in the workspace folder) gives
 * every flake of its workspace folder.
 */
export function flakesHolding(flakes: readonly Flake[], uri: vscode.Uri, opts: { orFolder?: boolean } = {}): Flake[] {
  const inside = holding(flakes, (f) => f.uri.fsPath, uri.fsPath);
  if (inside.length || !opts.orFolder) return inside;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  return flakes.filter((f) => f.folder === folder);
}
