// Errors of the real nix that runs the tests, read by the core as the extension reads them: builds that fail (one
// whose builder cannot start in the sandbox), an error inside an input, a file git does not track. Whatever the
// version prints, the parsed result must be the same; errorsVersions.test.ts holds the captured texts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import { placeError } from '../../src/core/errors/placement';
import { createStoreMapper, sourcesFromFlake } from '../../src/core/errors/storePath';
import { parseLog } from '../../src/core/log/internalJson';
import { BuildProgress } from '../../src/core/log/progress';
import { copyFixture, runTestNix } from '../support/nix';
import { nixAtLeast } from '../support/nixVersion';

/** Control characters other than newline and tab: none may reach a person. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

const nix = (args: string[], cwd: string, extraConfig: string[] = []) => runTestNix(args, cwd, extraConfig);

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    },
  });
}

let copies: Map<string, string>;
let dir: string;

before(() => {
  copies = new Map();
  dir = copyFixture('errors', copies);
});

/** A new tree (binSh's output depends on it), so that no earlier run has built the derivation. */
function newTree(): void {
  writeFileSync(join(dir, 'nonce'), `${process.pid} ${Date.now()} ${Math.random()}\n`);
  git(dir, 'add', 'nonce');
  git(dir, 'commit', '-q', '-m', 'nonce');
}

describe('a builder that cannot start in the sandbox (`/bin/sh` with `sandbox = true`, no `sandbox-paths`)', () => {
  // As root without build users, Nix sandboxes builds in user namespaces; `sandbox-paths =` takes away the host's
  // /bin/sh that Debian's newer Nix packages map in.
  const SANDBOX = ['sandbox = true', 'sandbox-paths ='];
  const HINT = /^The build sandbox has no \/bin\/sh: .*"\$\{pkgs\.bash\}\/bin\/bash".*`sandbox-paths`/;

  test('as the Build command reads it (internal-json): clean log lines, the exit code, and what it means', () => {
    newTree();
    const r = nix(['build', '--no-link', '--log-format', 'internal-json', '-v', '.#binSh'], dir, SANDBOX);
    assert.equal(r.status, 1, r.stderr);
    if (!nixAtLeast(2, 26)) assert.ok(r.stderr.includes('\\u0000'), 'Nix 2.8 passes the serialised error on, NULs and all');
    const progress = new BuildProgress();
    progress.feedAll(parseLog(r.stderr));
    const [failed] = progress.snapshot().failed;
    assert.equal(failed?.exitCode, 1, r.stderr);
    assert.ok(
      failed.lastLines.every((l) => !CONTROL.test(l)),
      JSON.stringify(failed.lastLines),
    );
    assert.ok(failed.lastLines.includes("error: executing '/bin/sh': No such file or directory"), JSON.stringify(failed.lastLines));
    assert.match(failed.hint ?? '', HINT);
    assert.equal(failed.lastLines[failed.lastLines.length - 1], failed.hint);
    const errors = parseNixErrors(r.stderr);
    assert.deepEqual(
      errors.map((e) => [e.kind, e.kind === 'builder-failed' && e.exitCode]),
      [['builder-failed', 1]],
    );
    assert.ok(errors.every((e) => !CONTROL.test(e.message)));
  });

  test('as text: the message quotes the log, decoded, and says what it means', () => {
    newTree();
    const r = nix(['build', '--no-link', '.#binSh'], dir, SANDBOX);
    assert.equal(r.status, 1, r.stderr);
    const [e] = parseNixErrors(r.stderr);
    assert.equal(e.kind, 'builder-failed', r.stderr);
    assert.ok(!CONTROL.test(e.message), JSON.stringify(e.message));
    assert.match(e.message, /\n> error: executing '\/bin\/sh': No such file or directory\n/);
    assert.match(e.message.split('\n').pop()!, HINT);
  });
});

describe('evaluation errors', () => {
  test('an error inside an input: shown as the input, placed on the line of this flake that reached it', () => {
    const r = nix(['build', '--no-link', '--no-eval-cache', '--log-format', 'internal-json', '.#inInput'], dir);
    assert.equal(r.status, 1);
    const [e] = parseNixErrors(r.stderr);
    assert.equal(e.kind, 'type-error', r.stderr);
    const metadata: unknown = JSON.parse(nix(['flake', 'metadata', '--json'], dir).stdout);
    const archive: unknown = JSON.parse(nix(['flake', 'archive', '--json', '--dry-run'], dir).stdout);
    const map = createStoreMapper({ sources: sourcesFromFlake({ gitRoot: dir, metadata, archive }), workspaceRoots: [dir] });
    const own = map(e.position!.file);
    assert.deepEqual(
      own.kind === 'input' && [own.label, own.rel, e.position!.line],
      ['input nixpkgs', 'lib/lists.nix', 13],
      e.position!.file,
    );
    // Without --show-trace, 2.8 prints no trace: the error has no place in the workspace then.
    const placed = placeError(e, map);
    assert.equal(placed.inputLabel, 'input nixpkgs');
    if (nixAtLeast(2, 13)) assert.deepEqual([placed.target?.path, placed.target?.line], [join(dir, 'flake.nix'), 10]);
    else assert.equal(placed.target, undefined);
    // The same input in the workspace: its own file.
    const stub = copies.get('nixpkgs-stub')!;
    const inWorkspace = createStoreMapper({ sources: sourcesFromFlake({ gitRoot: dir, metadata, archive }), workspaceRoots: [dir, stub] })(
      e.position!.file,
    );
    assert.deepEqual(inWorkspace.kind === 'workspace' && inWorkspace.path, join(stub, 'lib/lists.nix'));
  });

  test('a file git does not track: the file to `git add`', () => {
    writeFileSync(join(dir, 'errors', 'newfile.nix'), '"new"\n');
    const r = nix(['build', '--no-link', '--no-eval-cache', '.#untracked'], dir);
    assert.equal(r.status, 1);
    const [e] = parseNixErrors(r.stderr);
    assert.equal(e.kind, 'untracked-file', r.stderr);
    const metadata: unknown = JSON.parse(nix(['flake', 'metadata', '--json'], dir).stdout);
    const map = createStoreMapper({ sources: sourcesFromFlake({ gitRoot: dir, metadata }), workspaceRoots: [dir] });
    assert.equal(placeError(e, map).untrackedPath, join(dir, 'errors', 'newfile.nix'));
  });
});
