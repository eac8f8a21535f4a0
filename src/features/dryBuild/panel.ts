// The "NixOS Dry Build" webview panel itself: created or restored after a reload, its page (strict CSP with a nonce,
// scripts and styles only from dist/), and the two directions of messages — every message is checked against the
// protocol (src/protocol/dryBuild.ts) before it is posted and when it arrives; an invalid one is dropped and logged.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import { webviewOptions, webviewPage } from '../../workspace/webview';
import { isToExtension, isToWebview, type ToExtension, type ToWebview } from '../../protocol/dryBuild';

export const VIEW_TYPE = 'nixFlakes.dryBuild';

/** The runs moved to runs.ts; import them from the feature (index.ts). Kept while src/extension.ts still names this file. */
export type { DryBuilds } from './runs';

export class DryBuildPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** Aborted when the panel closes: what runs for it stops. A new one for each panel. */
  private closing: AbortController | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly onMessage: (m: ToExtension) => Promise<void>,
  ) {}

  /** Shows the panel, creating it if needed. */
  show(): void {
    if (this.panel) this.panel.reveal();
    else this.attach(vscode.window.createWebviewPanel(VIEW_TYPE, 'NixOS Dry Build', vscode.ViewColumn.Active, this.options()));
  }

  /** Restores a panel after a window reload (WebviewPanelSerializer). */
  revive(panel: vscode.WebviewPanel): void {
    panel.webview.options = this.options();
    this.attach(panel);
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Aborted when the panel that is open now closes; undefined while none is open. */
  get signal(): AbortSignal | undefined {
    return this.closing?.signal;
  }

  /** Posts a message that passes the protocol's check; any other is refused (and logged), never sent. */
  post(msg: ToWebview): void {
    if (!this.panel) return;
    if (!isToWebview(msg)) {
      this.ctx.log.error(`dry-build: refusing to post an invalid ${(msg as { type: string }).type} message`);
      return;
    }
    void this.panel.webview.postMessage(msg);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return webviewOptions(this.ctx.extension.extensionUri);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    const closing = new AbortController();
    this.closing = closing;
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'nix.svg');
    panel.webview.html = this.html(panel.webview);
    const subs = [
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.closing = undefined;
        }
        closing.abort();
        for (const s of subs) s.dispose();
      }),
    ];
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isToExtension(raw)) {
      this.ctx.log.warn('dry-build: ignored an invalid message from the webview');
      return;
    }
    try {
      await this.onMessage(raw);
    } catch (e) {
      this.ctx.log.error(`dry-build: the ${raw.type} message failed: ${(e as Error).message}`);
    }
  }

  private html(webview: vscode.Webview): string {
    return webviewPage(webview, this.ctx.extension.extensionUri, 'webview', 'NixOS Dry Build');
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
