import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allLeaves,
  findOutput,
  parseFlakeShow,
  type FlakeShowModel,
  type FlakeShowOptions,
  type OutputCategory,
  type OutputLeaf,
} from '../../src/core/flake/show';
import { parseFlakeShowWarnings } from '../../src/core/flake/warnings';

const fixture = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/flake', name), 'utf8');

function model(stdout: string, opts?: FlakeShowOptions): FlakeShowModel {
  const r = parseFlakeShow(stdout, opts);
  if (!r.ok) assert.fail(r.error.message);
  return r.model;
}

function category(m: FlakeShowModel, name: string): OutputCategory {
  const c = m.categories.find((x) => x.name === name);
  assert.ok(c, `category ${name}`);
  return c;
}

function leaf(m: FlakeShowModel, ...attrPath: string[]): OutputLeaf {
  const n = findOutput(m, attrPath);
  assert.ok(n && n.type === 'leaf', `leaf ${attrPath.join('.')}`);
  return n;
}

test('real Nix 2.8 output: categories are sorted, known and shaped', () => {
  const m = model(fixture('nix-2.8-show.json'));
  assert.equal(m.format, 'classic');
  assert.deepEqual(
    m.categories.map((c) => c.name),
    [
      'apps',
      'checks',
      'darwinConfigurations',
      'defaultApp',
      'defaultPackage',
      'defaultTemplate',
      'devShell',
      'devShells',
      'formatter',
      'homeConfigurations',
      'hydraJobs',
      'legacyPackages',
      'lib',
      'nixosConfigurations',
      'nixosModule',
      'nixosModules',
      'overlay',
      'overlays',
      'packages',
      'something',
      'templates',
    ],
  );
  assert.equal(category(m, 'something').known, false);
  assert.equal(category(m, 'packages').shape, 'per-system');
  assert.equal(category(m, 'templates').shape, 'flat');
  assert.equal(category(m, 'hydraJobs').shape, 'nested');
  for (const legacy of ['defaultApp', 'defaultPackage', 'defaultTemplate', 'devShell', 'nixosModule', 'overlay']) {
    assert.equal(category(m, legacy).legacyForm, true, legacy);
  }
  assert.equal(category(m, 'packages').legacyForm, false);
  assert.ok(m.categories.every((c) => !c.empty));
});

test('real Nix 2.8 output: packages are per-system groups of derivations', () => {
  const m = model(fixture('nix-2.8-show.json'));
  const packages = category(m, 'packages');
  assert.deepEqual(
    packages.children.map((c) => c.name),
    ['aarch64-linux', 'x86_64-linux'],
  );
  const x86 = packages.children[1];
  assert.equal(x86.type, 'group');
  assert.equal(x86.type === 'group' && x86.system, 'x86_64-linux');
  assert.deepEqual(
    packages.leaves.map((l) => l.attrPath.join('.')),
    ['packages.aarch64-linux.hello', 'packages.x86_64-linux.default', 'packages.x86_64-linux.hello', 'packages.x86_64-linux.nodesc'],
  );
  assert.deepEqual(leaf(m, 'packages', 'x86_64-linux', 'hello'), {
    type: 'leaf',
    name: 'hello',
    attrPath: ['packages', 'x86_64-linux', 'hello'],
    kind: 'derivation',
    system: 'x86_64-linux',
    derivationName: 'hello-2.12',
    description: 'A friendly greeter',
    buildable: true,
    runnable: 'maybe',
    developable: true,
  });
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'nodesc').description, undefined);
  assert.equal(leaf(m, 'packages', 'aarch64-linux', 'hello').derivationName, 'hello-arm');
});

