// Entry of the "Deploy" webview (bundled to dist/deploy.js, styles to dist/deploy.css): what a deployment would change
// and how far it got. Data only ever goes into text (dom.ts); messages are checked against src/protocol/deploy.ts.

import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import './deploy.css';
import { DEPLOY_PROTOCOL_VERSION, isDeployToWebview, type ToExtension } from '../../src/protocol/deploy';
import { render } from './view';

interface DeployApi {
  postMessage(message: ToExtension): void;
}

function main(): void {
  const api = acquireVsCodeApi() as unknown as DeployApi;
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
  window.addEventListener('message', (ev: MessageEvent<unknown>) => {
    // Anything that is not a valid message of this protocol is dropped.
    if (!isDeployToWebview(ev.data)) return;
    render(root, ev.data.view, (action) => api.postMessage({ type: 'apply', action }));
  });
  api.postMessage({ type: 'ready', version: DEPLOY_PROTOCOL_VERSION });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
else main();
