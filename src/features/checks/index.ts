// Registers the flake checks of the workspace as tests in the Testing view (see checks.ts).
import type { Ctx } from '../../context';
import type { OutputsService } from '../../workspace/outputs';
import { FlakeChecks } from './checks';

export type { CheckResult } from './checks';
export { FlakeChecks } from './checks';

export function registerChecks(ctx: Ctx, outputs: OutputsService): FlakeChecks {
  return ctx.register(new FlakeChecks(ctx, outputs));
}
