// The model of a flake's outputs, from `nix flake show --json` (CppNix/Lix classic format, and Determinate Nix's
// `{"version": 2, "inventory": …}` flake-schema format). No `vscode` import.
//
// Classic format facts this relies on (nix-cli reference §2): a leaf is an object with a string `type`;
// anything else is a container, except that `{}` is also what Nix prints for an output it did not evaluate
// (another system on 2.14+, legacyPackages without --legacy, import-from-derivation on 2.29+, a non-derivation
// on 2.33+). So `{}` is an "omitted" leaf wherever the category's shape says a leaf belongs, and an empty
// container elsewhere unless a warning names it.

import { hashedName } from '../nix/store';
import { NIXOS_TOPLEVEL } from './installable';
import { checkSize, clip, compareStrings, isJsonObject, own, parseJson, type FlakeParseError, type JsonObject } from './json';
import { omittedReasonFor, type NixWarning, type OmittedReason } from './warnings';

export type { OmittedReason } from './warnings';

/** What a leaf is. `overlay` is Nix's `nixpkgs-overlay`; `omitted` is a `{}` marker. */
export type OutputKind = 'derivation' | 'app' | 'template' | 'nixos-configuration' | 'nixos-module' | 'overlay' | 'unknown' | 'omitted';

/** `maybe`: a package may have a main program (`nix run` decides); the adapter decides whether to offer it. */
export type Runnable = boolean | 'maybe';

/** An output: something with an attribute path that can be selected. */
export interface OutputLeaf {
  type: 'leaf';
  /** The last attribute name (the category name for single outputs such as `lib`). */
  name: string;
  /** Full attribute path, e.g. `['packages', 'x86_64-linux', 'hello']`. */
  attrPath: string[];
  kind: OutputKind;
  /** The `type` string as Nix printed it, when it differs from `kind` (e.g. `nixpkgs-overlay`, or a future type). */
  rawType?: string;
  /** The system of per-system outputs (`attrPath[1]`). */
  system?: string;
  /** The derivation's `name` (e.g. `hello-2.12.1`). */
  derivationName?: string;
  /** `meta.description` (or the schema's short description); never an empty string. */
  description?: string;
  /** Determinate's schema label, e.g. `package`, `CI test`. */
  what?: string;
  /** Why Nix did not show it, for `kind: 'omitted'`. */
  omitted?: OmittedReason;
  /** `nix build` makes sense (derivations; NixOS configurations through `buildAttrPath`). */
  buildable: boolean;
  /** `nix run` makes sense: apps yes, packages maybe. */
  runnable: Runnable;
  /** `nix develop` makes sense (dev shells and packages). */
  developable: boolean;
  /** The attribute path to build when it is not `attrPath` (NixOS: `….config.system.build.toplevel`). */
  buildAttrPath?: string[];
}

/** A container: a system (`packages.x86_64-linux`) or a nested set (`hydraJobs.build`). */
export interface OutputGroup {
  type: 'group';
  name: string;
  attrPath: string[];
  system?: string;
  children: OutputNode[];
}

export type OutputNode = OutputLeaf | OutputGroup;

/** `per-system`: `<category>.<system>.<name>` or `<category>.<system>`; `flat`: `<category>.<name>`;
 *  `single`: the category itself is the output (`lib`, `overlay`); `nested`: any depth (`hydraJobs`, unknown). */
export type CategoryShape = 'per-system' | 'flat' | 'single' | 'nested';

export interface OutputCategory {
  /** The output attribute, e.g. `packages`. */
  name: string;
  /** One of the outputs Nix knows about (not `unknown`). */
  known: boolean;
  shape: CategoryShape;
  /** A legacy singular form: `defaultPackage`, `devShell`, `defaultApp`, `overlay`, `nixosModule`, `defaultTemplate`. */
  legacyForm: boolean;
  /** Determinate's schema documentation for this output. */
  doc?: string;
  /** Sorted by name. */
  children: OutputNode[];
  /** Every leaf below, depth first, in order. */
  leaves: OutputLeaf[];
  /** No outputs at all (not even omitted ones). */
  empty: boolean;
}

export interface FlakeShowModel {
  format: 'classic' | 'inventory';
  /** Sorted by name. */
  categories: OutputCategory[];
}

