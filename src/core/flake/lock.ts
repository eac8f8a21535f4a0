// flake.lock (versions 5–7): the input graph, resolved by input path, with file offsets for every node.
// No `vscode` import.
//
// Facts this follows (nix-cli reference §3.3 and Nix's lockfile.cc):
//  - node keys are not input names (`nixpkgs_2`); inputs are found by their path from the root;
//  - an `inputs` value is a node key (string) or a `follows` path from the root (array); `[]` follows nothing
//    (it points back at the root flake, i.e. the input is effectively removed);
//  - follows are resolved like Nix's `LockFile::findInput`, including follows through follows, with cycles detected;
//    each follows entry is resolved once (memoised, without recursion), so that resolving is linear in the file's size
//    whatever its shape: chains of follows, follows through follows, cycles;
//  - the listing (every input path from the root) is bounded: MAX_LOCK_INPUTS paths, MAX_INPUT_DEPTH deep,
//    MAX_ID_CHARS characters of ids in all; what is per node (its references, its sorted input names) is computed once;
//  - `narHash` and `lastModified` may be absent (Determinate's lazy locks, tarballs).

import { parseTree, type Node as JsonNode, type ParseError as JsoncParseError } from 'jsonc-parser';
import { checkSize, clip, compareStrings, errorAt, jsoncError, type FlakeParseError, type TextRange } from './json';

/** The fetcher type of an input (`hg` is reported as `mercurial`). */
export type InputType = 'github' | 'gitlab' | 'sourcehut' | 'git' | 'path' | 'tarball' | 'file' | 'indirect' | 'mercurial' | 'unknown';

/** Fetcher attributes as stored in `locked` / `original` (strings, integers, Booleans). */
export type LockAttrs = Readonly<Record<string, string | number | boolean>>;

/** An edge from a node to one of its inputs. */
export type LockEdge = { kind: 'node'; key: string; range: TextRange } | { kind: 'follows'; path: string[]; range: TextRange };

/** A node of `nodes`, as stored. */
export interface LockNode {
  key: string;
  /** The node's object value in the file. */
  range: TextRange;
  /** The node's key string in the file. */
  keyRange: TextRange;
  locked?: LockAttrs;
  original?: LockAttrs;
  /** False for `flake = false` inputs. */
  isFlake: boolean;
  /** 2.26+: the input path of the flake that a relative `path:` input is relative to. */
  parent?: string[];
  inputs: ReadonlyMap<string, LockEdge>;
}

/** How a `follows` entry resolved. `nothing`: `[]` (or a path back to the root flake). */
export type FollowsStatus = 'resolved' | 'nothing' | 'missing' | 'cycle';

/** One input, reached by its path from the root. */
export interface LockInput {
  /** Input names from the root, e.g. `['flake-parts', 'nixpkgs-lib']`. */
  path: string[];
  /** `flake-parts/nixpkgs-lib`, as Nix prints input paths. */
  id: string;
  /** The last name of the path. */
  name: string;
  /** Where this input is declared: the `"name": …` entry in its parent's `inputs`. */
  entryRange: TextRange;
  /** For a `follows` entry: the path it follows (`[]` follows nothing). */
  follows?: string[];
  followsStatus?: FollowsStatus;
  /** The node it is locked to (for follows: the node it reaches). */
  nodeKey?: string;
  /** The node's object in the file, for "open flake.lock at this input". */
  nodeRange?: TextRange;
  type: InputType;
  /** The `type` attribute when it is not one of the known ones (or `hg`). */
  rawType?: string;
  /** The reference as written in flake.nix, e.g. `github:NixOS/nixpkgs/nixos-24.05`. */
  original?: string;
  /** The locked reference, without narHash/lastModified/revCount. */
  locked?: string;
  /** Full locked revision. */
  rev?: string;
  /** First 7 characters of `rev`. */
  shortRev?: string;
  /** Branch or tag asked for (`original.ref`, else `locked.ref`). */
  ref?: string;
  /** Unix seconds; absent for some inputs (tarballs, lazy locks). */
  lastModified?: number;
  narHash?: string;
  revCount?: number;
  /** False for `flake = false` inputs. */
  isFlake: boolean;
  lockedAttrs?: LockAttrs;
  originalAttrs?: LockAttrs;
  /** This input's own inputs (empty for follows entries; see the target). */
  inputs: LockInput[];
  /** The node keys loop back to a node already on this path (only in hostile or corrupt files). */
  cycle?: boolean;
}

