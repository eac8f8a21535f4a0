// The page every webview of the extension starts from: one bundle and its stylesheet from dist/, under a Content
// Security Policy that allows nothing but them (a fresh nonce per page, no inline script, no outside request).
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** The HTML of a webview whose UI is `dist/<bundle>.js` and `dist/<bundle>.css`. */
export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, bundle: string, title: string): string {
  const nonce = randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '');
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.js`));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.css`));
  const csp = `default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}'; font-src ${webview.cspSource}; img-src ${webview.cspSource} data:; script-src 'nonce-${nonce}';`;
  const escaped = title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}" nonce="${nonce}">
<title>${escaped}</title></head>
<body><div id="app"></div><script type="module" nonce="${nonce}" src="${script}"></script></body></html>`;
}

/** The options of every webview panel of the extension: scripts from dist/ only, the find widget. */
export function webviewOptions(
  extensionUri: vscode.Uri,
  retainContextWhenHidden?: boolean,
): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
    enableFindWidget: true,
    ...(retainContextWhenHidden === undefined ? {} : { retainContextWhenHidden }),
  };
}