export type FlakeShowResult = { ok: true; model: FlakeShowModel } | { ok: false; error: FlakeParseError };

export interface FlakeShowOptions {
  /** Warnings from the same run (`parseFlakeShowWarnings(stderr)`), to tell why outputs were omitted. */
  warnings?: readonly NixWarning[];
  /** The current system; `{}` outputs of other systems are then known to be omitted for that reason. */
  system?: string;
}

/** Limits against hostile output. */
const MAX_DEPTH = 64;
const MAX_NODES = 500_000;

interface CategorySchema {
  shape: CategoryShape;
  /** Attribute path length (category included) at which leaves are expected; `{}` there is an omitted output. */
  leafDepth?: number;
  /** The kind of its leaves, for the inventory format (which has no `type`). */
  kind?: OutputKind;
  legacyForm?: boolean;
}

/**
 * A schema with every field its own (undefined when it does not apply): a field it lacks must read as undefined, not
 * as whatever Object.prototype holds.
 */
function schema(s: CategorySchema): CategorySchema {
  return { shape: s.shape, leafDepth: s.leafDepth, kind: s.kind, legacyForm: s.legacyForm === true };
}

// Maps, not objects: an output may be called `constructor`, `__proto__` or `toString` (names come from the flake).
const CATEGORIES: ReadonlyMap<string, CategorySchema> = new Map<string, CategorySchema>([
  ['packages', schema({ shape: 'per-system', leafDepth: 3, kind: 'derivation' })],
  ['legacyPackages', schema({ shape: 'per-system', leafDepth: 3, kind: 'derivation' })],
  ['checks', schema({ shape: 'per-system', leafDepth: 3, kind: 'derivation' })],
  ['devShells', schema({ shape: 'per-system', leafDepth: 3, kind: 'derivation' })],
  ['apps', schema({ shape: 'per-system', leafDepth: 3, kind: 'app' })],
  ['formatter', schema({ shape: 'per-system', leafDepth: 2, kind: 'derivation' })],
  ['defaultPackage', schema({ shape: 'per-system', leafDepth: 2, kind: 'derivation', legacyForm: true })],
  ['devShell', schema({ shape: 'per-system', leafDepth: 2, kind: 'derivation', legacyForm: true })],
  ['defaultApp', schema({ shape: 'per-system', leafDepth: 2, kind: 'app', legacyForm: true })],
  ['overlays', schema({ shape: 'flat', leafDepth: 2, kind: 'overlay' })],
  ['nixosModules', schema({ shape: 'flat', leafDepth: 2, kind: 'nixos-module' })],
  ['nixosConfigurations', schema({ shape: 'flat', leafDepth: 2, kind: 'nixos-configuration' })],
  ['darwinConfigurations', schema({ shape: 'flat', leafDepth: 2 })],
  ['homeConfigurations', schema({ shape: 'flat', leafDepth: 2 })],
  ['templates', schema({ shape: 'flat', leafDepth: 2, kind: 'template' })],
  ['hydraJobs', schema({ shape: 'nested', kind: 'derivation' })],
  ['lib', schema({ shape: 'single' })],
  ['overlay', schema({ shape: 'single', leafDepth: 1, kind: 'overlay', legacyForm: true })],
  ['nixosModule', schema({ shape: 'single', leafDepth: 1, kind: 'nixos-module', legacyForm: true })],
  ['defaultTemplate', schema({ shape: 'single', leafDepth: 1, kind: 'template', legacyForm: true })],
]);

const UNKNOWN_CATEGORY: CategorySchema = schema({ shape: 'nested' });

/** The schema of an output name. */
function schemaOf(name: string): CategorySchema {
  return CATEGORIES.get(name) ?? UNKNOWN_CATEGORY;
}

/** Categories whose derivations are packages: runnable "maybe" and developable. */
const PACKAGE_CATEGORIES = new Set(['packages', 'legacyPackages', 'defaultPackage']);
/** Categories whose derivations are development shells. */
const SHELL_CATEGORIES = new Set(['devShells', 'devShell']);

