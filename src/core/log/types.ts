// Record types of `nix --log-format internal-json` (nix-cli.md §6), as the reader returns them.
// No `vscode` import.

import type { SourcePosition } from './position';

/** Verbosity levels of `msg` and `start` records (`level`). Unchanged from 2.8 to master. */
export const Verbosity = {
  Error: 0,
  Warn: 1,
  Notice: 2,
  Info: 3,
  Talkative: 4,
  Chatty: 5,
  Debug: 6,
  Vomit: 7,
} as const;

/** `start.type` values (`ActivityType` in Nix's logging.hh). 112 is 2.20+, 113 master only. */
export const ActivityType = {
  Unknown: 0,
  CopyPath: 100,
  FileTransfer: 101,
  Realise: 102,
  CopyPaths: 103,
  Builds: 104,
  Build: 105,
  OptimiseStore: 106,
  VerifyPaths: 107,
  Substitute: 108,
  QueryPathInfo: 109,
  PostBuildHook: 110,
  BuildWaiting: 111,
  FetchTree: 112,
  FetchToStore: 113,
} as const;

/** `result.type` values (`ResultType` in Nix's logging.hh). 108 is 2.20+, 109 master only. */
export const ResultType = {
  FileLinked: 100,
  BuildLogLine: 101,
  UntrustedPath: 102,
  CorruptedPath: 103,
  SetPhase: 104,
  Progress: 105,
  SetExpected: 106,
  PostBuildLogLine: 107,
  FetchStatus: 108,
  FetchToStore: 109,
} as const;

export type ActivityTypeName = keyof typeof ActivityType;

/** One element of a record's `fields` array: Nix only writes integers and strings. */
export type LogField = string | number;

/** An activity began. `id` and `parent` are exact decimal strings (they can exceed 2^53). */
export interface StartEvent {
  kind: 'start';
  id: string;
  /** The parent activity id (2.18+); absent when Nix gave none or `0`. */
  parent?: string;
  /** The numeric `ActivityType`, kept even when unknown. */
  type: number;
  /** The name of `type`, or `undefined` for a type this reader does not know. */
  activity?: ActivityTypeName;
  level: number;
  text: string;
  fields: LogField[];
}

/** An activity ended. */
export interface StopEvent {
  kind: 'stop';
  id: string;
}

/** The decoded payload of a `result` record; `unknown` keeps forward compatibility. */
export type ResultData =
  | { type: 'buildLogLine'; line: string }
  | { type: 'postBuildLogLine'; line: string }
  | { type: 'setPhase'; phase: string }
  | { type: 'progress'; done: number; expected: number; running: number; failed: number }
  | { type: 'setExpected'; activityType: number; expected: number }
  | { type: 'fetchStatus'; status: string }
  | { type: 'fileLinked'; bytesFreed: number; blocksFreed: number }
  | { type: 'untrustedPath' | 'corruptedPath' | 'fetchToStore'; path: string }
  | { type: 'unknown' };

/** A result reported by an activity. */
export interface ResultEvent {
  kind: 'result';
  id: string;
  /** The numeric `ResultType`, kept even when unknown. */
  type: number;
  fields: LogField[];
  result: ResultData;
}

/** One entry of a `msg` record's `trace` (only with `--show-trace`). */
export interface TraceEntry {
  /** `raw_msg`, still with ANSI escapes. */
  rawMsg: string;
  position?: SourcePosition;
}

/** A log message: informational text, a warning, a dry-run plan line, or an error. */
export interface MsgEvent {
  kind: 'msg';
  level: number;
  /** The formatted message, with ANSI escapes as Nix writes them. */
  msg: string;
  /** Present for errors and warnings built from Nix's `ErrorInfo`. */
  rawMsg?: string;
  /** The primary position, normalised over all Nix versions. */
  position?: SourcePosition;
  /** Trace entries in the order Nix gives them (innermost first). Empty without `--show-trace`. */
  trace: TraceEntry[];
  /** Trace entries left out beyond the first `MAX_TRACE_ENTRIES` (internalJson.ts); absent when none was. */
  omittedTrace?: number;
}

/** A stderr line without the `@nix ` prefix (git, ssh, builder output, plain logger). */
export interface PlainEvent {
  kind: 'plain';
  text: string;
}

/** A well-formed record whose `action` this reader does not know. Kept, never fatal. */
export interface UnknownEvent {
  kind: 'unknown';
  action: string;
  record: Record<string, unknown>;
}

/** An `@nix ` line that could not be decoded. */
export interface ParseErrorEvent {
  kind: 'parse-error';
  reason: string;
  /** The start of the offending line, for logs. */
  text: string;
}

export type LogEvent = StartEvent | StopEvent | ResultEvent | MsgEvent | PlainEvent | UnknownEvent | ParseErrorEvent;