test('real Nix 2.8 output: capabilities by category', () => {
  const m = model(fixture('nix-2.8-show.json'));
  const caps = (l: OutputLeaf) => [l.kind, l.buildable, l.runnable, l.developable];
  assert.deepEqual(caps(leaf(m, 'apps', 'x86_64-linux', 'default')), ['app', false, true, false]);
  assert.deepEqual(caps(leaf(m, 'defaultApp', 'x86_64-linux')), ['app', false, true, false]);
  assert.deepEqual(caps(leaf(m, 'checks', 'x86_64-linux', 't')), ['derivation', true, false, false]);
  assert.deepEqual(caps(leaf(m, 'devShells', 'x86_64-linux', 'default')), ['derivation', true, false, true]);
  assert.deepEqual(caps(leaf(m, 'devShell', 'x86_64-linux')), ['derivation', true, false, true]);
  assert.deepEqual(caps(leaf(m, 'defaultPackage', 'x86_64-linux')), ['derivation', true, 'maybe', true]);
  assert.deepEqual(caps(leaf(m, 'formatter', 'x86_64-linux')), ['derivation', true, false, false]);
  assert.deepEqual(caps(leaf(m, 'hydraJobs', 'build', 'x86_64-linux')), ['derivation', true, false, false]);
  assert.deepEqual(caps(leaf(m, 'templates', 'default')), ['template', false, false, false]);
  assert.deepEqual(caps(leaf(m, 'lib')), ['unknown', false, false, false]);
  assert.equal(leaf(m, 'formatter', 'x86_64-linux').system, 'x86_64-linux');
  assert.equal(leaf(m, 'templates', 'default').description, 'A template');
  assert.equal(leaf(m, 'defaultTemplate').description, 'Legacy template');
});

test('real Nix 2.8 output: NixOS configurations build through toplevel; overlays keep their raw type', () => {
  const m = model(fixture('nix-2.8-show.json'));
  const host = leaf(m, 'nixosConfigurations', 'my.host');
  assert.equal(host.kind, 'nixos-configuration');
  assert.equal(host.buildable, true);
  assert.deepEqual(host.buildAttrPath, ['nixosConfigurations', 'my.host', 'config', 'system', 'build', 'toplevel']);
  assert.equal(host.runnable, false);
  const overlay = leaf(m, 'overlays', 'default');
  assert.equal(overlay.kind, 'overlay');
  assert.equal(overlay.rawType, 'nixpkgs-overlay');
  assert.equal(leaf(m, 'overlay').kind, 'overlay');
  assert.equal(leaf(m, 'nixosModules', 'default').kind, 'nixos-module');
  assert.equal(leaf(m, 'nixosModule').kind, 'nixos-module');
  // Outputs Nix does not know are a single unknown leaf.
  assert.deepEqual(
    category(m, 'homeConfigurations').leaves.map((l) => [l.attrPath, l.kind]),
    [[['homeConfigurations'], 'unknown']],
  );
  assert.deepEqual(
    category(m, 'something').leaves.map((l) => l.kind),
    ['unknown'],
  );
});

test('legacyPackages {} is an omitted leaf, not an empty container', () => {
  const m = model(fixture('nix-2.8-show.json'));
  const legacy = category(m, 'legacyPackages');
  assert.equal(legacy.empty, false);
  const omitted = leaf(m, 'legacyPackages', 'x86_64-linux');
  assert.equal(omitted.kind, 'omitted');
  assert.equal(omitted.omitted, 'legacy');
  assert.equal(omitted.buildable, false);
  // With the 2.8 warning (tree-drawing form) the reason is the same.
  const warned = model(fixture('nix-2.8-show.json'), { warnings: parseFlakeShowWarnings(fixture('nix-2.8-show.stderr.txt')) });
  assert.equal(leaf(warned, 'legacyPackages', 'x86_64-linux').omitted, 'legacy');
});

test('with --legacy, legacyPackages hold runnable packages', () => {
  const m = model(fixture('nix-2.8-show-legacy.json'));
  const foo = leaf(m, 'legacyPackages', 'x86_64-linux', 'foo');
  assert.equal(foo.kind, 'derivation');
  assert.equal(foo.runnable, 'maybe');
  assert.equal(foo.derivationName, 'legacy-foo');
});

