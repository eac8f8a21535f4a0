import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { enclosingDerivation, findDerivationCalls, scanNix, type DerivationCall } from '../../src/core/source';
import { assertNixParses } from '../support/nixParse';

const fixture = (name: string): string => readFileSync(`test/fixtures/source/${name}`, 'utf8');

function lineOf(text: string, offset: number): number {
  return scanNix(text).lines().positionAt(offset).line + 1;
}

/** A compact description of a call: `builder binding lines name`. */
function describe(text: string, c: DerivationCall): string {
  const lines = scanNix(text).lines();
  const l = (o: number): number => lines.positionAt(o).line + 1;
  const names = [c.pname && `pname=${c.pname}`, c.name && `name=${c.name}`, c.version && `version=${c.version}`].filter(Boolean).join(' ');
  const bound = c.binding ? `${c.binding.path.join('.')}${c.binding.inLet ? '(let)' : ''}` : '-';
  return `${c.builder} ${bound} ${l(c.range.start)}-${l(c.range.end)} ${names}`.trim();
}

test('builder calls in a package set: bindings, names, argument sets', () => {
  const text = fixture('packages.nix');
  assert.deepEqual(
    findDerivationCalls(text).map((c) => describe(text, c)),
    [
      'stdenvNoCC.mkDerivation helper(let) 9-17 name=helper-${version}',
      'stdenv.mkDerivation hello 20-32 pname=hello',
      'buildGoModule tool 34-39 pname=tool',
      'mkDerivation fixed 41-44 name=fixed',
      'stdenv.mkDerivation finalAttrs 46-50 pname=final-attrs version=2.0',
      'rustPlatform.buildRustPackage rusty 52-57 pname=rusty version=0.1.0',
      'buildPythonPackage pyPkg 59-63 pname=py-pkg version=3.1',
      'writeShellApplication script 65-70 name=script',
      'runCommand generated 72-74',
      'stdenv.mkDerivation nested.deep.pkg 79-81 name=nested',
    ],
  );
});

test('ranges: from the function expression to the end of the last argument; key and argument ranges', () => {
  const text = fixture('packages.nix');
  const calls = findDerivationCalls(text);
  const hello = calls.find((c) => c.pname === 'hello');
  assert.ok(hello?.binding && hello.argsRange);
  assert.equal(text.slice(hello.calleeRange.start, hello.calleeRange.end), 'stdenv.mkDerivation');
  assert.ok(text.slice(hello.range.start, hello.range.end).startsWith('stdenv.mkDerivation rec {'));
  assert.ok(text.slice(hello.range.start, hello.range.end).endsWith('};\n  }'));
  assert.equal(text.slice(hello.binding.keyRange.start, hello.binding.keyRange.end), 'hello');
  assert.ok(text.slice(hello.argsRange.start, hello.argsRange.end).startsWith('rec {'));
  assert.equal(hello.callee, 'stdenv.mkDerivation');
  const pyPkg = calls.find((c) => c.builder === 'buildPythonPackage');
  assert.equal(pyPkg?.callee, 'python3Packages.buildPythonPackage');
  const generated = calls.find((c) => c.builder === 'runCommand');
  assert.ok(generated?.argsRange);
  assert.equal(text.slice(generated.argsRange.start, generated.argsRange.end), '{ }');
  assert.match(text.slice(generated.range.start, generated.range.end), /^runCommand "generated" \{ \} ''\n {4}mkdir \$out\n {2}''$/);
  const finalAttrs = calls.find((c) => c.pname === 'final-attrs');
  assert.ok(finalAttrs?.args?.lambdaBody);
});

test('names in comments, strings and indented strings are not calls; nor are unapplied names or list elements', () => {
  const text = fixture('packages.nix');
  const calls = findDerivationCalls(text);
  const starts = calls.map((c) => lineOf(text, c.range.start));
  for (const line of [1, 2, 6, 14, 29, 76, 77]) assert.ok(!starts.includes(line), `line ${line}`);
  const tricky = [
    '# stdenv.mkDerivation { }',
    '{ mkDerivation, ... }:',
    'let',
    '  s = "mkDerivation { }";',
    "  t = ''mkDerivation { } ${ \"x\" }'';",
    '  inherit (pkgs) mkDerivation;',
    '  f = g mkDerivation { };',
    '  l = [ mkDerivation { } ];',
    '  u = mkDerivation;',
    '  m.mkDerivation = 1;',
    '  o = x.mkDerivation.override { };',
    'in { }',
  ].join('\n');
  assert.deepEqual(findDerivationCalls(tricky), []);
});

