// Small text helpers shared by the core. No `vscode` import.

/** CSI and OSC escape sequences, as Nix writes them into messages even when not on a TTY. */
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Control characters people must never see: C0 but tab and newline, DEL, C1 (what is left after ANSI escapes). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Removes ANSI escapes, carriage returns and every other control character but newline and tab, for text shown to
 * people or matched by patterns. Nix passes builders' bytes through as they are: 2.8's serialised builder errors
 * are first decoded into the text newer Nix prints (`decodeSerialisedErrors`), and no other control character may
 * reach a notification, the Problems view or a log.
 */
export function stripAnsi(s: string): string {
  const decoded = s.includes('\x00') || s.includes('\x01') ? decodeSerialisedErrors(s) : s;
  return decoded.replace(ANSI, '').replace(CONTROL, '');
}

/** Cuts a string to at most `max` characters, marking the cut. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

/** Where a serialised Nix `Error` starts: the length-prefixed string `Error` (8-byte little-endian length 5, padded). */
const SERIALISED_ERROR = '\x05\x00\x00\x00\x00\x00\x00\x00Error\x00\x00\x00';

/**
 * Nix 2.8 writes an error of a sandboxed builder's child process, e.g. `executing '/bin/sh': No such file or
 * directory`, into the build log in its wire format (2.26 and 2.34 print the text): a line `\x01`, then the error as 8-byte
 * little-endian numbers and length-prefixed, 8-byte-padded strings ("Error", level, "Error", message, position,
 * traces). This turns every such record in `s` into the text newer Nix prints instead (`error: <message>`, one
 * `… <trace>` line per trace) and drops the lone `\x01` marker. Text without a record is returned as it is.
 */
export function decodeSerialisedErrors(s: string): string {
  if (!s.includes('\x00')) return s.includes('\x01') ? dropMarkers(s) : s;
  let out = '';
  let from = 0;
  for (;;) {
    const at = s.indexOf(SERIALISED_ERROR, from);
    if (at < 0) break;
    const decoded = readSerialisedError(s, at);
    if (!decoded) {
      out += s.slice(from, at + SERIALISED_ERROR.length);
      from = at + SERIALISED_ERROR.length;
      continue;
    }
    out += s.slice(from, at) + decoded.text;
    from = decoded.end;
  }
  return dropMarkers(out + s.slice(from));
}

/** Removes the lines that hold only the `\x01` marker (also as a quoted log line, `       > \x01`). */
function dropMarkers(s: string): string {
  return s.replace(/^[ \t]*(?:> ?)?\x01(?:\n|$)/gm, '');
}

/** Reads one serialised `Error` at `at`; undefined when the bytes are not one. */
function readSerialisedError(s: string, at: number): { text: string; end: number } | undefined {
  let i = at;
  const num = (): number | undefined => {
    if (i + 8 > s.length) return undefined;
    let n = 0;
    for (let k = 7; k >= 0; k--) n = n * 256 + (s.charCodeAt(i + k) & 0xff);
    i += 8;
    return Number.isSafeInteger(n) ? n : undefined;
  };
  // Lengths count UTF-8 bytes; the text was decoded, so walk its code points.
  const str = (): string | undefined => {
    const len = num();
    if (len === undefined || len > 3 * (s.length - i)) return undefined;
    const start = i;
    let bytes = 0;
    while (bytes < len && i < s.length) {
      const c = s.codePointAt(i) ?? 0;
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      i += c >= 0x10000 ? 2 : 1;
    }
    if (bytes !== len) return undefined;
    const v = s.slice(start, i);
    i += (8 - (len % 8)) % 8;
    return i <= s.length ? v : undefined;
  };
  if (str() !== 'Error' || num() === undefined || str() === undefined) return undefined;
  const msg = str();
  if (msg === undefined) return undefined;
  const first = `error: ${msg}`;
  const lines = [first];
  const afterMessage = i;
  // Then a position (2.8 always writes 0) and the traces; what does not read as such is left (its NULs are removed
  // by `stripAnsi` like any control character).
  const havePos = num();
  const traces = havePos === 0 ? num() : undefined;
  if (traces === undefined || traces > 1000) return { text: first, end: afterMessage };
  for (let t = 0; t < traces; t++) {
    const hint = num() === 0 ? str() : undefined;
    if (hint === undefined) return { text: first, end: afterMessage };
    lines.push(`… ${hint}`);
  }
  return { text: lines.join('\n'), end: i };
}
