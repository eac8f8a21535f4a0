import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  applyEdit,
  findInputDeclaration,
  formatString,
  isRefusal,
  packageBindings,
  planFollowsEdit,
  scanNix,
  type FollowsPlan,
  type TextEdit,
} from '../../src/core/source';
import { assertNixParses } from '../support/nixParse';

const fixture = (name: string): string => readFileSync(`test/fixtures/source/${name}`, 'utf8');

/** `line:key` of an input's declaration (1-based line). */
function declaration(text: string, name: string): string | undefined {
  const d = findInputDeclaration(text, name);
  if (!d) return undefined;
  return `${scanNix(text).lines().positionAt(d.range.start).line + 1}:${text.slice(d.range.start, d.range.end)}`;
}

function edit(plan: FollowsPlan): TextEdit {
  if (isRefusal(plan)) assert.fail(`refused: ${plan.refused}`);
  return plan;
}

/** Applies a plan and checks that the result parses (ours and Nix's) and declares the follows. */
function applyAndCheck(t: TestContext, text: string, input: string, dep: string, target: string): string {
  const after = applyEdit(text, edit(planFollowsEdit(text, input, dep, target)));
  assert.equal(scanNix(after).problems.length, scanNix(text).problems.length);
  const follows = findInputDeclaration(after, input)?.bindings.find((b) => b.path.join('.') === `inputs.${input}.inputs.${dep}.follows`);
  assert.ok(follows, 'the re-scan finds the follows binding');
  assert.equal(after.slice(follows.valueRange.start, follows.valueRange.end), formatString(target));
  assertNixParses(t, after, 'flake.nix');
  return after;
}

test('findInputDeclaration: every way of declaring an input', () => {
  const attrpaths = fixture('flakes/attrpaths.nix');
  assert.equal(declaration(attrpaths, 'nixpkgs'), '4:nixpkgs'); // inputs.X.url = …
  assert.equal(declaration(attrpaths, 'secrets'), '8:secrets'); // inputs.X = { url = …; }
  assert.equal(declaration(attrpaths, 'docs'), '9:docs'); // inputs.X.flake = false
  assert.equal(findInputDeclaration(attrpaths, 'docs')?.bindings.length, 2);
  assert.equal(findInputDeclaration(attrpaths, 'home-manager')?.bindings.length, 2);
  assert.equal(declaration(fixture('flakes/inputs-set.nix'), 'agenix'), '7:agenix'); // inputs = { X.url = …; }
  assert.equal(declaration(fixture('flakes/input-sets.nix'), 'disko'), '3:disko');
  const nested = fixture('flakes/nested.nix');
  assert.equal(declaration(nested, 'home-manager'), '4:home-manager'); // inputs = { X = { url; inputs.nixpkgs.follows }; }
  assert.deepEqual(
    findInputDeclaration(nested, 'crane')?.bindings.map((b) => b.path.join('.')),
    ['inputs.crane', 'inputs.crane.url', 'inputs.crane.inputs', 'inputs.crane.inputs.nixpkgs.follows'],
  );
  // Not inputs: a binding in `outputs`, a missing name, a file that is not a set.
  assert.equal(declaration(attrpaths, 'flake-parts'), undefined);
  assert.equal(declaration(attrpaths, 'system'), undefined);
  assert.equal(declaration('x: { inputs.a.url = "b"; }', 'a'), undefined);
  assert.equal(declaration('', 'a'), undefined);
});

test('packageBindings: packages.<system>.<name> in every form', (t) => {
  const rows = (text: string): string[] =>
    packageBindings(text).map((p) => `${p.system ?? '*'}/${p.name}:${text.slice(p.nameRange.start, p.nameRange.end)}`);
  assert.deepEqual(rows(fixture('flakes/packages.nix')), [
    'x86_64-linux/hello:hello', // packages = { x86_64-linux = { hello = …; }; }
    'x86_64-linux/cowsay:cowsay', // inherit (pkgs) cowsay;
    'aarch64-darwin/hello:hello', // packages.aarch64-darwin.hello = …
    '*/hello:hello', // packages.${…}.hello
  ]);
  assert.deepEqual(rows(fixture('flakes/inputs-set.nix')), [
    'x86_64-linux/hello:hello',
    'aarch64-linux/hello:hello',
    'aarch64-linux/tool:tool',
  ]);
  // eachDefaultSystem (system: { packages.hello = …; }), and not the attributes of the derivation.
  assert.deepEqual(rows(fixture('flakes/attrpaths.nix')), ['*/hello:hello', '*/default:default']);
  // packages = forAllSystems (pkgs: { … }), with a finalAttrs derivation.
  assert.deepEqual(rows(fixture('flakes/nested.nix')), ['*/hello:hello', '*/tool:tool']);
  // flake-parts' perSystem.
  const parts =
    '{ outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } { systems = [ ]; perSystem = { pkgs, ... }: { packages.hello = pkgs.hello; }; }; }';
  assert.deepEqual(rows(parts), ['*/hello:hello']);
  // packages.${system}.<name>, with the system computed, in every way of writing it.
  assert.deepEqual(rows(fixture('flakes/computed.nix')), [
    '*/default:default',
    '*/quoted:quoted',
    '*/go:go',
    '*/rust:rust',
    '*/dynamic:dynamic',
    '*/plain:plain',
  ]);
  const dynamic = [
    '{',
    '  outputs = { self, nixpkgs }: let system = "x86_64-linux"; pkgs = nixpkgs.legacyPackages.${system}; in {',
    '    packages.${system}.a = pkgs.hello;',
    '    packages = { ${system} = { b = pkgs.hello; }; };',
    '    packages.${system} = { c = pkgs.hello; };',
    '    packages."${system}".d = pkgs.hello;',
    '    packages.${system}.${"e"} = pkgs.hello;', // a computed name: not a package we can name
    '    packages.${system}.f.g = pkgs.hello;', // not a package: an attribute of one
    '  };',
    '}',
  ].join('\n');
  assertNixParses(t, dynamic, 'flake.nix');
  assert.deepEqual(rows(dynamic), ['*/a:a', '*/b:b', '*/c:c', '*/d:d']);
  assert.deepEqual(
    packageBindings(dynamic).map((p) => p.system),
    [undefined, undefined, undefined, undefined],
  );
  assert.deepEqual(rows('{ packages.x86_64-linux.a = 1; outputs = { }; }'), []);
  assert.deepEqual(rows('let a = 1; in a'), []);
});

