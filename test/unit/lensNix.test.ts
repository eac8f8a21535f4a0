// The Build CodeLens core against real Nix (2.8, offline): the positions query on the example flake and on a flake
// with broken packages, store paths mapped back to the workspace, and the lenses that result.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  positionsFlakeRef,
  queryPositions,
  semanticLenses,
  type BuildableCategory,
  type PositionsResult,
  type PositionsRun,
  type SemanticLens,
} from '../../src/core/lens';
import { createStoreMapper, sourcesFromFlake } from '../../src/core/errors/storePath';
import { commitAll, copyFixture, makeRepo, nixTestEnv, scratchDir } from '../support/nix';

const SYSTEM = 'x86_64-linux';
const env = nixTestEnv();

function runNix(cwd: string): (args: string[]) => Promise<PositionsRun> {
  return (args) =>
    new Promise((resolve) => {
      execFile('nix', args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ exitCode: typeof code === 'number' ? code : err ? 1 : 0, stdout, stderr });
      });
    });
}

interface Evaluated {
  readonly result: PositionsResult;
  readonly lenses: Map<string, SemanticLens[]>;
  readonly impure: boolean;
  /** `file:line: line text → display display` for every lens (1-based lines, paths relative to the flake). */
  readonly summary: string[];
}

async function evaluate(root: string, flakeDir = root, categories?: BuildableCategory[]): Promise<Evaluated> {
  const metadata: unknown = JSON.parse(
    execFileSync('nix', ['flake', 'metadata', '--json', '--no-write-lock-file'], { cwd: flakeDir, env, encoding: 'utf8' }),
  );
  const ref = positionsFlakeRef(metadata, flakeDir);
  assert.ok(ref);
  const result = await queryPositions(
    { ref: ref.ref, impure: ref.impure, system: SYSTEM, ...(categories ? { categories } : {}) },
    runNix(flakeDir),
    {
      impureRef: ref.unlocked,
      flakeRef: flakeDir,
    },
  );
  const map = createStoreMapper({ sources: sourcesFromFlake({ gitRoot: root, metadata }), workspaceRoots: [root] });
  const lenses = semanticLenses({
    records: result.records,
    map,
    sources: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined),
    flakeRef: flakeDir,
    system: SYSTEM,
  });
  const summary: string[] = [];
  for (const [path, list] of [...lenses.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const lines = readFileSync(path, 'utf8').split('\n');
    for (const l of list) {
      const shown = l.installables.map((i) => (i.command === 'develop' ? `develop ${i.display}` : i.display)).join(' ');
      summary.push(`${relative(root, path)}:${l.line + 1}: ${lines[l.line].trim()} → ${shown}`);
    }
  }
  return { result, lenses, impure: ref.impure, summary };
}