test('2.14+ omitted leaves: reasons from warnings, or from the current system', () => {
  const stdout = fixture('handwritten-nix-2.14-omitted.json');
  const warnings = parseFlakeShowWarnings(fixture('handwritten-nix-2.14-omitted.stderr.txt'));
  const m = model(stdout, { warnings });
  assert.equal(leaf(m, 'packages', 'aarch64-linux', 'hello').omitted, 'other-system');
  assert.equal(leaf(m, 'checks', 'aarch64-linux', 't').omitted, 'other-system');
  assert.equal(leaf(m, 'devShells', 'aarch64-linux', 'default').omitted, 'other-system');
  assert.equal(leaf(m, 'formatter', 'aarch64-linux').omitted, 'other-system');
  assert.equal(leaf(m, 'formatter', 'aarch64-linux').system, 'aarch64-linux');
  assert.equal(leaf(m, 'legacyPackages', 'aarch64-linux').omitted, 'legacy');
  assert.equal(leaf(m, 'legacyPackages', 'x86_64-linux').omitted, 'legacy');
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'hello').kind, 'derivation');
  // An empty category is detected as such.
  assert.equal(category(m, 'nixosConfigurations').empty, true);
  assert.deepEqual(category(m, 'nixosConfigurations').children, []);

  const bySystem = model(stdout, { system: 'x86_64-linux' });
  assert.equal(leaf(bySystem, 'packages', 'aarch64-linux', 'hello').omitted, 'other-system');
  const blind = model(stdout);
  assert.equal(leaf(blind, 'packages', 'aarch64-linux', 'hello').omitted, 'unknown');
  assert.equal(leaf(blind, 'packages', 'aarch64-linux', 'hello').kind, 'omitted');
});

test('2.25 descriptions: empty strings are no description; apps carry descriptions', () => {
  const m = model(fixture('handwritten-nix-2.25-descriptions.json'));
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'nodesc').description, undefined);
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'hello').description, 'A friendly greeter');
  assert.equal(leaf(m, 'apps', 'x86_64-linux', 'default').description, 'Run the greeter');
  assert.equal(leaf(m, 'apps', 'x86_64-linux', 'nodesc').description, undefined);
});

test('2.29 import-from-derivation and 2.33 non-derivations are omitted with their reason', () => {
  const warnings = parseFlakeShowWarnings(fixture('handwritten-nix-2.33-warnings.stderr.txt'));
  const m = model(fixture('handwritten-nix-2.33-warnings.json'), { warnings, system: 'x86_64-linux' });
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'notdrv').omitted, 'not-a-derivation');
  assert.equal(leaf(m, 'checks', 'x86_64-linux', 'ifd').omitted, 'import-from-derivation');
  assert.equal(leaf(m, 'packages', 'aarch64-darwin', 'hello').omitted, 'other-system');
  assert.equal(leaf(m, 'legacyPackages', 'x86_64-linux').omitted, 'legacy');
});

test('Determinate Nix version 2 inventory', () => {
  const m = model(fixture('handwritten-determinate-v2-inventory.json'));
  assert.equal(m.format, 'inventory');
  assert.ok(category(m, 'packages').doc?.startsWith('The `packages` output'));
  const hello = leaf(m, 'packages', 'x86_64-linux', 'hello');
  assert.equal(hello.kind, 'derivation');
  assert.equal(hello.derivationName, 'hello-2.12');
  assert.equal(hello.description, 'A friendly greeter');
  assert.equal(hello.what, 'package');
  assert.equal(hello.runnable, 'maybe');
  assert.equal(leaf(m, 'packages', 'aarch64-linux', 'hello').omitted, 'other-system');
  assert.equal(leaf(m, 'apps', 'aarch64-darwin').omitted, 'other-system');
  assert.equal(leaf(m, 'apps', 'x86_64-linux', 'default').runnable, true);
  assert.equal(leaf(m, 'checks', 'x86_64-linux', 't').derivationName, 'check-t');
  assert.equal(leaf(m, 'checks', 'x86_64-linux', 't').runnable, false);
  assert.equal(leaf(m, 'devShells', 'x86_64-linux', 'default').developable, true);
  assert.equal(leaf(m, 'formatter', 'x86_64-linux').buildable, true);
  assert.equal(leaf(m, 'formatter', 'aarch64-linux').omitted, 'other-system');
  assert.equal(leaf(m, 'legacyPackages', 'x86_64-linux').omitted, 'legacy');
  assert.equal(leaf(m, 'lib').kind, 'unknown');
  assert.equal(leaf(m, 'nixosConfigurations', 'my.host').kind, 'nixos-configuration');
  assert.deepEqual(leaf(m, 'nixosConfigurations', 'my.host').buildAttrPath?.slice(2), ['config', 'system', 'build', 'toplevel']);
  assert.equal(leaf(m, 'nixosModules', 'default').kind, 'nixos-module');
  assert.equal(leaf(m, 'overlays', 'default').kind, 'overlay');
  assert.equal(leaf(m, 'templates', 'default').kind, 'template');
  assert.equal(leaf(m, 'hydraJobs', 'build', 'x86_64-linux').buildable, true);
  const home = leaf(m, 'homeConfigurations', 'me@laptop');
  assert.equal(home.kind, 'unknown');
  assert.equal(home.what, 'Home Manager configuration');
});

