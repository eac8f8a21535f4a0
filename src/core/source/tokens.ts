// A single-pass tokenizer for the Nix language, following the rules of Nix's own lexer (lexer.l).
// No `vscode` import. It never throws: unterminated strings and comments end at the end of the text, and a
// character that starts no token becomes an `Unknown` token.
//
// Tokens are kept in parallel typed arrays (kind, start, end) rather than one object each: a 20,000-line file has
// some 150,000 tokens, and the CodeLens path must stay within a few milliseconds.

import type { Range } from './offsets';

/** What a token is. Comments are not tokens; they are listed separately in `TokenStream.comments`. */
export enum TokenKind {
  Unknown = 0,
  Ident,
  // Keywords. `or` is a keyword in `a.b or c` but may also name an attribute.
  Let,
  In,
  Rec,
  With,
  Inherit,
  If,
  Then,
  Else,
  Assert,
  Or,
  // Literals.
  Int,
  Float,
  /** `./a/b.nix`, `../x`, `/abs`, `~/x`, or one fragment of a path with `${…}` in it. */
  Path,
  /** `<nixpkgs>` */
  SearchPath,
  /** An unquoted URI, e.g. `https://example.org/x.tar.gz` or `github:NixOS/nixpkgs`. */
  Uri,
  /** `"` opening a string; the string goes on with `StrPart`, `InterpOpen`…`InterpClose`, and ends with `StrClose`. */
  StrOpen,
  StrPart,
  StrClose,
  /** `''` opening an indented string. */
  IndStrOpen,
  IndStrPart,
  IndStrClose,
  /** `${`, in a string, an indented string, a path, or as a dynamic attribute name. */
  InterpOpen,
  /** The `}` that closes a `${`. */
  InterpClose,
  // Punctuation.
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Semicolon,
  Colon,
  Comma,
  Dot,
  Ellipsis,
  Assign,
  At,
  Question,
  /** `//` */
  Update,
  /** `++` */
  Concat,
  /** Any other operator: `== != <= >= && || -> + - * / ! < >`. */
  Operator,
}

/** A problem found while scanning, at a range of the text. */
export interface Problem {
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

/** The tokens of a text, in parallel arrays indexed by token number. */
export interface TokenStream {
  readonly text: string;
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /**
   * For the lexer's own pairs — `"`/`''` with their closing quote, `${` with its `}`, and `{` with the `}` the lexer
   * matched it with — the index of the other token; -1 when unpaired or not a paired kind.
   */
  readonly pairs: Int32Array;
  /** `# …` and `/* … *\/` comments, in text order. */
  readonly comments: readonly Range[];
  /** Unterminated strings and comments, and characters that start no token. */
  readonly problems: readonly Problem[];
}

/** One token as an object, for tests and for code that is not on a hot path. */
export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

// Character classes, as bits in a table indexed by char code (ASCII only; others are in no class).
const ID_START = 1; // [a-zA-Z_]
const ID_CHAR = 2; // [a-zA-Z0-9_'-]
const PATH_CHAR = 4; // [a-zA-Z0-9._+-]
const SCHEME_CHAR = 8; // [a-zA-Z0-9+.-]
const URI_CHAR = 16; // [a-zA-Z0-9%/?:@&=+$,_.!~*'-]
const DIGIT = 32;
const KEYWORD_START = 64; // the first letters of keywords: a e i l o r t w
const SPACE = 128; // [ \t\n\r]

const CLASS = new Uint8Array(128);
(() => {
  const add = (chars: string, bit: number): void => {
    for (const c of chars) CLASS[c.charCodeAt(0)]! |= bit;
  };
  const lower = 'abcdefghijklmnopqrstuvwxyz';
  const letters = lower + lower.toUpperCase();
  const digits = '0123456789';
  add(letters + '_', ID_START);
  add(letters + digits + "_'-", ID_CHAR);
  add(letters + digits + '._+-', PATH_CHAR);
  add(letters + digits + '+.-', SCHEME_CHAR);
  add(letters + digits + "%/?:@&=+$,-_.!~*'", URI_CHAR);
  add(digits, DIGIT);
  add('aeilortw', KEYWORD_START);
  add(' \t\n\r', SPACE);
})();

function is(codes: Uint16Array, pos: number, bit: number): boolean {
  const c = codes[pos] ?? 0; // past the lookahead zeros: no class either
  return c < 128 && (CLASS[c]! & bit) !== 0;
}

/** How far past the end of the text the lexer looks ahead; `charCodes` puts zeros there (no class, no case). */
const LOOKAHEAD = 8;
const LITTLE_ENDIAN = new Uint16Array(new Uint8Array([1, 0]).buffer)[0] === 1;
/** Reused by every `tokenize` (the codes never leave it); dropped when it would be larger than this. */
const SCRATCH_MAX = 1 << 22;
let scratch: Uint16Array | undefined;

/**
 * The UTF-16 code units of `text` in an array, followed by LOOKAHEAD zeros: the lexer reads every character once
 * or more, and an array is read faster than `charCodeAt`.
 */
function charCodes(text: string): Uint16Array {
  const size = text.length + LOOKAHEAD;
  let codes: Uint16Array;
  if (scratch !== undefined && scratch.length >= size) codes = scratch;
  else {
    codes = new Uint16Array(Math.max(size, 1024));
    if (size <= SCRATCH_MAX) scratch = codes;
  }
  if (LITTLE_ENDIAN && typeof Buffer === 'function') {
    Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength).write(text, 0, 'utf16le');
  } else {
    for (let i = 0; i < text.length; i++) codes[i] = text.charCodeAt(i);
  }
  codes.fill(0, text.length, size);
  return codes;
}

