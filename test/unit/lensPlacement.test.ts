// The Build CodeLens core without Nix: anchors and guesses from the scanner, placement of evaluated positions,
// installable naming for shared definitions, the query's text and output reader, the retry plan, and the merge.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  bindingByKey,
  bindingKey,
  failedOutput,
  lensRanges,
  nextPositionsQuery,
  parseMetaPosition,
  positionsExpression,
  positionsFlakeRef,
  positionsQuery,
  queryPositions,
  readPositions,
  readPositionsOutput,
  reconcile,
  semanticLenses,
  syntacticLenses,
  type PositionRecord,
  type PositionsQueryOptions,
  type PositionsRun,
  type SemanticLens,
} from '../../src/core/lens';
import { enclosingDerivation, scanNix } from '../../src/core/source';
import type { MappedFile } from '../../src/core/errors/storePath';

const fixture = (name: string): string => readFileSync(`test/fixtures/source/${name}`, 'utf8');

/** 1-based line of an offset. */
const lineOf = (text: string, offset: number): number => scanNix(text).lines().positionAt(offset).line + 1;

/** The text of the line holding an offset, trimmed. */
function lineText(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return text.slice(start, end < 0 ? text.length : end).trim();
}

/** 1-based line of the first line containing `needle`. */
function lineWith(text: string, needle: string, from = 0): number {
  const i = text.indexOf(needle, from);
  assert.ok(i >= 0, `no ${JSON.stringify(needle)} in text`);
  return lineOf(text, i);
}

const STORE = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-source';
const INPUT = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-source';

/** A mapper for one workspace at /ws whose flake is STORE; INPUT is an input. */
const map = (file: string): MappedFile =>
  file.startsWith(`${STORE}/`)
    ? { kind: 'workspace', path: `/ws/${file.slice(STORE.length + 1)}`, match: 'hash' }
    : file.startsWith(`${INPUT}/`)
      ? { kind: 'input', label: 'input nixpkgs', storePath: INPUT, rel: file.slice(INPUT.length + 1) }
      : { kind: 'external', path: file };

function rec(attrPath: string[], meta?: [string, number], pos?: [string, number, number], mainProgram?: string): PositionRecord {
  return {
    attrPath,
    ...(meta ? { metaPosition: { file: `${meta[0].startsWith('/') ? '' : `${STORE}/`}${meta[0]}`, line: meta[1] } } : {}),
    ...(pos ? { attrPos: { file: `${pos[0].startsWith('/') ? '' : `${STORE}/`}${pos[0]}`, line: pos[1], column: pos[2] } } : {}),
    ...(mainProgram ? { mainProgram } : {}),
    metaRead: true,
  };
}

/** `line: display display …` of each lens of a file (1-based lines). */
function summary(text: string, lenses: readonly SemanticLens[] | undefined): string[] {
  return (lenses ?? []).map((l) => `${lineOf(text, l.range.start)}: ${l.installables.map((i) => i.display).join(' ')}`);
}

