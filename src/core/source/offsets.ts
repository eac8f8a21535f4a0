// Offsets, ranges and line/character positions for the Nix source scanner. No `vscode` import.
//
// Every offset in src/core/source is a 0-based UTF-16 offset into the document text (what JavaScript string
// indices are and what VS Code's `TextDocument.offsetAt` returns). Ranges are half-open: `[start, end)`.

/** A half-open range of UTF-16 offsets, `[start, end)`. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** A 0-based line and a 0-based UTF-16 character within it, as VS Code's `Position`. */
export interface Position {
  readonly line: number;
  readonly character: number;
}

/** A range of positions, as VS Code's `Range`. */
export interface LineRange {
  readonly start: Position;
  readonly end: Position;
}

/** An edit of a text: delete `deleteLength` characters at `offset`, then insert `insertText` there. */
export interface TextEdit {
  readonly offset: number;
  readonly deleteLength: number;
  readonly insertText: string;
}

/** A plain copy of the range of anything that has one (a key, a token). */
export function rangeOf(r: Range): Range {
  return { start: r.start, end: r.end };
}

/** Returns the text with the edit applied. Offsets outside the text are clamped. */
export function applyEdit(text: string, edit: TextEdit): string {
  const start = Math.max(0, Math.min(edit.offset, text.length));
  const end = Math.max(start, Math.min(start + Math.max(0, edit.deleteLength), text.length));
  return text.slice(0, start) + edit.insertText + text.slice(end);
}

/**
 * A precomputed index of line starts, for converting between offsets and positions in O(log lines).
 * Lines end at `\n`, `\r\n` or a lone `\r`, as in VS Code.
 */
export class LineIndex {
  /** Offset of the first character of each line; `lineStarts[0]` is 0. */
  private readonly lineStarts: Uint32Array;

  constructor(private readonly text: string) {
    const starts: number[] = [0];
    if (!text.includes('\r')) {
      // The usual text: only `\n`, found by the engine's own search rather than a character at a time.
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 /* \n */) starts.push(i + 1);
        else if (c === 13 /* \r */) {
          if (text.charCodeAt(i + 1) === 10) i++;
          starts.push(i + 1);
        }
      }
    }
    this.lineStarts = Uint32Array.from(starts);
  }

  /** Number of lines (a text without line breaks has one). */
  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** The 0-based line holding `offset` (clamped to the text). */
  lineAt(offset: number): number {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Offset of the first character of `line` (clamped to the existing lines). */
  lineStart(line: number): number {
    const l = Math.max(0, Math.min(Math.floor(line), this.lineStarts.length - 1));
    return this.lineStarts[l]!;
  }

  /** Offset just past the last character of `line`, before its line break. */
  lineEnd(line: number): number {
    const l = Math.max(0, Math.min(Math.floor(line), this.lineStarts.length - 1));
    const start = this.lineStarts[l]!;
    let end = this.lineStarts[l + 1] ?? this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 10) end--;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return end;
  }

  /** The 0-based position of `offset` (clamped to the text). */
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineAt(o);
    return { line, character: o - this.lineStarts[line]! };
  }

  /** The offset of a 0-based position; a character past the end of its line is clamped to the line end. */
  offsetAt(position: Position): number {
    if (position.line < 0) return 0;
    if (position.line >= this.lineStarts.length) return this.text.length;
    const start = this.lineStarts[position.line]!;
    return Math.min(start + Math.max(0, position.character), this.lineEnd(position.line));
  }

  /** Converts an offset range to a position range. */
  toLineRange(range: Range): LineRange {
    return { start: this.positionAt(range.start), end: this.positionAt(range.end) };
  }

  /** Converts a position range to an offset range. */
  toRange(range: LineRange): Range {
    return { start: this.offsetAt(range.start), end: this.offsetAt(range.end) };
  }
}

/** The whitespace that starts the line holding `offset`. */
export function indentationAt(text: string, offset: number): string {
  let start = offset;
  while (start > 0 && text.charCodeAt(start - 1) !== 10 && text.charCodeAt(start - 1) !== 13) start--;
  let end = start;
  while (end < text.length && (text.charCodeAt(end) === 32 || text.charCodeAt(end) === 9)) end++;
  return text.slice(start, end);
}

/** True when only spaces and tabs stand between the start of its line and `offset`. */
export function isFirstOnLine(text: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** The UTF-16 column of `offset` within its line (0-based). */
export function columnAt(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && text.charCodeAt(i - 1) !== 10 && text.charCodeAt(i - 1) !== 13) i--;
  return offset - i;
}
