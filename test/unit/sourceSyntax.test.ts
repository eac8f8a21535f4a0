import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  enclosingDerivation,
  findDerivationCalls,
  findInputDeclaration,
  findOptionDefinitions,
  packageBindings,
  planFollowsEdit,
  scanNix,
  unescapeIndString,
  type NixSource,
} from '../../src/core/source';

const fixture = (name: string): string => readFileSync(`test/fixtures/source/${name}`, 'utf8');

/** `path = value` for every binding, for compact expectations. */
function summary(src: NixSource): string[] {
  return src.bindings.map(
    (b) =>
      `${b.path.join('.')}${b.inLet ? ' (let)' : ''}${b.inherited ? ' (inherit)' : ''} = ${src.text.slice(b.valueRange.start, b.valueRange.end)}`,
  );
}

test('nested sets and attribute paths give the same full path', () => {
  const src = scanNix('{ a.b.c = 1; a = { b = { c = 2; }; }; x = rec { y = { z = 3; }; }; }');
  assert.deepEqual(summary(src), [
    'a.b.c = 1',
    'a = { b = { c = 2; }; }',
    'a.b = { c = 2; }',
    'a.b.c = 2',
    'x = rec { y = { z = 3; }; }',
    'x.y = { z = 3; }',
    'x.y.z = 3',
  ]);
  const c = src.bindings[3];
  assert.deepEqual(
    c.keys.map((k) => k.name),
    ['c'],
  );
  assert.equal(c.set.parent?.path.join('.'), 'a.b');
  assert.equal(src.text.slice(c.keyRange.start, c.keyRange.end), 'c');
  assert.equal(src.text.slice(c.range.start, c.range.end), 'c = 2;');
  assert.deepEqual(
    src.sets.map((s) => s.kind),
    ['set', 'set', 'set', 'rec', 'set'],
  );
  assert.ok(src.problems.length === 0);
});

test('let … in bindings are marked, and the body is the value', () => {
  const src = scanNix('let a = 1; b = { c = a; }; in { d = b.c; e = let f = 2; in f; }');
  assert.deepEqual(summary(src), ['a (let) = 1', 'b (let) = { c = a; }', 'b.c (let) = a', 'd = b.c', 'e = let f = 2; in f', 'f (let) = 2']);
  assert.equal(src.sets[0].kind, 'let');
  assert.equal(src.text.slice(src.sets[0].range.start, src.sets[0].range.end), 'let a = 1; b = { c = a; }; in');
  assert.equal(src.tokens.kinds[src.head], scanNix('{ }').tokens.kinds[0]); // the head is the `{` of the body
});

test('quoted keys are one segment; dynamic keys are marked', () => {
  const src = scanNix('{ "foo.bar" = 1; a."b c".d = 2; ${x}.y = 3; "p${q}" = 4; or = 5; }');
  const keys = src.bindings.map((b) => b.pathKeys.map((k) => `${k.name}:${k.kind}`).join(' '));
  assert.deepEqual(keys, ['foo.bar:string', 'a:ident b c:string d:ident', '${x}:dynamic y:ident', '"p${q}":dynamic', 'or:ident']);
});

test('inherit and inherit (x) make one binding per name', () => {
  const src = scanNix('{ inherit a "b"; inherit (pkgs.lib) c d; e = 1; }');
  assert.deepEqual(summary(src), ['a (inherit) = a', 'b (inherit) = "b"', 'c (inherit) = (pkgs.lib)', 'd (inherit) = (pkgs.lib)', 'e = 1']);
  assert.equal(src.text.slice(src.bindings[2].range.start, src.bindings[2].range.end), 'inherit (pkgs.lib) c d;');
});

test('function headers and `with` do not confuse the pass', () => {
  const src = scanNix('{ config, lib ? null, ... }@args: pkgs: with lib; assert true; { a = x: { b = x; }; c = { d, ... }: d; }');
  assert.deepEqual(summary(src), ['a = x: { b = x; }', 'a.b = x', 'c = { d, ... }: d']);
  assert.deepEqual(
    src.functions.map((f) => [f.kind, f.formals.join(','), f.ellipsis, f.alias]),
    [
      ['pattern', 'config,lib', true, 'args'],
      ['ident', 'pkgs', false, undefined],
      ['ident', 'x', false, undefined],
      ['pattern', 'd', true, undefined],
    ],
  );
  assert.ok(src.sets.find((s) => s.bindings[0]?.keys[0].name === 'b')?.lambdaBody);
  assert.equal(src.problems.length, 0);
});

test('strings, indented strings and comments hide `=`, `{` and `;`', () => {
  const text = fixture('module-styles.nix');
  const src = scanNix(text);
  assert.equal(src.problems.length, 0);
  const motd = src.bindings.find((b) => b.path.join('.') === 'motd');
  assert.ok(motd);
  assert.match(text.slice(motd.valueRange.start, motd.valueRange.end), /^''\n[\s\S]*''$/);
  assert.ok(!src.bindings.some((b) => b.path[0] === 'services' && b.inLet === false && b.range.start < text.indexOf('{ config')));
  assert.equal(unescapeIndString("\n  a ''${b} '''c'' ''\\n\n  d\n"), "a ${b} ''c'' \n\nd\n");
});