test('order is stable whatever order the keys come in', () => {
  const a = '{"packages":{"x86_64-linux":{"b":{"type":"derivation","name":"b"},"a":{"type":"derivation","name":"a"}}},"apps":{}}';
  const b = '{"apps":{},"packages":{"x86_64-linux":{"a":{"name":"a","type":"derivation"},"b":{"name":"b","type":"derivation"}}}}';
  assert.deepEqual(model(a), model(b));
  assert.deepEqual(
    allLeaves(model(a)).map((l) => l.name),
    ['a', 'b'],
  );
});

test('findOutput finds groups and leaves and nothing else', () => {
  const m = model(fixture('nix-2.8-show.json'));
  assert.equal(findOutput(m, ['packages', 'x86_64-linux'])?.type, 'group');
  assert.equal(findOutput(m, ['packages', 'x86_64-linux', 'nope']), undefined);
  assert.equal(findOutput(m, ['nope']), undefined);
  assert.equal(findOutput(m, ['lib', 'greet']), undefined);
  assert.equal(
    allLeaves(m).length,
    m.categories.reduce((n, c) => n + c.leaves.length, 0),
  );
});

test('hostile input gives typed errors, never throws', () => {
  const err = (stdout: unknown) => {
    const r = parseFlakeShow(stdout as string);
    assert.equal(r.ok, false);
    return r.ok ? assert.fail() : r.error;
  };
  assert.equal(err('').kind, 'empty');
  assert.equal(err('   \n').kind, 'empty');
  assert.equal(err(undefined).kind, 'empty');
  const full = fixture('nix-2.8-show.json');
  const truncated = err(full.slice(0, 500));
  assert.equal(truncated.kind, 'invalid-json');
  assert.equal(truncated.line, 1);
  assert.ok(truncated.offset !== undefined && truncated.offset >= 490);
  assert.match(truncated.message, /truncated/);
  assert.equal(err('{"a":1,}').kind, 'invalid-json');
  assert.equal(err('[]').kind, 'schema');
  assert.equal(err('"packages"').kind, 'schema');
  assert.equal(err('null').kind, 'schema');
  assert.deepEqual(err('{"packages": 5}').path, ['packages']);
  assert.deepEqual(err('{"packages":{"x86_64-linux":{"a":{"type":5}}}}').path, ['packages', 'x86_64-linux', 'a', 'type']);
  assert.deepEqual(err('{"packages":{"x86_64-linux":{"a":{"type":"derivation","name":5}}}}').path, [
    'packages',
    'x86_64-linux',
    'a',
    'name',
  ]);
  assert.equal(err('{"packages":{"x86_64-linux":{"a":{"type":"derivation","description":{}}}}}').kind, 'schema');
  assert.equal(err('{"packages":{"x86_64-linux":[1,2]}}').kind, 'schema');
  assert.equal(err('{"version":2,"inventory":{"packages":5}}').kind, 'schema');
  assert.equal(err('{"version":2,"inventory":{"packages":{"output":{"children":[]}}}}').kind, 'schema');
  assert.equal(err('{"version":2,"inventory":{"packages":{"output":{"children":{"x":{"derivation":5}}}}}}').kind, 'schema');
  assert.equal(err('{"version":2,"inventory":{"packages":{"doc":7}}}').kind, 'schema');
  // Nesting beyond what any flake has.
  let deep = '{"type":"derivation","name":"x"}';
  for (let i = 0; i < 80; i++) deep = `{"n${i}":${deep}}`;
  assert.equal(err(`{"hydraJobs":${deep}}`).kind, 'too-deep');
  const veryDeep = '{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000);
  assert.ok(['too-deep', 'invalid-json'].includes(err(`{"hydraJobs":${veryDeep}}`).kind));
  // 10 MB of garbage.
  assert.equal(err('x'.repeat(10 * 1024 * 1024)).kind, 'invalid-json');
});