describe('Build lenses on real Nix', () => {
  test('examples/hello: one process; hello and default share the call, greeting lives in its own file', async () => {
    const dir = copyFixture('hello');
    const { result, summary, lenses, impure } = await evaluate(dir);
    assert.equal(impure, false);
    assert.deepEqual([result.ok, result.runs], [true, 1]);
    assert.deepEqual(summary, [
      'flake.nix:12: hello = lib.mkDerivation { → .#hello .#default',
      'flake.nix:29: devShells.${system}.default = lib.mkDerivation { → develop .#default',
      'flake.nix:36: formatter.${system} = lib.mkDerivation { name = "nixfmt-stub"; }; → .#formatter.x86_64-linux',
      'pkgs/greeting.nix:2: lib.mkDerivation { → .#greeting .#checks.x86_64-linux.greeting',
    ]);
    const hello = lenses.get(join(dir, 'flake.nix'))![0];
    assert.deepEqual(
      hello.installables.map((i) => [i.installable, i.runnable, i.mainProgram, i.placement]),
      [
        [`${dir}#packages.x86_64-linux.hello`, true, 'hello', 'metaPosition'],
        [`${dir}#packages.x86_64-linux.default`, true, 'hello', 'metaPosition'],
      ],
    );
  });

  test('a broken package costs only its own lens: an uncatchable error in meta is skipped on a second run', async () => {
    const dir = copyFixture('lens-broken');
    const { result, summary } = await evaluate(dir);
    assert.equal(result.ok, true);
    // The first run stopped at badmeta (`{}.missing` is not caught by tryEval); the second skipped its meta.
    assert.equal(result.runs, 2);
    assert.deepEqual(result.query.skipMeta, [['packages', SYSTEM, 'badmeta']]);
    const badmeta = result.records.find((r) => r.attrPath[2] === 'badmeta');
    assert.deepEqual([badmeta?.metaRead, badmeta?.attrPos?.line], [false, 26]);
    assert.deepEqual(summary, [
      // `inherit hello plain;`: hello through meta.position, plain (no meta) through attrPos and the inherit.
      'flake.nix:12: hello = lib.mkDerivation { → .#hello .#default',
      'flake.nix:17: plain = builtins.derivation { name = "plain"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; }; → .#plain',
      // throw and assert are caught by tryEval: the attrPos binding (or its call).
      'flake.nix:23: thrown = throw "this package is broken on purpose"; → .#thrown',
      'flake.nix:24: asserted = assert false; lib.mkDerivation { name = "asserted"; }; → .#asserted',
      // The name would fail to evaluate, but meta.position does not force it.
      'flake.nix:25: evalerr = lib.mkDerivation { name = "evalerr-" + {}.version; }; → .#evalerr',
      'flake.nix:26: badmeta = (lib.mkDerivation { name = "badmeta"; }) // { meta = {}.missing; }; → .#badmeta',
      // An unknown builder: the binding; through mapAttrs (no attrPos): the argument set at the meta line.
      'flake.nix:27: custom = mkTool { → .#custom',
      'flake.nix:31: aliasA = plain; /* ü */ aliasB = plain; → .#aliasA',
      'flake.nix:31: aliasA = plain; /* ü */ aliasB = plain; → .#aliasB',
      'flake.nix:36: viaMap = mkTool { name = "via-map"; }; → .#checks.x86_64-linux.viaMap',
      'flake.nix:39: devShells.${system}.default = lib.mkDerivation { → develop .#default',
      'flake.nix:44: formatter.${system} = lib.mkDerivation { name = "fmt"; }; → .#formatter.x86_64-linux',
      'pkgs/tool.nix:6: lib.mkDerivation { → .#tool .#checks.x86_64-linux.tool',
    ]);
  });

  test('the attrPos-only query forces no derivation: one run even with the broken packages', async () => {
    const dir = copyFixture('lens-broken');
    const metadata: unknown = JSON.parse(
      execFileSync('nix', ['flake', 'metadata', '--json', '--no-write-lock-file'], { cwd: dir, env, encoding: 'utf8' }),
    );
    const ref = positionsFlakeRef(metadata)!;
    const result = await queryPositions({ ref: ref.ref, system: SYSTEM, meta: false }, runNix(dir));
    assert.deepEqual([result.ok, result.runs], [true, 1]);
    assert.ok(result.records.every((r) => !r.metaRead && !r.metaPosition));
    assert.equal(result.records.filter((r) => r.attrPath[0] === 'packages').length, 11);
  });

  test('a dirty tree is evaluated as it is on disk (locked by hash, pure)', async () => {
    const dir = copyFixture('hello');
    const flake = join(dir, 'flake.nix');
    writeFileSync(flake, `# an uncommitted comment\n# and another\n${readFileSync(flake, 'utf8')}`);
    const { summary, impure } = await evaluate(dir);
    assert.equal(impure, false);
    assert.equal(summary[0], 'flake.nix:14: hello = lib.mkDerivation { → .#hello .#default');
  });

  test('a lock file that needs changes: getFlake cannot lock it, one installable per category can', async () => {
    const dir = copyFixture('hello');
    rmSync(join(dir, 'flake.lock'));
    commitAll(dir, 'no lock');
    const { result, summary } = await evaluate(dir, dir, ['packages', 'checks', 'devShells', 'formatter']);
    // The getFlake query, then one process per category.
    assert.deepEqual([result.ok, result.runs, result.query.installableRef], [true, 5, dir]);
    assert.deepEqual(summary, [
      'flake.nix:12: hello = lib.mkDerivation { → .#hello .#default',
      'flake.nix:29: devShells.${system}.default = lib.mkDerivation { → develop .#default',
      'flake.nix:36: formatter.${system} = lib.mkDerivation { name = "nixfmt-stub"; }; → .#formatter.x86_64-linux',
      'pkgs/greeting.nix:2: lib.mkDerivation { → .#greeting .#checks.x86_64-linux.greeting',
    ]);
    assert.equal(existsSync(join(dir, 'flake.lock')), false, 'no lock file written');
  });

  test('packages in files of their own: each file shows its lens at the definition, whatever the builder is called', async () => {
    const dir = copyFixture('lens-builders');
    const { result, summary } = await evaluate(dir);
    assert.deepEqual([result.ok, result.runs], [true, 1]);
    assert.deepEqual(summary, [
      // Builders the scanner knows: the call holding meta.position.
      'pkgs/go-tool.nix:3: buildGoModule rec { → .#goTool',
      // A helper passed in as an argument, and a flake-parts-like perSystem package built by the project's own
      // function: the scanner knows neither name, the evaluation places them in these files all the same.
      'pkgs/helper-arg.nix:3: mkDrv { → .#helperArg',
      'pkgs/parted.nix:2: mkPackage { → .#parted',
      'pkgs/rusty.nix:2: rustPlatform.buildRustPackage (rec { → .#rusty',
      'pkgs/script.nix:3: writeShellApplication { → .#script',
    ]);
  });

  test('a flake without any buildable category gives no records, not an error', async () => {
    const dir = copyFixture('nixpkgs-stub');
    const { result, summary } = await evaluate(dir);
    assert.deepEqual([result.ok, result.runs, result.records.length, summary.length], [true, 1, 0, 0]);
  });

  test('a dirty flake in a subdirectory: 2.8 has no locked reference for it, so the query runs impure', async () => {
    const root = makeRepo(join(scratchDir(), 'lens-subflake'), {
      README: 'x\n',
      'sub/flake.nix': ['{', '  outputs = { self }: {', '    packages.x86_64-linux.tool = import ../lib/tool.nix;', '  };', '}', ''].join(
        '\n',
      ),
      'lib/tool.nix': 'builtins.derivation {\n  name = "tool";\n  system = "x86_64-linux";\n  builder = "/bin/sh";\n}\n',
    });
    writeFileSync(join(root, 'README'), 'dirty\n');
    const { result, summary, impure } = await evaluate(root, join(root, 'sub'));
    assert.deepEqual([impure, result.ok, result.runs], [true, true, 1]);
    // No meta.position (a bare derivation): the attrPos binding in sub/flake.nix.
    assert.deepEqual(summary, ['sub/flake.nix:3: packages.x86_64-linux.tool = import ../lib/tool.nix; → .#tool']);
  });
});
