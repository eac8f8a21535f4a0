// A bounded reader of tar archives (ustar, pax and GNU long names), streaming: the headers of every entry and the
// data of the entries the caller wants, up to a budget; everything else is skipped as it passes. The archive is
// untrusted input: sizes, names, extended headers and the number of entries are bounded, checksums checked. No
// `vscode` import.

export interface TarEntry {
  name: string;
  size: number;
  /** `file`, `dir`, `symlink`, `link` (hard link), `other`. */
  type: 'file' | 'dir' | 'symlink' | 'link' | 'other';
  linkName?: string;
}

export interface TarLimits {
  /** Entries beyond this many end the read with an error. */
  maxEntries?: number;
  /** Bytes of wanted data kept in all. */
  maxKeptBytes?: number;
}

export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

const BLOCK = 512;
const MAX_EXTENDED = 1024 * 1024;
const MAX_NAME = 4096;

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end >= start && end < start + len ? end : start + len);
}

function octal(b: Buffer, start: number, len: number): number {
  // GNU base-256: the high bit of the first byte set.
  if (b[start]! & 0x80) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) {
      n = n * 256 + b[i]!;
      if (n > Number.MAX_SAFE_INTEGER) throw new TarError('an entry size is too large');
    }
    return n;
  }
  const s = b
    .toString('latin1', start, start + len)
    .replace(/\0.*$/s, '')
    .trim();
  if (!s) return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`a header field is not an octal number: ${JSON.stringify(s.slice(0, 20))}`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 32 : h[i]!;
  const stored = octal(h, 148, 8);
  return stored === unsigned;
}

/** pax records: `<len> <key>=<value>\n`. */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= sp - i || i + len > data.length) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

function typeOf(flag: string): TarEntry['type'] {
  if (flag === '0' || flag === '\0' || flag === '7' || flag === '') return 'file';
  if (flag === '5') return 'dir';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'link';
  return 'other';
}

/** Entry names as archives write them: `./a/b` and `a/b` are the same. */
export function normaliseTarName(name: string): string {
  let n = name.replace(/\\/g, '/');
  while (n.startsWith('./')) n = n.slice(2);
  n = n.replace(/^\/+/, '').replace(/\/+$/, '');
  return n.length > MAX_NAME ? n.slice(0, MAX_NAME) : n;
}

export interface TarContents {
  entries: TarEntry[];
  /** The data of the wanted entries (by normalised name). */
  data: Map<string, Buffer>;
  /** Wanted entries left out because the budget was spent. */
  leftOut: string[];
}

/**
 * Reads a tar stream: every entry's header, and the data of each entry for which `want(entry)` is true, while the
 * kept bytes stay within `maxKeptBytes`. Throws TarError for what is not a tar archive or breaks its bounds.
 */
