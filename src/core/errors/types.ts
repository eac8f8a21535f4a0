// The parsed form of a Nix error, whatever layout or log format it came in. No `vscode` import.

import type { SourcePosition } from '../log/position';

/** One trace frame (`… while evaluating …`), with its position when Nix printed one. */
export interface TraceFrame {
  /** ANSI-stripped text, without the leading `… `. */
  message: string;
  position?: SourcePosition;
}

/** One `- In `<file>': <value>` line of a module-system error. */
export interface OptionDefinition {
  /** The file as Nix printed it (usually `/nix/store/<hash>-source/<rel>`). */
  file: string;
  /** The first line of the printed value (may be empty). */
  value: string;
}

/** What the error is about; the fields beside `kind` depend on it. */
export type ErrorDetail =
  | { kind: 'attribute-missing'; attribute?: string }
  | { kind: 'undefined-variable'; variable?: string }
  | { kind: 'type-error' }
  | { kind: 'syntax-error' }
  | { kind: 'infinite-recursion' }
  /** `throw`, `abort` or a failed `assert`. A 2.8 `throw` has no marker: it is recognised as an evaluation error without position. */
  | { kind: 'throw'; via: 'throw' | 'abort' | 'assert'; assertion?: string }
  /** `builder for '…' failed with exit code N` (≤ 2.28) or `Cannot build '…'. Reason: builder failed with exit code N` (2.29+). */
  | { kind: 'builder-failed'; drvPath: string; exitCode?: number }
  /** `N dependencies of derivation '…' failed to build`: a consequence of another failure. */
  | { kind: 'dependency-failed'; drvPath: string; count?: number }
  /**
   * A file Nix cannot see because git does not track it. `relPath` is relative to the repository root.
   * ≤ 2.19 only says the store file does not exist, which also happens for a file missing on disk.
   */
  | { kind: 'untracked-file'; relPath: string; storePath?: string; repo?: string }
  | { kind: 'option-does-not-exist'; optionPath: string; definitions: OptionDefinition[]; suggestions: string[] }
  | { kind: 'option-type-mismatch'; optionPath: string; expectedType: string; definitions: OptionDefinition[] }
  | { kind: 'conflicting-definitions'; optionPath: string; definitions: OptionDefinition[] }
  | { kind: 'option-used-but-not-defined'; optionPath: string }
  | { kind: 'other' };

export type NixErrorKind = ErrorDetail['kind'];

/** Fields every parsed error has. */
export interface NixErrorCommon {
  /** ANSI-stripped message, without `error: `: one line, or a few for module and builder errors. */
  message: string;
  /** The primary position (1-based, as Nix gives it). Not always a file: see `position.origin`. */
  position?: SourcePosition;
  /** Trace frames, innermost (nearest the error) first, whatever order the layout printed them in. */
  trace: TraceFrame[];
  /** The error as received (the JSON `msg`, or the text block), for logs and "show raw". */
  raw: string;
}

export type NixError = NixErrorCommon & ErrorDetail;
