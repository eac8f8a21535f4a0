// The Flake Inputs view: each flake's inputs from flake.lock (no nix), with type, locked revision, original
// reference and age; transitive inputs below; follows as links; sources locked more than once at different
// revisions flagged, in a group of their own.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { FlakeLockState, Locks } from './model';
import type { LockInput } from '../../core/flake/lock';
import type { DuplicateGroup, DuplicateOccurrence } from '../../core/flake/duplicates';
import { formatAge, formatDate } from '../../core/flake/time';

const TYPE_ICON: Record<string, string> = {
  github: 'github',
  gitlab: 'repo',
  sourcehut: 'repo',
  git: 'git-branch',
  path: 'folder',
  tarball: 'package',
  file: 'file',
  indirect: 'references',
  mercurial: 'repo',
};

export type InputNode =
  | { kind: 'flake'; state: FlakeLockState }
  | { kind: 'input'; state: FlakeLockState; input: LockInput; parent: InputNode | undefined; duplicate?: DuplicateGroup }
  | { kind: 'problem'; state: FlakeLockState; parent: InputNode | undefined }
  | { kind: 'duplicates'; groups: DuplicateGroup[] }
  | { kind: 'group'; group: DuplicateGroup; parent: InputNode }
  | { kind: 'occurrence'; group: DuplicateGroup; occ: DuplicateOccurrence; parent: InputNode };

export class InputsProvider implements vscode.TreeDataProvider<InputNode> {
  private readonly changed = new vscode.EventEmitter<InputNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Fixed "now" per refresh, so ages in one rendering agree. */
  private now = Date.now();

  constructor(
    ctx: Ctx,
    private readonly locks: Locks,
  ) {
    ctx.register(
      this.changed,
      locks.onDidChange(() => this.refresh()),
    );
  }

  refresh(): void {
    this.now = Date.now();
    this.changed.fire(undefined);
  }

  async getChildren(node?: InputNode): Promise<InputNode[]> {
    // Reading flake.lock evaluates nothing, so the view lists it in Restricted Mode too; updating needs trust.
    if (!node) {
      const states = await this.locks.all();
      const dups = await this.locks.duplicates();
      const roots: InputNode[] = dups.length ? [{ kind: 'duplicates', groups: dups }] : [];
      if (states.length === 1) return [...roots, ...this.flakeChildren(states[0]!, undefined, dups)];
      return [...roots, ...states.map((state): InputNode => ({ kind: 'flake', state }))];
    }
    switch (node.kind) {
      case 'flake':
        return this.flakeChildren(node.state, node, await this.locks.duplicates());
      case 'input': {
        const dups = await this.locks.duplicates();
        return node.input.inputs.map((input): InputNode => ({
          kind: 'input',
          state: node.state,
          input,
          parent: node,
          duplicate: dupOf(dups, node.state, input),
        }));
      }
      case 'duplicates':
        return node.groups.map((group): InputNode => ({ kind: 'group', group, parent: node }));
      case 'group':
        return node.group.occurrences.map((occ): InputNode => ({ kind: 'occurrence', group: node.group, occ, parent: node }));
      default:
        return [];
    }
  }

  getParent(node: InputNode): InputNode | undefined {
    return node.kind === 'flake' || node.kind === 'duplicates' ? undefined : node.parent;
  }

  private flakeChildren(state: FlakeLockState, parent: InputNode | undefined, dups: DuplicateGroup[]): InputNode[] {
    if (!state.lock) return [{ kind: 'problem', state, parent }];
    return state.lock.inputs.map((input): InputNode => ({ kind: 'input', state, input, parent, duplicate: dupOf(dups, state, input) }));
  }

