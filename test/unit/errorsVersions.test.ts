// Golden texts from real Nix 2.8, 2.26 and 2.34 (test/fixtures/captured/errors/nix-<x.y>-*, made by
// test/fixtures/captured/capture.ts from the `errors` and `hosts` fixture flakes): every layout the parsers must read,
// whichever Nix runs the tests. What differs by version is asserted per version; what must hold on every version
// (kind, message, the workspace file and line an error lands on) is asserted for all of them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import { placeError } from '../../src/core/errors/placement';
import { createStoreMapper, localizePaths, sourcesFromFlake, type MappedFile } from '../../src/core/errors/storePath';
import type { NixError } from '../../src/core/errors/types';
import { parseFlakeShowWarnings } from '../../src/core/flake/warnings';
import { parseLog } from '../../src/core/log/internalJson';
import { BuildProgress } from '../../src/core/log/progress';

const dir = resolve('test/fixtures/captured/errors');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const readLog = (name: string) => readFileSync(resolve('test/fixtures/captured/log', name), 'utf8');
const json = (name: string): unknown => JSON.parse(read(name));

/** No character a person must not see: control characters other than newline and tab, ANSI escapes. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

interface Manifest {
  errors: string;
  hosts: string;
  'nixpkgs-stub': string;
}

/** The captures of one version, and the folders of the fixture copies they were made in. */
function version(tag: string) {
  const manifest = json(`nix-${tag}-manifest.json`) as Manifest;
  const one = (name: string): NixError => {
    const errors = parseNixErrors(read(name));
    assert.equal(errors.length, 1, `${name}: one error in\n${read(name)}`);
    assert.ok(!CONTROL.test(errors[0].message), `${name}: a clean message`);
    return errors[0];
  };
  /** The text and internal-json captures of a case: they must say the same thing. */
  const both = (name: string): NixError => {
    const text = one(`nix-${tag}-${name}.stderr.txt`);
    const fromJson = one(`nix-${tag}-${name}.jsonl`);
    const strip = ({ raw: _raw, ...rest }: NixError) => rest;
    assert.deepEqual(strip(text), strip(fromJson), `${tag} ${name}: text and internal-json agree`);
    return fromJson;
  };
  /** The store mapper the extension builds for the errors flake (workspace: that flake's folder). */
  const mapper = (roots = [manifest.errors]) =>
    createStoreMapper({
      sources: sourcesFromFlake({
        gitRoot: manifest.errors,
        metadata: json(`nix-${tag}-metadata-errors.json`),
        archive: json(`nix-${tag}-archive-errors.json`),
      }),
      workspaceRoots: roots,
    });
  return { tag, manifest, one, both, mapper };
}

const V8 = version('2.8');
const V26 = version('2.26');
const V34 = version('2.34');
const NEWER = [V26, V34];

/** Where a position lands for people: a workspace path relative to the errors flake, or the input's name. */
function where(map: (f: string) => MappedFile, root: string, pos: NixError['position']): string | undefined {
  if (!pos) return undefined;
  if (pos.origin !== 'path') return `${pos.file}:${pos.line}`;
  const m = map(pos.file);
  if (m.kind === 'workspace') return `${m.path.slice(root.length + 1)}:${pos.line}:${pos.column}`;
  if (m.kind === 'input') return `«${m.label}»/${m.rel}:${pos.line}:${pos.column}`;
  return `${m.kind} ${pos.file}`;
}

