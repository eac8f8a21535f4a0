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
  type ParseErrorEvent,
  type ResultData,
  ResultType,
  type TraceEntry,
} from './types';

/** The prefix of every internal-json line on stderr. `--json-log-path` (2.30+) writes records without it. */
export const NIX_PREFIX = '@nix ';

/** At most this many trace entries are kept per message (the first ones; `omittedTrace` counts the rest). */
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
  return fastRecord(line, NIX_PREFIX.length) ?? slowRecord(line.slice(NIX_PREFIX.length), line);
}

/**
 * Parses one internal-json record without its prefix (as `--json-log-path` writes them).
 * `original` is only used for the excerpt of a parse error. A record that makes the reader itself throw (e.g. fields
 * nested thousands deep, which `JSON.stringify` cannot write back) is a parse error too: it never stops the reader.
 */
export function parseRecord(json: string, original = json): LogEvent {
  return fastRecord(json, 0) ?? slowRecord(json, original);
}

/** Any record, through JSON.parse. */
function slowRecord(json: string, original: string): LogEvent {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return parseError(`invalid JSON: ${(e as Error).message}`, original);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return parseError('record is not a JSON object', original);
  try {
    return decodeRecord(value as Record<string, unknown>, json, original);
  } catch (e) {
    return parseError(`unreadable record: ${e instanceof Error ? e.message : String(e)}`, original);
  }
}

function parseError(reason: string, original: string): ParseErrorEvent {
  return { kind: 'parse-error', reason, text: truncate(original, ERROR_EXCERPT) };
}

/** The event of a parsed record (`exactId` re-reads large ids from `json`). */
function decodeRecord(r: Record<string, unknown>, json: string, original: string): LogEvent {
  const bad = (reason: string): LogEvent => parseError(reason, original);
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
      const omittedTrace = Array.isArray(r.trace) ? r.trace.length - MAX_TRACE_ENTRIES : 0;
      return {
        kind: 'msg',
        level: isInt(r.level) ? r.level : 0,
        msg: r.msg,
        ...(typeof r.raw_msg === 'string' ? { rawMsg: r.raw_msg } : {}),
        position: positionFromJson(r.file, r.line, r.column),
        trace: toTrace(r.trace),
        ...(omittedTrace > 0 ? { omittedTrace } : {}),
      };
    }
    default:
      return { kind: 'unknown', action: typeof r.action === 'string' ? r.action : '', record: r };
  }
}

// The records of a build, as every Nix writes them (nlohmann::json: keys in sorted order, no spaces):
//   {"action":"result","fields":[…],"id":N,"type":N}
//   {"action":"start","fields":[…],"id":N,"level":N,"parent":N,"text":"…","type":N}   (fields, parent optional)
//   {"action":"stop","id":N}
// are matched as a whole by one regular expression and read from its groups, which costs a fraction of JSON.parse
// building an object only to be taken apart. Only the plainest form is read so: strings without escapes or control
// characters, integers without sign, fraction, exponent or leading zero (ids up to 40 digits, the rest up to 15, so
// exact), nothing else in between. Anything else (msg records, an escape, another key order, spaces) goes through
// JSON.parse: the event is the same either way (test/unit/logInternalJson.test.ts compares the two paths).
const PLAIN_STRING = String.raw`"[^"\\\x00-\x1f]*"`;
const INT = String.raw`(?:0|[1-9]\d{0,14})`;
const ID = String.raw`(0|[1-9]\d{0,39})`;
const FIELDS = String.raw`\[((?:${PLAIN_STRING}|${INT})(?:,(?:${PLAIN_STRING}|${INT}))*)?\]`;
const FAST_RESULT = new RegExp(String.raw`\{"action":"result","fields":${FIELDS},"id":${ID},"type":(${INT})\}$`, 'y');
const FAST_STOP = new RegExp(String.raw`\{"action":"stop","id":${ID}\}$`, 'y');
const FAST_START = new RegExp(
  String.raw`\{"action":"start",(?:"fields":${FIELDS},)?"id":${ID},"level":(${INT}),(?:"parent":${ID},)?"text":"([^"\\\x00-\x1f]*)","type":(${INT})\}$`,
  'y',
);

/** Longer records go through JSON.parse: the expressions' backtracking stays small. */
const FAST_MAX = 64 * 1024;

/** The event of the record at `offset` of `s` in its plainest form; undefined when it needs JSON.parse. */
function fastRecord(s: string, offset: number): LogEvent | undefined {
  if (s.length - offset > FAST_MAX) return undefined;
  // `{"action":"` is 11 characters; the next tells the action apart.
  switch (s.charCodeAt(offset + 11)) {
    case 0x72 /* r */: {
      FAST_RESULT.lastIndex = offset;
      const m = FAST_RESULT.exec(s);
      if (m === null) return undefined;
      const type = digitsValue(m[3]!);
      const fields = plainFields(m[1]);
      return { kind: 'result', id: idText(m[2]!), type, fields, result: decodeResult(type, fields) };
    }
    case 0x73 /* s */: {
      if (s.charCodeAt(offset + 13) === 0x6f /* o */) {
        FAST_STOP.lastIndex = offset;
        const m = FAST_STOP.exec(s);
        return m === null ? undefined : { kind: 'stop', id: idText(m[1]!) };
      }
      FAST_START.lastIndex = offset;
      const m = FAST_START.exec(s);
      if (m === null) return undefined;
      // Groups 1 (fields) and 4 (parent) are optional; the others always take part in a match.
      const [, fieldsText, idDigits, level, parentDigits, text, typeText] = m;
      const id = idText(idDigits!);
      const parent = parentDigits === undefined ? undefined : idText(parentDigits);
      const type = digitsValue(typeText!);
      const fields = plainFields(fieldsText);
      const activity = activityNames.get(type);
      return parent !== undefined && parent !== '0'
        ? { kind: 'start', id, parent, type, activity, level: digitsValue(level!), text: text!, fields }
        : { kind: 'start', id, type, activity, level: digitsValue(level!), text: text!, fields };
    }
  }
  return undefined;
}

