// What the panel does for each message from the webview. Messages arrive checked against the protocol (panel.ts);
// what they name is checked again here against what the extension sent: only a configuration of the last listing is
// run or remembered, only a location that was sent is opened, only a finished card is removed.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import {
  kindOf,
  LIMITS,
  PROTOCOL_VERSION,
  type ConfigKind,
  type RunState,
  type ToExtension,
  type ToWebview,
} from '../../protocol/dryBuild';
import type { HostList } from './hosts';

/** What the messages act on: the runs, as the panel's owner keeps them. */
export interface PanelRuns {
  /** Every card, newest first. */
  cards(): RunState[];
  start(flake: Flake, host: string, kind: ConfigKind): void;
  cancel(runId: string): void;
  /** Removes a finished card (`undefined`: every finished card). */
  dismiss(runId: string | undefined): void;
  /** True when this location was sent to the webview. */
  sent(file: string, line: number, column: number): boolean;
}

export function panelMessages(ctx: Ctx, hosts: HostList, runs: PanelRuns, post: (m: ToWebview) => void): (m: ToExtension) => Promise<void> {
  return async (m) => {
    switch (m.type) {
      case 'ready': {
        if (m.protocolVersion !== PROTOCOL_VERSION)
          ctx.log.warn(`dry-build: webview protocol ${m.protocolVersion}, expected ${PROTOCOL_VERSION}`);
        const list = await hosts.current();
        post({
          type: 'init',
          protocolVersion: PROTOCOL_VERSION,
          hosts: list,
          selected: hosts.selected(list),
          runs: runs.cards().slice(0, LIMITS.runs),
        });
        return;
      }
      case 'select':
        if (hosts.find(m)) await hosts.remember(m);
        return;
      case 'run': {
        const flake = hosts.find(m);
        if (!flake) {
          const what = kindOf(m) === 'home' ? 'home configuration' : 'host';
          post({ type: 'notice', level: 'error', text: `That ${what} is not in the list any more; refresh the list.` });
          return;
        }
        runs.start(flake, m.host, kindOf(m));
        return;
      }
      case 'cancel':
        runs.cancel(m.runId);
        return;
      case 'open': {
        if (!runs.sent(m.file, m.line, m.column)) return;
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(m.file));
        const pos = new vscode.Position(Math.max(0, m.line - 1), Math.max(0, m.column - 1));
        await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
        return;
      }
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        vscode.window.setStatusBarMessage('Copied', 2000);
        return;
      case 'dismiss':
        runs.dismiss(m.runId);
        return;
      case 'clear':
        runs.dismiss(undefined);
        return;
    }
  };
}
