// home-manager configurations (test/fixtures/flakes/homes, on the home-manager stand-in of
// test/fixtures/flakes/home-manager-stub and the nixpkgs one), dry-built with the real nix as the dry-build panel
// runs it: the good ones evaluate to a `home-manager-generation` with an `activate` script, and each module error is
// read by the project's error parser and placed at the line of the fixture that causes it — on the option's
// definition, or, for what Nix gives no place in the workspace (a failed assertion), on the configuration's entry in
// flake.nix, where the panel's annotator puts it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import { placeError } from '../../src/core/errors/placement';
import { createStoreMapper, sourcesFromFlake, type MappedFile } from '../../src/core/errors/storePath';
import type { NixError } from '../../src/core/errors/types';
import { installable } from '../../src/core/flake/installable';
import { parseDryRun } from '../../src/core/log/dryRun';
import { parseLog } from '../../src/core/log/internalJson';
import { stripAnsi } from '../../src/core/text';
import { findOptionDefinitions, LineIndex } from '../../src/core/source';
import { runTestNix, type NixRun, copyFixture } from '../support/nix';
import { nixAtLeast } from '../support/nixVersion';

const nix = (args: readonly string[], cwd?: string): NixRun => runTestNix(args, cwd);

let dir: string;
let map: (file: string) => MappedFile;

before(() => {
  const copies = new Map<string, string>();
  dir = copyFixture('homes', copies);
  assert.ok(copies.has('home-manager-stub') && copies.has('nixpkgs-stub'), 'the fixture uses both stand-ins');
  // The mapping the panel builds for a failed run (features/dryBuild/lookups.ts): the flake's source and its inputs.
  const metadata = nix(['flake', 'metadata', '--json', dir]);
  const archive = nix(['flake', 'archive', '--json', '--dry-run', dir]);
  assert.equal(metadata.status, 0, metadata.stderr);
  assert.equal(archive.status, 0, archive.stderr);
  map = createStoreMapper({
    sources: sourcesFromFlake({ gitRoot: dir, metadata: JSON.parse(metadata.stdout), archive: JSON.parse(archive.stdout) }),
    workspaceRoots: [dir],
    exists: existsSync,
  });
});

/** `homeConfigurations."<name>".activationPackage` of the fixture, as the panel names it. */
function activation(name: string): string {
  const inst = installable(dir, ['homeConfigurations', name, 'activationPackage']);
  assert.ok(inst.ok);
  return inst.value;
}

/** The dry-build the panel runs (features/dryBuild/runner.ts): internal-json, traces, no eval cache before 2.23. */
function dryBuild(name: string): NixRun {
  const noEvalCache = nixAtLeast(2, 23) ? [] : ['--no-eval-cache'];
  return nix([
    'build',
    '--no-write-lock-file',
    '--dry-run',
    '--log-format',
    'internal-json',
    '-v',
    '--show-trace',
    ...noEvalCache,
    activation(name),
  ]);
}

/** The 0-based line of the first line of `file` (in the fixture) that contains `needle`. */
function lineOf(file: string, needle: string): number {
  const line = readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `${needle} in ${file}`);
  return line;
}

/** The one error of a failed dry-build. */
function failure(name: string): NixError {
  const r = dryBuild(name);
  assert.equal(r.status, 1, r.stderr);
  const errors = parseNixErrors(r.stderr);
  assert.equal(errors.length, 1, JSON.stringify(errors.map((e) => e.message)));
  return errors[0];
}

/**
 * Where the panel shows a module-option error: each defining file in the workspace, at the line of the definition
 * (the core scanner, as workspace/diagnostics.ts asks it), 0-based.
 */
function optionSites(e: NixError): { file: string; line: number }[] {
  return placeError(e, map).sites.map((s) => {
    const text = readFileSync(s.path, 'utf8');
    const found = findOptionDefinitions(text, s.optionPath.split('.'));
    assert.ok(found.length > 0, `a definition of ${s.optionPath} in ${s.path}`);
    return { file: s.path, line: new LineIndex(text).positionAt(found[0].range.start).line };
  });
}

