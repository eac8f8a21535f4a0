// The API VS Code gives a webview's scripts. Declared here: the webview has no @types/vscode-webview.

import type { ToExtension } from '../src/protocol/dryBuild';

export interface VsCodeApi<State> {
  postMessage(message: ToExtension): void;
  getState(): State | undefined;
  setState(state: State): State;
}

declare global {
  /** Can be called once per page load; `main.ts` does, and passes the result around. */
  function acquireVsCodeApi<State = unknown>(): VsCodeApi<State>;
}
