// Reader for `nix --log-format internal-json` stderr (nix-cli.md §6). No `vscode` import.
// Every line gives exactly one event; nothing here throws on bad input.

import { truncate } from '../text';
import { DEFAULT_MAX_LINE, LineSplitter, splitLines } from './lines';
import { positionFromJson } from './position';
import {
  ActivityType,
  type ActivityTypeName,
  type LogEvent,
  type LogField,
  type ResultData,
  ResultType,
  type TraceEntry,
} from './types';

/** The prefix of every internal-json line on stderr. `--json-log-path` (2.30+) writes records without it. */
export const NIX_PREFIX = '@nix ';

/** At most this many trace entries are kept per message. */
export const MAX_TRACE_ENTRIES = 1000;

/** How much of an undecodable line a parse-error event keeps. */
const ERROR_EXCERPT = 200;

const activityNames = new Map<number, ActivityTypeName>(
  (Object.entries(ActivityType) as [ActivityTypeName, number][]).map(([name, n]) => [n, name]),
);

/**
 * Parses one stderr line. Lines without the `@nix ` prefix become `plain` events; undecodable
 * records become `parse-error` events; records with an unknown `action` become `unknown` events.
 * `dropped` > 0 says the line was cut by the splitter (the record is then incomplete).
 */
export function parseLogLine(line: string, dropped = 0): LogEvent {
  if (!line.startsWith(NIX_PREFIX)) {
    return { kind: 'plain', text: dropped > 0 ? `${line}… (${dropped} more characters)` : line };
  }
  if (dropped > 0) {
    return { kind: 'parse-error', reason: `line too long (${dropped} characters dropped)`, text: truncate(line, ERROR_EXCERPT) };
  }
  return parseRecord(line.slice(NIX_PREFIX.length), line);
}

/**
 * Parses one internal-json record without its prefix (as `--json-log-path` writes them).
 * `original` is only used for the excerpt of a parse error.
 */
export function parseRecord(json: string, original = json): LogEvent {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return { kind: 'parse-error', reason: `invalid JSON: ${(e as Error).message}`, text: truncate(original, ERROR_EXCERPT) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'parse-error', reason: 'record is not a JSON object', text: truncate(original, ERROR_EXCERPT) };
  }
  const r = value as Record<string, unknown>;
  const bad = (reason: string): LogEvent => ({ kind: 'parse-error', reason, text: truncate(original, ERROR_EXCERPT) });
  switch (r.action) {
    case 'start': {
      const id = exactId(r, 'id', json);
      if (id === undefined) return bad('start record without a valid id');
      if (!isInt(r.type)) return bad('start record without a numeric type');
      const parent = exactId(r, 'parent', json);
      return {
        kind: 'start',
        id,
        ...(parent !== undefined && parent !== '0' ? { parent } : {}),
        type: r.type,
        activity: activityNames.get(r.type),
        level: isInt(r.level) ? r.level : 0,
        text: typeof r.text === 'string' ? r.text : '',
        fields: toFields(r.fields),
      };
    }
    case 'stop': {
      const id = exactId(r, 'id', json);
      if (id === undefined) return bad('stop record without a valid id');
      return { kind: 'stop', id };
    }
    case 'result': {
      const id = exactId(r, 'id', json);
      if (id === undefined) return bad('result record without a valid id');
      if (!isInt(r.type)) return bad('result record without a numeric type');
      const fields = toFields(r.fields);
      return { kind: 'result', id, type: r.type, fields, result: decodeResult(r.type, fields) };
    }
    case 'msg': {
      if (typeof r.msg !== 'string') return bad('msg record without a msg string');
      return {
        kind: 'msg',
        level: isInt(r.level) ? r.level : 0,
        msg: r.msg,
        ...(typeof r.raw_msg === 'string' ? { rawMsg: r.raw_msg } : {}),
        position: positionFromJson(r.file, r.line, r.column),
        trace: toTrace(r.trace),
      };
    }
    default:
      return { kind: 'unknown', action: typeof r.action === 'string' ? r.action : '', record: r };
  }
}

