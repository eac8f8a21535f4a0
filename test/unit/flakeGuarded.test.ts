import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import {
  guardedShape,
  listGuarded,
  namesOnly,
  showJsonFromListing,
  type GuardedEval,
  type GuardedListing,
} from '../../src/core/flake/guarded';
import { parseFlakeShow } from '../../src/core/flake/show';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import { EXPERIMENTAL } from '../../src/core/nix/args';
import { ExitError, run } from '../../src/core/nix/process';
import { makeRepo, nixTestEnv, scratchDir, testNix } from '../support/nix';

test('outputs named like Object.prototype members are keys like any other, and write nothing to Object.prototype', () => {
  const listing: GuardedListing = new Map();
  for (const attrPath of [
    ['__proto__', 'x86_64-linux', 'hello'],
    ['packages', 'x86_64-linux', 'constructor'],
    ['constructor', 'toString'],
  ]) {
    listing.set(attrPath.join('\0'), { attrPath, leaf: { t: 'derivation', name: attrPath[attrPath.length - 1] } });
  }
  const json = showJsonFromListing(listing);
  assert.equal(({} as Record<string, unknown>)['x86_64-linux'], undefined, 'Object.prototype untouched');
  assert.deepEqual(Object.keys(json).sort(), ['__proto__', 'constructor', 'packages']);
  const parsed = parseFlakeShow(JSON.stringify(json));
  assert.ok(parsed.ok);
  assert.equal(namesOnly('constructor'), true);
  assert.equal(guardedShape('toString'), 'flat');
});

test('a listing entry without an attribute path is left out', () => {
  const listing: GuardedListing = new Map([
    ['', { attrPath: [], leaf: { t: 'derivation', name: 'nothing' } }],
    ['packages\0x86_64-linux\0hello', { attrPath: ['packages', 'x86_64-linux', 'hello'], leaf: { t: 'derivation', name: 'hello' } }],
  ]);
  assert.deepEqual(Object.keys(showJsonFromListing(listing)), ['packages']);
});

// The guarded listing a failing `nix flake show` falls back to, against real nix: an output that throws is caught by
// tryEval and marked broken; one that aborts (not catchable) fails its whole category, which is then halved by name
// until the aborting leaf is found; the other outputs are listed.
test('listGuarded finds the broken outputs of a flake with real nix, halving a category that fails as a whole', async () => {
  const dir = makeRepo(mkdtempSync(join(scratchDir(), 'guarded-')), {
    'flake.nix': `{
  outputs = { self }: let
    d = name: derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
  in {
    packages.x86_64-linux = { a = d "a"; b = d "b"; c = d "c"; bad = abort "bad package"; e = d "e"; f = d "f"; thrown = throw "thrown on purpose"; };
    checks.x86_64-linux.ok = d "ok";
  };
}
`,
  });
  const evaluate: GuardedEval = async (category, apply) => {
    try {
      const r = await run(
        testNix(),
        [...EXPERIMENTAL, 'eval', '--no-write-lock-file', '--json', `path:${dir}#${category}`, '--apply', apply],
        { env: nixTestEnv() },
      );
      return { ok: true, json: JSON.parse(r.stdout) as unknown };
    } catch (e) {
      if (!(e instanceof ExitError)) throw e;
      const text = e.stderrLines.join('\n');
      return { ok: false, error: parseNixErrors(text)[0]?.message ?? e.stderrTail(3), missing: /does not provide attribute/.test(text) };
    }
  };
  const { listing, broken, evaluations } = await listGuarded({
    categories: ['packages', 'checks', 'apps'],
    systems: ['x86_64-linux'],
    evaluate,
  });
  const leaves = new Map([...listing.values()].map(({ attrPath, leaf }) => [attrPath.join('.'), leaf.t]));
  assert.deepEqual(Object.fromEntries(leaves), {
    'packages.x86_64-linux.a': 'derivation',
    'packages.x86_64-linux.b': 'derivation',
    'packages.x86_64-linux.c': 'derivation',
    'packages.x86_64-linux.bad': 'broken',
    'packages.x86_64-linux.e': 'derivation',
    'packages.x86_64-linux.f': 'derivation',
    'packages.x86_64-linux.thrown': 'broken',
    'checks.x86_64-linux.ok': 'derivation',
  });
  assert.match(broken.get(['packages', 'x86_64-linux', 'bad'].join('\0')) ?? '', /bad package/);
  assert.equal(broken.get(['packages', 'x86_64-linux', 'thrown'].join('\0')), 'evaluation failed (throw or assert)');
  assert.ok(evaluations <= 12, `${evaluations} evaluations`);
});

test("listGuarded stops at a category that fails with the flake's own error, and keeps to its budget", async () => {
  const calls: string[] = [];
  const r = await listGuarded({
    categories: ['packages', 'checks', 'apps'],
    systems: [],
    flakeError: 'syntax error, unexpected end of file',
    evaluate: async (category) => {
      calls.push(category);
      return { ok: false, error: 'syntax error, unexpected end of file', missing: false };
    },
  });
  assert.deepEqual(calls, ['packages', 'packages']);
  assert.equal(r.listing.size, 0);

  let n = 0;
  const many = Array.from({ length: 64 }, (_, i) => `p${i}`);
  const bounded = await listGuarded({
    categories: ['packages'],
    systems: ['x'],
    budget: 5,
    evaluate: async (_c, apply) => {
      n++;
      if (apply.includes('attrNames')) return { ok: true, json: { x: many } };
      return { ok: false, error: 'abort', missing: false };
    },
  });
  assert.equal(n, 2 + 5, 'the whole category, its names, then the budget');
  assert.equal(bounded.broken.size, 64, 'what the budget does not reach is marked broken');
});