function lensesFor(files: Record<string, string>, records: PositionRecord[], system = 'x86_64-linux') {
  return semanticLenses({ records, map, sources: (p) => files[p.replace(/^\/ws\//, '')], flakeRef: '/ws', system });
}

// --- syntactic -----------------------------------------------------------------------------------------------------

describe('syntactic lenses', () => {
  test('builder calls in a package set; names in comments, strings and inherits are not calls', () => {
    const text = fixture('packages.nix');
    const lenses = syntacticLenses(text);
    assert.deepEqual(
      lenses.map((l) => `${lineOf(text, l.range.start)} ${l.kind} ${l.guess.name}`),
      [
        '9 call helper',
        '20 call hello',
        '34 call tool',
        '41 call fixed',
        '46 call finalAttrs',
        '52 call rusty',
        '59 call pyPkg',
        '65 call script',
        '72 call generated',
        '79 call pkg',
      ],
    );
    // The lens starts at the call, not at the binding: `fixed = lib.fix (self: mkDerivation {`.
    const fixed = lenses.find((l) => l.guess.name === 'fixed')!;
    assert.ok(text.slice(fixed.range.start).startsWith('mkDerivation {'));
    assert.ok(lenses.every((l) => !l.guess.isPackage));
  });

  test('tricky sources: strings, comments, interpolation, inherit, formals, list elements', () => {
    const text = [
      '{ mkDerivation, stdenv }:', // formals
      'let',
      '  inherit (stdenv) mkDerivation;', // not applied
      '  s = "stdenv.mkDerivation { name = \\"x\\"; }";', // in a string
      "  t = ''",
      '    buildGoModule { } ${stdenv.mkDerivation { name = "interp"; }}', // in an indented string, but a real call in ${}
      "  '';",
      '  # runCommand "c" { } "x"',
      '  /* buildPythonPackage { } */',
      '  l = [ mkDerivation { name = "list"; } ];', // two list elements
      '  f = mkDerivation;', // not applied
      '  u = unknownBuilder { name = "u"; };', // not a builder
      'in stdenv.mkDerivation { name = "real"; }',
    ].join('\n');
    const lenses = syntacticLenses(text);
    assert.deepEqual(
      lenses.map((l) => `${lineOf(text, l.range.start)} ${l.guess.name}`),
      ['6 interp', '13 real'],
    );
    // A configurable list of builders.
    assert.deepEqual(
      syntacticLenses(text, { builders: ['unknownBuilder'] }).map((l) => l.guess.name),
      ['u'],
    );
  });

  test('flake.nix: bindings under packages.<system> get lenses; a package that is a call gets one lens, on the call', () => {
    const text = fixture('flakes/packages.nix');
    const lenses = syntacticLenses(text, { isFlakeNix: true });
    assert.deepEqual(
      lenses.map(
        (l) => `${lineOf(text, l.range.start)} ${l.kind} ${l.guess.name} ${l.guess.attrPath?.join('.') ?? '-'} ${l.guess.isPackage}`,
      ),
      [
        '10 binding hello packages.x86_64-linux.hello true',
        '11 binding cowsay packages.x86_64-linux.cowsay true',
        '14 binding hello packages.aarch64-darwin.hello true',
        // A computed system (`${"riscv64-linux"}`) is not guessed.
        '15 binding hello - true',
      ],
    );
    // Not a flake.nix: no binding lenses.
    assert.deepEqual(syntacticLenses(text), []);
    const withCall = [
      '{',
      '  outputs = { self, nixpkgs }: {',
      '    packages.x86_64-linux.hello = nixpkgs.lib.mkDerivation { name = "hello"; };',
      '    packages.x86_64-linux.default = self.packages.x86_64-linux.hello;',
      '  };',
      '}',
    ].join('\n');
    assert.deepEqual(
      syntacticLenses(withCall, { isFlakeNix: true }).map((l) => `${lineOf(withCall, l.range.start)} ${l.kind} ${l.guess.name}`),
      ['3 call hello', '4 binding default'],
    );
  });

  test('per-system forms: the system is unknown, the name is guessed', () => {
    const text = [
      '{',
      '  outputs = { self, nixpkgs, flake-utils }: flake-utils.lib.eachDefaultSystem (system:',
      '    let pkgs = nixpkgs.legacyPackages.${system}; in {',
      '      packages.hello = pkgs.stdenv.mkDerivation { name = "hello"; };',
      '      packages.tool = pkgs.hello;',
      '    });',
      '}',
    ].join('\n');
    const lenses = syntacticLenses(text, { isFlakeNix: true });
    assert.deepEqual(
      lenses.map((l) => [l.kind, l.guess.name, l.guess.attrPath, l.guess.isPackage]),
      [
        ['call', 'hello', undefined, true],
        ['binding', 'tool', undefined, true],
      ],
    );
  });

  test('flake.nix: builders reached through computed attributes get one lens each, on the whole call', () => {
    const text = fixture('flakes/computed.nix');
    const lenses = syntacticLenses(text, { isFlakeNix: true });
    assert.deepEqual(
      lenses.map(
        (l) => `${lineOf(text, l.range.start)} ${l.kind} ${l.guess.name} ${l.guess.attrPath?.join('.') ?? '-'} ${l.guess.isPackage}`,
      ),
      [
        '10 call lib - false',
        '16 call default - true',
        '20 call quoted - true',
        '24 call go - true',
        '28 call rust - true',
        '31 call dynamic - true',
        // `packages.${system}.plain = nixpkgs.legacyPackages.${system}.hello;` is no call: its binding gets the lens.
        '34 binding plain - true',
        '35 call interp - false',
        '36 call in-interp - false',
      ],
    );
    // On the call: a parenthesised head included.
    const at = (name: string): string => text.slice(lenses.find((l) => l.guess.name === name)!.range.start);
    assert.ok(at('lib').startsWith('(import nixpkgs { inherit system; }).stdenv.mkDerivation rec {'));
    assert.ok(at('default').startsWith('nixpkgs.legacyPackages.${system}.stdenv.mkDerivation {'));
    assert.ok(at('rust').startsWith('(nixpkgs.legacyPackages.${system}.extend overlay).rustPlatform.buildRustPackage {'));
    // Keys name the callee with its parenthesised part elided: editing inside it keeps the key.
    const edited = text.replace(
      '(import nixpkgs { inherit system; }).stdenv',
      '(import nixpkgs {\n        inherit system;\n        config = { };\n      }).stdenv',
    );
    assert.deepEqual(
      syntacticLenses(edited, { isFlakeNix: true }).map((l) => l.key),
      lenses.map((l) => l.key),
    );
    assert.deepEqual(lensRanges(scanNix(text), { isFlakeNix: true }), lensRanges(text, { isFlakeNix: true }));
  });

  test('keys survive unrelated edits; ranges move with the text', () => {
    const text = fixture('packages.nix');
    const edited = text.replace('rec {\n', 'rec {\n  added = 1;\n  other = stdenv.mkDerivation { name = "other"; };\n');
    const before = syntacticLenses(text);
    const after = syntacticLenses(edited);
    const keys = new Set(after.map((l) => l.key));
    assert.ok(
      before.every((l) => keys.has(l.key)),
      'every old key is still there',
    );
    const hello = (ls: typeof before) => ls.find((l) => l.guess.name === 'hello')!;
    assert.equal(hello(before).key, hello(after).key);
    assert.equal(lineOf(edited, hello(after).range.start), lineOf(text, hello(before).range.start) + 2);
  });

  test('binding keys: a quoted name with a dot is not a path; damaged text does not throw', () => {
    const text = '{\n  "a.b" = 1;\n  a.b = 2;\n  a.b = 3;\n}\n';
    const src = scanNix(text);
    const keys = src.bindings.filter((b) => b.keys.length > 0 && b.path.length <= 2).map((b) => bindingKey(src, b));
    assert.equal(new Set(keys).size, keys.length);
    for (const damaged of ['{ a = mkDerivation {', 'stdenv.mkDerivation', '{ packages.x86_64-linux.', '"unterminated mkDerivation {', '']) {
      assert.doesNotThrow(() => lensRanges(damaged, { isFlakeNix: true }));
    }
  });

  test('lensRanges gives the same ranges from the text and from a cached scan', () => {
    const text = fixture('packages.nix');
    const src = scanNix(text);
    assert.deepEqual(lensRanges(src), lensRanges(text));
    assert.deepEqual(
      lensRanges(text).map((l) => l.range),
      syntacticLenses(text).map((l) => l.range),
    );
  });
});

// --- semantic placement --------------------------------------------------------------------------------------------

describe('semantic lenses: placement', () => {
  test('meta.position lines map to the innermost enclosing call, as enclosingDerivation does', () => {
    const text = fixture('packages.nix');
    const lines = text.split('\n').length;
    for (let line = 1; line <= lines; line++) {
      const lens = lensesFor({ 'p.nix': text }, [rec(['packages', 'x86_64-linux', 'p'], ['p.nix', line])]).get('/ws/p.nix')?.[0];
      const expected = enclosingDerivation(text, line);
      const placed = lens?.installables[0].placement === 'metaPosition' ? lens : undefined;
      assert.equal(placed?.range.start, expected?.range.start, `line ${line}`);
      if (expected) assert.equal(lens?.kind, 'call');
    }
  });

  test('the lens is on the call, named after the outputs; the binding name first, default last', () => {
    const text = fixture('packages.nix');
    const desc = lineWith(text, 'description = "A program that produces');
    const lenses = lensesFor({ 'p.nix': text }, [
      rec(['packages', 'x86_64-linux', 'default'], ['p.nix', desc], undefined, 'hello'),
      rec(['checks', 'x86_64-linux', 'hello'], ['p.nix', desc]),
      rec(['packages', 'x86_64-linux', 'alias'], ['p.nix', desc]),
      rec(['packages', 'x86_64-linux', 'hello'], ['p.nix', desc], undefined, 'hello'),
    ]).get('/ws/p.nix')!;
    assert.equal(lenses.length, 1);
    assert.equal(lineText(text, lenses[0].range.start), 'hello = stdenv.mkDerivation rec {');
    assert.ok(text.slice(lenses[0].range.start).startsWith('stdenv.mkDerivation rec {'));
    assert.deepEqual(
      lenses[0].installables.map((i) => i.display),
      ['.#hello', '.#checks.x86_64-linux.hello', '.#alias', '.#default'],
    );
    const [hello, checks] = lenses[0].installables;
    assert.equal(hello.installable, '/ws#packages.x86_64-linux.hello');
    assert.deepEqual([hello.runnable, hello.mainProgram, hello.command, hello.placement], [true, 'hello', 'build', 'metaPosition']);
    assert.deepEqual([checks.runnable, checks.command], [false, 'build']);
  });

  test('an unbound call (a file that is one derivation) orders by its name, then category', () => {
    const text = '{ lib }:\nlib.mkDerivation {\n  name = "greeting";\n  version = "1.0";\n}\n';
    const lenses = lensesFor({ 'pkgs/greeting.nix': text }, [
      rec(['checks', 'x86_64-linux', 'greeting'], ['pkgs/greeting.nix', 4]),
      rec(['packages', 'x86_64-linux', 'default'], ['pkgs/greeting.nix', 4]),
      rec(['packages', 'x86_64-linux', 'greeting'], ['pkgs/greeting.nix', 4]),
    ]);
    assert.deepEqual(summary(text, lenses.get('/ws/pkgs/greeting.nix')), ['2: .#greeting .#checks.x86_64-linux.greeting .#default']);
  });

  test('dev shells: develop first, build display in full; formatter and legacy outputs', () => {
    const text = [
      '{',
      '  outputs = { self, nixpkgs }: {',
      '    devShells.x86_64-linux.default = nixpkgs.lib.mkShell {',
      '      name = "shell";',
      '    };',
      '    formatter.x86_64-linux = nixpkgs.lib.mkDerivation { name = "fmt"; };',
      '    devShell.x86_64-linux = self.devShells.x86_64-linux.default;',
      '  };',
      '}',
    ].join('\n');
    const lenses = lensesFor({ 'flake.nix': text }, [
      rec(['devShells', 'x86_64-linux', 'default'], ['flake.nix', 4]),
      rec(['devShell', 'x86_64-linux'], ['flake.nix', 4]),
      rec(['formatter', 'x86_64-linux'], ['flake.nix', 6]),
    ]).get('/ws/flake.nix')!;
    assert.deepEqual(summary(text, lenses), ['3: .#default .#devShell.x86_64-linux', '6: .#formatter.x86_64-linux']);
    const [shell, legacy] = lenses[0].installables;
    assert.deepEqual([shell.command, shell.display, shell.buildDisplay], ['develop', '.#default', '.#devShells.x86_64-linux.default']);
    assert.deepEqual([legacy.command, legacy.name], ['develop', 'x86_64-linux']);
  });

  test('attrPos when meta.position is absent or in an input: the binding, or the call that is its value', () => {
    const text = [
      '{',
      '  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {',
      '    packages.x86_64-linux = {',
      '      hello = pkgs.hello;',
      '      raw = builtins.derivation { name = "raw"; system = "x86_64-linux"; builder = "/bin/sh"; };',
      '      thrown = throw "broken";',
      '    };',
      '  };',
      '}',
    ].join('\n');
    const lenses = lensesFor({ 'flake.nix': text }, [
      rec(['packages', 'x86_64-linux', 'hello'], [`${INPUT}/pkgs/hello/default.nix`, 30], ['flake.nix', 4, 7]),
      rec(['packages', 'x86_64-linux', 'raw'], undefined, ['flake.nix', 5, 7]),
      rec(['packages', 'x86_64-linux', 'thrown'], undefined, ['flake.nix', 6, 7]),
    ]).get('/ws/flake.nix')!;
    assert.deepEqual(
      lenses.map(
        (l) =>
          `${l.kind} ${text.slice(l.range.start, l.range.start + 12)} ${l.installables.map((i) => `${i.display}/${i.placement}`).join(' ')}`,
      ),
      ['binding hello = pkgs .#hello/attrPos', 'call builtins.der .#raw/attrPos', 'binding thrown = thr .#thrown/attrPos'],
    );
  });

  test('a position in an input, outside the workspace or in an unreadable file gives no lens', () => {
    const lenses = lensesFor({ 'flake.nix': '{ }' }, [
      rec(['packages', 'x86_64-linux', 'a'], [`${INPUT}/pkgs/a.nix`, 3], [`${INPUT}/pkgs/top-level/all-packages.nix`, 10, 3]),
      rec(['packages', 'x86_64-linux', 'b'], ['/etc/b.nix', 3], ['/etc/b.nix', 3, 3]),
      rec(['packages', 'x86_64-linux', 'c'], ['missing.nix', 1]),
      rec(['apps', 'x86_64-linux', 'd'], ['flake.nix', 1], ['flake.nix', 1, 1]),
    ]);
    assert.equal(lenses.size, 0);
  });

  test('Nix columns count UTF-8 bytes: the binding at the column is found, whatever its name', () => {
    const text = '{\n  p = { x = 1; }; /* ü€😀 */ q = 2; r = 3;\n}\n';
    const byteColumn = (needle: string) => {
      const line = text.split('\n')[1];
      return Buffer.byteLength(line.slice(0, line.indexOf(needle)), 'utf8') + 1;
    };
    // listToAttrs-built sets give the position of a `name = "…"` binding: the name differs from the output's.
    const lenses = lensesFor({ 'f.nix': text }, [
      rec(['packages', 'x86_64-linux', 'fromQ'], undefined, ['f.nix', 2, byteColumn('q =')]),
      rec(['packages', 'x86_64-linux', 'fromR'], undefined, ['f.nix', 2, byteColumn('r =')]),
    ]).get('/ws/f.nix')!;
    assert.deepEqual(
      lenses.map((l) => text.slice(l.range.start, l.range.end)),
      ['q', 'r'],
    );
  });

  test('inherit in the body of a let follows to the let-bound call', () => {
    const text = [
      '{ lib }:',
      'let',
      '  raw = builtins.derivation { name = "raw"; };',
      '  other = 1;',
      'in {',
      '  inherit raw other;',
      '  inherit (lib) fromLib;',
      '}',
    ].join('\n');
    const col = (needle: string) => text.split('\n')[5].indexOf(needle) + 1;
    const lenses = lensesFor({ 'f.nix': text }, [
      rec(['packages', 'x86_64-linux', 'raw'], undefined, ['f.nix', 6, col('raw')]),
      rec(['packages', 'x86_64-linux', 'other'], undefined, ['f.nix', 6, col('other')]),
      rec(['packages', 'x86_64-linux', 'fromLib'], undefined, ['f.nix', 7, 17]),
    ]).get('/ws/f.nix')!;
    assert.deepEqual(summary(text, lenses), ['3: .#raw', '6: .#other', '7: .#fromLib']);
    assert.equal(lenses[0].kind, 'call');
  });

  test('an unknown builder: attrPos first, else the argument set at the meta.position line', () => {
    const text = [
      '{ lib }:',
      'let',
      '  mkTool = attrs: lib.mkDerivation attrs;',
      'in {',
      '  custom = mkTool {',
      '    pname = "custom";',
      '    meta = {',
      '      description = "custom";',
      '    };',
      '  };',
      '  viaMap = mkTool { name = "via-map"; };',
      '  top = mkTool { name = "top"; };',
      '}',
    ].join('\n');
    const lenses = lensesFor({ 'f.nix': text }, [
      // Through mapAttrs: no attrPos.
      rec(['checks', 'x86_64-linux', 'custom'], ['f.nix', 8]),
      rec(['checks', 'x86_64-linux', 'viaMap'], ['f.nix', 11]),
      // With attrPos: the binding wins over the set.
      rec(['packages', 'x86_64-linux', 'top'], ['f.nix', 12], ['f.nix', 12, 3]),
    ]).get('/ws/f.nix')!;
    assert.deepEqual(
      lenses.map((l) => `${lineOf(text, l.range.start)} ${l.kind} ${l.installables.map((i) => `${i.name}/${i.placement}`).join(' ')}`),
      ['5 binding custom/metaSet', '11 binding viaMap/metaSet', '12 binding top/attrPos'],
    );
  });

  test('a package in a file of its own, by a builder the scanner does not know: its lens is in that file', () => {
    const flake = [
      '{',
      '  outputs = { self }: {',
      '    packages.x86_64-linux.helperArg = import ./helper-arg.nix { mkDrv = x: x; };',
      '    packages.x86_64-linux.parted = parts.parted;',
      '  };',
      '}',
    ].join('\n');
    const helper = ['{ mkDrv }:', '', 'mkDrv {', '  pname = "helper-arg";', '  version = "1.0";', '}'].join('\n');
    // Not even a set at the meta.position line (the file is the set a caller passes on): that line.
    const bare = ['{', '  pname = "bare";', '  version = "2";', '}'].join('\n');
    const files = { 'flake.nix': flake, 'helper-arg.nix': helper, 'bare.nix': bare };
    const lenses = lensesFor(files, [
      rec(['packages', 'x86_64-linux', 'helperArg'], ['helper-arg.nix', 5], ['flake.nix', 3, 5]),
      rec(['packages', 'x86_64-linux', 'default'], ['helper-arg.nix', 5], ['flake.nix', 9, 5]),
      rec(['packages', 'x86_64-linux', 'bare'], ['bare.nix', 3], ['flake.nix', 4, 5]),
      // meta.position in an input: the binding, as before.
      rec(['packages', 'x86_64-linux', 'fromInput'], [`${INPUT}/pkgs/x.nix`, 3], ['flake.nix', 4, 5]),
    ]);
    assert.deepEqual(summary(helper, lenses.get('/ws/helper-arg.nix')), ['3: .#helperArg .#default']);
    assert.deepEqual(
      lenses.get('/ws/helper-arg.nix')![0].installables.map((i) => i.placement),
      ['metaSet', 'metaSet'],
    );
    assert.deepEqual(summary(bare, lenses.get('/ws/bare.nix')), ['3: .#bare']);
    assert.deepEqual(summary(flake, lenses.get('/ws/flake.nix')), ['4: .#fromInput']);
  });

  test('several files; sources are read once per file; duplicate records are ignored', () => {
    let reads = 0;
    const files: Record<string, string> = {
      'flake.nix': '{\n  outputs = { self }: {\n    packages.x86_64-linux.tool = import ./tool.nix;\n  };\n}\n',
      'tool.nix': 'stdenv.mkDerivation {\n  name = "tool";\n}\n',
    };
    const lenses = semanticLenses({
      records: [
        rec(['packages', 'x86_64-linux', 'tool'], ['tool.nix', 2], ['flake.nix', 3, 5]),
        rec(['packages', 'x86_64-linux', 'tool'], ['tool.nix', 2], ['flake.nix', 3, 5]),
        rec(['packages', 'x86_64-linux', 'other'], undefined, ['flake.nix', 3, 5]),
        rec(['checks', 'x86_64-linux', 'tool'], ['tool.nix', 2]),
      ],
      map,
      sources: (p) => {
        reads++;
        return files[p.replace(/^\/ws\//, '')];
      },
      flakeRef: 'git+file:///ws',
      displayRef: '/ws',
      system: 'x86_64-linux',
    });
    assert.deepEqual([...lenses.keys()].sort(), ['/ws/flake.nix', '/ws/tool.nix']);
    assert.equal(reads, 2);
    assert.deepEqual(
      lenses.get('/ws/tool.nix')![0].installables.map((i) => [i.display, i.installable]),
      [
        ['/ws#tool', 'git+file:///ws#packages.x86_64-linux.tool'],
        ['/ws#checks.x86_64-linux.tool', 'git+file:///ws#checks.x86_64-linux.tool'],
      ],
    );
    assert.equal(lenses.get('/ws/flake.nix')![0].line, 2);
  });
});

// --- reconcile -----------------------------------------------------------------------------------------------------

describe('reconcile', () => {
  const flake = [
    '{',
    '  outputs = { self, nixpkgs }: let lib = nixpkgs.lib; helper = lib.mkDerivation { name = "helper"; }; in {',
    '    packages.x86_64-linux = {',
    '      hello = lib.mkDerivation {',
    '        pname = "hello";',
    '        version = "1";',
    '      };',
    '      default = self.packages.x86_64-linux.hello;',
    '      other = helper;',
    '    };',
    '    checks.x86_64-linux.hello = self.packages.x86_64-linux.hello;',
    '  };',
    '}',
  ].join('\n');
  const records = [
    rec(['packages', 'x86_64-linux', 'hello'], ['flake.nix', 6], ['flake.nix', 4, 7]),
    rec(['packages', 'x86_64-linux', 'default'], ['flake.nix', 6], ['flake.nix', 8, 7]),
    rec(['packages', 'x86_64-linux', 'other'], undefined, ['flake.nix', 9, 7]),
    rec(['checks', 'x86_64-linux', 'hello'], undefined, ['flake.nix', 11, 5]),
  ];

  test('before evaluation: the syntactic lenses, pending, with their guesses', () => {
    const out = reconcile(syntacticLenses(flake, { isFlakeNix: true }), undefined);
    assert.deepEqual(
      out.map((l) => `${lineOf(flake, l.range.start)} ${l.state} ${l.state === 'pending' ? l.guess?.name : ''}`),
      ['2 pending helper', '4 pending hello', '8 pending default', '9 pending other'],
    );
  });

  test('after: semantic lenses replace them; syntactic lenses without a semantic one are dropped', () => {
    const semantic = lensesFor({ 'flake.nix': flake }, records).get('/ws/flake.nix')!;
    const out = reconcile(syntacticLenses(flake, { isFlakeNix: true }), semantic, flake);
    assert.deepEqual(
      out.map(
        (l) => `${lineOf(flake, l.range.start)} ${l.state} ${l.state === 'resolved' ? l.installables.map((i) => i.display).join(' ') : ''}`,
      ),
      // helper's call is no output of its own (other's attrPos is its binding); default joins hello.
      ['4 resolved .#hello .#default', '9 resolved .#other', '11 resolved .#checks.x86_64-linux.hello'],
    );
    // An empty semantic list (evaluated, nothing here) drops everything.
    assert.deepEqual(reconcile(syntacticLenses(flake, { isFlakeNix: true }), [], flake), []);
  });

  test('semantic lenses follow edits made after evaluation; one whose call is gone is dropped', () => {
    const semantic = lensesFor({ 'flake.nix': flake }, records).get('/ws/flake.nix')!;
    const edited = flake.replace('{\n  outputs', '{\n  # a comment\n  description = "x";\n  outputs');
    const out = reconcile(syntacticLenses(edited, { isFlakeNix: true }), semantic, edited);
    assert.deepEqual(
      out.map((l) => lineText(edited, l.range.start)),
      ['hello = lib.mkDerivation {', 'other = helper;', 'checks.x86_64-linux.hello = self.packages.x86_64-linux.hello;'],
    );
    const noHello = edited.replace('hello = lib.mkDerivation {', 'hello2 = lib.mkDerivation {');
    const out2 = reconcile(syntacticLenses(noHello, { isFlakeNix: true }), semantic, noHello);
    assert.deepEqual(
      out2.map((l) => lineText(noHello, l.range.start)),
      ['other = helper;', 'checks.x86_64-linux.hello = self.packages.x86_64-linux.hello;'],
    );
    // Without the current text, a binding lens keeps its own range.
    assert.equal(reconcile([], semantic).length, 2);
  });

  test('a binding lens without a syntactic twin is found again as a pass over every binding would (generated flake, edited)', () => {
    // A flake of many packages, some bound to other packages' values (binding lenses), outputs that evaluation places
    // on bindings with no syntactic lens (checks, a formatter), and paths written twice.
    const flakeOf = (n: number, renamed: ReadonlySet<number> = new Set()) => {
      const lines = [
        '{',
        '  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {',
        '    packages.x86_64-linux = {',
      ];
      for (let i = 0; i < n; i++) {
        const name = renamed.has(i) ? `renamed${i}` : `pkg${i}`;
        lines.push(`      ${name} = pkgs.stdenv.mkDerivation { pname = "${name}"; version = "1"; };`);
        if (i % 3 === 0) lines.push(`      "${name} alias #${i}" = self.packages.x86_64-linux.${name};`);
      }
      lines.push(
        '    };',
        '    checks.x86_64-linux.a = self.packages.x86_64-linux.pkg0;',
        '    checks.x86_64-linux.a = pkgs.hello;',
        '    formatter.x86_64-linux = pkgs.nixfmt;',
        '  };',
        '}',
      );
      return lines.join('\n');
    };
    const original = flakeOf(40);
    const lines = original.split('\n');
    const at = (needle: string, from = 0) => {
      const i = lines.findIndex((l, j) => j >= from && l.includes(needle));
      return { line: i + 1, column: lines[i].length - lines[i].trimStart().length + 1 };
    };
    const records: PositionRecord[] = [];
    for (let i = 0; i < 40; i++) {
      const p = at(`pkg${i} = `);
      records.push(rec(['packages', 'x86_64-linux', `pkg${i}`], ['flake.nix', p.line], ['flake.nix', p.line, p.column]));
      if (i % 3 === 0) {
        const a = at(`"pkg${i} alias #${i}"`);
        records.push(rec(['packages', 'x86_64-linux', `pkg${i} alias #${i}`], undefined, ['flake.nix', a.line, a.column]));
      }
    }
    const check = at('checks.x86_64-linux.a');
    const check2 = at('checks.x86_64-linux.a', check.line);
    const fmt = at('formatter.x86_64-linux');
    records.push(rec(['checks', 'x86_64-linux', 'a'], undefined, ['flake.nix', check.line, check.column]));
    records.push(rec(['checks', 'x86_64-linux', 'b'], undefined, ['flake.nix', check2.line, check2.column]));
    records.push(rec(['formatter', 'x86_64-linux'], undefined, ['flake.nix', fmt.line, fmt.column]));
    const semantic = lensesFor({ 'flake.nix': original }, records).get('/ws/flake.nix')!;
    assert.ok(semantic.filter((l) => l.kind === 'binding').length >= 3);

    // What reconcile did before: every binding's key, from a pass over all of them.
    const reference = (syntactic: readonly { key: string; range: { start: number; end: number } }[], text: string) => {
      const byKey = new Map(syntactic.map((x) => [x.key, x.range]));
      const seen = new Map<string, number>();
      const keyed = new Map<string, { start: number; end: number }>();
      for (const b of scanNix(text).bindings) {
        const path = b.path.join('\0');
        const n = seen.get(path) ?? 0;
        seen.set(path, n + 1);
        keyed.set(`binding ${path} #${n}`, { start: b.keyRange.start, end: b.keyRange.end });
      }
      return semantic
        .map((l) => ({
          key: l.key,
          range: byKey.get(l.key) ?? (l.kind === 'binding' ? keyed.get(l.key) : l.kind === 'position' ? l.range : undefined),
        }))
        .filter((l) => l.range !== undefined)
        .sort((a, b) => a.range!.start - b.range!.start);
    };
    const edits = [
      original,
      original.replace('{\n  outputs', '{\n  # a comment\n  description = "x";\n  outputs'),
      flakeOf(40, new Set([0, 5, 6, 30])),
      flakeOf(25),
      original.replace('    formatter.x86_64-linux = pkgs.nixfmt;\n', ''),
      original.replace(
        '    checks.x86_64-linux.a = pkgs.hello;\n',
        '    checks.x86_64-linux.a = pkgs.hello;\n    checks.x86_64-linux.a = pkgs.hello;\n',
      ),
    ];
    for (const text of edits) {
      const syntactic = syntacticLenses(text, { isFlakeNix: true });
      const expected = reference(syntactic, text);
      // The current text as the same string, as an equal copy, and as a scan of its own: the same lenses.
      for (const current of [text, ` ${text}`.slice(1), scanNix(text)]) {
        const got = reconcile(syntactic, semantic, current);
        assert.deepEqual(
          got.map((l) => ({ key: l.key, range: l.range })),
          expected,
        );
      }
    }
  });

  test('bindingByKey finds every binding by its key: repeated paths, quoted names with spaces, # and dots', () => {
    const texts = [
      fixture('packages.nix'),
      '{ a.b = 1; a = { b = 2; c."x #1" = 3; }; "a.b" = 4; a.b = 5; "" = 6; "a b #0" = 7; x = { a.b = 8; }; }',
    ];
    for (const text of texts) {
      const src = scanNix(text);
      assert.ok(src.bindings.length > 5);
      for (const b of src.bindings) assert.equal(bindingByKey(src, bindingKey(src, b)), b, bindingKey(src, b));
      assert.equal(bindingByKey(src, 'binding a\0b #9'), undefined);
      assert.equal(bindingByKey(src, 'call a b #0'), undefined);
      assert.equal(bindingByKey(src, 'binding a\0b #x'), undefined);
    }
  });
});

// --- the query -----------------------------------------------------------------------------------------------------

describe('positions query', () => {
  test('one nix eval, no shell; the reference and system are Nix strings', () => {
    const args = positionsQuery({ ref: 'path:/nix/store/x-source?narHash=sha256-a%2Bb%3D', system: 'x86_64-linux' });
    assert.deepEqual(args.slice(0, 4), ['eval', '--json', '--no-write-lock-file', '--expr']);
    assert.equal(args.length, 5);
    assert.match(args[4], /builtins\.getFlake "path:\/nix\/store\/x-source\?narHash=sha256-a%2Bb%3D"/);
    assert.match(args[4], /system = "x86_64-linux";/);
    assert.match(
      args[4],
      /builtins\.concatMap \(c: records c \(flake\.\$\{c\} or null\)\) \[ "packages" "checks" "devShells" "formatter" "defaultPackage" "devShell" \]$/,
    );
    assert.ok(positionsQuery({ ref: 'x', system: 's', impure: true }).includes('--impure'));
    // Injection-proof: quotes and interpolations in the reference stay in the string.
    assert.match(positionsExpression({ ref: 'a"${b}\\', system: 's' }), /getFlake "a\\"\\\$\{b\}\\\\";/);
    // attrPos only: no meta at all; skipped outputs listed.
    assert.doesNotMatch(positionsExpression({ ref: 'x', system: 's', meta: false }), /metaPosition/);
    assert.match(
      positionsExpression({ ref: 'x', system: 's', skipMeta: [['packages', 's', 'bad']] }),
      /skip = \[ \[ "packages" "s" "bad" \] \];/,
    );
    // Per-category mode: an installable and an --apply function; singles are read through their parent set.
    const per = positionsQuery({ ref: 'x', system: 'x86_64-linux', installableRef: '/my flake', categories: ['checks', 'formatter'] });
    assert.deepEqual(per.slice(0, 4), ['eval', '--json', '--no-write-lock-file', '/my flake#checks.x86_64-linux']);
    assert.equal(per[4], '--apply');
    assert.match(per[5], /in v: records "checks" \{ \$\{system\} = v; \}$/);
    const fmt = positionsQuery({ ref: 'x', system: 'x86_64-linux', installableRef: '.', categories: ['formatter'] });
    assert.deepEqual([fmt[3], fmt[5].split('\n').pop()], ['.#formatter', 'in v: records "formatter" v']);
  });

  test('the reference from nix flake metadata: locked by hash, by rev, or impure', () => {
    const clean = {
      path: '/nix/store/g7wa07qpj4jvazn18cn0j2k1mzdqbx9q-source',
      locked: {
        lastModified: 1795635300,
        narHash: 'sha256-SM22f+jr=',
        ref: 'main',
        rev: '065894807320b7893d1aa089d243a16e6d173f5b',
        revCount: 2,
        type: 'git',
        url: 'file:///r',
      },
      url: 'git+file:///r?ref=main&rev=065894807320b7893d1aa089d243a16e6d173f5b',
      resolvedUrl: 'git+file:///r',
    };
    assert.deepEqual(positionsFlakeRef(clean), {
      ref: 'path:/nix/store/g7wa07qpj4jvazn18cn0j2k1mzdqbx9q-source?lastModified=1795635300&narHash=sha256-SM22f%2Bjr%3D&rev=065894807320b7893d1aa089d243a16e6d173f5b&revCount=2',
      impure: false,
      unlocked: 'git+file:///r',
    });
    const dirty = { ...clean, locked: { lastModified: 1, narHash: 'sha256-x=', type: 'git', url: 'file:///r' }, url: 'git+file:///r' };
    assert.deepEqual(
      positionsFlakeRef(dirty)?.ref,
      'path:/nix/store/g7wa07qpj4jvazn18cn0j2k1mzdqbx9q-source?lastModified=1&narHash=sha256-x%3D',
    );
    const sub = {
      ...clean,
      locked: { ...clean.locked, dir: 'sub' },
      url: 'git+file:///r?dir=sub&ref=main&rev=065894807320b7893d1aa089d243a16e6d173f5b',
    };
    assert.deepEqual(positionsFlakeRef(sub), { ref: sub.url, impure: false, unlocked: 'git+file:///r' });
    const dirtySub = { ...sub, url: 'git+file:///r?dir=sub', resolvedUrl: 'git+file:///r?dir=sub' };
    assert.deepEqual(positionsFlakeRef(dirtySub), { ref: 'git+file:///r?dir=sub', impure: true });
    assert.deepEqual(positionsFlakeRef(null, '/r'), { ref: '/r', impure: true });
    assert.equal(positionsFlakeRef('garbage'), undefined);
  });

  test('readPositions: records, tolerant of garbage', () => {
    const out = JSON.stringify([
      { attrPath: ['packages', 's', 'a'], attrPos: { file: '/f.nix', line: 3, column: 5 }, metaPosition: '/x:y/f.nix:7', mainProgram: 'a' },
      { attrPath: ['formatter', 's'], attrPos: null, metaPosition: null, mainProgram: null },
      { attrPath: ['packages', 's', 'b'], attrPos: { file: '/f.nix', line: 0, column: 1 }, metaPosition: 'no-line' },
      { attrPath: [], attrPos: null },
      { attrPath: ['x', 1] },
      'string',
      null,
      { attrPath: ['packages', 's', 'c'], attrPos: { file: '/f.nix', line: 2 } },
    ]);
    assert.deepEqual(readPositions(out), [
      {
        attrPath: ['packages', 's', 'a'],
        attrPos: { file: '/f.nix', line: 3, column: 5 },
        metaPosition: { file: '/x:y/f.nix', line: 7 },
        mainProgram: 'a',
        metaRead: true,
      },
      { attrPath: ['formatter', 's'], metaRead: true },
      { attrPath: ['packages', 's', 'b'], metaRead: true },
      { attrPath: ['packages', 's', 'c'], attrPos: { file: '/f.nix', line: 2, column: 1 }, metaRead: false },
    ]);
    for (const garbage of ['', 'error: x', '{"a":1}', '[1,2', '\u0000', 'null', '[{"attrPath":']) {
      assert.doesNotThrow(() => readPositions(garbage));
    }
    assert.deepEqual(readPositions('{"a":1}'), []);
    assert.deepEqual(parseMetaPosition('/nix/store/a-source/f.nix:12'), { file: '/nix/store/a-source/f.nix', line: 12 });
    assert.equal(parseMetaPosition('/f.nix:0'), undefined);
    assert.equal(parseMetaPosition(12), undefined);
  });

  test('a list cut short by an error (2.8 prints JSON as it goes): the records before, and the output that failed', () => {
    const cut =
      '[{"attrPath":["packages","x86_64-linux","a\\"}"],"attrPos":{"column":9,"file":"/f.nix","line":21},"mainProgram":null,"metaPosition":null},' +
      '{"attrPath":["packages","x86_64-linux","badmeta"],"attrPos":{"column":9,"file":"/f.nix","line":23},"mainProgram":}]';
    const out = readPositionsOutput(cut);
    assert.equal(out.complete, false);
    assert.deepEqual(
      out.records.map((r) => r.attrPath[2]),
      ['a"}'],
    );
    assert.deepEqual(out.failedAt, ['packages', 'x86_64-linux', 'badmeta']);
    // Cut before any record, or in the middle of a path: nothing known.
    assert.equal(readPositionsOutput('[').failedAt, undefined);
    assert.equal(readPositionsOutput('[{"attrPath":["packages",').failedAt, undefined);
  });

  test('retry plan: skip the output that failed, then impure, then attrPos only, then give up', () => {
    const first: PositionsQueryOptions = { ref: 'path:/nix/store/x', system: 's' };
    const cutAt = (name: string): PositionsRun => ({
      exitCode: 1,
      stdout: `[{"attrPath":["packages","s","${name}"],"attrPos":null,"mainProgram":}]`,
    });
    assert.equal(nextPositionsQuery(first, { exitCode: 0, stdout: '[]' }), undefined);
    const second = nextPositionsQuery(first, cutAt('bad'))!;
    assert.deepEqual(second.skipMeta, [['packages', 's', 'bad']]);
    // The same output failing again (not its meta): give up meta.
    assert.deepEqual(nextPositionsQuery(second, cutAt('bad')), { ...second, meta: false, skipMeta: [] });
    // Too many broken outputs.
    let q = first;
    for (const n of ['a', 'b', 'c']) q = nextPositionsQuery(q, cutAt(n))!;
    assert.equal(q.skipMeta?.length, 3);
    assert.equal(nextPositionsQuery(q, cutAt('d'))?.meta, false);
    // Nothing printed: the impure reference when known, else attrPos only.
    assert.deepEqual(nextPositionsQuery(first, { exitCode: 1, stdout: '' }, { impureRef: '/r' }), { ...first, ref: '/r', impure: true });
    assert.equal(nextPositionsQuery(first, { exitCode: 1, stdout: '' })?.meta, false);
    // With stderr: impure only for a reference problem, not for an evaluation error.
    const refused = "error: cannot call 'getFlake' on unlocked flake reference 'x' (use --impure to override)";
    assert.equal(nextPositionsQuery(first, { exitCode: 1, stdout: '', stderr: refused }, { impureRef: '/r' })?.impure, true);
    const evalError = "error: attribute 'x' missing\n\n       at /nix/store/…-source/flake.nix:3:5:";
    assert.equal(nextPositionsQuery(first, { exitCode: 1, stdout: '', stderr: evalError }, { impureRef: '/r' })?.meta, false);
    assert.equal(nextPositionsQuery({ ...first, meta: false }, { exitCode: 1, stdout: '' }), undefined);
    // The lock file needs changes (getFlake never makes them, pure or impure): one installable per category.
    const lock = "error: cannot update flake input 'nixpkgs' in pure mode";
    const perCategory = nextPositionsQuery(first, { exitCode: 1, stdout: '', stderr: lock }, { flakeRef: '/r', impureRef: '/r' })!;
    assert.deepEqual(perCategory, {
      ...first,
      installableRef: '/r',
      impure: false,
      categories: ['packages', 'checks', 'devShells', 'formatter', 'defaultPackage', 'devShell'],
    });
    // Each category in turn, whether it worked or not; a broken output is skipped within its category first.
    const next = nextPositionsQuery(perCategory, { exitCode: 1, stdout: '' })!;
    assert.deepEqual(next.categories?.[0], 'checks');
    assert.deepEqual(nextPositionsQuery(next, { exitCode: 1, stdout: '[{"attrPath":["checks","s","x"],"mainProgram":}]' })?.skipMeta, [
      ['checks', 's', 'x'],
    ]);
    assert.equal(nextPositionsQuery({ ...perCategory, categories: ['devShell'] }, { exitCode: 0, stdout: '[]' }), undefined);
    // 2.26 and 2.34 word it `cannot update unlocked flake input` (seen on both).
    const newer =
      "error:\n       … while calling the 'concatMap' builtin\n\n       error: cannot update unlocked flake input 'nixpkgs' in pure mode";
    assert.equal(
      nextPositionsQuery(first, { exitCode: 1, stdout: '', stderr: newer }, { flakeRef: '/r', impureRef: '/r' })?.installableRef,
      '/r',
    );
  });

  test('the output whose meta failed, from the markers on stderr (newer Nix prints nothing on stdout then)', () => {
    const expr = positionsExpression({ ref: 'x', system: 's' });
    assert.match(expr, /builtins\.trace "nix-flakes-lens: reading \$\{id\}"/);
    const reading = (p: string[]) => `trace: nix-flakes-lens: reading ${JSON.stringify(p)}`;
    const read = (p: string[]) => `trace: nix-flakes-lens: read ${JSON.stringify(p)}`;
    const a = ['packages', 's', 'a'];
    const bad = ['packages', 's', 'bad "one"'];
    const stderr = [
      reading(a),
      read(a),
      reading(bad),
      'error:',
      '       … while evaluating list element at index 1',
      "       error: attribute 'missing' missing",
    ].join('\n');
    assert.deepEqual(failedOutput(stderr), bad);
    // Every output read to its end: the failure was elsewhere, no output to blame.
    assert.equal(failedOutput([reading(a), read(a), 'error: boom'].join('\n')), undefined);
    assert.equal(failedOutput('\x1b[35;1mtrace:\x1b[0m nix-flakes-lens: reading ["p"]\nerror: x')?.[0], 'p');
    assert.equal(failedOutput('trace: nix-flakes-lens: reading [not json'), undefined);
    // The retry skips it, as for 2.8's cut-short stdout; a run that succeeded skips nothing.
    const first: PositionsQueryOptions = { ref: 'path:/nix/store/x', system: 's' };
    assert.deepEqual(nextPositionsQuery(first, { exitCode: 1, stdout: '', stderr })?.skipMeta, [bad]);
    assert.equal(nextPositionsQuery(first, { exitCode: 0, stdout: '[]', stderr }), undefined);
  });

  test('queryPositions drives the retries and keeps what failed runs printed in full', async () => {
    const runs: string[][] = [];
    const full = (name: string, meta: boolean) =>
      JSON.stringify({
        attrPath: ['packages', 's', name],
        attrPos: { file: '/f.nix', line: 1, column: 1 },
        ...(meta ? { metaPosition: '/f.nix:2', mainProgram: null } : {}),
      });
    const result = await queryPositions({ ref: 'r', system: 's' }, async (args) => {
      runs.push(args);
      const expr = args[args.length - 1];
      // attrPos only: succeeds.
      if (!expr.includes('metaPosition'))
        return { exitCode: 0, stdout: `[${full('a', false)},${full('bad', false)},${full('worse', false)},${full('z', false)}]` };
      if (!expr.includes('"bad"'))
        return { exitCode: 1, stdout: `[${full('a', true)},{"attrPath":["packages","s","bad"],"attrPos":null,"mainProgram":}]` };
      if (!expr.includes('"worse"'))
        return { exitCode: 1, stdout: `[${full('a', true)},${full('bad', false)},{"attrPath":["packages","s","worse"],"mainProgram":}]` };
      // Skipping both, it still fails before printing anything (say, `packages` itself): attrPos only.
      return { exitCode: 1, stdout: '' };
    });
    assert.equal(result.ok, true);
    assert.equal(result.runs, 4);
    assert.equal(result.query.meta, false);
    assert.deepEqual(
      result.records.map((r) => `${r.attrPath[2]} ${r.metaPosition?.line ?? '-'}`),
      ['a 2', 'bad -', 'worse -', 'z -'],
    );
  });
});
