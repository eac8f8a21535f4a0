// Errors from internal-json `msg` records (nix-cli.md §6.6–6.8), and from any stderr. No `vscode` import.

import { parseLog } from '../log/internalJson';
import { splitLines } from '../log/lines';
import type { LogEvent, MsgEvent } from '../log/types';
import { stripAnsi, truncate } from '../text';
import { classifyError } from './classify';
import { MAX_MESSAGE, MAX_TRACE, parseErrorBlock, parseErrorText, SHOW_TRACE_HINT } from './parseText';
import type { NixError, TraceFrame } from './types';

/**
 * True when a `msg` record is an error: level 0 and either built from `ErrorInfo` (`raw_msg`) or starting
 * with `error:`. Dry-run plan lines are level 0 too, but have neither.
 */
export function isErrorMsg(ev: MsgEvent): boolean {
  return ev.level === 0 && (ev.rawMsg !== undefined || /^error:/.test(stripAnsi(ev.msg)));
}

/**
 * Converts one `msg` record to a NixError, or undefined when it is not an error.
 * The structured fields win (position, `trace`); the formatted `msg` text fills in what they lack.
 * `hinted`: the next record was Nix's `--show-trace` hint.
 */
export function errorFromMsg(ev: MsgEvent, hinted = false): NixError | undefined {
  if (!isErrorMsg(ev)) return undefined;
  const text = splitLines(stripAnsi(ev.msg));
  const block = parseErrorBlock(text);
  const message = ev.rawMsg !== undefined ? cleanMessage(ev.rawMsg) : block.message;
  const trace: TraceFrame[] =
    ev.trace.length > 0
      ? ev.trace.slice(0, MAX_TRACE).map((t) => {
          const m = cleanMessage(t.rawMsg);
          return t.position ? { message: m, position: t.position } : { message: m };
        })
      : block.trace;
  const position = ev.position ?? block.position;
  const detail = classifyError(message, {
    positioned: position !== undefined,
    evaluation: hinted || trace.length > 0,
    trace,
  });
  return { message, ...(position ? { position } : {}), trace, ...detail, raw: ev.msg };
}

/**
 * Collects every error of a run from its events: `msg` records, and error text in plain lines
 * (a plain-logger stderr, or text printed outside the JSON logger).
 */
export function errorsFromEvents(events: readonly LogEvent[]): NixError[] {
  const out: NixError[] = [];
  let plain: string[] = [];
  const flushPlain = () => {
    if (plain.length > 0) out.push(...parseErrorText(plain.join('\n')));
    plain = [];
  };
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (ev.kind === 'plain') {
      plain.push(ev.text);
      continue;
    }
    flushPlain();
    if (ev.kind !== 'msg') continue;
    const next = events.slice(i + 1, i + 4).find((e): e is MsgEvent => e.kind === 'msg');
    const err = errorFromMsg(ev, next !== undefined && SHOW_TRACE_HINT.test(stripAnsi(next.msg).trim()));
    if (err) out.push(err);
  }
  flushPlain();
  return out;
}

/** Parses every error in a captured stderr, whether internal-json, plain text, or a mix. */
export function parseNixErrors(stderr: string): NixError[] {
  return errorsFromEvents(parseLog(stderr));
}

/** Without ANSI escapes or other control characters, trimmed, with at most MAX_MESSAGE characters. */
function cleanMessage(s: string): string {
  return truncate(stripAnsi(s).trim(), MAX_MESSAGE);
}