test('planFollowsEdit: `inputs.X.url = …;` gets `inputs.X.inputs.dep.follows` on the next line', (t) => {
  const text = fixture('flakes/attrpaths.nix');
  const plan = edit(planFollowsEdit(text, 'flake-utils', 'nixpkgs', 'nixpkgs'));
  assert.deepEqual(plan, {
    offset: text.indexOf('\n', text.indexOf('inputs.flake-utils.url')),
    deleteLength: 0,
    insertText: '\n  inputs.flake-utils.inputs.nixpkgs.follows = "nixpkgs";',
  });
  const after = applyAndCheck(t, text, 'flake-utils', 'nixpkgs', 'nixpkgs');
  assert.match(
    after,
    /inputs\.flake-utils\.url = "github:numtide\/flake-utils";\n {2}inputs\.flake-utils\.inputs\.nixpkgs\.follows = "nixpkgs";\n {2}inputs\.home-manager/,
  );
  // After the last line mentioning the input, keeping a trailing comment on its own line.
  const docs = applyAndCheck(t, text, 'docs', 'nixpkgs', 'nixpkgs');
  assert.match(docs, /inputs\.docs\.url = "path:\.\/docs";\n {2}inputs\.docs\.inputs\.nixpkgs\.follows = "nixpkgs";\n/);
  const hm = applyEdit(text, edit(planFollowsEdit(text, 'nixpkgs', 'home-manager', 'home-manager')));
  assert.match(hm, /nixos-unstable";\n {2}inputs\.nixpkgs\.inputs\.home-manager\.follows = "home-manager";\n/);
});

test('planFollowsEdit: `inputs = { X.url = …; }` gets `X.inputs.dep.follows` inside', (t) => {
  const text = fixture('flakes/inputs-set.nix');
  const after = applyAndCheck(t, text, 'agenix', 'nixpkgs', 'nixpkgs');
  assert.match(after, /agenix\.inputs\.darwin\.follows = "";\n {4}agenix\.inputs\.nixpkgs\.follows = "nixpkgs";\n {2}\};/);
  applyAndCheck(t, text, 'nixpkgs-lib', 'nixpkgs', 'nixpkgs');
});

test('planFollowsEdit: `inputs.X = { url = …; }` gets `inputs.dep.follows` inside the set, multi-line or inline', (t) => {
  const text = fixture('flakes/input-sets.nix');
  const disko = applyAndCheck(t, text, 'disko', 'nixpkgs', 'nixpkgs');
  assert.match(disko, /inputs\.disko = \{\n {4}url = "github:nix-community\/disko";\n {4}inputs\.nixpkgs\.follows = "nixpkgs";\n {2}\};/);
  const sops = applyAndCheck(t, text, 'sops-nix', 'nixpkgs', 'nixpkgs');
  assert.match(sops, /inputs\.sops-nix = \{ url = "github:Mic92\/sops-nix"; inputs\.nixpkgs\.follows = "nixpkgs"; \};/);
  const secrets = applyAndCheck(t, fixture('flakes/attrpaths.nix'), 'secrets', 'nixpkgs', 'nixpkgs');
  assert.match(secrets, /flake = false; inputs\.nixpkgs\.follows = "nixpkgs"; \};/);
  const empty = applyAndCheck(t, '{\n  inputs.a = { };\n  outputs = _: { };\n}\n', 'a', 'b', 'c');
  assert.match(empty, /inputs\.a = \{ inputs\.b\.follows = "c"; \};/);
});