test('a missing `;` ends the value where the next binding starts', () => {
  const src = scanNix('{\n  a = 1\n  b.c = f x\n  d = 3;\n}');
  assert.deepEqual(summary(src), ['a = 1', 'b.c = f x', 'd = 3']);
  assert.equal(src.problems.filter((p) => p.message === "expected ';'").length, 2);
});

test('a missing `}` is found from the indentation', () => {
  const text = '{\n  services.openssh = {\n    enable = true;\n  networking.hostName = "x";\n  users.users.alice.uid = 1;\n}\n';
  const src = scanNix(text);
  assert.deepEqual(
    src.bindings.map((b) => b.path.join('.')),
    ['services.openssh', 'services.openssh.enable', 'networking.hostName', 'users.users.alice.uid'],
  );
  assert.ok(src.problems.some((p) => p.message === "expected '}'"));
});

test('a half-typed `a.b.` line does not swallow the next binding', () => {
  const src = scanNix('{\n  services.openssh.\n  networking.hostName = "x";\n}');
  assert.deepEqual(summary(src), ['networking.hostName = "x"']);
});

test('closers that belong to an outer group end inner groups', () => {
  const src = scanNix('{ a = f (x; b = [ 1 2; c = ({ d = 1; ); e = 2; }');
  assert.deepEqual(
    src.bindings.map((b) => b.path.join('.')),
    ['a', 'b', 'c', 'c.d', 'e'],
  );
});

test('every prefix of a real file scans without throwing', () => {
  for (const name of ['module-styles.nix', 'packages.nix', 'flakes/nested.nix']) {
    const text = fixture(name);
    for (let cut = 0; cut <= text.length; cut += 3) {
      const prefix = text.slice(0, cut);
      const src = scanNix(prefix);
      assert.ok(src.bindings.every((b) => b.range.end <= prefix.length && b.keyRange.start <= b.keyRange.end));
      findOptionDefinitions(src, ['services', 'openssh', 'enable']);
      findDerivationCalls(src);
      enclosingDerivation(src, 10);
      packageBindings(src);
      findInputDeclaration(src, 'nixpkgs');
      planFollowsEdit(prefix, 'crane', 'nixpkgs', 'nixpkgs');
    }
  }
});

test('random damage and garbage never throw or hang', () => {
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = [
    '{',
    '}',
    '(',
    ')',
    '[',
    ']',
    '"',
    "''",
    '${',
    ';',
    '=',
    '.',
    'a',
    'rec',
    'let',
    'in',
    'inherit',
    'with',
    ':',
    ',',
    '@',
    '?',
    '...',
    '#',
    '/*',
    '*/',
    '\n',
    ' ',
    './x',
    'x:y',
    '\\',
    '$',
    "'",
    'or',
    'mkDerivation',
    'if',
    'then',
    'else',
  ];
  const base = fixture('packages.nix');
  for (let round = 0; round < 300; round++) {
    let text: string;
    if (round % 2 === 0) {
      text = '';
      const n = random(200);
      for (let i = 0; i < n; i++) text += pieces[random(pieces.length)];
    } else {
      const chars = base.split('');
      for (let i = 0; i < 8; i++) chars.splice(random(chars.length), random(4), pieces[random(pieces.length)]);
      text = chars.join('');
    }
    const src = scanNix(text);
    findOptionDefinitions(src, ['a', 'b']);
    findDerivationCalls(src);
    packageBindings(src);
    planFollowsEdit(text, 'a', 'b', 'c');
  }
});

test('very deep nesting does not overflow the stack: past a depth the rest is skipped, and said so', () => {
  const deep = '('.repeat(20000) + 'x' + ')'.repeat(20000);
  const sets = '{ a = '.repeat(5000) + '1' + '; }'.repeat(5000);
  const strings = '"${'.repeat(3000) + 'x' + '}"'.repeat(3000);
  // Valid Nix: one problem, where the scan stopped descending (it would have recursed 5000+ levels).
  for (const text of [deep, sets, strings]) {
    const src = scanNix(text);
    assert.deepEqual(
      src.problems.map((p) => p.message),
      ['nesting too deep; skipped'],
    );
    assert.ok(src.problems[0].start > 0 && src.problems[0].start < text.length / 2, 'at the depth limit, not at either end');
    assert.deepEqual(findDerivationCalls(src), []);
  }
  // What is above the limit is still read: the outer bindings of the nested sets, and `a.a.a` among them.
  const nested = scanNix(sets);
  assert.ok(nested.bindings.length >= 100, `${nested.bindings.length} bindings`);
  assert.equal(findOptionDefinitions(nested, ['a', 'a', 'a']).length, 1);
  // Unclosed: the problems say so, from the first character on.
  for (const [text, first] of [
    ['['.repeat(50000), "unclosed '['"],
    ['{'.repeat(50000), "unclosed '{'"],
    ['let '.repeat(20000), "'let' without 'in'"],
  ] as const) {
    const src = scanNix(text);
    assert.deepEqual([src.problems[0]?.message, src.problems[0]?.start], [first, 0], text.slice(0, 10));
  }
});