/**
 * An id's digits as the text the event keeps: the same string for the same id (`exactId`'s cache) while it fits a
 * double exactly, so that every result line of an activity finds it in a map by identity.
 */
function idText(digits: string): string {
  return digits.length <= 15 ? cachedIdText(digitsValue(digits)) : digits;
}

/** The value of at most 15 decimal digits (exact). Cheaper than Number() on a piece of a longer string. */
function digitsValue(d: string): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) n = n * 10 + (d.charCodeAt(i) - 0x30);
  return n;
}

/** The values of a `fields` list the fast expressions matched (plain strings and integers, comma-separated). */
function plainFields(t: string | undefined): LogField[] {
  const out: LogField[] = [];
  if (t === undefined) return out;
  for (let i = 0; ; i++) {
    if (t.charCodeAt(i) === 0x22 /* " */) {
      const end = t.indexOf('"', i + 1);
      out.push(t.slice(i + 1, end));
      i = end + 1;
    } else {
      let n = 0;
      for (let c = t.charCodeAt(i); c >= 0x30 && c <= 0x39; c = t.charCodeAt(++i)) n = n * 10 + (c - 0x30);
      out.push(n);
    }
    if (i >= t.length) return out;
  }
}

/**
 * Decodes the `fields` of a result by its type; a wrong shape gives `{type: 'unknown'}`. Called for every result
 * line: it allocates nothing but what it returns.
 */
export function decodeResult(type: number, f: readonly LogField[]): ResultData {
  switch (type) {
    case ResultType.BuildLogLine:
    case ResultType.PostBuildLogLine: {
      const line = f[0];
      if (typeof line !== 'string') break;
      return type === ResultType.BuildLogLine ? { type: 'buildLogLine', line } : { type: 'postBuildLogLine', line };
    }
    case ResultType.SetPhase: {
      const phase = f[0];
      if (typeof phase === 'string') return { type: 'setPhase', phase };
      break;
    }
    case ResultType.Progress: {
      const done = f[0];
      const expected = f[1];
      if (typeof done === 'number' && typeof expected === 'number') {
        const running = f[2];
        const failed = f[3];
        return {
          type: 'progress',
          done,
          expected,
          running: typeof running === 'number' ? running : 0,
          failed: typeof failed === 'number' ? failed : 0,
        };
      }
      break;
    }
    case ResultType.SetExpected: {
      const activityType = f[0];
      const expected = f[1];
      if (typeof activityType === 'number' && typeof expected === 'number') return { type: 'setExpected', activityType, expected };
      break;
    }
    case ResultType.FetchStatus: {
      const status = f[0];
      if (typeof status === 'string') return { type: 'fetchStatus', status };
      break;
    }
    case ResultType.FileLinked: {
      const bytesFreed = f[0];
      const blocksFreed = f[1];
      if (typeof bytesFreed === 'number')
        return { type: 'fileLinked', bytesFreed, blocksFreed: typeof blocksFreed === 'number' ? blocksFreed : 0 };
      break;
    }
    case ResultType.UntrustedPath:
    case ResultType.CorruptedPath:
    case ResultType.FetchToStore: {
      const path = f[0];
      if (typeof path !== 'string') break;
      const name =
        type === ResultType.UntrustedPath ? 'untrustedPath' : type === ResultType.CorruptedPath ? 'corruptedPath' : 'fetchToStore';
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

/** The decimal text of the last few ids, by value: every result line of an activity names its id again. */
const ID_CACHE = 16;
const cachedIds: number[] = new Array<number>(ID_CACHE).fill(-1);
const cachedTexts: string[] = new Array<string>(ID_CACHE).fill('');

/** The decimal text of a safe unsigned integer, from the cache when it was one of the last few. */
function cachedIdText(v: number): string {
  const slot = v & (ID_CACHE - 1);
  if (cachedIds[slot] === v) return cachedTexts[slot]!;
  const text = String(v);
  cachedIds[slot] = v;
  cachedTexts[slot] = text;
  return text;
}

/**
 * The exact decimal text of an unsigned integer field. Values that JSON.parse cannot hold exactly
 * (≥ 2^53, e.g. ids of processes with pid ≥ 2^21) are re-read from the JSON text itself.
 */
function exactId(r: Record<string, unknown>, key: string, json: string): string | undefined {
  const v = r[key];
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return undefined;
    if (Number.isSafeInteger(v)) return cachedIdText(v);
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