export interface FlakeLock {
  version: number;
  /** The root node's key, normally `root`. */
  rootKey: string;
  /** Nodes by key (only the ones reachable from the root are read and checked). */
  nodes: ReadonlyMap<string, LockNode>;
  /** The root's inputs, sorted by name; each with its own inputs. */
  inputs: LockInput[];
  /**
   * The listing stopped: more than MAX_LOCK_INPUTS input paths, a path deeper than MAX_INPUT_DEPTH, or more than
   * MAX_ID_CHARS characters of ids (very long input names).
   */
  truncated: boolean;
}

export type FlakeLockResult = { ok: true; lock: FlakeLock } | { ok: false; error: FlakeParseError };

/** Bounds against hostile files. */
export const MAX_LOCK_INPUTS = 20_000;
const MAX_INPUT_DEPTH = 64;
/** Characters of all the listed inputs' ids (`a/b/c`) together. A real lock file has a few thousand. */
export const MAX_ID_CHARS = 8 * 1024 * 1024;
/** findInput: follows entries followed in one lookup. */
const MAX_FOLLOWS_STEPS = 256;

/** A flake input name as Nix accepts it in input paths (`parseInputAttrPath`). */
export const INPUT_NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

const STRING_ATTRS = ['type', 'owner', 'repo', 'ref', 'rev', 'url', 'path', 'narHash', 'host', 'id', 'dir'];
const INTEGER_ATTRS = ['lastModified', 'revCount'];

/**
 * Parses flake.lock text. Every node keeps its offset and length in the file. Malformed JSON (with its position),
 * versions other than 5–7, wrong field types, missing nodes and cycles through the root give a typed error.
 * Never throws.
 */