// What a `${` or `{` on the lexer's stack returns to when its `}` comes.
const enum Frame {
  Brace,
  InterpCode,
  InterpString,
  InterpIndString,
  InterpPath,
}

/** Tokenizes Nix source text. Never throws; see the module comment. */
export function tokenize(text: string): TokenStream {
  return new Lexer(text).run();
}

/** Returns the tokens as objects (slower; for tests and diagnostics). */
export function tokenList(stream: TokenStream): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < stream.count; i++) {
    const start = stream.starts[i]!;
    const end = stream.ends[i]!;
    out.push({ kind: stream.kinds[i] as TokenKind, start, end, text: stream.text.slice(start, end) });
  }
  return out;
}

/** The start offset of token `t`; the end of the text past the last token. */
export function tokenStart(stream: TokenStream, t: number): number {
  return stream.starts[t] ?? stream.text.length;
}

/** The end offset of token `t`; the end of the text past the last token. */
export function tokenEnd(stream: TokenStream, t: number): number {
  return stream.ends[t] ?? stream.text.length;
}

/** True when offset lies inside a comment. */
export function inComment(stream: TokenStream, offset: number): boolean {
  const cs = stream.comments;
  let lo = 0;
  let hi = cs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = cs[mid]!;
    if (c.end <= offset) lo = mid + 1;
    else if (c.start > offset) hi = mid - 1;
    else return true;
  }
  return false;
}

/** The keyword spelled by `text[start, end)`, whose first character is `c`, or Ident. */
function keywordOrIdent(text: string, start: number, end: number, c: number): TokenKind {
  const n = end - start;
  switch (c) {
    case 105: // i
      if (n === 2) {
        const d = text.charCodeAt(start + 1);
        if (d === 110) return TokenKind.In;
        if (d === 102) return TokenKind.If;
      } else if (n === 7 && text.startsWith('inherit', start)) {
        return TokenKind.Inherit;
      }
      break;
    case 111: // o
      if (n === 2 && text.charCodeAt(start + 1) === 114) return TokenKind.Or;
      break;
    case 108: // l
      if (n === 3 && text.startsWith('let', start)) return TokenKind.Let;
      break;
    case 114: // r
      if (n === 3 && text.startsWith('rec', start)) return TokenKind.Rec;
      break;
    case 119: // w
      if (n === 4 && text.startsWith('with', start)) return TokenKind.With;
      break;
    case 116: // t
      if (n === 4 && text.startsWith('then', start)) return TokenKind.Then;
      break;
    case 101: // e
      if (n === 4 && text.startsWith('else', start)) return TokenKind.Else;
      break;
    case 97: // a
      if (n === 6 && text.startsWith('assert', start)) return TokenKind.Assert;
      break;
  }
  return TokenKind.Ident;
}

