// The Flake Outputs view: one root per flake (a single flake shows its outputs directly), categories with their
// own icons, systems when more than one is shown, and leaves whose context values drive the Build / Run / Develop /
// Copy actions. Children are computed lazily; nodes know their parent so reveal works.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { FlakeOutputs, OutputsService } from '../../workspace/outputs';
import type { OutputCategory, OutputLeaf } from '../../core/flake/show';
import { shortInstallable } from '../../core/flake/installable';
import { targetOfLeaf, type HasOutputTarget, type OutputTarget } from '../../workspace/targets';

const CATEGORY: Record<string, { label: string; icon: string }> = {
  packages: { label: 'Packages', icon: 'package' },
  legacyPackages: { label: 'Legacy Packages', icon: 'archive' },
  checks: { label: 'Checks', icon: 'beaker' },
  devShells: { label: 'Dev Shells', icon: 'terminal' },
  devShell: { label: 'Dev Shell (legacy)', icon: 'terminal' },
  apps: { label: 'Apps', icon: 'play-circle' },
  defaultApp: { label: 'Default App (legacy)', icon: 'play-circle' },
  defaultPackage: { label: 'Default Package (legacy)', icon: 'package' },
  formatter: { label: 'Formatter', icon: 'symbol-color' },
  overlays: { label: 'Overlays', icon: 'layers' },
  overlay: { label: 'Overlay (legacy)', icon: 'layers' },
  nixosModules: { label: 'NixOS Modules', icon: 'extensions' },
  nixosModule: { label: 'NixOS Module (legacy)', icon: 'extensions' },
  nixosConfigurations: { label: 'NixOS Configurations', icon: 'server' },
  darwinConfigurations: { label: 'Darwin Configurations', icon: 'device-desktop' },
  homeConfigurations: { label: 'Home Configurations', icon: 'home' },
  templates: { label: 'Templates', icon: 'file-code' },
  defaultTemplate: { label: 'Default Template (legacy)', icon: 'file-code' },
  hydraJobs: { label: 'Hydra Jobs', icon: 'checklist' },
  lib: { label: 'Library', icon: 'library' },
};

const LEAF_DESCRIPTION: Record<string, string> = {
  'nixos-configuration': 'NixOS configuration',
  'nixos-module': 'module',
  overlay: 'overlay',
  template: 'template',
  app: 'app',
  unknown: '',
};

export type Node = FlakeNode | CategoryNode | SystemNode | LeafNode | MessageNode;

export class FlakeNode {
  readonly kind = 'flake';
  constructor(readonly flake: Flake) {}
}
export class CategoryNode {
  readonly kind = 'category';
  constructor(
    readonly parent: FlakeNode | undefined,
    readonly flake: Flake,
    readonly category: OutputCategory,
  ) {}
}
export class SystemNode {
  readonly kind = 'system';
  constructor(
    readonly parent: CategoryNode,
    readonly system: string,
    readonly leaves: OutputLeaf[],
  ) {}
}
export class LeafNode implements HasOutputTarget {
  readonly kind = 'leaf';
  constructor(
    readonly parent: CategoryNode | SystemNode,
    readonly flake: Flake,
    readonly leaf: OutputLeaf,
    readonly broken?: string,
  ) {}

  outputTarget(): OutputTarget {
    return targetOfLeaf(this.flake, this.leaf);
  }
}
export class MessageNode {
  readonly kind = 'message';
  constructor(
    readonly parent: FlakeNode | undefined,
    readonly text: string,
    readonly icon: string,
    readonly tooltip?: string,
  ) {}
}

