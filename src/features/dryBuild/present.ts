// How a failed run's errors are shown: as diagnostics at the user's files (with hints for the errors NixOS and
// home-manager users hit most), and as error views for the card, with links to the places in the workspace and the
// other places as text.
import * as vscode from 'vscode';
import { relative } from 'node:path';
import { fitList, fitText, LIMITS, type ErrorView, type Location } from '../../protocol/dryBuild';
import { type Mapper } from '../../workspace/mapping';
import { placeDiagnostics, type PlacedDiagnostic } from '../../workspace/diagnostics';
import type { NixError } from '../../core/errors/types';
import type { SourcePosition } from '../../core/log/position';

export interface Presented {
  /** The card's views of the first `LIMITS.errors` errors. */
  views: ErrorView[];
  placed: PlacedDiagnostic[];
  /** Every location sent in `views` (`file:line:column`): only these may be opened when the webview asks. */
  locations: string[];
}

/**
 * Places the errors and builds their views. `map` and `root` map store paths to the workspace; `hostAt` is asked for
 * the configuration's own definition when an error has no place in the workspace (it may look it up, within its
 * bound).
 */
export async function presentErrors(
  errors: readonly NixError[],
  map: Mapper,
  root: string,
  hostAt: () => Promise<{ uri: vscode.Uri; range: vscode.Range } | undefined>,
): Promise<Presented> {
  if (errors.length === 0) return { views: [], placed: [], locations: [] };
  const { placed, unplaced } = await placeDiagnostics(errors, map);
  // An error with no position in the workspace ("was accessed but has no value defined", a bare throw, a failed
  // assertion) goes on the configuration's own entry in nixosConfigurations or homeConfigurations.
  if (unplaced.length) {
    const at = await hostAt();
    for (const e of at ? unplaced : []) {
      const d = new vscode.Diagnostic(at!.range, e.message, vscode.DiagnosticSeverity.Error);
      d.source = 'nix';
      d.code = e.kind;
      placed.push({ uri: at!.uri, diagnostic: d, error: e, placement: { sites: [], related: [] } });
    }
  }
  for (const p of placed) addHint(p);
  const locations: string[] = [];
  const sent = (location: Location): Location => {
    locations.push(`${location.file}:${location.line}:${location.column}`);
    return location;
  };
  const loc = (pos: SourcePosition | undefined): { location?: Location; where?: string } => {
    if (!pos || pos.origin !== 'path') return {};
    const m = map(pos.file);
    if (m.kind === 'workspace') {
      return {
        location: sent({
          file: fitText(m.path, LIMITS.path),
          label: fitText(relative(root, m.path) || m.path, LIMITS.path),
          line: Math.max(1, pos.line),
          column: Math.max(1, pos.column),
        }),
      };
    }
    if (m.kind === 'input') return { where: fitText(`${m.label.replace(/^input /, '')}: ${m.rel}:${pos.line}:${pos.column}`, LIMITS.path) };
    return { where: fitText(`${pos.file}:${pos.line}:${pos.column}`, LIMITS.path) };
  };
  const views = fitList(errors, LIMITS.errors).map((e): ErrorView => {
    const own = loc(e.position);
    // Where the error is shown in the editor, when Nix's own position is not in the workspace.
    const target = placed.find((p) => p.error === e);
    let location = own.location;
    if (!location && target) {
      const r = target.diagnostic.range;
      location = sent({
        file: fitText(target.uri.fsPath, LIMITS.path),
        label: fitText(relative(root, target.uri.fsPath) || target.uri.fsPath, LIMITS.path),
        line: r.start.line + 1,
        column: r.start.character + 1,
      });
    }
    return {
      message: fitText(e.message, LIMITS.message, 'multiline'),
      kind: fitText(e.kind, LIMITS.name),
      ...(location ? { location } : {}),
      ...(own.where ? { where: own.where } : {}),
      trace: fitList(e.trace, LIMITS.trace).map((t) => ({ message: fitText(t.message, LIMITS.message, 'multiline'), ...loc(t.position) })),
    };
  });
  return { views, placed, locations };
}

const FAILED_ASSERTIONS = /^\s*Failed assertions:/;

/** Hints for the errors Nix users hit most, added to the diagnostic's message. */
function addHint(p: PlacedDiagnostic): void {
  const d = p.diagnostic;
  switch (p.error.kind) {
    case 'infinite-recursion':
      d.message +=
        '\nHint: `imports` are resolved before `config` exists, so `imports = lib.optional config.… ./x.nix` recurses. Import the module unconditionally and guard its settings with `lib.mkIf`.';
      break;
    case 'option-used-but-not-defined':
      d.message += '\nHint: set this option in the configuration (or give it a default where it is declared).';
      break;
    case 'throw':
      // NixOS and home-manager throw the assertions of their modules that do not hold, without their places.
      if (FAILED_ASSERTIONS.test(p.error.message))
        d.message += '\nHint: each line is an assertion a module makes about this configuration; change the settings it names.';
      break;
    case 'conflicting-definitions':
      d.message += '\nHint: keep one definition, or give one priority with `lib.mkForce` (wins) or `lib.mkDefault` (yields).';
      break;
    default:
      break;
  }
}