test("planFollowsEdit: nested `inputs = { X = { url = …; }; }`, and X's own `inputs = { … }` set", (t) => {
  const text = fixture('flakes/nested.nix');
  const crane = applyAndCheck(t, text, 'crane', 'flake-utils', 'flake-utils');
  assert.match(crane, /inputs = \{\n {8}nixpkgs\.follows = "nixpkgs";\n {8}flake-utils\.follows = "flake-utils";\n {6}\};/);
  const hm = applyAndCheck(t, text, 'home-manager', 'flake-utils', 'flake-utils');
  assert.match(hm, /inputs\.nixpkgs\.follows = "nixpkgs";\n {6}inputs\.flake-utils\.follows = "flake-utils";\n {4}\};/);
});

test('planFollowsEdit: an existing follows gets its value replaced, or is left alone', (t) => {
  const nested = fixture('flakes/nested.nix');
  const plan = edit(planFollowsEdit(nested, 'home-manager', 'nixpkgs', 'nixpkgs-stable'));
  assert.equal(nested.slice(plan.offset, plan.offset + plan.deleteLength), '"nixpkgs"');
  assert.equal(plan.insertText, '"nixpkgs-stable"');
  applyAndCheck(t, nested, 'home-manager', 'nixpkgs', 'nixpkgs-stable');
  applyAndCheck(t, nested, 'crane', 'nixpkgs', 'nixpkgs/nixos');
  applyAndCheck(t, fixture('flakes/inputs-set.nix'), 'agenix', 'darwin', 'nix-darwin');
  assert.deepEqual(planFollowsEdit(nested, 'home-manager', 'nixpkgs', 'nixpkgs'), {
    code: 'unchanged',
    refused: `input 'home-manager' already has 'nixpkgs' follow "nixpkgs"`,
  });
});

test('planFollowsEdit quotes names and targets that need it', (t) => {
  const after = applyAndCheck(t, '{\n  inputs.a.url = "x";\n}\n', 'a', 'dep.with.dots', 'we"ird${x}');
  assert.match(after, /inputs\.a\.inputs\."dep\.with\.dots"\.follows = "we\\"ird\\\$\{x\}";/);
  applyAndCheck(t, '{\n  inputs.a.url = "x";\n}\n', 'a', 'in', 'rec');
});

test('planFollowsEdit refuses shapes it does not understand, damage, and unknown inputs', () => {
  const code = (text: string, input = 'nixpkgs', dep = 'x', target = 'y'): string => {
    const plan = planFollowsEdit(text, input, dep, target);
    return isRefusal(plan) ? plan.code : 'edit';
  };
  assert.equal(code(fixture('flakes/inputs-import.nix')), 'unsupported'); // inputs = import ./inputs.nix;
  assert.equal(code(fixture('flakes/inputs-call.nix')), 'unsupported'); // inputs = builtins.mapAttrs …
  assert.equal(code(fixture('flakes/dynamic.nix')), 'unsupported'); // inputs.${…}.url
  assert.equal(code('{ inputs.a = mkInput "x"; }', 'a'), 'unsupported');
  assert.equal(code('{ inputs.a.${"b"}.follows = "c"; inputs.a.url = "u"; }', 'a'), 'unsupported');
  assert.equal(code(fixture('flakes/damaged.nix'), 'agenix'), 'damaged'); // a missing `;` next to it
  assert.equal(code(fixture('flakes/damaged.nix'), 'nixpkgs'), 'damaged');
  assert.equal(code(fixture('flakes/attrpaths.nix'), 'no-such-input'), 'not-found');
  assert.equal(code('{ outputs = _: { }; }'), 'not-found');
  assert.equal(code('x: { inputs.nixpkgs.url = "y"; }'), 'unsupported');
  assert.equal(code(''), 'unsupported');
  assert.equal(code(fixture('flakes/attrpaths.nix'), ''), 'not-found');
});

test('planned edits never break a file: all inputs of all fixtures, re-scanned and parsed by Nix', (t) => {
  for (const name of ['attrpaths', 'inputs-set', 'input-sets', 'nested']) {
    const text = fixture(`flakes/${name}.nix`);
    assertNixParses(t, text, 'flake.nix');
    for (const input of [
      'nixpkgs',
      'flake-utils',
      'home-manager',
      'secrets',
      'docs',
      'nixpkgs-lib',
      'agenix',
      'disko',
      'sops-nix',
      'crane',
    ]) {
      const plan = planFollowsEdit(text, input, 'systems', 'systems');
      if (isRefusal(plan)) {
        assert.equal(plan.code, 'not-found', `${name} ${input}: ${plan.refused}`);
        continue;
      }
      applyAndCheck(t, text, input, 'systems', 'systems');
    }
  }
  // CRLF files get CRLF lines.
  const crlf = '{\r\n  inputs.a.url = "x";\r\n  outputs = _: { };\r\n}\r\n';
  assert.equal(
    applyAndCheck(t, crlf, 'a', 'b', 'c'),
    '{\r\n  inputs.a.url = "x";\r\n  inputs.a.inputs.b.follows = "c";\r\n  outputs = _: { };\r\n}\r\n',
  );
});