export class OutputsProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: FlakeNode[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly service: OutputsService,
  ) {
    ctx.register(
      this.changed,
      ctx.onDidChangeState(() => this.changed.fire(undefined)),
      service.onDidChange(() => this.changed.fire(undefined)),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!this.ctx.trusted) return [];
    if (!node) {
      const nix = await this.ctx.nix();
      if (!nix.ok) return [];
      const flakes = await this.ctx.flakes();
      this.roots = flakes.map((f) => new FlakeNode(f));
      if (flakes.length === 1) return this.flakeChildren(this.roots[0]!, undefined);
      return this.roots;
    }
    switch (node.kind) {
      case 'flake':
        return this.flakeChildren(node, node);
      case 'category':
        return this.categoryChildren(node);
      case 'system':
        return node.leaves.map((l) => this.leafNode(node, node.parent.flake, l));
      default:
        return [];
    }
  }

  getParent(node: Node): Node | undefined {
    return node.kind === 'flake' ? undefined : node.parent;
  }

  private async flakeChildren(node: FlakeNode, parent: FlakeNode | undefined): Promise<Node[]> {
    const s = await this.service.ensure(node.flake);
    const out: Node[] = [];
    const first = s.errors[0];
    if (first) {
      out.push(
        new MessageNode(
          parent,
          s.model ? `Evaluation failed; showing ${s.partial ? 'what still evaluates' : 'the last good listing'}` : 'Evaluation failed',
          'error',
          first.message,
        ),
      );
    }
    for (const w of s.warnings.filter((w) => w.kind === 'untrusted-config')) {
      out.push(new MessageNode(parent, w.text, 'warning', w.explanation));
    }
    if (!s.model) {
      if (!s.errors.length)
        out.push(new MessageNode(parent, s.evaluating ? 'Evaluating…' : 'No outputs', s.evaluating ? 'loading~spin' : 'info'));
      return out;
    }
    const shown = new Set(s.systems);
    for (const c of s.model.categories) {
      if (c.empty) continue;
      const visible = c.leaves.filter((l) => l.kind !== 'omitted' && (!l.system || shown.has(l.system)));
      if (visible.length === 0 && c.leaves.length) continue;
      out.push(new CategoryNode(parent, node.flake, c));
    }
    return out;
  }

  private categoryChildren(node: CategoryNode): Node[] {
    const s = this.service.get(node.flake);
    const shown = new Set(s.systems);
    const leaves = node.category.leaves.filter((l) => l.kind !== 'omitted' && (!l.system || shown.has(l.system)));
    const systems = [...new Set(leaves.map((l) => l.system).filter((x): x is string => !!x))];
    if (systems.length > 1) {
      return systems.map(
        (sys) =>
          new SystemNode(
            node,
            sys,
            leaves.filter((l) => l.system === sys),
          ),
      );
    }
    return leaves.map((l) => this.leafNode(node, node.flake, l));
  }

  private leafNode(parent: CategoryNode | SystemNode, flake: Flake, leaf: OutputLeaf): LeafNode {
    return new LeafNode(parent, flake, leaf, this.service.get(flake).broken.get(leaf.attrPath.join('\0')));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'flake': {
        const s = this.service.get(node.flake);
        const item = new vscode.TreeItem(node.flake.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `flake:${node.flake.uri}`;
        item.iconPath = new vscode.ThemeIcon(s.errors.length ? 'error' : s.evaluating ? 'loading~spin' : 'package');
        item.description = s.errors.length ? 'evaluation failed' : s.evaluating ? 'evaluating…' : undefined;
        item.tooltip = flakeTooltip(node.flake, s);
        item.contextValue = 'nix:flake';
        item.resourceUri = vscode.Uri.joinPath(node.flake.uri, 'flake.nix');
        return item;
      }
      case 'category': {
        const meta = CATEGORY[node.category.name] ?? { label: node.category.name, icon: 'symbol-misc' };
        const count = node.category.leaves.filter(
          (l) => l.kind !== 'omitted' && (!l.system || this.service.get(node.flake).systems.includes(l.system)),
        ).length;
        const single = node.category.shape === 'single';
        const item = new vscode.TreeItem(
          meta.label,
          single ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Expanded,
        );
        item.id = `cat:${node.flake.uri}:${node.category.name}`;
        item.iconPath = new vscode.ThemeIcon(meta.icon);
        item.description = single ? node.category.name : String(count);
        item.tooltip = node.category.doc ?? node.category.name;
        item.contextValue = `nix:category:${node.category.name}`;
        return item;
      }
      case 'system': {
        const item = new vscode.TreeItem(node.system, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `sys:${node.parent.flake.uri}:${node.parent.category.name}:${node.system}`;
        item.iconPath = new vscode.ThemeIcon('vm');
        item.description = String(node.leaves.length);
        item.contextValue = 'nix:system';
        return item;
      }
      case 'leaf':
        return leafItem(node);
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(
          node.icon,
          node.icon === 'error'
            ? new vscode.ThemeColor('errorForeground')
            : node.icon === 'warning'
              ? new vscode.ThemeColor('editorWarning.foreground')
              : undefined,
        );
        item.tooltip = node.tooltip;
        item.contextValue = 'nix:message';
        if (node.icon === 'error') {
          // Why, at a glance; the whole story (every command, its stderr) in the log.
          item.description = node.tooltip
            ?.split('\n')
            .find((l) => l.trim())
            ?.slice(0, 160);
          item.command = { command: 'nixFlakes.showLog', title: 'Show Log' };
        }
        return item;
      }
    }
  }
}

