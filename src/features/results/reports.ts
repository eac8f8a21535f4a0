// Documents the results feature writes itself: an image's inspector and two images compared (Markdown, shown in the
// preview: read-only, searchable, copyable, no script), and the YAML resources of a per-resource diff. Kept in
// memory under `nix-result-view:` URIs, a bounded number of them.
import * as vscode from 'vscode';

export const VIEW_SCHEME = 'nix-result-view';
const MAX_DOCUMENTS = 2000;

export class Reports implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** A read-only document with this text (a path ending in .yaml opens as YAML). */
  document(path: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: VIEW_SCHEME, path: `/${path.replace(/^\/+/, '')}` });
    const key = uri.toString();
    this.texts.delete(key);
    this.texts.set(key, text);
    while (this.texts.size > MAX_DOCUMENTS) this.texts.delete(this.texts.keys().next().value!);
    this.emitter.fire(uri);
    return uri;
  }

  /** Markdown shown in the preview. */
  async showMarkdown(path: string, text: string): Promise<vscode.Uri> {
    const uri = this.document(path, text);
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return uri;
  }

  text(uri: vscode.Uri): string | undefined {
    return this.texts.get(uri.toString());
  }
}