const CLASSIC_TYPES: ReadonlyMap<string, OutputKind> = new Map<string, OutputKind>([
  ['derivation', 'derivation'],
  ['app', 'app'],
  ['template', 'template'],
  ['nixos-configuration', 'nixos-configuration'],
  ['nixos-module', 'nixos-module'],
  ['nixpkgs-overlay', 'overlay'],
  ['unknown', 'unknown'],
  ['omitted', 'omitted'],
]);

/**
 * Parses the stdout of `nix flake show --json` into a model of categories, groups and leaves.
 * Accepts the classic format and Determinate's `{"version": 2, "inventory": …}`. Never throws: malformed JSON,
 * wrong types and oversized input give a typed error.
 */
export function parseFlakeShow(stdout: string, opts: FlakeShowOptions = {}): FlakeShowResult {
  const plain = readPlainClassic(stdout, opts);
  if (plain) return { ok: true, model: plain };
  const parsed = parseJson(stdout, 'The output of nix flake show');
  if (!parsed.ok) return parsed;
  const root = parsed.value;
  if (!isJsonObject(root)) return schemaError([], 'expected a JSON object of flake outputs');
  const walker = new Walker(opts);
  try {
    return { ok: true, model: isInventory(root) ? walker.inventory(root) : walker.classic(root) };
  } catch (e) {
    if (e instanceof ShowSchemaError) return { ok: false, error: e.error };
    if (e instanceof RangeError) return { ok: false, error: { kind: 'too-deep', message: 'The flake show output is nested too deeply.' } };
    throw e;
  }
}

// --- the plain classic format, read from the text ---------------------------------------------------------------
//
// What `nix flake show --json` prints for an ordinary flake is compact JSON in which every object holds either only
// objects (a category, a system, a set of packages) or only strings (an output: `type`, `name`, `description`), keys
// in sorted order. Such a text is read here straight into the model, without the objects JSON.parse would build only
// to be taken apart (that is most of the cost of reopening a big flake's outputs). Anything else (another layout,
// whitespace, numbers, nulls, keys out of order, a control character, the inventory format, an output the general
// reader would reject, a limit reached) makes this reader give up, and JSON.parse and the walker above read the text
// instead; the model is the same either way (test/unit/flakeShow.test.ts compares the two).

/** Thrown when the text is not in the plain form; never leaves this section. */
const NOT_PLAIN = new Error('not the plain classic format');

/** The model of a plain classic text, or undefined when the general reader must read it. */
function readPlainClassic(text: string, opts: FlakeShowOptions): FlakeShowModel | undefined {
  if (typeof text !== 'string' || checkSize(text, '') !== undefined || text.charCodeAt(0) !== 0x7b /* { */) return undefined;
  let end = text.length;
  while (end > 0 && isJsonSpace(text.charCodeAt(end - 1))) end--;
  if (CONTROL_CHAR.test(end === text.length ? text : text.slice(0, end))) return undefined;
  try {
    return new PlainClassicReader(text, end, new Walker(opts)).read();
  } catch {
    return undefined;
  }
}

const CONTROL_CHAR = /[\x00-\x1f]/;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

class PlainClassicReader {
  private i = 0;
  /** The first backslash at or after `i` (-1: none): a string before it has no escape. */
  private backslash: number;

  constructor(
    private readonly text: string,
    /** Where the document ends (trailing whitespace excluded). */
    private readonly end: number,
    private readonly walker: Walker,
  ) {
    this.backslash = text.indexOf('\\');
  }

  read(): FlakeShowModel {
    const categories: OutputCategory[] = [];
    this.expect(0x7b /* { */);
    if (!this.take(0x7d /* } */)) {
      let previous: string | undefined;
      do {
        const name = this.key(previous);
        previous = name;
        const schema = schemaOf(name);
        const node = this.node(name, schema, [name]);
        categories.push(makeCategory(name, schema, node.type === 'group' ? node.children : [node]));
      } while (this.take(0x2c /* , */));
      this.expect(0x7d /* } */);
    }
    if (this.i !== this.end) throw NOT_PLAIN;
    return { format: 'classic', categories };
  }

