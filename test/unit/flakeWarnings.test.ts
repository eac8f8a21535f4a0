import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { explainOmitted, omittedReasonFor, parseFlakeShowWarnings } from '../../src/core/flake/warnings';

const fixture = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/flake', name), 'utf8');

test('real 2.8 flake show stderr: the tree-drawing legacyPackages warning, nothing from "evaluating" lines', () => {
  const w = parseFlakeShowWarnings(fixture('nix-2.8-show.stderr.txt'));
  assert.equal(w.length, 1);
  const [omitted] = w;
  assert.equal(omitted.kind, 'omitted');
  assert.ok(omitted.kind === 'omitted');
  assert.equal(omitted.attrPath, 'legacyPackages.x86_64-linux');
  assert.equal(omitted.flag, '--legacy');
  assert.equal(omitted.reason, 'legacy');
  assert.match(omitted.explanation, /--legacy/);
});

test('real 2.8 dirty tree warning', () => {
  const w = parseFlakeShowWarnings(fixture('nix-2.8-show-dirty.stderr.txt'));
  assert.deepEqual(
    w.map((x) => x.kind),
    ['dirty-tree', 'omitted'],
  );
  const dirty = w[0];
  assert.ok(dirty.kind === 'dirty-tree');
  assert.equal(dirty.tree, '/tmp/h-flake/root');
  assert.equal(dirty.text, "Git tree '/tmp/h-flake/root' is dirty");
  assert.match(dirty.explanation, /git add/);
});

test('real 2.8 untrusted flake configuration warning, and why it is ignored', () => {
  const w = parseFlakeShowWarnings(fixture('nix-2.8-lock-update-input-a.stderr.txt'));
  const untrusted = w.filter((x) => x.kind === 'untrusted-config');
  assert.equal(untrusted.length, 1);
  assert.ok(untrusted[0].kind === 'untrusted-config');
  assert.equal(untrusted[0].setting, 'extra-substituters');
  assert.match(untrusted[0].explanation, /on purpose/);
  assert.match(untrusted[0].explanation, /never passes --accept-flake-config/);
  assert.deepEqual(
    w.map((x) => x.kind),
    ['untrusted-config', 'dirty-tree'],
  );
});

test('2.12+ wording with its continuation line, deduplicated; 2.29 / 2.33 warnings', () => {
  const w = parseFlakeShowWarnings(fixture('handwritten-nix-2.33-warnings.stderr.txt'));
  assert.deepEqual(
    w.map((x) => x.kind),
    ['dirty-tree', 'untrusted-config', 'untrusted-config', 'not-a-derivation', 'import-from-derivation', 'omitted', 'omitted'],
  );
  const settings = w.flatMap((x) => (x.kind === 'untrusted-config' ? [x.setting] : []));
  assert.deepEqual(settings, ['extra-substituters', 'extra-trusted-public-keys']);
  assert.equal(w[1].text, "ignoring untrusted flake configuration setting 'extra-substituters'. Pass '--accept-flake-config' to trust it");
  assert.equal(omittedReasonFor(w, 'packages.x86_64-linux.notdrv'), 'not-a-derivation');
  assert.equal(omittedReasonFor(w, 'checks.x86_64-linux.ifd'), 'import-from-derivation');
  assert.equal(omittedReasonFor(w, 'packages.aarch64-darwin.hello'), 'other-system');
  assert.equal(omittedReasonFor(w, 'legacyPackages.x86_64-linux'), 'legacy');
  assert.equal(omittedReasonFor(w, 'packages.x86_64-linux.hello'), undefined);
});

test("Lix's wording", () => {
  const w = parseFlakeShowWarnings(fixture('handwritten-lix-untrusted.stderr.txt'));
  assert.equal(w.length, 1);
  assert.ok(w[0].kind === 'untrusted-config');
  assert.equal(w[0].setting, 'post-build-hook');
});

test('2.14+ omitted warnings name the attribute path and the flag', () => {
  const w = parseFlakeShowWarnings(fixture('handwritten-nix-2.14-omitted.stderr.txt'));
  assert.deepEqual(
    w.map((x) => (x.kind === 'omitted' ? `${x.attrPath} ${x.flag}` : x.kind)),
    [
      'checks.aarch64-linux.t --all-systems',
      'devShells.aarch64-linux.default --all-systems',
      'formatter.aarch64-linux --all-systems',
      'legacyPackages.aarch64-linux --legacy',
      'legacyPackages.x86_64-linux --legacy',
      'packages.aarch64-linux.hello --all-systems',
    ],
  );
});

test('real 2.8 internal-json stderr (ANSI in msg) gives the same warnings', () => {
  const w = parseFlakeShowWarnings(fixture('nix-2.8-show-internal-json.stderr.txt'));
  assert.deepEqual(
    w.map((x) => x.kind),
    ['dirty-tree', 'omitted'],
  );
  assert.ok(w[1].kind === 'omitted');
  assert.equal(w[1].attrPath, 'legacyPackages.x86_64-linux');
  const lock = parseFlakeShowWarnings(fixture('nix-2.8-lock-update-input-internal-json.stderr.txt'));
  assert.deepEqual(
    lock.map((x) => x.kind),
    ['untrusted-config', 'dirty-tree'],
  );
});

test('ANSI-coloured text-mode warnings are matched', () => {
  const w = parseFlakeShowWarnings("\x1b[35;1mwarning:\x1b[0m Git tree '/x' is dirty\r\n");
  assert.equal(w.length, 1);
  assert.ok(w[0].kind === 'dirty-tree');
  assert.equal(w[0].tree, '/x');
});

test('every reason has an explanation', () => {
  for (const r of ['other-system', 'legacy', 'import-from-derivation', 'not-a-derivation', 'failed', 'unknown'] as const) {
    assert.match(explainOmitted(r, 'a.b'), /a\.b/);
  }
});

test('hostile stderr never throws', () => {
  assert.deepEqual(parseFlakeShowWarnings(''), []);
  assert.deepEqual(parseFlakeShowWarnings(undefined as unknown as string), []);
  assert.deepEqual(parseFlakeShowWarnings('@nix {not json\n@nix {"action":"msg","msg":5}\n@nix []'), []);
  const huge = `warning: ${'x'.repeat(10 * 1024 * 1024)} omitted (use '--all-systems' to show)\n`;
  assert.deepEqual(parseFlakeShowWarnings(huge), []);
  const long = `warning: Git tree '${'/a'.repeat(2000)}' is dirty`;
  const w = parseFlakeShowWarnings(long);
  assert.ok(w[0].kind === 'dirty-tree' && w[0].tree.length <= 1025);
  assert.deepEqual(parseFlakeShowWarnings('warning: something else entirely\nerror: boom'), []);
});
