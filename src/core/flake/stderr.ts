// Nix stderr as message lines, for the flake parsers. No `vscode` import.

import { stripAnsi } from '../text';
import { isJsonObject, own } from './json';

/** Lines longer than this are cut before matching: no message the flake parsers look for is that long. */
const MAX_LINE = 16 * 1024;

/**
 * Splits nix stderr into message lines with ANSI codes removed. Plain lines are kept as they are; with
 * `--log-format internal-json`, the text of each `@nix {"action":"msg",…}` record is used (it may span lines)
 * and other records are dropped. Never throws.
 */
export function nixMessageLines(stderr: string): string[] {
  const out: string[] = [];
  if (typeof stderr !== 'string') return out;
  for (const raw of stderr.split('\n')) {
    const line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
    if (line.startsWith('@nix {')) {
      const msg = internalJsonMessage(line.slice(5));
      if (msg !== undefined) out.push(...stripAnsi(msg).split('\n'));
      continue;
    }
    out.push(stripAnsi(line));
  }
  return out;
}

function internalJsonMessage(json: string): string | undefined {
  try {
    const v: unknown = JSON.parse(json);
    if (!isJsonObject(v) || own(v, 'action') !== 'msg') return undefined;
    const msg = own(v, 'msg');
    return typeof msg === 'string' ? msg : undefined;
  } catch {
    return undefined;
  }
}