  /** The object at `i`: a group of objects, or a leaf of strings. */
  private node(category: string, schema: CategorySchema, path: string[]): OutputNode {
    this.walker.count(path);
    this.expect(0x7b /* { */);
    if (this.take(0x7d /* } */)) return this.walker.classicEmpty(category, schema, path);
    let key = this.key(undefined);
    if (this.text.charCodeAt(this.i) === 0x22 /* " */) {
      // A leaf: every value a string; `type` decides (the walker reads only these three).
      let type: string | undefined;
      let name: string | undefined;
      let description: string | undefined;
      for (;;) {
        const value = this.string();
        if (key === 'type') type = value;
        else if (key === 'name') name = value;
        else if (key === 'description') description = value;
        if (!this.take(0x2c /* , */)) break;
        key = this.key(key);
        if (this.text.charCodeAt(this.i) !== 0x22) throw NOT_PLAIN;
      }
      this.expect(0x7d /* } */);
      if (type === undefined) throw NOT_PLAIN;
      return this.walker.classicLeaf(category, schema, path, type, name, description);
    }
    // A group: every value an object (a key `type` would make it a leaf for the walker).
    const children: OutputNode[] = [];
    for (;;) {
      if (key === 'type') throw NOT_PLAIN;
      children.push(this.node(category, schema, childPath(path, key)));
      if (!this.take(0x2c /* , */)) break;
      key = this.key(key);
    }
    this.expect(0x7d /* } */);
    return this.walker.group(schema, path, children);
  }

  /** A key and its `:`, strictly after `previous` in code-unit order (so sorted, and no key twice). */
  private key(previous: string | undefined): string {
    const key = this.string();
    if (previous !== undefined && !(previous < key)) throw NOT_PLAIN;
    this.expect(0x3a /* : */);
    return key;
  }

  /** The string at `i`; one with escapes is decoded by JSON.parse. */
  private string(): string {
    const { text } = this;
    const start = this.i;
    if (text.charCodeAt(start) !== 0x22 /* " */) throw NOT_PLAIN;
    const close = text.indexOf('"', start + 1);
    if (close < 0 || close >= this.end) throw NOT_PLAIN;
    if (this.backslash < 0 || this.backslash > close) {
      this.i = close + 1;
      return text.slice(start + 1, close);
    }
    let j = start + 1;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === 0x5c /* \\ */) j += 2;
      else if (c === 0x22 /* " */) break;
      else if (j >= this.end) throw NOT_PLAIN;
      else j++;
    }
    const value = JSON.parse(text.slice(start, j + 1)) as unknown;
    if (typeof value !== 'string') throw NOT_PLAIN;
    this.i = j + 1;
    this.backslash = text.indexOf('\\', this.i);
    return value;
  }

  private take(c: number): boolean {
    if (this.text.charCodeAt(this.i) !== c) return false;
    this.i++;
    return true;
  }

  private expect(c: number): void {
    if (this.text.charCodeAt(this.i) !== c) throw NOT_PLAIN;
    this.i++;
  }
}

/** The leaf or group at an attribute path, if the model has it. */
export function findOutput(model: FlakeShowModel, attrPath: readonly string[]): OutputNode | undefined {
  const category = model.categories.find((c) => c.name === attrPath[0]);
  if (!category) return undefined;
  let nodes: readonly OutputNode[] = category.children;
  for (;;) {
    const next = nodes.find((n) => isPrefix(n.attrPath, attrPath));
    if (!next) return undefined;
    if (next.attrPath.length === attrPath.length) return next;
    if (next.type === 'leaf') return undefined;
    nodes = next.children;
  }
}

/** Every leaf of the model, category by category. */
export function allLeaves(model: FlakeShowModel): OutputLeaf[] {
  return model.categories.flatMap((c) => c.leaves);
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((name, i) => name === path[i]);
}

function isInventory(root: JsonObject): boolean {
  return typeof own(root, 'version') === 'number' && isJsonObject(own(root, 'inventory'));
}

class ShowSchemaError extends Error {
  constructor(readonly error: FlakeParseError) {
    super(error.message);
  }
}

function schemaError(path: readonly string[], what: string): { ok: false; error: FlakeParseError } {
  return { ok: false, error: schemaErrorValue(path, what) };
}

function schemaErrorValue(path: readonly string[], what: string): FlakeParseError {
  const at = path.length ? ` at '${clip(path.join('.'), 200)}'` : '';
  return { kind: 'schema', message: `Unexpected nix flake show output${at}: ${what}.`, path: [...path] };
}

