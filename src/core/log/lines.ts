// Splits a stream of stderr chunks into lines. No `vscode` import.

/** A complete line. `dropped` counts the characters cut off when the line was longer than the limit. */
export interface SplitLine {
  text: string;
  dropped: number;
}

/** Default longest line kept whole: 4 MiB of characters. Longer lines keep their start only. */
export const DEFAULT_MAX_LINE = 4 * 1024 * 1024;

/**
 * Turns chunks (strings, or bytes decoded as UTF-8 across chunk boundaries) into lines.
 * Accepts `\n` and `\r\n` endings. A line longer than `maxLine` characters is cut: its start is kept,
 * the rest is counted in `dropped`, and memory stays bounded however long the line is.
 */
export class LineSplitter {
  private readonly maxLine: number;
  private readonly decoder = new TextDecoder('utf-8');
  private parts: string[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(maxLine = DEFAULT_MAX_LINE) {
    this.maxLine = Math.max(1, Math.floor(maxLine));
  }

  /** Adds a chunk and returns the lines it completes. */
  push(chunk: string | Uint8Array): SplitLine[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SplitLine[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.append(text, start, nl);
      out.push(this.take());
      start = nl + 1;
    }
    if (start < text.length) this.append(text, start, text.length);
    return out;
  }

  /** Flushes the last line when the stream ends without a newline. */
  end(): SplitLine[] {
    const rest = this.decoder.decode();
    if (rest) this.append(rest, 0, rest.length);
    return this.kept > 0 || this.dropped > 0 ? [this.take()] : [];
  }

  private append(text: string, from: number, to: number): void {
    const room = this.maxLine - this.kept;
    const len = to - from;
    if (len <= room) {
      if (len > 0) this.parts.push(from === 0 && to === text.length ? text : text.slice(from, to));
      this.kept += len;
    } else {
      if (room > 0) this.parts.push(text.slice(from, from + room));
      this.kept += Math.max(0, room);
      this.dropped += len - Math.max(0, room);
    }
  }

  private take(): SplitLine {
    let text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    const dropped = this.dropped;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    return { text, dropped };
  }
}

/** Splits a whole text into lines (`\n` or `\r\n`), without the limit of the streaming splitter. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}