test('a configurable builder list; select chains match on their last segments', () => {
  const text =
    '{ a = pkgs.myBuilder { name = "a"; }; b = lib.fix (self: pkgs.stdenv.mkDerivation { pname = "b"; }); c = builtins.derivation { name = "c"; }; d = pkgs.mkShell { }; }';
  assert.deepEqual(
    findDerivationCalls(text).map((c) => `${c.builder}:${c.binding?.path.join('.')}`),
    ['stdenv.mkDerivation:b', 'builtins.derivation:c', 'mkShell:d'],
  );
  assert.deepEqual(
    findDerivationCalls(text, ['myBuilder', 'pkgs.mkShell']).map((c) => `${c.builder}:${c.binding?.path.join('.')}:${c.name ?? ''}`),
    ['myBuilder:a:a', 'pkgs.mkShell:d:'],
  );
  assert.deepEqual(findDerivationCalls(text, []), []);
});

test('calls in flakes: let bindings, per-system functions, finalAttrs', () => {
  const attrpaths = fixture('flakes/attrpaths.nix');
  assert.deepEqual(
    findDerivationCalls(attrpaths).map((c) => describe(attrpaths, c)),
    ['stdenv.mkDerivation packages.hello 16-21 pname=hello version=2.12', 'mkShell devShells.default 23-23'],
  );
  const nested = fixture('flakes/nested.nix');
  assert.deepEqual(
    findDerivationCalls(nested).map((c) => describe(nested, c)),
    ['stdenv.mkDerivation tool 24-28 pname=tool version=1.0'],
  );
});

test('builders reached through computed attributes: `${system}`, quoted segments, a parenthesised head', (t) => {
  const text = fixture('flakes/computed.nix');
  assertNixParses(t, text);
  const calls = findDerivationCalls(text);
  assert.deepEqual(
    calls.map((c) => describe(text, c)),
    [
      'stdenv.mkDerivation lib(let) 10-13 pname=lib version=0.1',
      'stdenv.mkDerivation outputs.packages.${system}.default 16-19 pname=hello version=2.12',
      'writeShellApplication outputs.packages.${system}.quoted 20-23 name=quoted',
      'buildGoModule outputs.packages.${system}.go 24-27 pname=go version=1.0',
      'rustPlatform.buildRustPackage outputs.packages.${system}.rust 28-30 pname=rust',
      // The builder's own segments are static: `${"stdenv"}` is not `stdenv`.
      'mkDerivation outputs.packages.${system}.dynamic 31-33 name=dynamic',
      'runCommand outputs.checks.${system}.interp 35-39',
      // A string's `${…}` is code; the same words in the string's text are not.
      'stdenv.mkDerivation - 36-36 name=in-interp',
    ],
  );
  const slice = (r: { start: number; end: number } | undefined): string => (r ? text.slice(r.start, r.end) : '');
  assert.deepEqual(
    calls.map((c) => c.callee),
    [
      '(…).stdenv.mkDerivation',
      'nixpkgs.legacyPackages.${system}.stdenv.mkDerivation',
      'self.inputs.nixpkgs.legacyPackages."x86_64-linux".writeShellApplication',
      'nixpkgsFor.${system}.buildGoModule',
      '(…).rustPlatform.buildRustPackage',
      'nixpkgs.legacyPackages.${system}.${"stdenv"}.mkDerivation',
      'nixpkgs.legacyPackages.${system}.runCommand',
      '(…).stdenv.mkDerivation',
    ],
  );
  // Ranges start at the whole function expression, a parenthesised head included; arguments are found as before.
  assert.equal(slice(calls[0].calleeRange), '(import nixpkgs { inherit system; }).stdenv.mkDerivation');
  assert.ok(slice(calls[0].range).startsWith('(import nixpkgs { inherit system; }).stdenv.mkDerivation rec {'));
  assert.ok(slice(calls[0].argsRange).startsWith('rec {'));
  assert.ok(calls[1].args && slice(calls[1].range).startsWith('nixpkgs.legacyPackages.${system}.stdenv.mkDerivation {'));
  assert.equal(slice(calls[4].calleeRange), '(nixpkgs.legacyPackages.${system}.extend overlay).rustPlatform.buildRustPackage');
  assert.match(slice(calls[6].range), /^nixpkgs\.legacyPackages\.\$\{system\}\.runCommand "interp" \{ \} ''[^]*''$/);
  assert.equal(slice(calls[7].range), '(import nixpkgs { inherit system; }).stdenv.mkDerivation { name = "in-interp"; }');
  // meta.position lines inside them.
  assert.equal(enclosingDerivation(text, lineOf(text, text.indexOf('version = "1.0"')))?.pname, 'go');
  assert.equal(enclosingDerivation(text, lineOf(text, text.indexOf('in-interp')))?.name, 'in-interp');
});

