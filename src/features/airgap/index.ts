// Wires offline media: Export for Offline Use… on a host, package, check or dev shell of the Outputs tree and on a
// whole flake, Import from Folder…, and Ready for Offline? on any output. Nothing runs in Restricted Mode.
import * as vscode from 'vscode';
import type { Ctx } from '../../context';
import { guardedCommands } from '../../workspace/commands';
import type { OutputsService } from '../../workspace/outputs';
import { Offline, type ExportOptions, type ImportOptions, type ReadinessOptions } from './airgap';

export type { Offline, ExportOutcome, ImportOutcome } from './airgap';

const RESTRICTED = 'Restricted Mode: trust this folder to export, import or check anything for offline use.';

export function registerAirgap(ctx: Ctx, outputs: OutputsService): Offline {
  const offline = new Offline(ctx, outputs);
  const guarded = guardedCommands(ctx, 'offline', RESTRICTED);
  ctx.register(
    vscode.commands.registerCommand(
      'nixFlakes.airgap.export',
      guarded((arg, opts) => offline.export(arg, (opts ?? {}) as ExportOptions)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.airgap.import',
      guarded((arg, opts) => offline.import(arg, (opts ?? {}) as ImportOptions)),
    ),
    vscode.commands.registerCommand(
      'nixFlakes.airgap.readiness',
      guarded((arg, opts) => offline.readiness(arg, (opts ?? {}) as ReadinessOptions)),
    ),
  );
  return offline;
}
