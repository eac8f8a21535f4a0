// The "Deploy" webview panel: what a deployment would change (versions changed, added, removed, the size delta) and
// how far it got. One panel, reused; its page has a strict CSP with a nonce and loads only dist/deploy.{js,css};
// every message is checked against the protocol (src/protocol/deploy.ts) before it is posted and when it arrives.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import { webviewOptions, webviewPage } from '../../workspace/webview';
import {
  DEPLOY_PROTOCOL_VERSION,
  fitDeployView,
  isDeployToExtension,
  isDeployToWebview,
  type ApplyAction,
  type DeployView,
  type ToWebview,
} from '../../protocol/deploy';

export const VIEW_TYPE = 'nixFlakes.deploy';

export class DeployPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private view: DeployView | undefined;
  /** Every view posted (for tests: what the page was given), newest last, bounded. */
  readonly posted: DeployView[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly onApply: (view: DeployView, action: ApplyAction) => void,
  ) {}

  /** Shows `view` (opening the panel beside the editor when it is closed, without taking the focus). */
  show(view: DeployView): void {
    this.view = fitDeployView(view);
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(
        VIEW_TYPE,
        this.title(),
        { viewColumn: vscode.ViewColumn.Active, preserveFocus: true },
        this.options(),
      );
      this.attach(panel);
    } else {
      this.panel.title = this.title();
      this.panel.reveal(undefined, true);
    }
    this.post();
  }

  /** Updates what is shown, when the panel is open (a closed panel stays closed). */
  update(view: DeployView): void {
    this.view = fitDeployView(view);
    if (this.panel) {
      this.panel.title = this.title();
      this.post();
    }
  }

  get current(): DeployView | undefined {
    return this.view;
  }

  private title(): string {
    const v = this.view;
    if (!v) return 'Deploy';
    return v.action === 'preview' ? `What would change: ${v.config}` : `Deploy ${v.config}`;
  }

  private post(): void {
    if (!this.panel || !this.view) return;
    const msg: ToWebview = { type: 'show', version: DEPLOY_PROTOCOL_VERSION, view: this.view };
    if (!isDeployToWebview(msg)) {
      this.ctx.log.error('deploy: refusing to post an invalid view');
      return;
    }
    this.posted.push(this.view);
    if (this.posted.length > 50) this.posted.shift();
    void this.panel.webview.postMessage(msg);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return webviewOptions(this.ctx.extension.extensionUri, false);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'nix.svg');
    panel.webview.html = this.html(panel.webview);
    const subs = [
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!isDeployToExtension(m)) {
          this.ctx.log.warn('deploy: ignored an invalid message from the webview');
          return;
        }
        if (m.type === 'ready') this.post();
        else if (this.view && this.view.actions.includes(m.action)) this.onApply(this.view, m.action);
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        for (const s of subs) s.dispose();
      }),
    ];
  }

  private html(webview: vscode.Webview): string {
    return webviewPage(webview, this.ctx.extension.extensionUri, 'deploy', 'Deploy');
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
