import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { enclosingDerivation, findDerivationCalls, scanNix, type DerivationCall } from '../../src/core/source';

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
  const text = '{ a = pkgs.myBuilder { name = "a"; }; b = lib.fix (self: pkgs.stdenv.mkDerivation { pname = "b"; }); c = builtins.derivation { name = "c"; }; d = pkgs.mkShell { }; }';
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
  assert.deepEqual(findDerivationCalls(nested).map((c) => describe(nested, c)), ['stdenv.mkDerivation tool 24-28 pname=tool version=1.0']);
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