function optionalString(obj: JsonObject, key: string, path: readonly string[]): string | undefined {
  return optionalStringValue(own(obj, key), key, path);
}

/** `optionalString` of a value already read. */
function optionalStringValue(v: unknown, key: string, path: readonly string[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ShowSchemaError(schemaErrorValue([...path, key], `'${key}' should be a string`));
  return v === '' ? undefined : clip(v);
}

/** Walks one document, counting nodes to bound the work. */
class Walker {
  private nodes = 0;

  /** The options, read as own properties only. */
  private readonly warnings: readonly NixWarning[] | undefined;
  private readonly system: string | undefined;

  constructor(opts: FlakeShowOptions) {
    const o = opts as JsonObject;
    const warnings = own(o, 'warnings');
    const system = own(o, 'system');
    this.warnings = Array.isArray(warnings) ? (warnings as NixWarning[]) : undefined;
    this.system = typeof system === 'string' ? system : undefined;
  }

  classic(root: JsonObject): FlakeShowModel {
    const categories = orderedKeys(root).map((name) => {
      const schema = schemaOf(name);
      const value = root[name]; // an own key (also `__proto__`, which JSON.parse makes an own property)
      const node = this.classicNode(name, schema, value, [name]);
      const children = node.type === 'group' ? node.children : [node];
      return makeCategory(name, schema, children);
    });
    return { format: 'classic', categories };
  }

  inventory(root: JsonObject): FlakeShowModel {
    const inv = own(root, 'inventory') as JsonObject;
    const categories = orderedKeys(inv).map((name) => {
      const schema = schemaOf(name);
      const entry = inv[name];
      const path = ['inventory', name];
      if (!isJsonObject(entry)) throw new ShowSchemaError(schemaErrorValue(path, 'expected an object'));
      const doc = optionalString(entry, 'doc', path);
      let children: OutputNode[];
      if (own(entry, 'unknown') === true) {
        children = [this.leaf(name, schema, [name], 'unknown')];
      } else {
        const output = own(entry, 'output') ?? own(entry, 'node');
        if (output === undefined) children = [];
        else {
          const node = this.inventoryNode(name, schema, output, [name]);
          children = node.type === 'group' ? node.children : [node];
        }
      }
      const category = makeCategory(name, schema, children);
      return doc === undefined ? category : { ...category, doc };
    });
    return { format: 'inventory', categories };
  }

  count(path: readonly string[]): void {
    if (++this.nodes > MAX_NODES) {
      throw new ShowSchemaError({ kind: 'too-large', message: `The flake show output has more than ${MAX_NODES} entries.` });
    }
    if (path.length > MAX_DEPTH) {
      throw new ShowSchemaError({ kind: 'too-deep', message: `The flake show output is nested deeper than ${MAX_DEPTH} levels.` });
    }
  }

  private classicNode(category: string, schema: CategorySchema, value: unknown, path: string[]): OutputNode {
    this.count(path);
    if (!isJsonObject(value)) throw new ShowSchemaError(schemaErrorValue(path, 'expected an object'));
    const type = own(value, 'type');
    if (type !== undefined) {
      if (typeof type !== 'string') throw new ShowSchemaError(schemaErrorValue([...path, 'type'], "'type' should be a string"));
      return this.classicLeaf(category, schema, path, type, own(value, 'name'), own(value, 'description'));
    }
    const keys = orderedKeys(value);
    if (keys.length === 0) return this.classicEmpty(category, schema, path);
    const children = new Array<OutputNode>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      children[i] = this.classicNode(category, schema, value[key], childPath(path, key));
    }
    return this.group(schema, path, children);
  }

  /** A classic-format leaf: an object with a `type`, its `name` and `description` (`undefined` when absent). */
  classicLeaf(category: string, schema: CategorySchema, path: string[], type: string, name: unknown, description: unknown): OutputLeaf {
    const kind = type === 'derivation' ? 'derivation' : (CLASSIC_TYPES.get(type) ?? 'unknown');
    // The most common node of all: its fields are set one by one, without a details object.
    const leaf = this.newLeaf(schema, path, kind);
    if (kind === 'omitted') leaf.omitted = this.omittedReason(schema, path) ?? 'unknown';
    if (kind !== type) leaf.rawType = clip(type, 200);
    const derivationName = optionalStringValue(name, 'name', path);
    if (derivationName !== undefined) leaf.derivationName = derivationName;
    const text = optionalStringValue(description, 'description', path);
    if (text !== undefined) leaf.description = text;
    return finishLeaf(leaf, category);
  }

  /** A classic-format `{}`: an omitted output where the category's shape puts a leaf, else an empty group. */
  classicEmpty(category: string, schema: CategorySchema, path: string[]): OutputNode {
    const reason = this.omittedReason(schema, path);
    if (reason !== undefined) return this.leaf(category, schema, path, 'omitted', { omitted: reason });
    return this.group(schema, path, []);
  }

  private inventoryNode(category: string, schema: CategorySchema, value: unknown, path: string[]): OutputNode {
    this.count(path);
    if (!isJsonObject(value)) throw new ShowSchemaError(schemaErrorValue(path, 'expected an object'));
    const children = own(value, 'children');
    if (children !== undefined) {
      if (!isJsonObject(children)) throw new ShowSchemaError(schemaErrorValue([...path, 'children'], "'children' should be an object"));
      const nodes = orderedKeys(children).map((k) => this.inventoryNode(category, schema, children[k], childPath(path, k)));
      return this.group(schema, path, nodes);
    }
    const what = optionalString(value, 'what', path);
    const description = optionalString(value, 'shortDescription', path) ?? optionalString(value, 'description', path);
    if (own(value, 'filtered') === true)
      return this.leaf(category, schema, path, 'omitted', { omitted: 'other-system', what, description });
    if (own(value, 'failed') === true) return this.leaf(category, schema, path, 'omitted', { omitted: 'failed', what, description });
    if (own(value, 'skipped') === true || (own(value, 'isLegacy') === true && what === undefined)) {
      return this.leaf(category, schema, path, 'omitted', { omitted: 'legacy', what, description });
    }
    const derivationName = inventoryDerivationName(value, path);
    const hasDerivation =
      derivationName !== undefined || isJsonObject(own(value, 'derivation')) || typeof own(value, 'derivation') === 'string';
    if (what === undefined && !hasDerivation && Object.keys(value).length === 0) {
      return this.leaf(category, schema, path, 'omitted', { omitted: this.omittedReason(schema, path) ?? 'unknown' });
    }
    return this.leaf(category, schema, path, inventoryKind(schema, what, hasDerivation), { what, description, derivationName }, true);
  }

  /** Why a `{}` at this path is an omitted output, or undefined when it is an empty container. */
  private omittedReason(schema: CategorySchema, path: readonly string[]): OmittedReason | undefined {
    const fromWarnings = this.warnings ? omittedReasonFor(this.warnings, path.join('.')) : undefined;
    if (fromWarnings) return fromWarnings;
    if (path[0] === 'legacyPackages' && path.length === 2) return 'legacy';
    if (schema.leafDepth !== undefined && path.length === schema.leafDepth && path.length > 1) {
      if (schema.shape === 'per-system' && this.system !== undefined && path[1] !== this.system) return 'other-system';
      return 'unknown';
    }
    return undefined;
  }

  group(schema: CategorySchema, path: string[], children: OutputNode[]): OutputGroup {
    const system = schema.shape === 'per-system' && path.length === 2 ? path[1] : undefined;
    return { type: 'group', name: path[path.length - 1]!, attrPath: path, ...(system !== undefined ? { system } : {}), children };
  }

  /**
   * A leaf. Its details are written straight onto it (no intermediate copies; one shape for every leaf of a kind),
   * those that are undefined left out so that models compare and print cleanly, in the order the format gives them:
   * the classic format's derivation name comes before the description, the inventory's after.
   */
  private leaf(
    category: string,
    schema: CategorySchema,
    path: string[],
    kind: OutputKind,
    details?: LeafDetails,
    inventoryOrder = false,
  ): OutputLeaf {
    const leaf = this.newLeaf(schema, path, kind);
    if (details) {
      if (details.omitted !== undefined) leaf.omitted = details.omitted;
      if (details.rawType !== undefined) leaf.rawType = details.rawType;
      if (details.what !== undefined) leaf.what = details.what;
      if (!inventoryOrder && details.derivationName !== undefined) leaf.derivationName = details.derivationName;
      if (details.description !== undefined) leaf.description = details.description;
      if (inventoryOrder && details.derivationName !== undefined) leaf.derivationName = details.derivationName;
    }
    return finishLeaf(leaf, category);
  }

  /** A leaf's first fields; its details follow, then `finishLeaf`. */
  private newLeaf(schema: CategorySchema, path: string[], kind: OutputKind): OutputLeaf {
    const leaf = { type: 'leaf', name: path[path.length - 1], attrPath: path, kind } as OutputLeaf;
    if (schema.shape === 'per-system' && path.length >= 2) leaf.system = path[1];
    return leaf;
  }
}