describe('the homes fixture on the home-manager stand-in', () => {
  test('lists alice, bob, carol, dave and erin@laptop', () => {
    const r = nix(['eval', '--json', '--no-write-lock-file', `${dir}#homeConfigurations`, '--apply', 'builtins.attrNames']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['alice', 'bob', 'carol', 'dave', 'erin@laptop']);
  });

  test('home-manager follows the flake’s nixpkgs', () => {
    const lock = JSON.parse(readFileSync(join(dir, 'flake.lock'), 'utf8')) as { nodes: Record<string, { inputs?: object }> };
    assert.deepEqual(lock.nodes['home-manager'].inputs, { nixpkgs: ['nixpkgs'] });
  });

  for (const name of ['alice', 'erin@laptop']) {
    test(`${name}: the dry-build lists the home-manager generation to build, and no error`, () => {
      const r = dryBuild(name);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(parseNixErrors(r.stderr), []);
      const drv = nix(['eval', '--raw', '--no-write-lock-file', `${activation(name)}.drvPath`]);
      assert.match(drv.stdout, /^\/nix\/store\/[0-9a-z]{32}-home-manager-generation\.drv$/, drv.stderr);
      // What else is listed depends on what earlier runs left in the store; a generation not built yet is listed.
      const built = nix(['path-info', `${activation(name)}`]).status === 0;
      const text = parseLog(r.stderr).flatMap((ev) => (ev.kind === 'msg' ? [stripAnsi(ev.msg)] : ev.kind === 'plain' ? [ev.text] : []));
      const plan = parseDryRun(text.join('\n'));
      assert.ok(built || plan?.builds.includes(drv.stdout), r.stderr);
    });
  }

  test('alice’s generation has an activate script, her packages in home-path and her files in home-files', () => {
    const r = nix(['build', '--no-link', '--json', '--no-write-lock-file', activation('alice')]);
    assert.equal(r.status, 0, r.stderr);
    const out = (JSON.parse(r.stdout) as { outputs: { out: string } }[])[0].outputs.out;
    assert.match(out, /-home-manager-generation$/);
    assert.ok((statSync(join(out, 'activate')).mode & 0o111) !== 0, 'activate is executable');
    const activate = spawnSync(join(out, 'activate'), { encoding: 'utf8' });
    assert.equal(activate.status, 0, activate.stderr);
    assert.match(activate.stdout, /^Activating home-manager generation for alice in \/home\/alice$/m);
    for (const p of ['hello', 'htop', 'git']) assert.ok(existsSync(join(out, 'home-path', 'bin', p)), p);
    assert.equal(readFileSync(join(out, 'home-files', '.config', 'git', 'config'), 'utf8'), '[user]\n\tname = Alice\n');
  });

  test('extraSpecialArgs reach the modules', () => {
    const r = nix([
      'eval',
      '--raw',
      '--no-write-lock-file',
      `${dir}#homeConfigurations."erin@laptop".config.home.sessionVariables.MACHINE`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'laptop');
  });
});

describe('the errors of home configurations are placed at the fixture’s lines', () => {
  test('bob: an unknown option, on the line that defines it, with the suggestion', () => {
    const e = failure('bob');
    assert.equal(e.kind, 'option-does-not-exist');
    assert.ok(e.kind === 'option-does-not-exist');
    assert.equal(e.optionPath, 'programs.git.userNmae');
    assert.equal(e.suggestions[0], 'programs.git.userName');
    assert.deepEqual(optionSites(e), [{ file: join(dir, 'home/bob.nix'), line: lineOf('home/bob.nix', 'programs.git.userNmae') }]);
  });

  test('carol: a wrong type in a list, on the line that defines the list', () => {
    const e = failure('carol');
    assert.ok(e.kind === 'option-type-mismatch', e.kind);
    assert.equal(e.optionPath, 'home.packages."[definition 1-entry 1]"');
    assert.equal(e.expectedType, 'package');
    assert.deepEqual(optionSites(e), [{ file: join(dir, 'home/carol.nix'), line: lineOf('home/carol.nix', 'home.packages = [ "htop" ]') }]);
  });

  test('dave: a failed assertion, which Nix places in home-manager, goes on dave’s entry in flake.nix', () => {
    const e = failure('dave');
    assert.equal(e.kind, 'throw');
    assert.match(e.message, /^Failed assertions:\n- Username could not be determined$/);
    const placement = placeError(e, map);
    assert.equal(placement.target, undefined, 'no place of its own in the workspace');
    assert.deepEqual(placement.sites, []);
    // The configuration's own entry, as the panel looks it up (workspace/mapping.ts attrPosition).
    const inst = installable(dir, ['homeConfigurations']);
    assert.ok(inst.ok);
    const r = nix(['eval', '--json', '--no-write-lock-file', inst.value, '--apply', 's: builtins.unsafeGetAttrPos "dave" s']);
    assert.equal(r.status, 0, r.stderr);
    const pos = JSON.parse(r.stdout) as { file: string; line: number; column: number };
    const m = map(pos.file);
    assert.equal(m.kind === 'workspace' ? m.path : JSON.stringify(m), join(dir, 'flake.nix'));
    assert.equal(pos.line - 1, lineOf('flake.nix', 'dave = home ./home/dave.nix'));
  });
});