/** Decodes the `fields` of a result by its type; a wrong shape gives `{type: 'unknown'}`. */
export function decodeResult(type: number, f: readonly LogField[]): ResultData {
  const str = (i: number) => (typeof f[i] === 'string' ? (f[i] as string) : undefined);
  const num = (i: number) => (typeof f[i] === 'number' ? (f[i] as number) : undefined);
  switch (type) {
    case ResultType.BuildLogLine:
    case ResultType.PostBuildLogLine: {
      const line = str(0);
      if (line === undefined) break;
      return type === ResultType.BuildLogLine ? { type: 'buildLogLine', line } : { type: 'postBuildLogLine', line };
    }
    case ResultType.SetPhase: {
      const phase = str(0);
      if (phase !== undefined) return { type: 'setPhase', phase };
      break;
    }
    case ResultType.Progress: {
      const [done, expected, running, failed] = [num(0), num(1), num(2), num(3)];
      if (done !== undefined && expected !== undefined) {
        return { type: 'progress', done, expected, running: running ?? 0, failed: failed ?? 0 };
      }
      break;
    }
    case ResultType.SetExpected: {
      const [activityType, expected] = [num(0), num(1)];
      if (activityType !== undefined && expected !== undefined) return { type: 'setExpected', activityType, expected };
      break;
    }
    case ResultType.FetchStatus: {
      const status = str(0);
      if (status !== undefined) return { type: 'fetchStatus', status };
      break;
    }
    case ResultType.FileLinked: {
      const [bytesFreed, blocksFreed] = [num(0), num(1)];
      if (bytesFreed !== undefined) return { type: 'fileLinked', bytesFreed, blocksFreed: blocksFreed ?? 0 };
      break;
    }
    case ResultType.UntrustedPath:
    case ResultType.CorruptedPath:
    case ResultType.FetchToStore: {
      const path = str(0);
      if (path === undefined) break;
      const name = type === ResultType.UntrustedPath ? 'untrustedPath' : type === ResultType.CorruptedPath ? 'corruptedPath' : 'fetchToStore';
      return { type: name, path };
    }
  }
  return { type: 'unknown' };
}

/**
 * A streaming reader: feed it stderr chunks, get events for every complete line.
 * Lines longer than `maxLine` characters are cut and reported as parse errors (or cut plain text).
 */
export class LogReader {
  private readonly splitter: LineSplitter;

  constructor(options: { maxLine?: number } = {}) {
    this.splitter = new LineSplitter(options.maxLine ?? DEFAULT_MAX_LINE);
  }

  /** Adds a chunk of stderr; returns the events of the lines it completes. */
  push(chunk: string | Uint8Array): LogEvent[] {
    return this.splitter.push(chunk).map((l) => parseLogLine(l.text, l.dropped));
  }

  /** Ends the stream; returns the event of a last line without a newline, if any. */
  end(): LogEvent[] {
    return this.splitter.end().map((l) => parseLogLine(l.text, l.dropped));
  }
}

/** Parses a whole captured stderr text into events. */
export function parseLog(text: string): LogEvent[] {
  return splitLines(text).map((l) => parseLogLine(l));
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/**
 * The exact decimal text of an unsigned integer field. Values that JSON.parse cannot hold exactly
 * (≥ 2^53, e.g. ids of processes with pid ≥ 2^21) are re-read from the JSON text itself.
 */
function exactId(r: Record<string, unknown>, key: string, json: string): string | undefined {
  const v = r[key];
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return undefined;
    if (Number.isSafeInteger(v)) return String(v);
    return topLevelInteger(json, key);
  }
  if (typeof v === 'string' && /^\d{1,40}$/.test(v)) return v;
  return undefined;
}

/** Finds the integer token of a top-level `key` in a JSON object text (strings and nesting skipped). */
export function topLevelInteger(json: string, key: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      const start = i + 1;
      for (i++; i < json.length && json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c) i++;
      if (depth !== 1 || json.slice(start, i) !== key) continue;
      let j = i + 1;
      while (json[j] === ' ') j++;
      if (json[j] !== ':') continue;
      j++;
      while (json[j] === ' ') j++;
      return /^\d+/.exec(json.slice(j, j + 40))?.[0];
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) depth++;
    else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) depth--;
  }
  return undefined;
}

function toFields(v: unknown): LogField[] {
  if (!Array.isArray(v)) return [];
  const items = v as unknown[];
  // Nix writes only strings and integers: keep the parsed array as is, unless something else is in it.
  if (items.every((x) => typeof x === 'string' || typeof x === 'number')) return items as LogField[];
  return items.map((x) => (typeof x === 'string' || typeof x === 'number' ? x : (JSON.stringify(x) ?? '')));
}

function toTrace(v: unknown): TraceEntry[] {
  if (!Array.isArray(v)) return [];
  const out: TraceEntry[] = [];
  for (const t of v.slice(0, MAX_TRACE_ENTRIES) as unknown[]) {
    if (typeof t !== 'object' || t === null) continue;
    const e = t as Record<string, unknown>;
    const rawMsg = typeof e.raw_msg === 'string' ? e.raw_msg : typeof e.msg === 'string' ? e.msg : '';
    const position = positionFromJson(e.file, e.line, e.column);
    out.push(position ? { rawMsg, position } : { rawMsg });
  }
  return out;
}
