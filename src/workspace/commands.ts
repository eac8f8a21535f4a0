// Commands that run nix for the user: refused with a message in Restricted Mode, and a failure is logged in full and
// shown, never left as an unhandled rejection of the command.
import * as vscode from 'vscode';
import type { Ctx } from '../context';

/** Wraps command handlers of one feature (`area` prefixes its log lines; `restricted` is what Restricted Mode says). */
export function guardedCommands(ctx: Ctx, area: string, restricted: string) {
  return (fn: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]): Promise<unknown> => {
      if (!ctx.trusted) {
        void vscode.window.showWarningMessage(restricted);
        return undefined;
      }
      try {
        return await fn(...args);
      } catch (e) {
        ctx.log.error(`${area}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
        return undefined;
      }
    };
}