/** A leaf's last fields: what it can do. */
function finishLeaf(leaf: OutputLeaf, category: string): OutputLeaf {
  leaf.buildable = false;
  leaf.runnable = false;
  leaf.developable = false;
  applyCapabilities(leaf, category);
  return leaf;
}

/** `path` and one more name: a new array (each node keeps its own). */
function childPath(path: readonly string[], name: string): string[] {
  return [...path, name];
}

/** What a leaf may say beyond its kind. */
type LeafDetails = Partial<Pick<OutputLeaf, 'rawType' | 'derivationName' | 'description' | 'what' | 'omitted'>>;

/** Sets buildable / runnable / developable from the category and kind. */
function applyCapabilities(leaf: OutputLeaf, category: string): void {
  if (leaf.kind === 'derivation') {
    leaf.buildable = true;
    leaf.runnable = PACKAGE_CATEGORIES.has(category) ? 'maybe' : false;
    leaf.developable = PACKAGE_CATEGORIES.has(category) || SHELL_CATEGORIES.has(category);
  } else if (leaf.kind === 'app') {
    leaf.runnable = true;
  } else if (leaf.kind === 'nixos-configuration') {
    leaf.buildable = true;
    leaf.buildAttrPath = [...leaf.attrPath, ...NIXOS_TOPLEVEL];
  }
}