class Lexer {
  private readonly len: number;
  /** The text's code units, with zeros after the end (see `charCodes`). */
  private readonly codes: Uint16Array;
  /** The tokens so far: `count` of them, in arrays of `capacity` (views of one buffer). */
  private count = 0;
  private capacity = 0;
  private kinds!: Uint8Array;
  private starts!: Int32Array;
  private ends!: Int32Array;
  private pairs!: Int32Array;
  /** The text has a `\r` (else a line comment ends at the next `\n`, found with `indexOf`). */
  private readonly hasCR: boolean;
  private readonly comments: Range[] = [];
  private readonly problems: Problem[] = [];
  // The stack of open `{` and `${`: what each returns to, its token, and (for strings) the string's opening token.
  private readonly frames: Frame[] = [];
  private readonly frameTokens: number[] = [];
  private readonly frameStrings: number[] = [];
  /** Words starting before this offset are known to be neither paths nor URIs. */
  private plainUntil = 0;

  constructor(private readonly text: string) {
    this.len = text.length;
    this.codes = charCodes(text);
    this.hasCR = text.indexOf('\r') >= 0;
    // About one token per 7 characters in real code; one growth at worst.
    this.allocate(Math.ceil(text.length / 5) + 64);
  }

  /** Makes the token arrays `capacity` long, keeping the tokens so far. */
  private allocate(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * 13);
    const starts = new Int32Array(buffer, 0, capacity);
    const ends = new Int32Array(buffer, capacity * 4, capacity);
    const pairs = new Int32Array(buffer, capacity * 8, capacity);
    const kinds = new Uint8Array(buffer, capacity * 12, capacity);
    if (this.count > 0) {
      starts.set(this.starts.subarray(0, this.count));
      ends.set(this.ends.subarray(0, this.count));
      pairs.set(this.pairs.subarray(0, this.count));
      kinds.set(this.kinds.subarray(0, this.count));
    }
    this.starts = starts;
    this.ends = ends;
    this.pairs = pairs;
    this.kinds = kinds;
    this.capacity = capacity;
  }

  /** Appends a token (unpaired) and returns its index. */
  private push(kind: TokenKind, start: number, end: number): number {
    const i = this.count;
    if (i === this.capacity) this.allocate(this.capacity * 2 + 16);
    this.kinds[i] = kind;
    this.starts[i] = start;
    this.ends[i] = end;
    this.pairs[i] = -1;
    this.count = i + 1;
    return i;
  }

  private pair(a: number, b: number): void {
    this.pairs[a] = b;
    this.pairs[b] = a;
  }

  run(): TokenStream {
    const { codes, len } = this;
    let p = 0;
    while (p < len) {
      const c = codes[p]!;
      // Identifiers and white space first, by class: they are the most common, and no case below starts either.
      const cls = c < 128 ? CLASS[c]! : 0;
      if ((cls & ID_START) !== 0) {
        p = this.word(p, c);
        continue;
      }
      if ((cls & SPACE) !== 0) {
        p++;
        while (p < len) {
          const d = codes[p]!;
          if (d >= 128 || (CLASS[d]! & SPACE) === 0) break;
          p++;
        }
        continue;
      }
      switch (c) {
        case 59: // ;
          this.push(TokenKind.Semicolon, p, p + 1);
          p++;
          continue;
        case 61: // = == (here rather than in `operator`: `=` is common)
          if (codes[p + 1] === 61) {
            this.push(TokenKind.Operator, p, p + 2);
            p += 2;
          } else {
            this.push(TokenKind.Assign, p, p + 1);
            p++;
          }
          continue;
        case 35: // #
          p = this.lineComment(p);
          continue;
        case 34: // "
          p = this.stringBody(p + 1, this.push(TokenKind.StrOpen, p, p + 1));
          continue;
        case 39: // '
          if (codes[p + 1] === 39) {
            p = this.indStringBody(p + 2, this.push(TokenKind.IndStrOpen, p, p + 2));
          } else {
            p = this.unknown(p);
          }
          continue;
        case 36: // $
          if (codes[p + 1] === 123) {
            this.open(Frame.InterpCode, this.push(TokenKind.InterpOpen, p, p + 2), -1);
            p += 2;
          } else {
            p = this.unknown(p);
          }
          continue;
        case 123: // {
          this.open(Frame.Brace, this.push(TokenKind.LBrace, p, p + 1), -1);
          p++;
          continue;
        case 125: // }
          p = this.closeBrace(p);
          continue;
        case 47: // /
          if (codes[p + 1] === 42 /* * */) p = this.blockComment(p);
          else if (codes[p + 1] === 47) p = this.punct(TokenKind.Update, p, 2);
          else if (is(codes, p + 1, PATH_CHAR)) p = this.path(p);
          else p = this.punct(TokenKind.Operator, p, 1);
          continue;
        case 46: // .
          p = this.dot(p);
          continue;
        case 126: // ~
          if (codes[p + 1] === 47 && (is(codes, p + 2, PATH_CHAR) || this.interpAt(p + 2))) p = this.path(p + 1, p);
          else p = this.unknown(p);
          continue;
        case 60: // <
          p = this.lessThan(p);
          continue;
        default:
          break;
      }
      if (c >= 48 && c <= 57) p = this.number(p);
      else p = this.operator(p);
    }
    this.finish();
    const { count } = this;
    return {
      text: this.text,
      count,
      kinds: this.kinds.subarray(0, count),
      starts: this.starts.subarray(0, count),
      ends: this.ends.subarray(0, count),
      pairs: this.pairs.subarray(0, count),
      comments: this.comments,
      problems: this.problems,
    };
  }

  private open(frame: Frame, token: number, stringToken: number): void {
    this.frames.push(frame);
    this.frameTokens.push(token);
    this.frameStrings.push(stringToken);
  }

  private punct(kind: TokenKind, p: number, n: number): number {
    this.push(kind, p, p + n);
    return p + n;
  }

  private unknown(p: number): number {
    this.push(TokenKind.Unknown, p, p + 1);
    this.problems.push({ start: p, end: p + 1, message: `unexpected character '${this.text[p]}'` });
    return p + 1;
  }

  private interpAt(p: number): boolean {
    return this.codes[p] === 36 && this.codes[p + 1] === 123;
  }

  private lineComment(p: number): number {
    const { codes, len } = this;
    let q = p + 1;
    if (!this.hasCR) {
      q = this.text.indexOf('\n', q);
      if (q < 0) q = len;
    }
    while (q < len) {
      const c = codes[q];
      if (c === 10 || c === 13) break;
      q++;
    }
    this.comments.push({ start: p, end: q });
    return q;
  }

  private blockComment(p: number): number {
    const end = this.text.indexOf('*/', p + 2);
    if (end < 0) {
      this.comments.push({ start: p, end: this.len });
      this.problems.push({ start: p, end: p + 2, message: 'unterminated comment' });
      return this.len;
    }
    this.comments.push({ start: p, end: end + 2 });
    return end + 2;
  }

  /** `}`: closes a `{`, or a `${` and resumes the string or path it was in. */
  private closeBrace(p: number): number {
    const frame = this.frames.pop();
    const opener = this.frameTokens.pop() ?? -1;
    const stringToken = this.frameStrings.pop() ?? -1;
    if (frame === undefined || frame === Frame.Brace) {
      const t = this.push(TokenKind.RBrace, p, p + 1);
      if (opener >= 0) this.pair(opener, t);
      return p + 1;
    }
    const t = this.push(TokenKind.InterpClose, p, p + 1);
    this.pair(opener, t);
    switch (frame) {
      case Frame.InterpString:
        return this.stringBody(p + 1, stringToken);
      case Frame.InterpIndString:
        return this.indStringBody(p + 1, stringToken);
      case Frame.InterpPath:
        return this.pathTail(p + 1);
      default:
        return p + 1;
    }
  }

  /** The body of a `"` string from `p`, up to its closing quote or the next `${`. */
  private stringBody(p: number, open: number): number {
    const { codes, len } = this;
    const start = p;
    while (p < len) {
      const c = codes[p];
      if (c === 34) {
        if (p > start) this.push(TokenKind.StrPart, start, p);
        this.pair(open, this.push(TokenKind.StrClose, p, p + 1));
        return p + 1;
      }
      if (c === 92 /* \ */) {
        p += 2;
      } else if (c === 36 /* $ */) {
        const d = codes[p + 1];
        if (d === 123) {
          if (p > start) this.push(TokenKind.StrPart, start, p);
          this.open(Frame.InterpString, this.push(TokenKind.InterpOpen, p, p + 2), open);
          return p + 2;
        }
        p += d === 36 ? 2 : 1; // `$${` is a literal `${`
      } else {
        p++;
      }
    }
    if (len > start) this.push(TokenKind.StrPart, start, len);
    this.problemAtToken(open, 'unterminated string');
    return len;
  }

  /** The body of a `''` string from `p`: escapes `'''`, `''$`, `''\x`; ends at a lone `''`. */
  private indStringBody(p: number, open: number): number {
    const { codes, len } = this;
    const start = p;
    while (p < len) {
      const c = codes[p];
      if (c === 39 && codes[p + 1] === 39) {
        const d = codes[p + 2];
        if (d === 39 || d === 36) {
          p += 3;
        } else if (d === 92) {
          p += 4;
        } else {
          if (p > start) this.push(TokenKind.IndStrPart, start, p);
          this.pair(open, this.push(TokenKind.IndStrClose, p, p + 2));
          return p + 2;
        }
      } else if (c === 36) {
        const d = codes[p + 1];
        if (d === 123) {
          if (p > start) this.push(TokenKind.IndStrPart, start, p);
          this.open(Frame.InterpIndString, this.push(TokenKind.InterpOpen, p, p + 2), open);
          return p + 2;
        }
        p += d === 36 ? 2 : 1;
      } else {
        p++;
      }
    }
    const end = Math.min(p, len);
    if (end > start) this.push(TokenKind.IndStrPart, start, end);
    this.problemAtToken(open, 'unterminated indented string');
    return len;
  }

  /**
   * Where a path starting at `p` ends: `{PATH_CHAR}*(/{PATH_CHAR}+)+/?`, or, when a `/` is followed by `${`, just
   * after that `/` (an interpolated path). Returns -1 when there is no path at `p`.
   */
  private pathEnd(p: number): number {
    const { codes } = this;
    let q = p;
    while (is(codes, q, PATH_CHAR)) q++;
    let slashes = 0;
    while (codes[q] === 47) {
      if (is(codes, q + 1, PATH_CHAR)) {
        q++;
        while (is(codes, q, PATH_CHAR)) q++;
        slashes++;
      } else if (this.interpAt(q + 1)) {
        return q + 1;
      } else {
        break;
      }
    }
    if (slashes === 0) return -1;
    // A trailing slash belongs to the path (Nix then reports it), unless it starts `//` or `/*`.
    if (codes[q] === 47 && codes[q + 1] !== 47 && codes[q + 1] !== 42) q++;
    return q;
  }

  /** Emits a path token from `from` (usually `p`) and returns where lexing goes on; handles `${` inside paths. */
  private path(p: number, from = p): number {
    const end = this.pathEnd(p);
    if (end < 0) return this.unknown(from);
    this.push(TokenKind.Path, from, end);
    if (this.interpAt(end)) {
      this.open(Frame.InterpPath, this.push(TokenKind.InterpOpen, end, end + 2), -1);
      return end + 2;
    }
    return end;
  }

  /** After the `}` of a `${` in a path: more path characters, slashes or interpolations, if any. */
  private pathTail(p: number): number {
    const { codes } = this;
    let q = p;
    for (;;) {
      if (is(codes, q, PATH_CHAR)) q++;
      else if (codes[q] === 47 && (is(codes, q + 1, PATH_CHAR) || this.interpAt(q + 1))) q++;
      else break;
    }
    if (q > p) this.push(TokenKind.Path, p, q);
    if (this.interpAt(q)) {
      this.open(Frame.InterpPath, this.push(TokenKind.InterpOpen, q, q + 2), -1);
      return q + 2;
    }
    return q;
  }

  /** An identifier or keyword, unless a URI or a path starting here is longer (flex takes the longest match). */
  private word(p: number, c: number): number {
    const { codes, len } = this;
    let q = p + 1;
    let next = -1; // the character after the word; -1 at the end of the text
    for (; q < len; q++) {
      const d = codes[q]!;
      if (d >= 128 || (CLASS[d]! & ID_CHAR) === 0) {
        next = d;
        break;
      }
    }
    // Only these characters can make a URI or a path longer than the identifier. A select chain `a.b.c` is one
    // run of path characters: once it is known to end in neither `/` nor `:`, no word inside it is looked at again.
    if ((next === 58 /* : */ || next === 47 /* / */ || next === 46 /* . */ || next === 43) /* + */ && p >= this.plainUntil) {
      let r = q;
      while (is(codes, r, PATH_CHAR)) r++;
      const after = codes[r];
      if (after !== 47 && after !== 58) {
        this.plainUntil = r;
      } else {
        const uri = this.uriEnd(p);
        const path = this.pathEnd(p);
        if (uri > q && uri >= path) {
          this.push(TokenKind.Uri, p, uri);
          return uri;
        }
        if (path > q) return this.path(p);
      }
    }
    this.push(q - p <= 7 && (CLASS[c]! & KEYWORD_START) !== 0 ? keywordOrIdent(this.text, p, q, c) : TokenKind.Ident, p, q);
    return q;
  }

  /** `[a-zA-Z][a-zA-Z0-9+.-]*:[URI_CHAR]+` */
  private uriEnd(p: number): number {
    const { codes } = this;
    let q = p + 1;
    while (is(codes, q, SCHEME_CHAR)) q++;
    if (codes[q] !== 58 || !is(codes, q + 1, URI_CHAR)) return -1;
    q++;
    while (is(codes, q, URI_CHAR)) q++;
    return q;
  }

  private number(p: number): number {
    const { codes } = this;
    let q = p;
    while (is(codes, q, DIGIT)) q++;
    let kind = TokenKind.Int;
    if (codes[q] === 46 && (is(codes, q + 1, DIGIT) || !is(codes, q + 1, PATH_CHAR))) {
      kind = TokenKind.Float;
      q++;
      while (is(codes, q, DIGIT)) q++;
      q = this.exponent(q);
    }
    const path = this.pathEnd(p);
    if (path > q) return this.path(p);
    this.push(kind, p, q);
    return q;
  }

  private exponent(q: number): number {
    const { codes } = this;
    const e = codes[q];
    if (e !== 69 && e !== 101) return q;
    let r = q + 1;
    if (codes[r] === 43 || codes[r] === 45) r++;
    if (!is(codes, r, DIGIT)) return q;
    while (is(codes, r, DIGIT)) r++;
    return r;
  }

  /** `.`: a path (`./x`, `../x`), `...`, a float (`.5`), or a dot. */
  private dot(p: number): number {
    const { codes } = this;
    // Inside a run of path characters known to end in neither `/` nor `:` (see `word`), no path starts.
    const path = p < this.plainUntil ? -1 : this.pathEnd(p);
    if (path > p) return this.path(p);
    if (codes[p + 1] === 46 && codes[p + 2] === 46) return this.punct(TokenKind.Ellipsis, p, 3);
    if (is(codes, p + 1, DIGIT) && !this.afterOperand(p)) {
      let q = p + 1;
      while (is(codes, q, DIGIT)) q++;
      q = this.exponent(q);
      this.push(TokenKind.Float, p, q);
      return q;
    }
    return this.punct(TokenKind.Dot, p, 1);
  }

  /** True when the previous token ends right at `p` and is an identifier-like operand (`a.0` selects). */
  private afterOperand(p: number): boolean {
    const n = this.count;
    if (n === 0 || this.ends[n - 1] !== p) return false;
    const k = this.kinds[n - 1];
    return k === TokenKind.Ident || k === TokenKind.Or || k === TokenKind.StrClose || k === TokenKind.InterpClose;
  }

  /** `<nixpkgs>` / `<nixpkgs/lib>`, else `<=` or `<`. */
  private lessThan(p: number): number {
    const { codes } = this;
    let q = p + 1;
    if (is(codes, q, PATH_CHAR)) {
      while (is(codes, q, PATH_CHAR)) q++;
      while (codes[q] === 47 && is(codes, q + 1, PATH_CHAR)) {
        q++;
        while (is(codes, q, PATH_CHAR)) q++;
      }
      if (codes[q] === 62) {
        this.push(TokenKind.SearchPath, p, q + 1);
        return q + 1;
      }
    }
    return this.punct(TokenKind.Operator, p, codes[p + 1] === 61 ? 2 : 1);
  }

  private operator(p: number): number {
    const { codes } = this;
    const c = codes[p];
    const d = codes[p + 1];
    switch (c) {
      case 40:
        return this.punct(TokenKind.LParen, p, 1);
      case 41:
        return this.punct(TokenKind.RParen, p, 1);
      case 91:
        return this.punct(TokenKind.LBracket, p, 1);
      case 93:
        return this.punct(TokenKind.RBracket, p, 1);
      case 59:
        return this.punct(TokenKind.Semicolon, p, 1);
      case 58:
        return this.punct(TokenKind.Colon, p, 1);
      case 44:
        return this.punct(TokenKind.Comma, p, 1);
      case 64:
        return this.punct(TokenKind.At, p, 1);
      case 63:
        return this.punct(TokenKind.Question, p, 1);
      case 33: // ! !=
        return this.punct(TokenKind.Operator, p, d === 61 ? 2 : 1);
      case 62: // > >=
        return this.punct(TokenKind.Operator, p, d === 61 ? 2 : 1);
      case 38: // &&
        return d === 38 ? this.punct(TokenKind.Operator, p, 2) : this.unknown(p);
      case 124: // ||
        return d === 124 ? this.punct(TokenKind.Operator, p, 2) : this.unknown(p);
      case 45: // - ->
        return this.punct(TokenKind.Operator, p, d === 62 ? 2 : 1);
      case 43: // + ++
        return d === 43 ? this.punct(TokenKind.Concat, p, 2) : this.punct(TokenKind.Operator, p, 1);
      case 42: // *
        return this.punct(TokenKind.Operator, p, 1);
      default:
        return this.unknown(p);
    }
  }

  private finish(): void {
    // Strings left open inside `${` were reported by their bodies; report the `${` themselves here.
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const t = this.frameTokens[i];
      if (this.frames[i] !== Frame.Brace && t !== undefined) this.problemAtToken(t, "unterminated '${'");
    }
  }

  /** Reports a problem at token `t`, one already pushed. */
  private problemAtToken(t: number, message: string): void {
    this.problems.push({ start: this.starts[t] ?? this.len, end: this.ends[t] ?? this.len, message });
  }
}