describe('2.13+: traces first, the error last; 2.20+: compact layout and `file:line:col` in internal-json', () => {
  for (const v of NEWER) {
    test(`${v.tag}: attribute-missing with its traces, text and internal-json alike`, () => {
      const text = read(`nix-${v.tag}-eval-missingAttr.stderr.txt`);
      // The layout of this version, as printed: `error:` alone, the traces, then the error and its `at` line.
      assert.match(text, /^error:\n {7}… while calling the 'derivationStrict' builtin\n {9}at /);
      assert.match(text, /\n {7}error: attribute 'version' missing\n {7}at [^\n]*errors\/missing-attr\.nix:2:19:\n {12}1\| /);
      const line = read(`nix-${v.tag}-eval-missingAttr.jsonl`)
        .split('\n')
        .find((l) => l.includes('"level":0'))!;
      assert.match(line, /"file":"[^"]*errors\/missing-attr\.nix:2:19"/, 'file:line:col in the JSON `file`');

      const e = v.both('eval-missingAttr');
      assert.deepEqual([e.kind, e.message], ['attribute-missing', "attribute 'version' missing"]);
      assert.equal(where(v.mapper(), v.manifest.errors, e.position), 'errors/missing-attr.nix:2:19');
      // Innermost first: the derivation attribute, then the builtin that evaluated it.
      assert.deepEqual(
        e.trace.map((t) => [t.message, where(v.mapper(), v.manifest.errors, t.position)]),
        [
          ["while evaluating the derivation attribute 'name'", 'flake.nix:10:17'],
          [
            "while calling the 'derivationStrict' builtin",
            v.tag === '2.26' ? '<nix/derivation-internal.nix>:37' : '«nix-internal»/derivation-internal.nix:37',
          ],
        ],
      );
      assert.deepEqual(placeError(e, v.mapper()).target, {
        path: join(v.manifest.errors, 'errors/missing-attr.nix'),
        line: 2,
        column: 19,
        from: 'error',
      });
    });

    test(`${v.tag}: with --show-trace, the frame without a position too; the primary position is still the last error's`, () => {
      const e = v.both('eval-missingAttr-trace');
      assert.equal(where(v.mapper(), v.manifest.errors, e.position), 'errors/missing-attr.nix:2:19');
      assert.deepEqual(
        e.trace.map((t) => t.message),
        [
          'while evaluating the `name` attribute passed to builtins.derivationStrict',
          "while evaluating the derivation attribute 'name'",
          "while calling the 'derivationStrict' builtin",
        ],
      );
      assert.equal(e.trace[0].position, undefined);
    });
  }

  test('2.8 prints the message first (its own captures are in errorsParse); the errors flake gives the same result', () => {
    const e = V8.both('eval-inInput');
    assert.equal(e.kind, 'type-error');
    assert.equal(where(V8.mapper(), V8.manifest.errors, e.position), '«input nixpkgs»/lib/lists.nix:13:26');
  });
});

describe('positions in fetched trees: `«git+file:///…?rev=…»/lib/x.nix` (2.34), `/nix/store/…-source` (2.8, 2.26)', () => {
  for (const v of [V8, ...NEWER]) {
    test(`${v.tag}: an error inside an input is shown as the input's file, and placed at the nearest workspace frame`, () => {
      const e = v.both('eval-inInput-trace');
      assert.deepEqual(
        [e.kind, e.message],
        ['type-error', v.tag === '2.8' ? 'value is a string while a Boolean was expected' : 'expected a Boolean but found a string: "yes"'],
      );
      if (v.tag === '2.34')
        assert.match(
          e.position!.file,
          /^«git\+file:\/\/\/.*nixpkgs-stub-\w+\?ref=refs\/heads\/main&rev=[0-9a-f]{40}&shallow=1»\/lib\/lists\.nix$/,
        );
      else assert.match(e.position!.file, /^\/nix\/store\/[0-9a-z]{32}-source\/lib\/lists\.nix$/);
      const map = v.mapper();
      assert.equal(where(map, v.manifest.errors, e.position), '«input nixpkgs»/lib/lists.nix:13:26');
      const placed = placeError(e, map);
      assert.equal(placed.inputLabel, 'input nixpkgs');
      assert.equal(placed.target?.from, 'trace');
      assert.equal(placed.target?.path, join(v.manifest.errors, 'flake.nix'));
      assert.equal(placed.target?.line, 28, 'the `inInput = …` line');
    });

    test(`${v.tag}: when the input's folder is in the workspace, its position is that workspace file`, () => {
      const e = v.both('eval-inInput');
      const stub = v.manifest['nixpkgs-stub'];
      const m = v.mapper([v.manifest.errors, stub])(e.position!.file);
      assert.deepEqual(m.kind === 'workspace' && m.path, join(stub, 'lib/lists.nix'));
    });
  }

  test('2.34: a flake reference is found by revision or location; unknown ones are left as printed', () => {
    const map = V34.mapper();
    const rev = (json('nix-2.34-metadata-errors.json') as { locks: { nodes: { nixpkgs: { locked: { rev: string } } } } }).locks.nodes
      .nixpkgs.locked.rev;
    assert.deepEqual(map(`«git+file:///elsewhere?rev=${rev}»/lib/x.nix`), {
      kind: 'input',
      label: 'input nixpkgs',
      ref: `git+file:///elsewhere?rev=${rev}`,
      rel: 'lib/x.nix',
    });
    assert.deepEqual(map('«github:NixOS/nixpkgs/0000000000000000000000000000000000000000»/lib/x.nix').kind, 'external');
    assert.deepEqual(map('«git+file:///x?rev=1»/../../etc/passwd').kind, 'external');
    assert.deepEqual(map('«nix-internal»/derivation-internal.nix').kind, 'none');
    // A github input of a lock file, by owner/repo and revision.
    const gh = createStoreMapper({
      sources: sourcesFromFlake({
        gitRoot: '/ws',
        lock: {
          root: 'root',
          version: 7,
          nodes: {
            root: { inputs: { nixpkgs: 'n' } },
            n: { locked: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: 'a'.repeat(40) } },
          },
        },
      }),
      workspaceRoots: ['/ws'],
    });
    assert.deepEqual(gh(`«github:NixOS/nixpkgs/${'a'.repeat(40)}»/lib/x.nix`), {
      kind: 'input',
      label: 'input nixpkgs',
      ref: `github:NixOS/nixpkgs/${'a'.repeat(40)}`,
      rel: 'lib/x.nix',
    });
    assert.equal(gh('«github:nixos/nixpkgs/nixos-unstable»/lib/x.nix').kind, 'input', 'by location when the revision is not printed');
  });

  test('2.34: trace messages name files too; they are shown as workspace paths and input names', () => {
    const e = V34.both('hosts-unknownOption');
    const hosts = V34.manifest.hosts;
    const map = createStoreMapper({
      sources: sourcesFromFlake({ gitRoot: hosts, metadata: json('nix-2.34-metadata-hosts.json') }),
      workspaceRoots: [hosts],
    });
    assert.equal(e.kind, 'option-does-not-exist');
    const show = (m: MappedFile) =>
      m.kind === 'workspace' ? m.path.slice(hosts.length + 1) : m.kind === 'input' ? `«${m.label}»/${m.rel}` : undefined;
    assert.equal(localizePaths(e.message, map, show).split('\n')[1], "- In `hosts/unknown-option.nix': true");
    assert.deepEqual(
      e.trace.map((t) => t.position && localizePaths(`${t.position.file}:${t.position.line}`, map, show)),
      ['«input nixpkgs»/lib/modules.nix:149', '«input nixpkgs»/lib/modules.nix:166'],
    );
  });
});