export async function readTar(
  chunks: AsyncIterable<Buffer | Uint8Array>,
  want: (e: TarEntry) => boolean,
  limits: TarLimits = {},
): Promise<TarContents> {
  const maxEntries = limits.maxEntries ?? 200_000;
  let budget = limits.maxKeptBytes ?? 64 * 1024 * 1024;
  const entries: TarEntry[] = [];
  const data = new Map<string, Buffer>();
  const leftOut: string[] = [];

  let pending: Buffer[] = [];
  let pendingLen = 0;
  // What the bytes in front are: a header, an entry's data (kept or skipped), or the padding after it.
  type State =
    | { t: 'header' }
    | { t: 'data'; left: number; pad: number; keep?: Buffer[]; entry?: TarEntry; ext?: 'pax' | 'gnuname' | 'gnulink' | 'global' };
  let state = { t: 'header' } as State;
  let pax: Record<string, string> = {};
  let gnuName: string | undefined;
  let gnuLink: string | undefined;
  let zeroBlocks = 0;
  let ended = false;
  let sawHeader = false;

  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    pending = rest.length ? [rest] : [];
    pendingLen = rest.length;
    return out;
  };

  const onHeader = (h: Buffer) => {
    if (h.every((x) => x === 0)) {
      zeroBlocks++;
      ended = zeroBlocks >= 2;
      return;
    }
    zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarError(sawHeader ? 'a tar header has a bad checksum' : 'not a tar archive');
    sawHeader = true;
    const flag = String.fromCharCode(h[156]!);
    const size = octal(h, 124, 12);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_EXTENDED) throw new TarError('an extended header is too large');
      state = {
        t: 'data',
        left: size,
        pad,
        keep: [],
        ext: flag === 'x' ? 'pax' : flag === 'g' ? 'global' : flag === 'L' ? 'gnuname' : 'gnulink',
      };
      return;
    }
    const ustar = h.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar ? cString(h, 345, 155) : '';
    let name = cString(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    name = pax.path ?? gnuName ?? name;
    const link = pax.linkpath ?? gnuLink ?? cString(h, 157, 100);
    const realSize = pax.size !== undefined && /^\d+$/.test(pax.size) ? Number(pax.size) : size;
    pax = {};
    gnuName = gnuLink = undefined;
    const entry: TarEntry = { name: normaliseTarName(name), size: realSize, type: typeOf(flag) };
    if (entry.type === 'symlink' || entry.type === 'link') entry.linkName = link.slice(0, MAX_NAME);
    if (entries.length >= maxEntries) throw new TarError(`the archive has more than ${maxEntries} entries`);
    entries.push(entry);
    const realPad = (BLOCK - (realSize % BLOCK)) % BLOCK;
    let keep: Buffer[] | undefined;
    if (entry.type === 'file' && want(entry)) {
      if (realSize <= budget) {
        budget -= realSize;
        keep = [];
      } else leftOut.push(entry.name);
    }
    state = { t: 'data', left: realSize, pad: realPad, keep, entry };
  };

  const finishData = (s: Extract<State, { t: 'data' }>) => {
    const buf = s.keep ? Buffer.concat(s.keep) : undefined;
    if (s.ext === 'pax' && buf) pax = parsePax(buf);
    else if (s.ext === 'gnuname' && buf) gnuName = cString(buf, 0, buf.length);
    else if (s.ext === 'gnulink' && buf) gnuLink = cString(buf, 0, buf.length);
    else if (s.entry && buf) data.set(s.entry.name, buf);
  };

  for await (const c of chunks) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c);
    pending.push(chunk);
    pendingLen += chunk.length;
    while (!ended) {
      if (state.t === 'header') {
        if (pendingLen < BLOCK) break;
        onHeader(take(BLOCK));
        continue;
      }
      const s = state;
      if (s.left > 0) {
        if (pendingLen === 0) break;
        const n = Math.min(s.left, pendingLen);
        const part = take(n);
        if (s.keep) s.keep.push(Buffer.from(part));
        s.left -= n;
        if (s.left > 0) break;
      }
      if (s.pad > 0) {
        if (pendingLen === 0) break;
        const n = Math.min(s.pad, pendingLen);
        take(n);
        s.pad -= n;
        if (s.pad > 0) break;
      }
      finishData(s);
      state = { t: 'header' };
    }
    if (ended) break;
  }
  if (!sawHeader) throw new TarError('not a tar archive (no entry)');
  if (state.t === 'data') throw new TarError('the archive ends inside an entry');
  return { entries, data, leftOut };
}

/** Writes a minimal ustar archive (tests and fixtures): files with their data, names up to 100 bytes, else pax. */
export function writeTar(files: readonly { name: string; data: Buffer | string; mtime?: number }[]): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, flag: string, mtime: number): Buffer => {
    const h = Buffer.alloc(BLOCK);
    h.write(name.slice(0, 100), 0, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write(`${mtime.toString(8).padStart(11, '0')}\0`, 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write(flag, 156, 'latin1');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    let sum = 0;
    for (const x of h) sum += x;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return h;
  };
  const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
  for (const f of files) {
    const body = typeof f.data === 'string' ? Buffer.from(f.data) : f.data;
    const mtime = f.mtime ?? 0;
    if (Buffer.byteLength(f.name) > 100) {
      const rec = (k: string, v: string) => {
        const core = ` ${k}=${v}\n`;
        let len = Buffer.byteLength(core) + 1;
        while (String(len).length + Buffer.byteLength(core) !== len) len = String(len).length + Buffer.byteLength(core);
        return `${len}${core}`;
      };
      const paxData = Buffer.from(rec('path', f.name));
      blocks.push(header('PaxHeader', paxData.length, 'x', mtime), paxData, pad(paxData.length));
    }
    blocks.push(header(f.name, body.length, '0', mtime), body, pad(body.length));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}