function leafItem(node: LeafNode): vscode.TreeItem {
  const leaf = node.leaf;
  // One output per system (formatter, defaultPackage…): name it by its derivation, not by the system shown anyway.
  const perSystemSingle = leaf.attrPath.length === 2 && leaf.system !== undefined && leaf.name === leaf.system;
  const item = new vscode.TreeItem(perSystemSingle ? (leaf.derivationName ?? leaf.name) : leaf.name, vscode.TreeItemCollapsibleState.None);
  item.id = `leaf:${node.flake.uri}:${leaf.attrPath.join('\0')}`;
  const category = leaf.attrPath[0] ?? '';
  if (node.broken) {
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
    item.description = 'does not evaluate';
    item.tooltip = node.broken;
    item.contextValue = 'nix:output:broken';
    return item;
  }
  item.iconPath = new vscode.ThemeIcon(CATEGORY[category]?.icon ?? 'symbol-misc');
  item.description = perSystemSingle
    ? leaf.system
    : leaf.kind === 'derivation'
      ? [leaf.derivationName, leaf.description].filter(Boolean).join(' — ')
      : (leaf.description ?? LEAF_DESCRIPTION[leaf.kind] ?? '');
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escapeMd(leaf.name)}**\n\n`);
  md.appendCodeblock(shortInstallable('.', leaf.attrPath, { system: leaf.system }), 'text');
  if (leaf.derivationName) md.appendMarkdown(`\nDerivation: \`${escapeMd(leaf.derivationName)}\`\n`);
  if (leaf.description) md.appendMarkdown(`\n${escapeMd(leaf.description)}\n`);
  item.tooltip = md;
  // nix:output:<kind>[:build][:run][:develop][:host][:home], matched by regular expressions in package.json menus.
  const flags = [
    leaf.buildable ? 'build' : '',
    leaf.runnable ? 'run' : '',
    leaf.developable ? 'develop' : '',
    leaf.kind === 'nixos-configuration' ? 'host' : '',
    leaf.attrPath[0] === 'homeConfigurations' ? 'home' : '',
  ]
    .filter(Boolean)
    .map((f) => `:${f}`)
    .join('');
  item.contextValue = `nix:output:${leaf.kind}${flags}`;
  return item;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function flakeTooltip(flake: Flake, s: FlakeOutputs): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendText(flake.uri.fsPath);
  if (s.fromCache) md.appendText('\nShown from the cache: nothing changed since the last evaluation.');
  for (const e of s.errors.slice(0, 3)) md.appendCodeblock(e.message, 'text');
  for (const w of s.warnings) md.appendText(`\n${w.text}: ${w.explanation}`);
  return md;
}

export function registerOutputsView(ctx: Ctx, service: OutputsService): { provider: OutputsProvider; view: vscode.TreeView<Node> } {
  const provider = new OutputsProvider(ctx, service);
  const view = vscode.window.createTreeView('nixFlakes.outputs', { treeDataProvider: provider, showCollapseAll: true });
  ctx.register(view);
  return { provider, view };
}