describe("Nix's own code and --expr code are not files", () => {
  for (const v of [V8, ...NEWER]) {
    test(`${v.tag}: «string» (--expr) and the derivation builtin's frame`, () => {
      const e = v.both('eval-expr-string');
      assert.deepEqual([e.kind, e.position], ['type-error', { file: '«string»', origin: 'string', line: 1, column: 19 }]);
      if (v.tag === '2.8') return;
      const t = v.both('eval-throwing').trace.find((f) => /derivationStrict/.test(f.message));
      assert.deepEqual(t?.position, {
        file: v.tag === '2.26' ? '<nix/derivation-internal.nix>' : '«nix-internal»/derivation-internal.nix',
        origin: 'other',
        line: 37,
        column: 12,
      });
      assert.equal(v.mapper()(t!.position!.file).kind, 'none');
    });
  }
});

describe('untracked files', () => {
  test('2.34 (2.28+): "Path … is not tracked by Git", with the repository; placed on the file to `git add`', () => {
    const e = V34.both('eval-untracked');
    assert.deepEqual(e.kind === 'untracked-file' && [e.relPath, e.repo], ['errors/newfile.nix', V34.manifest.errors]);
    assert.equal(placeError(e, V34.mapper()).untrackedPath, join(V34.manifest.errors, 'errors/newfile.nix'));
  });

  test('2.26: "path \'…-source/…\' does not exist"; the store path maps back to the file', () => {
    const e = V26.both('eval-untracked');
    assert.deepEqual(e.kind === 'untracked-file' && [e.relPath, e.storePath], [
      'errors/newfile.nix',
      (json('nix-2.26-metadata-errors.json') as { path: string }).path,
    ]);
    assert.equal(placeError(e, V26.mapper()).untrackedPath, join(V26.manifest.errors, 'errors/newfile.nix'));
  });
});

