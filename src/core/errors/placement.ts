// Picks where in the workspace to show a Nix error. No `vscode` import.

import { posix } from 'node:path';
import type { SourcePosition } from '../log/position';
import type { MappedFile } from './storePath';
import type { NixError } from './types';

/** A 1-based position in a workspace file. */
export interface WorkspacePosition {
  path: string;
  line: number;
  column: number;
}

/** A workspace file that defines a module option named in an error; a locator finds the defining line. */
export interface OptionSite {
  path: string;
  optionPath: string;
  /** The value Nix printed for this definition (helps to tell two definitions in one file apart). */
  value: string;
}

/** Where to show an error, and what else in the workspace it points at. */
export interface ErrorPlacement {
  /**
   * The error's own position when it is in the workspace (`from: 'error'`); otherwise the nearest trace
   * frame in the workspace (`from: 'trace'`, `frame` indexes `error.trace`); undefined when there is neither.
   */
  target?: (WorkspacePosition & { from: 'error' }) | (WorkspacePosition & { from: 'trace'; frame: number });
  /** For module-option errors that name only files: each defining file with the option path. */
  sites: OptionSite[];
  /** Every trace frame in the workspace, innermost first (for related information). */
  related: (WorkspacePosition & { frame: number; message: string })[];
  /** For untracked-file errors: the workspace file Nix could not see (offer `git add -N`). */
  untrackedPath?: string;
  /** When the error's own position is in a known input outside the workspace: its label (`input nixpkgs`). */
  inputLabel?: string;
}

/** Decides where to show `err`, mapping files with `map` (from `createStoreMapper`). */
export function placeError(err: NixError, map: (file: string) => MappedFile): ErrorPlacement {
  const toWorkspace = (pos: SourcePosition | undefined): WorkspacePosition | undefined => {
    if (!pos || pos.origin !== 'path') return undefined;
    const m = map(pos.file);
    return m.kind === 'workspace' ? { path: m.path, line: pos.line, column: pos.column } : undefined;
  };

  const related: ErrorPlacement['related'] = [];
  err.trace.forEach((t, frame) => {
    const w = toWorkspace(t.position);
    if (w) related.push({ ...w, frame, message: t.message });
  });

  const own = toWorkspace(err.position);
  const nearest = related[0];
  const placement: ErrorPlacement = {
    ...(own
      ? { target: { ...own, from: 'error' as const } }
      : nearest
        ? { target: { path: nearest.path, line: nearest.line, column: nearest.column, from: 'trace' as const, frame: nearest.frame } }
        : {}),
    sites: optionSites(err, map),
    related,
  };

  if (err.position?.origin === 'path' && !own) {
    const m = map(err.position.file);
    if (m.kind === 'input') placement.inputLabel = m.label;
  }
  if (err.kind === 'untracked-file') {
    const untracked = untrackedFile(err, map);
    if (untracked) placement.untrackedPath = untracked;
  }
  return placement;
}

function optionSites(err: NixError, map: (file: string) => MappedFile): OptionSite[] {
  if (err.kind !== 'option-does-not-exist' && err.kind !== 'option-type-mismatch' && err.kind !== 'conflicting-definitions') return [];
  const sites: OptionSite[] = [];
  for (const d of err.definitions) {
    const m = map(d.file);
    if (m.kind === 'workspace') sites.push({ path: m.path, optionPath: err.optionPath, value: d.value });
  }
  return sites;
}

function untrackedFile(err: Extract<NixError, { kind: 'untracked-file' }>, map: (file: string) => MappedFile): string | undefined {
  const candidates: string[] = [];
  if (err.storePath) candidates.push(`${err.storePath}/${err.relPath}`);
  if (err.repo) candidates.push(posix.join(err.repo, err.relPath));
  for (const c of candidates) {
    const m = map(c);
    if (m.kind === 'workspace') return m.path;
  }
  return undefined;
}
