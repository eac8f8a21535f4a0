// The Flake Outputs view. For now: one item per flake found in the workspace.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../flakes';

class FlakeItem extends vscode.TreeItem {
  constructor(readonly flake: Flake) {
    super(flake.label, vscode.TreeItemCollapsibleState.None);
    this.id = `flake:${flake.uri.toString()}`;
    this.resourceUri = vscode.Uri.joinPath(flake.uri, 'flake.nix');
    this.iconPath = new vscode.ThemeIcon('package');
    this.contextValue = 'nix:flake';
    this.tooltip = flake.uri.fsPath;
    this.command = { command: 'vscode.open', title: 'Open flake.nix', arguments: [this.resourceUri] };
  }
}

export class OutputsProvider implements vscode.TreeDataProvider<FlakeItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly ctx: Ctx) {
    ctx.register(this.changed, ctx.onDidChangeState(() => this.changed.fire()));
  }

  getTreeItem(item: FlakeItem): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: FlakeItem): Promise<FlakeItem[]> {
    if (item || !this.ctx.trusted) return [];
    const nix = await this.ctx.nix();
    if (!nix.ok) return [];
    return (await this.ctx.flakes()).map((f) => new FlakeItem(f));
  }

  refresh(): void {
    this.changed.fire();
  }
}

export function registerOutputs(ctx: Ctx): OutputsProvider {
  const provider = new OutputsProvider(ctx);
  ctx.register(
    vscode.window.createTreeView('nixFlakes.outputs', { treeDataProvider: provider, showCollapseAll: true }),
    vscode.commands.registerCommand('nixFlakes.refresh', async () => {
      ctx.forgetFlakes();
      await ctx.updateState();
      provider.refresh();
    }),
  );
  return provider;
}