  getTreeItem(node: InputNode): vscode.TreeItem {
    switch (node.kind) {
      case 'flake': {
        const item = new vscode.TreeItem(node.state.flake.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `inputs:${node.state.flake.uri}`;
        item.iconPath = new vscode.ThemeIcon('package');
        item.resourceUri = vscode.Uri.file(node.state.lockPath);
        item.description = node.state.lock ? `${node.state.lock.inputs.length} inputs` : node.state.problem;
        item.contextValue = 'nix:lockFlake';
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.state.problem ?? 'flake.lock cannot be read', vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.state.missing ? 'info' : 'error');
        item.tooltip = node.state.missing ? 'Lock the flake to record the exact revision of every input.' : node.state.problem;
        item.contextValue = 'nix:lockProblem';
        item.command = { command: 'nixFlakes.lockFlake', title: 'Lock now', arguments: [node.state.flake] };
        item.description = 'Lock now';
        return item;
      }
      case 'input':
        return this.inputItem(node);
      case 'duplicates': {
        const item = new vscode.TreeItem('Locked more than once', vscode.TreeItemCollapsibleState.Expanded);
        item.id = 'inputs:duplicates';
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('editorWarning.foreground'));
        item.description = `${node.groups.length} source${node.groups.length === 1 ? '' : 's'} at different revisions`;
        item.tooltip =
          'The same source is locked at different revisions by different paths of the lock graph, usually because a follows is missing. Every copy is fetched, evaluated and built separately.';
        item.contextValue = 'nix:duplicates';
        return item;
      }
      case 'group': {
        const g = node.group;
        const item = new vscode.TreeItem(g.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `inputs:dup:${g.source}`;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('editorWarning.foreground'));
        item.description = `${g.revisions.length} revisions${g.spreadDays !== undefined ? `, ${g.spreadDays} days apart` : ''}`;
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**${g.label}** is locked ${g.occurrences.length} times at ${g.revisions.length} revisions.\n\n`);
        for (const s of g.suggestions) md.appendCodeblock(s.nix, 'nix');
        item.tooltip = md;
        item.contextValue = g.suggestions.length ? 'nix:duplicateGroup:fixable' : 'nix:duplicateGroup';
        return item;
      }
      case 'occurrence': {
        const o = node.occ;
        const item = new vscode.TreeItem(o.flake && this.multi() ? `${o.flake}: ${o.id}` : o.id, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('circle-small-filled');
        item.description = [o.shortRev, o.lastModified ? formatDate(o.lastModified) : undefined].filter(Boolean).join(' · ');
        item.tooltip = o.original;
        item.contextValue = 'nix:duplicateOccurrence';
        return item;
      }
    }
  }

  private multi(): boolean {
    return (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  }

  private inputItem(node: Extract<InputNode, { kind: 'input' }>): vscode.TreeItem {
    const i = node.input;
    const hasChildren = i.inputs.length > 0;
    const item = new vscode.TreeItem(
      i.name,
      hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `inputs:${node.state.flake.uri}:${i.id}`;
    if (i.follows) {
      item.iconPath = new vscode.ThemeIcon('link');
      item.description = i.followsStatus === 'nothing' || i.follows.length === 0 ? 'follows nothing' : `→ follows ${i.follows.join('/')}`;
      item.tooltip =
        i.followsStatus === 'resolved'
          ? `${i.id} uses the root's ${i.follows.join('/')} (follows).`
          : `${i.id}: follows ${i.follows.join('/')} (${i.followsStatus})`;
      item.contextValue = 'nix:input:follows';
    } else {
      item.iconPath = node.duplicate
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('editorWarning.foreground'))
        : new vscode.ThemeIcon(TYPE_ICON[i.type] ?? 'package');
      const age = i.lastModified ? formatAge(i.lastModified, this.now) : undefined;
      item.description = [i.shortRev, age, i.original].filter(Boolean).join(' · ');
      const md = new vscode.MarkdownString();
      md.appendMarkdown(`**${i.id}** (${i.type}${i.isFlake ? '' : ', not a flake'})\n\n`);
      if (i.original) md.appendMarkdown(`Original: \`${i.original}\`\n\n`);
      if (i.locked) md.appendMarkdown(`Locked: \`${i.locked}\`\n\n`);
      if (i.rev) md.appendMarkdown(`Revision: \`${i.rev}\`\n\n`);
      if (i.lastModified) md.appendMarkdown(`Last modified: ${formatDate(i.lastModified)} (${formatAge(i.lastModified, this.now)})\n\n`);
      if (node.duplicate)
        md.appendMarkdown(
          `⚠ ${node.duplicate.label} is also locked at other revisions: ${node.duplicate.occurrences.map((o) => `${o.id} (${o.shortRev ?? '?'})`).join(', ')}\n`,
        );
      item.tooltip = md;
      // Only direct inputs can be updated by name on every Nix version; deeper ones through their path (2.19+).
      item.contextValue = `nix:input${i.path.length === 1 ? ':direct' : ':transitive'}${node.duplicate ? ':duplicate' : ''}`;
    }
    item.command = { command: 'nixFlakes.openInputInLock', title: 'Open in flake.lock', arguments: [node] };
    return item;
  }
}

function dupOf(groups: DuplicateGroup[], state: FlakeLockState, input: LockInput): DuplicateGroup | undefined {
  return groups.find((g) => g.occurrences.some((o) => o.id === input.id && (o.flake === undefined || o.flake === state.flake.label)));
}

export function flakeOfNode(node: InputNode | undefined): Flake | undefined {
  if (!node) return undefined;
  if (node.kind === 'flake' || node.kind === 'input' || node.kind === 'problem') return node.state.flake;
  return undefined;
}