test('a 10 MB description is kept cut, not whole', () => {
  const big = 'd'.repeat(10 * 1024 * 1024);
  const m = model(JSON.stringify({ packages: { 'x86_64-linux': { a: { type: 'derivation', name: 'a', description: big } } } }));
  const d = leaf(m, 'packages', 'x86_64-linux', 'a').description ?? '';
  assert.ok(d.length < 5000 && d.startsWith('ddd'));
});

test('unknown leaf types, extra fields and hostile keys are handled', () => {
  const m = model(
    '{"packages":{"x86_64-linux":{"a":{"type":"flake-schema-thing","extra":[1]},"b":{"type":"__proto__"},"c":{"type":"toString"}}},' +
      '"__proto__":{"type":"derivation","name":"p"},"constructor":{},"toString":{"type":"omitted"}}',
  );
  const a = leaf(m, 'packages', 'x86_64-linux', 'a');
  assert.equal(a.kind, 'unknown');
  assert.equal(a.rawType, 'flake-schema-thing');
  assert.equal(leaf(m, '__proto__').derivationName, 'p');
  assert.equal(category(m, 'constructor').empty, true);
  assert.equal(category(m, 'constructor').known, false);
  assert.equal(category(m, 'constructor').shape, 'nested');
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'b').kind, 'unknown');
  assert.equal(leaf(m, 'packages', 'x86_64-linux', 'c').kind, 'unknown');
  assert.equal(leaf(m, 'toString').omitted, 'unknown');
  assert.equal(({} as Record<string, unknown>).type, undefined);
});

test('outputs named like Object.prototype members read nothing from it, even when something has written there', () => {
  const classic =
    '{"constructor":{"x86_64-linux":{},"aarch64-linux":{"a":{"type":"derivation","name":"a"}}},"__proto__":{"x86_64-linux":{"hello":{"type":"derivation","name":"h"}}},' +
    '"toString":{},"hasOwnProperty":{"type":"app"},"packages":{"x86_64-linux":{"constructor":{},"__proto__":{"type":"derivation"}},"aarch64-linux":{"b":{}}}}';
  const inventory =
    '{"version":2,"inventory":{"constructor":{"output":{"children":{"x":{"what":"thing"},"y":{}}}},"__proto__":{"doc":"d","output":{"what":"package"}},' +
    '"valueOf":{"unknown":true}}}';
  const clean = [model(classic), model(classic, { system: 'x86_64-linux' }), model(inventory)];
  // What a prototype-polluting bug elsewhere in the process (or a hostile dependency) could leave behind: the fields
  // a schema or the options leave out must not be read from there.
  const polluted: Record<string, unknown> = {
    leafDepth: 2,
    kind: 'app',
    legacyForm: true,
    system: 'riscv64-linux',
    warnings: [],
    shape: 'per-system',
  };
  for (const [k, value] of Object.entries(polluted))
    Object.defineProperty(Object.prototype, k, { value, configurable: true, writable: true });
  try {
    assert.deepEqual([model(classic), model(classic, { system: 'x86_64-linux' }), model(inventory)], clean);
  } finally {
    for (const k of Object.keys(polluted)) delete (Object.prototype as Record<string, unknown>)[k];
  }
  const c = category(clean[0], 'constructor');
  assert.deepEqual([c.known, c.shape, c.legacyForm, c.empty], [false, 'nested', false, false]);
  assert.equal(findOutput(clean[0], ['constructor', 'x86_64-linux'])?.type, 'group');
  assert.equal(leaf(clean[0], '__proto__', 'x86_64-linux', 'hello').derivationName, 'h');
  assert.equal(leaf(clean[0], 'packages', 'x86_64-linux', '__proto__').kind, 'derivation');
  assert.equal(leaf(clean[1], 'packages', 'aarch64-linux', 'b').omitted, 'other-system');
  assert.equal(leaf(clean[2], 'constructor', 'x').kind, 'unknown');
  assert.equal(category(clean[2], '__proto__').doc, 'd');
});

