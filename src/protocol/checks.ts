// The run-time checks every webview protocol is built from, and the functions that make a sender's data fit them.
// Shared by both sides of every protocol (bundled into the webviews too): no `vscode` import, no DOM, no Node APIs.
//
// A check is a plain predicate on an untrusted value. Composed, they state a message's whole shape: an object has
// exactly the keys its `record` names (own, plain data properties; never `__proto__`, `constructor`, `prototype`),
// every string and list is bounded, and text holds no control characters beyond those its check allows.

/** A run-time check of an untrusted value. */
export type Check = (v: unknown) => boolean;

/** C0 controls other than tab and newline, DEL, and C1 controls: what multi-line text may not hold. */
export const CONTROL_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** The same, and tab and newline too: what one-line text may not hold (the default of `text`). */
export const CONTROL_LINE = /[\u0000-\u001f\u007f-\u009f]/;
/** As `CONTROL_LINE`, but tabs allowed (raw log lines). */
export const CONTROL_LOG_LINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
/** Keys that must never be accepted, whatever a schema says. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A string of `min` (default 0) to `max` characters with none of the `control` characters (default `CONTROL_LINE`)
 * that, when a `pattern` is given, matches it.
 */
export function text(max: number, opts: { min?: number; control?: RegExp; pattern?: RegExp } = {}): Check {
  const min = opts.min ?? 0;
  const control = opts.control ?? CONTROL_LINE;
  const pattern = opts.pattern;
  return (v) =>
    typeof v === 'string' && v.length >= min && v.length <= max && !control.test(v) && (pattern === undefined || pattern.test(v));
}

/** An integer from `min` to `max`. */
export function integer(min: number, max: number): Check {
  return (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** A finite number from 0 to `max` (fractions allowed). */
export function nonNegative(max: number): Check {
  return (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max;
}

/** A boolean. */
export const boolean: Check = (v) => typeof v === 'boolean';

/** One of these strings. */
export function oneOf(...values: readonly string[]): Check {
  return (v) => typeof v === 'string' && values.includes(v);
}

/** Exactly this value (`===`). */
export function literal(value: unknown): Check {
  return (v) => v === value;
}

/** `null`, or what `check` accepts. */
export function nullable(check: Check): Check {
  return (v) => v === null || check(v);
}

/** An array (any realm) of at most `max` items that `item` accepts: no holes, no properties besides the indices. */
export function list(item: Check, max: number): Check {
  return (v) => {
    if (!Array.isArray(v) || v.length > max) return false;
    // Array.prototype here, or another realm's (which is itself an array).
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Array.prototype && !Array.isArray(proto)) return false;
    // Only the indices and `length`: no holes, no extra properties.
    if (Reflect.ownKeys(v).length !== v.length + 1) return false;
    for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
    return true;
  };
}

/** A plain object (any realm, or no prototype) whose own keys are all strings, not forbidden, and plain data properties. */
export function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== null && proto !== Object.prototype && Object.getPrototypeOf(proto) !== null) return false;
  if (Object.prototype.toString.call(v) !== '[object Object]') return false;
  for (const key of Reflect.ownKeys(v)) {
    if (typeof key !== 'string' || FORBIDDEN_KEYS.has(key)) return false;
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (!d || !('value' in d) || !d.enumerable) return false;
  }
  return true;
}

/**
 * A plain object with exactly these keys: every `required` one, any of the `optional` ones (an optional key
 * holding `undefined` counts as absent), and no other. A schema naming a forbidden key throws.
 */
export function record(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  const known = new Set([...Object.keys(required), ...Object.keys(optional)]);
  for (const k of known) if (FORBIDDEN_KEYS.has(k)) throw new Error(`schema uses a forbidden key: ${k}`);
  return (v) => {
    if (!isPlainRecord(v)) return false;
    for (const key of Object.keys(v)) if (!known.has(key)) return false;
    for (const [key, check] of Object.entries(required)) {
      if (!Object.prototype.hasOwnProperty.call(v, key) || !check(v[key])) return false;
    }
    for (const [key, check] of Object.entries(optional)) {
      if (Object.prototype.hasOwnProperty.call(v, key) && v[key] !== undefined && !check(v[key])) return false;
    }
    return true;
  };
}

/** A message: a plain object whose own `type` names an entry of `table`, and which that entry's check accepts. */
export function dispatch(table: Record<string, Check>, msg: unknown): boolean {
  if (!isPlainRecord(msg)) return false;
  const type = msg.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(table, type)) return false;
  return table[type]!(msg);
}

// ---------------------------------------------------------------------------------------------------------
// For the sender: make data fit the checks instead of having a whole message rejected.

const STRIP_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const STRIP_LOG_LINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/**
 * Makes `s` pass a text check of at most `max` characters: drops ANSI escapes and control characters
 * (`multiline` keeps newlines and tabs; `log` keeps tabs; otherwise newlines and tabs become spaces), and
 * cuts it with `…` (never inside a surrogate pair).
 */
export function fitText(s: string, max: number, mode: 'line' | 'multiline' | 'log' = 'line'): string {
  let t = s.replace(ANSI, '').replace(/\r\n?/g, '\n');
  if (mode === 'multiline') t = t.replace(STRIP_MULTILINE, '');
  else if (mode === 'log') t = t.replace(/\n/g, ' ').replace(STRIP_LOG_LINE, '');
  else t = t.replace(/[\t\n]/g, ' ').replace(STRIP_MULTILINE, '');
  if (t.length <= max) return t;
  let cut = Math.max(0, max - 1);
  const code = t.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${t.slice(0, cut)}…`;
}

/** Keeps the first `max` items (`tail`: the last ones). */
export function fitList<T>(items: readonly T[], max: number, tail = false): T[] {
  if (items.length <= max) return [...items];
  return tail ? items.slice(items.length - max) : items.slice(0, max);
}