export function parseFlakeLock(text: string): FlakeLockResult {
  const sizeError = checkSize(text, 'flake.lock');
  if (sizeError) return { ok: false, error: sizeError };
  const errors: JsoncParseError[] = [];
  let tree: JsonNode | undefined;
  try {
    tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch {
    return { ok: false, error: { kind: 'too-deep', message: 'flake.lock is nested too deeply.' } };
  }
  if (errors.length > 0 || !tree) return { ok: false, error: jsoncError(text, errors, 'flake.lock') };
  try {
    return { ok: true, lock: new LockReader(text, tree).read() };
  } catch (e) {
    if (e instanceof LockError) return { ok: false, error: e.error };
    if (e instanceof RangeError) return { ok: false, error: { kind: 'too-deep', message: 'flake.lock is nested too deeply.' } };
    throw e;
  }
}

/** Every input of the lock file, depth first (parents before their inputs), follows entries included. */
export function allInputs(lock: FlakeLock): LockInput[] {
  const out: LockInput[] = [];
  const walk = (inputs: readonly LockInput[]): void => {
    for (const i of inputs) {
      out.push(i);
      walk(i.inputs);
    }
  };
  walk(lock.inputs);
  return out;
}

/**
 * The input at a path from the root (`'home-manager/nixpkgs'` or `['home-manager', 'nixpkgs']`).
 * Paths that go through a `follows` entry continue from what it follows, as in Nix.
 */
export function findInput(lock: FlakeLock, path: string | readonly string[]): LockInput | undefined {
  let rest = typeof path === 'string' ? splitInputPath(path) : [...path];
  for (let steps = 0; steps < MAX_FOLLOWS_STEPS; steps++) {
    let inputs = lock.inputs;
    let found: LockInput | undefined;
    let i = 0;
    for (; i < rest.length; i++) {
      found = inputs.find((x) => x.name === rest[i]);
      if (!found) return undefined;
      if (found.follows && i < rest.length - 1) break;
      inputs = found.inputs;
    }
    if (i >= rest.length) return found;
    if (!found?.follows || found.followsStatus !== 'resolved') return undefined;
    rest = [...found.follows, ...rest.slice(i + 1)];
  }
  return undefined;
}

/** `a/b/c` → `['a', 'b', 'c']` (empty parts dropped). */
export function splitInputPath(text: string): string[] {
  return text.split('/').filter((s) => s !== '');
}

/** True when every name is a valid flake input name, so that `nix flake update a/b` accepts the path. */
export function isValidInputPath(path: string | readonly string[]): boolean {
  const names = typeof path === 'string' ? path.split('/') : path;
  return names.length > 0 && names.every((n) => INPUT_NAME.test(n));
}

/**
 * Renders fetcher attributes as a flake reference: `github:NixOS/nixpkgs/nixos-24.05`, `git+file:///x?ref=main`,
 * `path:/x`, `https://…/nixexprs.tar.xz`, `flake:nixpkgs`. narHash, lastModified and revCount are left out.
 */
export function formatFlakeRef(attrs: LockAttrs): string {
  const rest = new Map(Object.entries(attrs));
  const take = (k: string): string | undefined => {
    const v = rest.get(k);
    rest.delete(k);
    return v === undefined ? undefined : String(v);
  };
  for (const k of ['narHash', 'lastModified', 'revCount', '__final']) rest.delete(k);
  const type = take('type') ?? 'unknown';
  let base: string;
  switch (type) {
    case 'github':
    case 'gitlab':
    case 'sourcehut': {
      const owner = take('owner') ?? '';
      const repo = take('repo') ?? '';
      const rev = take('rev');
      const ref = take('ref');
      base = `${type}:${owner}/${repo}${rev ? `/${rev}` : ref ? `/${ref}` : ''}`;
      if (rev && ref) rest.set('ref', ref);
      break;
    }
    case 'git':
    case 'hg': {
      const url = take('url') ?? '';
      base = type === 'git' && /^git:/.test(url) ? url : `${type === 'git' ? 'git' : 'hg'}+${url}`;
      break;
    }
    case 'path':
      base = `path:${take('path') ?? ''}`;
      break;
    case 'tarball':
    case 'file':
      base = take('url') ?? `${type}:`;
      break;
    case 'indirect': {
      const id = take('id') ?? '';
      const ref = take('ref');
      const rev = take('rev');
      base = `flake:${id}${ref ? `/${ref}` : ''}${rev ? `/${rev}` : ''}`;
      break;
    }
    default:
      base = `${type}:`;
  }
  const query = [...rest.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([k, v]) => `${encodeQuery(k)}=${encodeQuery(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}`);
  if (query.length === 0) return clip(base);
  return clip(`${base}${base.includes('?') ? '&' : '?'}${query.join('&')}`);
}

/** The input type for a `type` attribute. */
export function inputType(type: string | undefined): InputType {
  switch (type) {
    case 'github':
    case 'gitlab':
    case 'sourcehut':
    case 'git':
    case 'path':
    case 'tarball':
    case 'file':
    case 'indirect':
      return type;
    case 'hg':
      return 'mercurial';
    default:
      return 'unknown';
  }
}

function encodeQuery(s: string): string {
  return encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}

/** What a follows path reaches. */
type Target = { status: 'resolved'; key: string } | { status: 'missing' | 'cycle' };
const MISSING: Target = { status: 'missing' };
const CYCLE: Target = { status: 'cycle' };
type FollowsEdge = Extract<LockEdge, { kind: 'follows' }>;

/** The fields of an input that depend only on its node (everything but its path), computed once per node. */
type NodeFields = Omit<LockInput, 'path' | 'id' | 'name' | 'entryRange' | 'inputs' | 'follows' | 'followsStatus' | 'cycle'>;

class LockError extends Error {
  constructor(readonly error: FlakeParseError) {
    super(error.message);
  }
}

/** The property nodes of a jsonc object node by key; the last duplicate wins, as with JSON.parse. */
function properties(obj: JsonNode): Map<string, Property> {
  const out = new Map<string, Property>();
  const props = obj.children;
  if (!props) return out;
  for (let i = 0; i < props.length; i++) {
    const prop = props[i]!;
    const key = prop.children?.[0];
    const value = prop.children?.[1];
    if (key && value && typeof key.value === 'string') out.set(key.value, { key, value, prop });
  }
  return out;
}

interface Property {
  key: JsonNode;
  value: JsonNode;
  prop: JsonNode;
}

function rangeOf(n: JsonNode): TextRange {
  return { offset: n.offset, length: n.length };
}

/** The fields of an input locked to `node` that do not depend on its path. */
function nodeFields(node: LockNode): NodeFields {
  const locked = node.locked ?? {};
  const original = node.original;
  const rawType = typeof locked.type === 'string' ? locked.type : typeof original?.type === 'string' ? original.type : undefined;
  const type = inputType(rawType);
  const rev = typeof locked.rev === 'string' ? locked.rev : undefined;
  const ref = typeof original?.ref === 'string' ? original.ref : typeof locked.ref === 'string' ? locked.ref : undefined;
  return {
    nodeKey: node.key,
    nodeRange: node.range,
    type,
    ...(rawType !== undefined && rawType !== type ? { rawType: clip(rawType, 200) } : {}),
    ...(original ? { original: formatFlakeRef(original) } : {}),
    ...(node.locked ? { locked: formatFlakeRef(node.locked) } : {}),
    ...(rev !== undefined ? { rev, shortRev: rev.slice(0, 7) } : {}),
    ...(ref !== undefined ? { ref } : {}),
    ...(typeof locked.lastModified === 'number' ? { lastModified: locked.lastModified } : {}),
    ...(typeof locked.narHash === 'string' ? { narHash: locked.narHash } : {}),
    ...(typeof locked.revCount === 'number' ? { revCount: locked.revCount } : {}),
    isFlake: node.isFlake,
    ...(node.locked ? { lockedAttrs: node.locked } : {}),
    ...(original ? { originalAttrs: original } : {}),
  };
}

/** Reads the tree: checks the header, then expands the input graph from the root. */
class LockReader {
  private rawNodes = new Map<string, Property>();
  private readonly nodes = new Map<string, LockNode>();
  private rootKey = 'root';
  private expanded = 0;
  private idChars = 0;
  private truncated = false;
  /** Follows entries resolved (an entry is reached again for every path through its node), or being resolved. */
  private readonly byEdge = new Map<FollowsEdge, Target | 'resolving'>();
  /** Per node: its input names sorted, and the fields every input locked to it shares. */
  private readonly sortedNames = new Map<LockNode, string[]>();
  private readonly nodeFields = new Map<LockNode, NodeFields>();

  constructor(
    private readonly text: string,
    private readonly tree: JsonNode,
  ) {}

  read(): FlakeLock {
    if (this.tree.type !== 'object') throw this.error(this.tree, ['(root)'], 'expected a JSON object');
    const top = properties(this.tree);
    const version = top.get('version')?.value;
    if (!version) throw this.fail('unsupported-version', 0, [], 'flake.lock has no "version": unsupported lock version (missing).');
    if (version.type !== 'number' || !Number.isInteger(version.value)) throw this.error(version, ['version'], 'expected an integer');
    const v = version.value as number;
    if (v < 5 || v > 7)
      throw this.fail('unsupported-version', version.offset, ['version'], `unsupported lock version ${v} (Nix reads versions 5 to 7).`);
    const root = top.get('root')?.value;
    if (!root) throw this.fail('schema', 0, ['root'], 'flake.lock has no "root" key.');
    if (root.type !== 'string') throw this.error(root, ['root'], 'expected a string');
    this.rootKey = root.value as string;
    const nodes = top.get('nodes')?.value;
    if (!nodes) throw this.fail('schema', 0, ['nodes'], 'flake.lock has no "nodes".');
    if (nodes.type !== 'object') throw this.error(nodes, ['nodes'], 'expected an object');
    this.rawNodes = properties(nodes);
    const rootNode = this.node(this.rootKey, root);
    const inputs = this.expand(rootNode, [], '', [this.rootKey]);
    return { version: v, rootKey: this.rootKey, nodes: this.nodes, inputs, truncated: this.truncated };
  }

  /** The node with this key, read and checked on first use. */
  private node(key: string, referrer: JsonNode): LockNode {
    const cached = this.nodes.get(key);
    if (cached) return cached;
    const raw = this.rawNodes.get(key);
    if (!raw)
      throw this.fail(
        'missing-node',
        referrer.offset,
        ['nodes', key],
        `flake.lock refers to a missing node '${clip(key, 200)}'.`,
        rangeOf(referrer),
      );
    const path = ['nodes', key];
    if (raw.value.type !== 'object') throw this.error(raw.value, path, 'expected an object');
    const props = properties(raw.value);
    const isRoot = key === this.rootKey;
    let locked = this.attrs(props.get('locked')?.value, [...path, 'locked']);
    const original = this.attrs(props.get('original')?.value, [...path, 'original']);
    const info = this.attrs(props.get('info')?.value, [...path, 'info']); // version 5
    if (info) locked = { ...locked, ...info };
    if (!isRoot && !locked)
      throw this.fail(
        'schema',
        raw.value.offset,
        [...path, 'locked'],
        `Node '${clip(key, 200)}' has no "locked" attributes.`,
        rangeOf(raw.value),
      );
    const flake = props.get('flake')?.value;
    if (flake && flake.type !== 'boolean') throw this.error(flake, [...path, 'flake'], 'expected true or false');
    const parentNode = props.get('parent')?.value;
    const parent = parentNode ? this.stringArray(parentNode, path, 'parent') : undefined;
    const node: LockNode = {
      key,
      range: rangeOf(raw.value),
      keyRange: rangeOf(raw.key),
      ...(locked ? { locked } : {}),
      ...(original ? { original } : {}),
      isFlake: flake ? flake.value !== false : true,
      ...(parent ? { parent } : {}),
      inputs: this.edges(props.get('inputs')?.value, [...path, 'inputs']),
    };
    this.nodes.set(key, node);
    return node;
  }

  /**
   * A node's `inputs`. Read from the last property back, so that the last of duplicate names wins (as with
   * JSON.parse) and is the one checked, without a map of the properties first: this runs for every input.
   */
  private edges(n: JsonNode | undefined, path: string[]): Map<string, LockEdge> {
    const out = new Map<string, LockEdge>();
    if (!n) return out;
    if (n.type !== 'object') throw this.error(n, path, 'expected an object');
    const props = n.children ?? [];
    for (let i = props.length - 1; i >= 0; i--) {
      const prop = props[i]!;
      const key = prop.children?.[0];
      const value = prop.children?.[1];
      if (!key || !value || typeof key.value !== 'string') continue;
      const name = key.value;
      if (out.has(name)) continue;
      if (value.type === 'string') out.set(name, { kind: 'node', key: value.value as string, range: rangeOf(prop) });
      else if (value.type === 'array') out.set(name, { kind: 'follows', path: this.stringArray(value, path, name), range: rangeOf(prop) });
      else throw this.error(value, [...path, name], 'expected a node key (string) or a follows path (array of strings)');
    }
    return out;
  }

  /** The strings of an array at `path`/`name` (the path is built only for an error: this runs for every follows). */
  private stringArray(n: JsonNode, path: readonly string[], name: string): string[] {
    if (n.type !== 'array') throw this.error(n, [...path, name], 'expected an array of strings');
    const children = n.children ?? [];
    const out = new Array<string>(children.length);
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (c.type !== 'string') throw this.error(c, [...path, name, String(i)], 'expected a string');
      out[i] = c.value as string;
    }
    return out;
  }

  /** Fetcher attributes: known keys are type-checked; other values are kept when scalar. */
  private attrs(n: JsonNode | undefined, path: string[]): LockAttrs | undefined {
    if (!n) return undefined;
    if (n.type !== 'object') throw this.error(n, path, 'expected an object');
    const entries: [string, string | number | boolean][] = [];
    for (const [k, { value }] of properties(n)) {
      if (STRING_ATTRS.includes(k) && value.type !== 'string') throw this.error(value, [...path, k], 'expected a string');
      if (INTEGER_ATTRS.includes(k) && (value.type !== 'number' || !Number.isSafeInteger(value.value) || (value.value as number) < 0)) {
        throw this.error(value, [...path, k], 'expected a non-negative integer');
      }
      if (value.type === 'string') entries.push([k, clip(value.value as string)]);
      else if (value.type === 'number' || value.type === 'boolean') entries.push([k, value.value as number | boolean]);
    }
    return Object.fromEntries(entries);
  }

  /**
   * The inputs of `node` at `prefix` (whose id is `prefixId`); `stack` holds the node keys of the current path (cycle
   * guard). Bounded by MAX_LOCK_INPUTS, MAX_INPUT_DEPTH and MAX_ID_CHARS.
   */
  private expand(node: LockNode, prefix: string[], prefixId: string, stack: string[]): LockInput[] {
    const out: LockInput[] = [];
    let names = this.sortedNames.get(node);
    if (!names) {
      names = [...node.inputs.keys()].sort(compareStrings);
      this.sortedNames.set(node, names);
    }
    for (const name of names) {
      const idLength = prefixId.length + (prefix.length > 0 ? 1 : 0) + name.length;
      if (this.expanded >= MAX_LOCK_INPUTS || this.idChars + idLength > MAX_ID_CHARS) {
        this.truncated = true;
        break;
      }
      this.expanded++;
      this.idChars += idLength;
      const edge = node.inputs.get(name) as LockEdge;
      const path = [...prefix, name];
      const id = prefix.length > 0 ? `${prefixId}/${name}` : name;
      if (edge.kind === 'follows') {
        out.push(this.followsInput(path, id, edge));
        continue;
      }
      if (edge.key === this.rootKey) {
        throw this.fail(
          'schema',
          edge.range.offset,
          ['nodes', node.key, 'inputs', name],
          'flake.lock contains a cycle to the root node.',
          edge.range,
        );
      }
      const child = this.node(edge.key, this.nodeAt(edge.range.offset));
      const input = this.makeInput(path, id, edge.range, child);
      if (stack.includes(child.key)) input.cycle = true;
      else if (path.length >= MAX_INPUT_DEPTH) this.truncated = true;
      else input.inputs = this.expand(child, path, id, [...stack, child.key]);
      out.push(input);
    }
    return out;
  }

  private followsInput(path: string[], id: string, edge: FollowsEdge): LockInput {
    const target: Target | { status: 'nothing' } = edge.path.length === 0 ? { status: 'nothing' } : this.resolveEdge(edge);
    const status: FollowsStatus = target.status === 'resolved' && target.key === this.rootKey ? 'nothing' : target.status;
    const input: LockInput =
      status === 'resolved' && target.status === 'resolved'
        ? this.makeInput(path, id, edge.range, this.nodes.get(target.key) as LockNode)
        : { path, id, name: path[path.length - 1]!, entryRange: edge.range, type: 'unknown', isFlake: false, inputs: [] };
    input.follows = edge.path;
    input.followsStatus = status;
    return input;
  }

  /**
   * What a (non-empty) follows entry reaches, resolved like Nix's `LockFile::findInput`: each name of its path is
   * looked up in the inputs of the node reached so far, from the root; a follows entry on the way continues from what
   * its own path reaches. An entry that is needed while it is being resolved is a cycle. Every entry is resolved once
   * (its result is kept), without recursion (an explicit stack), so a lock file of any shape costs time linear in its
   * size: each entry's path is walked once.
   */
  private resolveEdge(edge: FollowsEdge): Target {
    const known = this.byEdge.get(edge);
    if (known === 'resolving') return CYCLE;
    if (known) return known;
    const rootKey = this.rootKey;
    const root = this.node(rootKey, this.tree);
    interface Frame {
      /** The entry being resolved, and the next name of its path to look up from `pos`. */
      edge: FollowsEdge;
      i: number;
      pos: LockNode;
    }
    const stack: Frame[] = [{ edge, i: 0, pos: root }];
    this.byEdge.set(edge, 'resolving');
    let done: Target | undefined; // the result of the frame just finished, for the frame now on top
    let result: Target = CYCLE;
    const finish = (r: Target): void => {
      const f = stack.pop() as Frame;
      this.byEdge.set(f.edge, r);
      done = r;
      result = r;
    };
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (done) {
        // The follows entry at f.edge.path[f.i] is resolved.
        const r: Target = done;
        done = undefined;
        if (r.status !== 'resolved') {
          finish(r);
          continue;
        }
        f.pos = this.node(r.key, this.tree);
        f.i++;
      }
      const path = f.edge.path;
      if (f.i >= path.length) {
        finish({ status: 'resolved', key: f.pos.key });
        continue;
      }
      const next = f.pos.inputs.get(path[f.i]!);
      if (!next) {
        finish(MISSING);
      } else if (next.kind === 'node') {
        if (next.key === rootKey) finish(CYCLE);
        else {
          f.pos = this.node(next.key, this.nodeAt(next.range.offset));
          f.i++;
        }
      } else if (next.path.length === 0) {
        f.pos = root;
        f.i++;
      } else {
        const r = this.byEdge.get(next);
        if (r === 'resolving') finish(CYCLE);
        else if (r)
          done = r; // taken at the top of the loop, as if a frame had just resolved it
        else {
          this.byEdge.set(next, 'resolving');
          stack.push({ edge: next, i: 0, pos: root });
        }
      }
    }
    return result;
  }

  private makeInput(path: string[], id: string, entryRange: TextRange, node: LockNode): LockInput {
    let fields = this.nodeFields.get(node);
    if (!fields) {
      fields = nodeFields(node);
      this.nodeFields.set(node, fields);
    }
    return { path, id, name: path[path.length - 1]!, entryRange, ...fields, inputs: [] };
  }

  /** A stand-in jsonc node for error positions. */
  private nodeAt(offset: number): JsonNode {
    return { type: 'null', offset, length: 0 };
  }

  private error(n: JsonNode, path: string[], what: string): LockError {
    return this.fail('schema', n.offset, path, `flake.lock: '${clip(path.join('.'), 200)}': ${what}.`, rangeOf(n));
  }

  private fail(kind: FlakeParseError['kind'], offset: number, path: string[], message: string, range?: TextRange): LockError {
    return new LockError(errorAt(this.text, kind, message, offset, { path, ...(range ? { length: range.length } : {}) }));
  }
}