test('computed chains: what is a call and what is not', (t) => {
  const calls = (body: string, header = '{ pkgs, nixpkgs, system, lib, f, g, overlay }:\n'): string[] => {
    const text = `${header}${body}`;
    assertNixParses(t, text);
    return findDerivationCalls(text).map(
      (c) => `${c.builder}:${c.binding?.path.join('.') ?? '-'}:${c.name ?? ''}:${text.slice(c.range.start, c.calleeRange.end)}`,
    );
  };
  // A `${…}`, a quoted segment or a parenthesised part before the builder's own segments.
  assert.deepEqual(calls('{ a = pkgs.${"stdenv"}.mkDerivation { name = "a"; }; }'), ['mkDerivation:a:a:pkgs.${"stdenv"}.mkDerivation']);
  assert.deepEqual(calls('{ a = pkgs.${system}.stdenv.mkDerivation { name = "a"; }; }'), [
    'stdenv.mkDerivation:a:a:pkgs.${system}.stdenv.mkDerivation',
  ]);
  assert.deepEqual(calls('{ a = pkgs."stdenv".mkDerivation { name = "a"; }; }'), ['stdenv.mkDerivation:a:a:pkgs."stdenv".mkDerivation']);
  assert.deepEqual(calls('{ a = pkgs."${system}".stdenv.mkDerivation { name = "a"; }; }'), [
    'stdenv.mkDerivation:a:a:pkgs."${system}".stdenv.mkDerivation',
  ]);
  assert.deepEqual(calls('{ a = (pkgs).mkDerivation { name = "a"; }; }'), ['mkDerivation:a:a:(pkgs).mkDerivation']);
  assert.deepEqual(calls('{ a = ((import nixpkgs { })).stdenv.mkDerivation { name = "a"; }; }'), [
    'stdenv.mkDerivation:a:a:((import nixpkgs { })).stdenv.mkDerivation',
  ]);
  assert.deepEqual(calls('{ a = (f ")" { x = "(("; y = \'\')\'\'; }).${system}.mkShell { name = "a"; }; }'), [
    'mkShell:a:a:(f ")" { x = "(("; y = \'\')\'\'; }).${system}.mkShell',
  ]);
  assert.deepEqual(calls('{ a = (pkgs.extend overlay).${system} # a comment\n    .stdenv.mkDerivation { name = "a"; }; }'), [
    'stdenv.mkDerivation:a:a:(pkgs.extend overlay).${system} # a comment\n    .stdenv.mkDerivation',
  ]);
  assert.deepEqual(calls('{ a = (pkgs.${system} or pkgs).runCommand "a" { } ""; }'), ['runCommand:a::(pkgs.${system} or pkgs).runCommand']);
  // Through a wrapper, in a `let`, as the whole file.
  assert.deepEqual(calls('{ a = lib.fix (self: (import nixpkgs { }).stdenv.mkDerivation { name = "a"; }); }'), [
    'stdenv.mkDerivation:a:a:(import nixpkgs { }).stdenv.mkDerivation',
  ]);
  assert.deepEqual(calls('let a = pkgs.${system}.buildGoModule { name = "a"; }; in a'), ['buildGoModule:a:a:pkgs.${system}.buildGoModule']);
  assert.deepEqual(calls('(import nixpkgs { }).stdenv.mkDerivation { name = "file"; }'), [
    'stdenv.mkDerivation:-:file:(import nixpkgs { }).stdenv.mkDerivation',
  ]);
  // In a string's `${…}` (and a string in that), it is code.
  assert.deepEqual(calls('{ s = "${pkgs.stdenv.mkDerivation { name = "x"; }}"; }'), ['stdenv.mkDerivation:-:x:pkgs.stdenv.mkDerivation']);
  assert.deepEqual(calls('{ s = \'\'${"${pkgs.${system}.mkShell { name = "deep"; }}"}\'\'; }'), ['mkShell:-:deep:pkgs.${system}.mkShell']);
  // A call inside a parenthesised head comes after the call it starts, in text order.
  assert.deepEqual(calls('{ a = (f (pkgs.mkShell { name = "inner"; })).stdenv.mkDerivation { name = "outer"; }; }'), [
    'stdenv.mkDerivation:a:outer:(f (pkgs.mkShell { name = "inner"; })).stdenv.mkDerivation',
    'mkShell:-:inner:pkgs.mkShell',
  ]);
  // Not calls.
  const none = [
    'pkgs.stdenv.${"mkDerivation"} { }', // the builder's own segment is computed
    '(pkgs.stdenv).${"mkDerivation"} { }',
    'pkgs.${"stdenv.mkDerivation"} { }', // one attribute named `stdenv.mkDerivation`
    'pkgs."mkDerivation".x { }',
    '"pkgs.${system}.stdenv.mkDerivation { }"', // a string's text, around a `${…}`
    "''(import nixpkgs { }).stdenv.mkDerivation { } ${system}''",
    '# (import nixpkgs { }).stdenv.mkDerivation { }\n{ }',
    '/* pkgs.${system}.mkDerivation { } */ { }',
    'f (import nixpkgs { }).stdenv.mkDerivation { }', // an argument of f
    'g pkgs.${system}.mkDerivation { }',
    '[ (import nixpkgs { }).stdenv.mkDerivation { } ]', // two list elements
    '[ pkgs.${system}.stdenv.mkDerivation { } ]',
    'let inherit (pkgs.${system}.stdenv) mkDerivation; in { }',
    '{ u = pkgs.${system}.mkDerivation; }', // not applied
    '{ o = (pkgs).${system}.mkDerivation.override { }; }',
    '{ m.${system}.mkDerivation = 1; }', // a binding's key
    '{ c = { }.mkDerivation or f { }; }', // selected from a set literal: not read
  ];
  for (const body of none) assert.deepEqual(calls(body), [], body);
});

test('enclosingDerivation: the call around a `meta.position` line', () => {
  const text = fixture('packages.nix');
  // meta.position points at `description` when there is one…
  const description = lineOf(text, text.indexOf('description = "A program'));
  assert.equal(enclosingDerivation(text, description)?.pname, 'hello');
  // …else at `version`, else at `name`.
  assert.equal(enclosingDerivation(text, lineOf(text, text.indexOf('version = "0.1.0"')))?.pname, 'rusty');
  assert.equal(enclosingDerivation(text, lineOf(text, text.indexOf('name = "helper-')))?.name, 'helper-${version}');
  // The innermost call: a `src = fetchurl { … }` line is inside hello.
  assert.equal(enclosingDerivation(text, lineOf(text, text.indexOf('mirror://gnu')))?.pname, 'hello');
  // The binding's key line counts too.
  assert.equal(enclosingDerivation(text, lineOf(text, text.indexOf('  fixed =')))?.name, 'fixed');
  assert.equal(enclosingDerivation(text, 1), undefined);
  assert.equal(enclosingDerivation(text, 0), undefined);
  assert.equal(enclosingDerivation(text, 10_000), undefined);
  assert.equal(enclosingDerivation(text, Number.NaN), undefined);
});
