// Multi-document YAML (rendered Kubernetes manifests): split on `---` document markers, each document named by its
// `kind`, `metadata.namespace` and `metadata.name`, and two renders compared resource by resource, so a render that
// only reorders its documents is no change. A small reader of those three fields, not a YAML parser: the text is
// untrusted and bounded. No `vscode` import.

/** What is read of a text at most (a larger render is compared as plain text). */
export const MAX_YAML_BYTES = 32 * 1024 * 1024;
/** At most this many documents per file; the rest are kept in the last one. */
export const MAX_DOCUMENTS = 20_000;
/** Names and kinds longer than this are cut. */
const MAX_FIELD = 512;

export interface YamlDocument {
  /** The document's text without its `---` line and without leading and trailing blank lines. */
  text: string;
  /** 1-based line of the document's first line in the file. */
  line: number;
  kind?: string;
  name?: string;
  namespace?: string;
  /** `Kind namespace/name`, `Kind name` (no namespace), else `document N` (N: 1-based among the unnamed ones). */
  key: string;
}

const DOC_START = /^---(?:[ \t]|$)/;
const DOC_END = /^\.\.\.(?:[ \t]|$)/;
const DIRECTIVE = /^%/;

/** Splits a multi-document YAML text on its document markers; empty documents (blank, comments only) are dropped. */
export function splitYamlDocuments(text: string): YamlDocument[] {
  const lines = text.slice(0, MAX_YAML_BYTES).split(/\r?\n/);
  type Raw = { lines: string[]; line: number };
  const raws: Raw[] = [];
  let cur: Raw = { lines: [], line: 1 };
  let inDirectives = true;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (DOC_START.test(l) && raws.length < MAX_DOCUMENTS - 1) {
      raws.push(cur);
      // `--- value` carries the document's first content on the marker's line.
      const rest = l.slice(3).trim();
      cur = { lines: rest ? [rest] : [], line: rest ? i + 1 : i + 2 };
      inDirectives = false;
      continue;
    }
    if (DOC_END.test(l)) {
      raws.push(cur);
      cur = { lines: [], line: i + 2 };
      inDirectives = true;
      continue;
    }
    if (inDirectives && DIRECTIVE.test(l) && cur.lines.every((x) => !x.trim() || x.trimStart().startsWith('#'))) continue;
    cur.lines.push(l);
  }
  raws.push(cur);
  const docs: YamlDocument[] = [];
  const seen = new Map<string, number>();
  let unnamed = 0;
  for (const r of raws) {
    let start = 0;
    let end = r.lines.length;
    while (start < end && !r.lines[start]!.trim()) start++;
    while (end > start && !r.lines[end - 1]!.trim()) end--;
    const body = r.lines.slice(start, end);
    if (body.every((l) => !l.trim() || /^\s*#/.test(l))) continue;
    const fields = readResourceFields(body);
    let key =
      fields.kind && fields.name
        ? `${fields.kind} ${fields.namespace ? `${fields.namespace}/` : ''}${fields.name}`
        : `document ${++unnamed}`;
    // The same resource twice (a render that repeats one): told apart by their order.
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) key = `${key} (${n})`;
    docs.push({ text: body.join('\n'), line: r.line + start, ...fields, key });
  }
  return docs;
}