function makeCategory(name: string, schema: CategorySchema, children: OutputNode[]): OutputCategory {
  const leaves: OutputLeaf[] = [];
  const collect = (nodes: readonly OutputNode[]): void => {
    for (const n of nodes) {
      if (n.type === 'leaf') leaves.push(n);
      else collect(n.children);
    }
  };
  collect(children);
  return {
    name,
    known: schema !== UNKNOWN_CATEGORY,
    shape: schema.shape,
    legacyForm: schema.legacyForm === true,
    children,
    leaves,
    empty: leaves.length === 0,
  };
}

/**
 * `sortedKeys`, cheaper for what Nix prints: its keys come sorted already, which one pass confirms (a sort calls its
 * comparison for every pair it looks at, even on sorted input).
 */
function orderedKeys(obj: JsonObject): string[] {
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort(compareStrings);
  return keys;
}

function inventoryDerivationName(value: JsonObject, path: readonly string[]): string | undefined {
  const direct = optionalString(value, 'derivationName', path);
  if (direct !== undefined) return direct;
  const drv = own(value, 'derivation');
  if (isJsonObject(drv)) return optionalString(drv, 'name', [...path, 'derivation']);
  if (typeof drv === 'string') {
    // A store path: /nix/store/<hash>-<name>.drv
    const name = hashedName(drv);
    return name ? clip(name) : undefined;
  }
  if (drv !== undefined && drv !== null)
    throw new ShowSchemaError(schemaErrorValue([...path, 'derivation'], "'derivation' should be an object or a string"));
  return undefined;
}

function inventoryKind(schema: CategorySchema, what: string | undefined, hasDerivation: boolean): OutputKind {
  if (schema.kind) return schema.kind;
  const w = what?.toLowerCase() ?? '';
  if (w.includes('nixos configuration')) return 'nixos-configuration';
  if (w.includes('nixos module')) return 'nixos-module';
  if (w.includes('overlay')) return 'overlay';
  if (w.includes('template')) return 'template';
  if (/\bapp\b/.test(w)) return 'app';
  if (hasDerivation) return 'derivation';
  return 'unknown';
}
