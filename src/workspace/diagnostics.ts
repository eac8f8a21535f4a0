// Nix errors → VS Code diagnostics at workspace files: the error's own position, or the nearest trace frame in the
// workspace when Nix points into an input; module-option errors on the line that defines the option; trace frames
// as related information. One DiagnosticCollection per source of truth, each keyed by who set the diagnostics, so
// a re-run replaces its own and never piles up.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import type { NixError } from '../core/errors/types';
import { placeError, type ErrorPlacement } from '../core/errors/placement';
import { findOptionDefinitions, LineIndex, parseOptionPath } from '../core/source';
import { localizeMessage, type Mapper } from './mapping';

export interface PlacedDiagnostic {
  uri: vscode.Uri;
  diagnostic: vscode.Diagnostic;
  error: NixError;
  placement: ErrorPlacement;
}

const KIND_LABEL: Partial<Record<NixError['kind'], string>> = {
  'untracked-file': 'untracked-file',
  'option-does-not-exist': 'unknown-option',
  'option-type-mismatch': 'type-mismatch',
  'conflicting-definitions': 'conflicting-definitions',
  'infinite-recursion': 'infinite-recursion',
};

async function lineText(path: string, line0: number, cache: Map<string, string>): Promise<string> {
  let text = cache.get(path);
  if (text === undefined) {
    text = await readFile(path, 'utf8').catch(() => '');
    cache.set(path, text);
  }
  return text.split(/\r?\n/)[line0] ?? '';
}

/** The range of the expression that starts at a 1-based position: the identifier, string or word there. */
async function rangeAt(path: string, line: number, column: number, cache: Map<string, string>): Promise<vscode.Range> {
  const l0 = Math.max(0, line - 1);
  const c0 = Math.max(0, column - 1);
  const text = await lineText(path, l0, cache);
  const rest = text.slice(c0);
  const m = /^(?:"(?:[^"\\]|\\.)*"|[A-Za-z_][\w'.-]*|\S+)/.exec(rest);
  const len = m ? m[0].length : Math.max(1, rest.trimEnd().length);
  return new vscode.Range(l0, c0, l0, c0 + Math.max(1, len));
}

/**
 * Where an option is defined in a file (core scanner); the first line when nothing matches. When the file defines
 * it more than once, the definition whose value Nix printed (`value`) is chosen.
 */
async function optionRange(path: string, optionPath: string, cache: Map<string, string>, value = ''): Promise<vscode.Range> {
  let text = cache.get(path);
  if (text === undefined) {
    text = await readFile(path, 'utf8').catch(() => '');
    cache.set(path, text);
  }
  const found = findOptionDefinitions(text, parseOptionPath(optionPath));
  if (found.length) {
    const idx = new LineIndex(text);
    const printed = value.trim();
    const best =
      (printed && found.find((f) => text.slice(f.binding.valueRange.start, f.binding.valueRange.end).trim() === printed)) || found[0]!;
    const start = idx.positionAt(best.range.start);
    const end = idx.positionAt(best.range.end);
    return new vscode.Range(start.line, start.character, end.line, end.character);
  }
  const first = text.split(/\r?\n/)[0] ?? '';
  return new vscode.Range(0, 0, 0, first.length);
}

/** Turns parsed Nix errors into diagnostics at workspace files. Errors with no place in the workspace are returned apart. */
export async function placeDiagnostics(
  errors: readonly NixError[],
  map: Mapper,
): Promise<{ placed: PlacedDiagnostic[]; unplaced: NixError[] }> {
  const placed: PlacedDiagnostic[] = [];
  const unplaced: NixError[] = [];
  const cache = new Map<string, string>();
  for (const error of errors) {
    const placement = placeError(error, map);
    const related = placement.related
      .filter((r) => !(placement.target && r.path === placement.target.path && r.line === placement.target.line))
      .slice(0, 20);
    const relatedInfo = await Promise.all(
      related.map(
        async (r) =>
          new vscode.DiagnosticRelatedInformation(
            new vscode.Location(vscode.Uri.file(r.path), await rangeAt(r.path, r.line, r.column, cache)),
            r.message,
          ),
      ),
    );
    const make = (uri: vscode.Uri, range: vscode.Range, message: string) => {
      const d = new vscode.Diagnostic(range, localizeMessage(message, map), vscode.DiagnosticSeverity.Error);
      d.source = 'nix';
      d.code = KIND_LABEL[error.kind] ?? error.kind;
      if (relatedInfo.length) d.relatedInformation = relatedInfo;
      placed.push({ uri, diagnostic: d, error, placement });
    };
    if (placement.sites.length) {
      for (const site of placement.sites)
        make(vscode.Uri.file(site.path), await optionRange(site.path, site.optionPath, cache, site.value), error.message);
      continue;
    }
    if (placement.target) {
      const t = placement.target;
      const prefix =
        t.from === 'trace' && placement.inputLabel
          ? `${error.message}\n(reported in ${placement.inputLabel}; this is the nearest place in your files)`
          : error.message;
      make(vscode.Uri.file(t.path), await rangeAt(t.path, t.line, t.column, cache), prefix);
      continue;
    }
    if (placement.untrackedPath) {
      make(
        vscode.Uri.file(placement.untrackedPath),
        new vscode.Range(0, 0, 0, 0),
        `${error.message}\nNix only sees files tracked by git: git add it.`,
      );
      continue;
    }
    unplaced.push(error);
  }
  return { placed, unplaced };
}

/** A diagnostic collection whose entries are owned by keys (a flake, a host): setting a key replaces only its own. */
export class OwnedDiagnostics implements vscode.Disposable {
  private readonly collection: vscode.DiagnosticCollection;
  private readonly owned = new Map<string, Map<string, vscode.Diagnostic[]>>();

  constructor(name: string) {
    this.collection = vscode.languages.createDiagnosticCollection(name);
  }

  set(owner: string, items: readonly { uri: vscode.Uri; diagnostic: vscode.Diagnostic }[]): void {
    const touched = new Set<string>(this.owned.get(owner)?.keys() ?? []);
    const mine = new Map<string, vscode.Diagnostic[]>();
    for (const { uri, diagnostic } of items) {
      const k = uri.toString();
      mine.set(k, [...(mine.get(k) ?? []), diagnostic]);
      touched.add(k);
    }
    if (mine.size) this.owned.set(owner, mine);
    else this.owned.delete(owner);
    for (const k of touched) {
      const all = [...this.owned.values()].flatMap((m) => m.get(k) ?? []);
      this.collection.set(vscode.Uri.parse(k), all);
    }
  }

  clear(owner: string): void {
    this.set(owner, []);
  }

  owners(): string[] {
    return [...this.owned.keys()];
  }

  dispose(): void {
    this.collection.dispose();
  }
}
