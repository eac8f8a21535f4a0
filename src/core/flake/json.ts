// JSON helpers shared by the flake parsers: bounded, prototype-safe, never throwing.
// No `vscode` import.

import { parse as parseJsonc, printParseErrorCode, type ParseError as JsoncParseError } from 'jsonc-parser';

/** The largest Nix output or file the flake parsers accept (flake show of big flakes is a few MB). */
export const MAX_JSON_CHARS = 64 * 1024 * 1024;

/** Strings kept from untrusted input (descriptions, URLs) are cut to this length. */
export const MAX_KEPT_STRING = 4096;

/** Why a flake-related JSON document could not be used. */
export type FlakeParseErrorKind = 'empty' | 'too-large' | 'too-deep' | 'invalid-json' | 'schema' | 'unsupported-version' | 'missing-node';

/** A typed parse failure, with the position in the text when there is one. */
export interface FlakeParseError {
  kind: FlakeParseErrorKind;
  /** One sentence for people, e.g. `Invalid JSON at line 3, column 7 (CommaExpected).` */
  message: string;
  /** Character offset of the problem in the text (0-based). */
  offset?: number;
  /** Length of the offending text, when known. */
  length?: number;
  /** 1-based line of `offset`. */
  line?: number;
  /** 1-based column of `offset`. */
  column?: number;
  /** Where the offending value is: its JSON path (`['nodes', 'nixpkgs', 'locked', 'rev']`), or for flake show output its attribute path. */
  path?: string[];
}

/** A range of characters in a file, e.g. a node of flake.lock. */
export interface TextRange {
  offset: number;
  length: number;
}

/** A JSON object as parsed: keys are own properties only. */
export type JsonObject = { readonly [key: string]: unknown };

/** True for plain JSON objects (not arrays, not null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads an own property, so that keys like `__proto__` or `constructor` are never inherited values. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** Own keys in a stable order (code-unit order, which is how Nix sorts them). */
export function sortedKeys(obj: JsonObject): string[] {
  return Object.keys(obj).sort(compareStrings);
}

/** Code-unit string comparison, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Cuts untrusted strings that are kept in models. */
export function clip(s: string, max = MAX_KEPT_STRING): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.max(0, Math.min(offset, text.length));
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

/** Builds an error located at `offset` in `text`. */
export function errorAt(
  text: string,
  kind: FlakeParseErrorKind,
  message: string,
  offset: number,
  extra: Partial<FlakeParseError> = {},
): FlakeParseError {
  const { line, column } = lineColumn(text, offset);
  return { kind, message, offset, line, column, ...extra };
}

/** Checks that a document is present and not absurdly large, before any parsing. */
export function checkSize(text: string, what: string): FlakeParseError | undefined {
  if (typeof text !== 'string' || text.trim() === '') return { kind: 'empty', message: `${what} is empty.` };
  if (text.length > MAX_JSON_CHARS) {
    return { kind: 'too-large', message: `${what} is too large (${text.length} characters; the limit is ${MAX_JSON_CHARS}).` };
  }
  return undefined;
}

/** Turns the first jsonc-parser error into a located, typed error. */
export function jsoncError(text: string, errors: readonly JsoncParseError[], what: string): FlakeParseError {
  const first = errors[0];
  const offset = first?.offset ?? 0;
  const { line, column } = lineColumn(text, offset);
  const code = first ? printParseErrorCode(first.error) : 'unknown error';
  const truncated = offset + (first?.length ?? 0) >= text.trimEnd().length;
  return {
    kind: 'invalid-json',
    message: `${what} is not valid JSON${truncated ? ' (it ends too early; truncated?)' : ''}: ${code} at line ${line}, column ${column}.`,
    offset,
    length: first?.length,
    line,
    column,
  };
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: FlakeParseError };

/**
 * Parses strict JSON. `JSON.parse` builds the value (it defines `__proto__` as an own property, so hostile keys
 * cannot change prototypes); on failure jsonc-parser locates the error. Never throws.
 */
export function parseJson(text: string, what: string): JsonParseResult {
  const sizeError = checkSize(text, what);
  if (sizeError) return { ok: false, error: sizeError };
  let nativeMessage = '';
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    if (e instanceof RangeError) return { ok: false, error: { kind: 'too-deep', message: `${what} is nested too deeply.` } };
    nativeMessage = e instanceof Error ? e.message : String(e);
  }
  const errors: JsoncParseError[] = [];
  try {
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch {
    return { ok: false, error: { kind: 'too-deep', message: `${what} is nested too deeply.` } };
  }
  if (errors.length === 0)
    return { ok: false, error: { kind: 'invalid-json', message: `${what} is not valid JSON: ${clip(nativeMessage, 200)}` } };
  return { ok: false, error: jsoncError(text, errors, what) };
}