describe('build failures', () => {
  test('2.34 (2.29+): "Cannot build \'…\'. Reason: builder failed with exit code 3", and "Reason: 1 dependency failed"', () => {
    const [own, dep] = parseNixErrors(read('nix-2.34-build-dep-failure.stderr.txt'));
    assert.deepEqual(own.kind === 'builder-failed' && [own.drvPath, own.exitCode], [
      '/nix/store/7jrnffjwwn0rdjgrx6fh5p6hldsz6z1a-fails.drv',
      3,
    ]);
    assert.match(
      own.message,
      /^Cannot build '[^']+-fails\.drv'\.\nReason: builder failed with exit code 3\.\nOutput paths:\n {2}\/nix\/store\/\S+-fails\nLast 2 log lines:\n> about to fail\n> the second line\n/,
    );
    assert.deepEqual(dep.kind === 'dependency-failed' && [dep.drvPath, dep.count], [
      '/nix/store/0z8mpcp0yb1jgz1z1bh62cj3sp84jqy4-dep-fails.drv',
      1,
    ]);
    const fromJson = parseNixErrors(readLog('nix-2.34-build-dep-failure.jsonl'));
    assert.deepEqual(
      fromJson.map((e) => e.kind),
      ['builder-failed', 'dependency-failed'],
    );
  });

  for (const tag of ['2.26', '2.34']) {
    test(`${tag}: the progress of a failing build names the failure, its exit code and its last lines`, () => {
      const p = new BuildProgress();
      p.feedAll(parseLog(readLog(`nix-${tag}-build-failure.jsonl`)));
      const s = p.snapshot();
      assert.deepEqual(
        s.failed.map((f) => [f.name, f.exitCode, f.lastLines]),
        [['fails', 3, ['about to fail', 'the second line']]],
      );
      assert.equal(parseNixErrors(readLog(`nix-${tag}-build-failure.jsonl`))[0].kind, 'builder-failed');
    });
  }
});

describe('a builder that cannot start in the sandbox: no control characters, and what it means', () => {
  const HINT = /^The build sandbox has no \/bin\/sh: .*`sandbox-paths`/;

  test("2.8: the child's serialised error (NULs, \\x01, \\x05) is decoded into the text newer Nix prints", () => {
    const text = read('nix-2.8-build-bin-sh.stderr.txt');
    assert.ok(text.includes('\x05\x00\x00\x00\x00\x00\x00\x00Error\x00'), 'the capture holds the bytes Nix printed');
    const [e] = parseNixErrors(text);
    assert.equal(e.kind, 'builder-failed');
    assert.ok(!CONTROL.test(e.message), JSON.stringify(e.message));
    const lines = e.message.split('\n');
    assert.deepEqual(lines.slice(0, 3), [
      "builder for '/nix/store/7477vqynf5f43mqsyxsn5z3m3mvjkdr4-bin-sh.drv' failed with exit code 1;",
      'last 2 log lines:',
      "> error: executing '/bin/sh': No such file or directory",
    ]);
    assert.match(lines[lines.length - 1], HINT);

    const p = new BuildProgress();
    p.feedAll(parseLog(readLog('nix-2.8-build-bin-sh.jsonl')));
    const [failed] = p.snapshot().failed;
    assert.deepEqual(failed.lastLines[0], "error: executing '/bin/sh': No such file or directory");
    assert.equal(failed.lastLines.length, 2);
    assert.match(failed.lastLines[1], HINT);
    assert.equal(failed.hint, failed.lastLines[1]);
    assert.ok(failed.lastLines.every((l) => !CONTROL.test(l)));
  });

  for (const tag of ['2.26', '2.34']) {
    test(`${tag}: the log line is text already; the same explanation`, () => {
      const [e] = parseNixErrors(read(`nix-${tag}-build-bin-sh.stderr.txt`));
      assert.equal(e.kind, 'builder-failed');
      assert.match(e.message.split('\n').pop()!, HINT);
      const p = new BuildProgress();
      p.feedAll(parseLog(readLog(`nix-${tag}-build-bin-sh.jsonl`)));
      const [failed] = p.snapshot().failed;
      assert.deepEqual(failed.lastLines.slice(0, 1), ["error: executing '/bin/sh': No such file or directory"]);
      assert.match(failed.hint ?? '', HINT);
    });
  }
});

describe('warnings from Nix code', () => {
  for (const v of [V8, ...NEWER]) {
    test(`${v.tag}: ${v.tag === '2.8' ? "nixpkgs' `trace: warning:`" : '`evaluation warning:`'} is a warning, in both log formats, and no error`, () => {
      for (const form of ['stderr.txt', 'jsonl']) {
        const stderr = read(`nix-${v.tag}-eval-warned.${form}`);
        assert.match(stderr, v.tag === '2.8' ? /trace: warning: / : /evaluation warning:/);
        assert.deepEqual(
          parseFlakeShowWarnings(stderr).map((w) => [w.kind, w.text]),
          [['evaluation', "the package 'warned' is deprecated, use 'good' instead"]],
        );
        assert.deepEqual(parseNixErrors(stderr), []);
      }
    });
  }
});
