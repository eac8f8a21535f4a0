// Registers build results: the read-only `nix-result:` file system over the store, the Build Results view, Open
// Result, Diff with HEAD, Diff with Previous Build and Compare Image With… on outputs of the Outputs tree (and the
// palette's pick). Nothing runs in Restricted Mode.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import { guardedCommands } from '../../workspace/commands';
import type { OutputsService } from '../../workspace/outputs';
import { ResultsTree, SCHEME } from './files';
import { VIEW_SCHEME } from './reports';
import { Results } from './results';

export type { Results, ResultOutcome, DiffOutcome, ImageCompareOutcome } from './results';

const RESTRICTED = 'Restricted Mode: trust this folder to build and open its results.';

export function registerResults(ctx: Ctx, outputs: OutputsService): Results {
  const results = new Results(ctx, outputs);
  const tree = new ResultsTree(() => results.opened);
  const guarded = guardedCommands(ctx, 'results', RESTRICTED);
  ctx.register(
    results,
    vscode.workspace.registerFileSystemProvider(SCHEME, results.files, { isReadonly: true, isCaseSensitive: true }),
    vscode.workspace.registerTextDocumentContentProvider(VIEW_SCHEME, results.reports),
    vscode.window.createTreeView('nixFlakes.results', { treeDataProvider: tree, showCollapseAll: true }),
    results.onDidChange(() => tree.refresh()),
    vscode.commands.registerCommand(
      'nixFlakes.results.open',
      guarded((arg) => results.open(arg)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.results.diffWithHead',
      guarded((arg) => results.diffWithHead(arg)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.results.diffWithPrevious',
      guarded((arg) => results.diffWithPrevious(arg)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.results.compareImages',
      guarded((arg, other) => results.compareImages(arg, other)),
    ),
    vscode.commands.registerCommand('nixFlakes.results.clear', () => {
      results.opened.splice(0);
      tree.refresh();
      void vscode.commands.executeCommand('setContext', 'nixFlakes.results.any', false);
    }),
  );
  return results;
}