test('the plain classic format, read from the text, gives the model JSON.parse and the walker give, key order included', () => {
  const dir = 'test/fixtures/captured/flake';
  const texts = readdirSync(dir)
    .filter((f) => /show|omitted|descriptions|warnings|inventory/.test(f) && f.endsWith('.json'))
    .map((f) => readFileSync(path.resolve(dir, f), 'utf8'));
  assert.ok(texts.length >= 6);
  const pkgs = (n: number) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`pkg-${i}`, { description: i % 3 ? `d ${i}` : '', name: `pkg-${i}`, type: 'derivation' }]),
    );
  texts.push(
    `${JSON.stringify({ packages: { 'aarch64-linux': { a: {} }, 'x86_64-linux': pkgs(300) } })}\n`,
    '{}',
    '{"lib":{},"overlay":{},"packages":{"x86_64-linux":{}},"zzz":{"a":{"b":{"c":{}}}}}',
    String.raw`{"packages":{"x86_64-linux":{"a\"b":{"description":"tab\tquote\" \u00e9 \ud83d\ude00","name":"n\\m","type":"derivation"},"é":{"type":"app"}}}}`,
    '{"__proto__":{"x86_64-linux":{"constructor":{"type":"derivation"}}},"constructor":{"type":"nixos-module"}}',
    '{"packages":{"x86_64-linux":{"a":{"meta":"x","name":"a","other":"y","type":"future-type","zz":""}}}}',
    // Only the general reader reads these (or rejects them): the two must agree.
    '{"packages":{"x86_64-linux":{"b":{"type":"derivation"},"a":{"type":"derivation"}}}}',
    '{"packages":{"x86_64-linux":{"a":{"name":"x","name":"y","type":"derivation"}}}}',
    '{"packages":{"x86_64-linux":{"a":{"name":null,"type":"derivation"}}}}',
    '{"packages":{"x86_64-linux":{"a":{"name":1,"type":"derivation"}}}}',
    '{"packages":{"x86_64-linux":{"a":{"name":"a"}}}}',
    '{"packages":{"x86_64-linux":{"type":{"type":"derivation"}}}}',
    '{"packages":{"x86_64-linux":{"a":{"meta":{"x":1},"type":"derivation"}}}}',
    '{"packages": {"x86_64-linux":{}}}',
    '{"packages":{"x86_64-linux":{"a":{"name":"a\u0001","type":"derivation"}}}}',
    '{"version":2,"inventory":{"packages":{"output":{"children":{"x86_64-linux":{"children":{"a":{"what":"package"}}}}}}}}',
    `${'{"a":'.repeat(80)}{}${'}'.repeat(80)}`,
    '{"packages":{"x86_64-linux":{"a":{"type":"derivation"}}}',
    '[1]',
  );
  for (const text of texts) {
    for (const opts of [
      {},
      { system: 'x86_64-linux' },
      { system: 'aarch64-darwin', warnings: parseFlakeShowWarnings(fixture('nix-2.8-show.stderr.txt')) },
    ]) {
      const direct = parseFlakeShow(text, opts);
      // A space before the document is valid JSON that only the general reader reads.
      const general = parseFlakeShow(` ${text}`, opts);
      if (!direct.ok || !general.ok) {
        assert.equal(direct.ok, general.ok, text.slice(0, 200));
        if (!direct.ok && !general.ok) assert.equal(direct.error.kind, general.error.kind, text.slice(0, 200));
        continue;
      }
      assert.deepEqual(direct.model, general.model, text.slice(0, 200));
      assert.equal(JSON.stringify(direct.model), JSON.stringify(general.model), text.slice(0, 200));
    }
  }
});