/** Reads `kind`, `metadata.name` and `metadata.namespace` of one block-style (or flow-style `metadata`) document. */
export function readResourceFields(lines: readonly string[]): { kind?: string; name?: string; namespace?: string } {
  const out: { kind?: string; name?: string; namespace?: string } = {};
  let inMetadata = false;
  let childIndent = -1;
  for (const raw of lines) {
    const line = raw.length > 4096 ? raw.slice(0, 4096) : raw;
    if (!line.trim() || /^\s*#/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      inMetadata = false;
      const m = /^([A-Za-z_][\w.-]*|"[^"]*"|'[^']*')\s*:(?:\s+(.*))?$/.exec(line);
      if (!m) continue;
      const key = unquote(m[1]!);
      const value = m[2] ?? '';
      if (key === 'kind') out.kind = scalar(value);
      else if (key === 'metadata') {
        const v = stripComment(value).trim();
        if (v.startsWith('{')) Object.assign(out, flowFields(v));
        else {
          inMetadata = true;
          childIndent = -1;
        }
      }
      continue;
    }
    if (!inMetadata) continue;
    if (childIndent < 0) childIndent = indent;
    if (indent !== childIndent) continue;
    const m = /^\s*([A-Za-z_][\w.-]*|"[^"]*"|'[^']*')\s*:(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const key = unquote(m[1]!);
    if (key === 'name') out.name = scalar(m[2] ?? '');
    else if (key === 'namespace') out.namespace = scalar(m[2] ?? '');
  }
  for (const k of ['kind', 'name', 'namespace'] as const) if (!out[k]) delete out[k];
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  return s;
}

function stripComment(s: string): string {
  if (s.startsWith('"') || s.startsWith("'")) return s;
  const i = s.search(/\s#/);
  return i < 0 ? s : s.slice(0, i);
}

/** A plain or quoted scalar; undefined for anything else (a block, an anchor's alias, a flow collection). */
function scalar(value: string): string | undefined {
  let v = value.trim();
  if (v.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(v);
    return m ? clip(m[1]!.replace(/\\(.)/g, '$1')) : undefined;
  }
  if (v.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'/.exec(v);
    return m ? clip(m[1]!.replace(/''/g, "'")) : undefined;
  }
  v = stripComment(v).trim();
  if (!v || /^[|>&*!{[]/.test(v)) return undefined;
  return clip(v);
}

/** `{name: a, namespace: b}` (one line). */
function flowFields(v: string): { name?: string; namespace?: string } {
  const out: { name?: string; namespace?: string } = {};
  const inner = v.slice(1, v.lastIndexOf('}') > 0 ? v.lastIndexOf('}') : undefined);
  for (const part of inner.split(',')) {
    const m = /^\s*("[^"]*"|'[^']*'|[\w.-]+)\s*:\s*(.*?)\s*$/.exec(part);
    if (!m) continue;
    const key = unquote(m[1]!);
    if (key === 'name' || key === 'namespace') out[key] = scalar(m[2]!);
  }
  return out;
}

function clip(s: string): string {
  return s.length > MAX_FIELD ? s.slice(0, MAX_FIELD) : s;
}

export type ChangeStatus = 'added' | 'removed' | 'changed' | 'unchanged';

export interface ResourceChange {
  key: string;
  status: ChangeStatus;
  /** The document before (absent when added) and after (absent when removed). */
  before?: YamlDocument;
  after?: YamlDocument;
}

/** Whether a file's text reads as multi-document YAML worth comparing per resource: a .yaml/.yml name. */
export function isYamlName(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Trailing spaces and CRLF are not a change. */
function normalise(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n');
}

/**
 * Compares two renders resource by resource (matched by their keys): in the order of `after`, then the removed ones
 * in the order of `before`. A reordered render has only `unchanged` entries.
 */
export function diffYamlDocuments(before: string, after: string): ResourceChange[] {
  const a = splitYamlDocuments(before);
  const b = splitYamlDocuments(after);
  const old = new Map(a.map((d) => [d.key, d]));
  const out: ResourceChange[] = [];
  for (const d of b) {
    const o = old.get(d.key);
    if (!o) out.push({ key: d.key, status: 'added', after: d });
    else {
      out.push({ key: d.key, status: normalise(o.text) === normalise(d.text) ? 'unchanged' : 'changed', before: o, after: d });
      old.delete(d.key);
    }
  }
  for (const o of old.values()) out.push({ key: o.key, status: 'removed', before: o });
  return out;
}

/** Whether two YAML texts hold the same resources with the same text, in any order. */
export function sameResources(before: string, after: string): boolean {
  return diffYamlDocuments(before, after).every((c) => c.status === 'unchanged');
}
