// Parses human-readable Nix error text (nix-cli.md §5.3, §7.1, §7.2). No `vscode` import.
// Layouts: 2.8 (message, `at`, then traces), 2.13+ (`error:` header, traces, then `error: <message>`),
// 2.20+ compact (the same without blank lines around `at`). Several errors in one stderr are all returned.

import { splitLines } from '../log/lines';
import { positionFromText, type SourcePosition } from '../log/position';
import { decodeSerialisedErrors, stripAnsi, truncate } from '../text';
import { classifyError } from './classify';
import { explainBuildLog } from './explain';
import type { NixError, TraceFrame } from './types';

/** Longest message kept, in characters. */
export const MAX_MESSAGE = 4000;
/** Most message lines kept. */
export const MAX_MESSAGE_LINES = 30;
/** Most trace frames kept per error. */
export const MAX_TRACE = 1000;

const ERROR_START = /^error:(?: |$)/;
const ERR = /^\s*error:(?: (.*))?$/;
const TRACE = /^\s*… ?(.*)$/;
const AT = /^\s*at (.+?):(\d+)(?::(\d+))?:$/;
const CODE_FRAME = /^\s*\d*\s*\|/;
const META = /^\s*\((?:stack trace truncated|\d+ duplicate frames? omitted)/;
/** The hint Nix ≤ 2.12 prints after an error that has (hidden) traces. */
export const SHOW_TRACE_HINT = /^\(use '--show-trace' to show detailed location information\)$/;

/** The parts of one error block. */
export interface ParsedBlock {
  message: string;
  position?: SourcePosition;
  trace: TraceFrame[];
}

interface Item {
  kind: 'error' | 'trace';
  lines: string[];
  blank: boolean;
  position?: SourcePosition;
}

/**
 * Splits one error block (ANSI-stripped lines, the first starting with `error:`) into message, primary
 * position and trace. The primary position is the `at` after the *last* `error:` line (2.13+ prints traces first).
 */
export function parseErrorBlock(lines: readonly string[]): ParsedBlock {
  const items: Item[] = [];
  let cur: Item | undefined;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = ERR.exec(line))) {
      cur = { kind: 'error', lines: m[1] ? [m[1]] : [], blank: false };
      items.push(cur);
    } else if ((m = TRACE.exec(line)) && line.trimStart().startsWith('…')) {
      cur = { kind: 'trace', lines: [m[1]!.trim()], blank: false };
      items.push(cur);
    } else if ((m = AT.exec(line))) {
      if (cur && !cur.position) cur.position = positionFromText(m[1]!, m[2]!, m[3]);
    } else if (line.trim() === '') {
      if (cur) cur.blank = true;
    } else if (CODE_FRAME.test(line) || META.test(line)) {
      continue;
    } else if (cur) {
      if (cur.blank && cur.lines.length > 0) cur.lines.push('');
      cur.blank = false;
      if (cur.lines.length < MAX_MESSAGE_LINES) cur.lines.push(line.replace(/^ {0,7}/, ''));
    }
  }
  let primary = -1;
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.kind === 'error' && it.lines.length > 0) {
      primary = i;
      break;
    }
  }
  const frame = (it: Item): TraceFrame => {
    const message = it.lines.join('\n').trim();
    return it.position ? { message, position: it.position } : { message };
  };
  const before = items
    .slice(0, Math.max(0, primary))
    .filter((it) => it.kind === 'trace')
    .map(frame)
    .reverse();
  const after = items
    .slice(primary + 1)
    .filter((it) => it.kind === 'trace')
    .map(frame);
  const main = primary >= 0 ? items[primary] : undefined;
  return {
    message: truncate((main?.lines ?? []).join('\n').trim(), MAX_MESSAGE),
    ...(main?.position ? { position: main.position } : {}),
    trace: [...before, ...after].slice(0, MAX_TRACE),
  };
}

/**
 * Parses every error in a plain-text stderr (any layout from 2.8 on). Lines that are not part of an
 * error block (warnings, `building '…'…`, git output) are skipped.
 */
export function parseErrorText(stderr: string): NixError[] {
  // Builders' bytes pass through Nix as they are: 2.8's serialised errors are decoded first (one can hold several
  // lines), then `stripAnsi` drops every control character.
  const raw = splitLines(decodeSerialisedErrors(stderr));
  const lines = raw.map((l) => stripAnsi(l));
  const out: NixError[] = [];
  // Linear: each line is looked at a bounded number of times. A block ends at the first unindented, non-empty line,
  // which is also the line after it (blank lines between them belong to the block), so the `--show-trace` hint is
  // found without scanning (or copying) the rest of the text for every block.
  for (let i = 0; i < lines.length; i++) {
    if (!ERROR_START.test(lines[i]!)) continue;
    let end = i + 1;
    while (end < lines.length && (lines[end] === '' || /^\s/.test(lines[end]!))) end++;
    let last = end;
    while (last > i + 1 && lines[last - 1]!.trim() === '') last--;
    const next = end < lines.length ? lines[end] : undefined;
    out.push(errorFromBlock(lines.slice(i, last), raw.slice(i, last).join('\n'), next !== undefined && SHOW_TRACE_HINT.test(next)));
    i = end - 1;
  }
  return out;
}

/** Builds a NixError from one ANSI-stripped block. `hinted`: Nix printed the `--show-trace` hint after it. */
export function errorFromBlock(lines: readonly string[], raw: string, hinted: boolean): NixError {
  const block = parseErrorBlock(lines);
  const detail = classifyError(block.message, {
    positioned: block.position !== undefined,
    evaluation: hinted || block.trace.length > 0,
    trace: block.trace,
  });
  // A builder failure quotes the end of its log: say what a known cause there means.
  const hint = detail.kind === 'builder-failed' ? explainBuildLog(block.message) : undefined;
  return { ...block, ...(hint ? { message: `${block.message}\n${hint}` } : {}), ...detail, raw };
}
