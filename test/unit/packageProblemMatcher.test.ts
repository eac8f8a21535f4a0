// The `$nix` and `$nix-2.8` problem matchers of package.json, run the way VS Code runs a multi-line matcher over a
// task's output (each pattern on the next line, ANSI escapes removed), against Nix's captured and live error texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripAnsi } from '../../src/core/text';
import { EXPERIMENTAL } from '../../src/core/nix/args';
import { parseNixVersion as parseVersion } from '../../src/core/nix/version';
import { nixTestEnv, repoRoot, scratchDir, testNix } from '../support/nix';

interface Pattern {
  regexp: string;
  message?: number;
  file?: number;
  line?: number;
  column?: number;
}
interface Matcher {
  name: string;
  owner: string;
  fileLocation: string;
  pattern: Pattern[];
}
interface Problem {
  message: string;
  file: string;
  line: number;
  column: number;
}

const matchers = (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { contributes: { problemMatchers: Matcher[] } })
  .contributes.problemMatchers;

function matcher(name: string): Matcher {
  const m = matchers.find((x) => x.name === name);
  assert.ok(m, `package.json contributes the ${name} problem matcher`);
  return m;
}

/** The problems a matcher finds in a text, as VS Code's multi-line matcher finds them (consecutive lines). */
function problems(name: string, text: string): Problem[] {
  const m = matcher(name);
  const lines = stripAnsi(text).split('\n');
  const res = m.pattern.map((p) => new RegExp(p.regexp));
  const out: Problem[] = [];
  for (let i = 0; i + res.length <= lines.length;) {
    const found: Partial<Problem> = {};
    const ok = res.every((re, k) => {
      const hit = re.exec(lines[i + k]!);
      if (!hit) return false;
      const p = m.pattern[k]!;
      if (p.message) found.message = hit[p.message];
      if (p.file) found.file = hit[p.file];
      if (p.line) found.line = Number(hit[p.line]);
      if (p.column) found.column = Number(hit[p.column]);
      return true;
    });
    if (ok && found.message && found.file) {
      out.push(found as Problem);
      i += res.length;
    } else i++;
  }
  return out;
}

const captured = (name: string) => readFileSync(join(repoRoot(), 'test', 'fixtures', 'captured', 'errors', name), 'utf8');

test('$nix: the 2.20+ layout (the message, then its position on the next line); trace frames are not problems', () => {
  for (const v of ['2.26', '2.34']) {
    const found = problems('nix', captured(`nix-${v}-eval-missingAttr.stderr.txt`));
    assert.equal(found.length, 1, `${v}: ${JSON.stringify(found)}`);
    assert.equal(found[0]!.message, "attribute 'version' missing");
    assert.match(found[0]!.file, /\/errors\/missing-attr\.nix$/);
    assert.deepEqual([found[0]!.line, found[0]!.column], [2, 19]);
    // A throw has no position: nothing to place.
    assert.deepEqual(problems('nix', captured(`nix-${v}-eval-throwing.stderr.txt`)), []);
  }
  assert.deepEqual(problems('nix', captured('nix-2.24-layout-missing-arg.stderr.txt')), [
    {
      message: "function 'anonymous lambda' called without required argument 'y'",
      file: '/pwd/lang/eval-fail-missing-arg.nix',
      line: 1,
      column: 2,
    },
  ]);
  // The older layout is left to $nix-2.8: no problem from the wrong lines.
  assert.deepEqual(problems('nix', captured('nix-2.8-eval-missingAttr.stderr.txt')), []);
  // `«string»` is no file.
  assert.deepEqual(problems('nix', 'error: cannot add a string to an integer\n       at «string»:1:19:\n'), []);
});

test('$nix-2.8: the 2.8 to 2.19 layout (a blank line before the position)', () => {
  const found = problems('nix-2.8', captured('nix-2.8-eval-missingAttr.stderr.txt'));
  assert.equal(found.length, 1);
  assert.equal(found[0]!.message, "attribute 'version' missing");
  // A flake in git is read from its copy in the store: the matcher can only name that copy.
  assert.match(found[0]!.file, /^\/nix\/store\/[0-9a-z]{32}-source\/errors\/missing-attr\.nix$/);
  assert.deepEqual([found[0]!.line, found[0]!.column], [5, 22]);
  assert.deepEqual(problems('nix-2.8', captured('nix-2.18-layout-missing-arg.stderr.txt')), [
    {
      message: "function 'anonymous lambda' called without required argument 'y'",
      file: '/pwd/lang/eval-fail-missing-arg.nix',
      line: 1,
      column: 2,
    },
  ]);
  assert.deepEqual(problems('nix-2.8', captured('nix-2.34-eval-missingAttr.stderr.txt')), []);
  for (const m of ['nix', 'nix-2.8']) assert.equal(matcher(m).owner, 'nix');
});

test('the matcher of the running Nix finds an evaluation error of a local file at its workspace path', () => {
  const dir = mkdtempSync(join(scratchDir(), 'matcher-'));
  const file = join(dir, 'broken.nix');
  writeFileSync(file, 'let\n  cfg = { };\nin\n  "v" + cfg.version\n');
  const version = parseVersion(execFileSync(testNix(), ['--version'], { encoding: 'utf8' }));
  assert.ok(version, 'nix --version');
  let stderr = '';
  try {
    execFileSync(testNix(), [...EXPERIMENTAL, 'eval', '--file', file], { env: nixTestEnv(), stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    stderr = String((e as { stderr?: string }).stderr ?? '');
  }
  const name = version.major > 2 || version.minor >= 20 ? 'nix' : 'nix-2.8';
  const found = problems(name, stderr);
  assert.deepEqual(found, [{ message: "attribute 'version' missing", file, line: 4, column: 9 }], `${name} on:\n${stderr}`);
});
