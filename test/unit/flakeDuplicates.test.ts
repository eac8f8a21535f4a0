import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findInput, parseFlakeLock, type FlakeLock } from '../../src/core/flake/lock';
import { findDuplicateInputs, findDuplicateInputsAcross, followsSuggestion, sourceOf } from '../../src/core/flake/duplicates';

const fixture = (name: string): string => readFileSync(path.resolve('test/fixtures/captured/flake', name), 'utf8');

function lockOf(text: string): FlakeLock {
  const r = parseFlakeLock(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.lock;
}

const gh = (owner: string, repo: string, rev: string, lastModified: number, ref?: string) => ({
  locked: { lastModified, narHash: `sha256-${rev}`, owner, repo, rev, type: 'github' },
  original: { owner, repo, type: 'github', ...(ref ? { ref } : {}) },
});
const lock = (nodes: object) => lockOf(JSON.stringify({ nodes, root: 'root', version: 7 }));

test('real 2.8 lock: the fake nixpkgs locked twice, with the follows that fix it', () => {
  const groups = findDuplicateInputs(lockOf(fixture('nix-2.8-flake.lock.before.json')));
  assert.equal(groups.length, 1);
  const [g] = groups;
  assert.equal(g.source, 'git:file:///tmp/h-flake/nixpkgs');
  assert.equal(g.label, 'git+file:///tmp/h-flake/nixpkgs');
  assert.equal(g.type, 'git');
  assert.deepEqual(
    g.occurrences.map((o) => [o.id, o.nodeKey, o.shortRev]),
    [
      ['a/nixpkgs', 'nixpkgs', 'da8d391'],
      ['c/a/nixpkgs', 'nixpkgs_2', 'da8d391'],
      ['nixpkgs', 'nixpkgs_3', '7fb6ceb'],
    ],
  );
  assert.deepEqual(g.revisions.sort(), ['7fb6ceb28e4359e3b48bb9d5a25f1ddf2476a1d6', 'da8d391a26e75fecee26bf92e706c9372a4c647c']);
  assert.equal(g.oldest, 1759320000);
  assert.equal(g.newest, 1763640000);
  assert.equal(g.spreadDays, 50);
  assert.deepEqual(
    g.suggestions.map((s) => [s.input, s.dep, s.target, s.nix]),
    [
      ['a', 'nixpkgs', 'nixpkgs', 'inputs.a.inputs.nixpkgs.follows = "nixpkgs";'],
      ['c', 'a/nixpkgs', 'nixpkgs', 'inputs.c.inputs.a.inputs.nixpkgs.follows = "nixpkgs";'],
    ],
  );
  assert.ok(g.occurrences.every((o) => o.nodeRange !== undefined && o.flake === undefined));
});

test('real 2.8 lock after updating input a: c/a now lags behind a; following it also fixes c/a/nixpkgs', () => {
  const groups = findDuplicateInputs(lockOf(fixture('nix-2.8-flake.lock.after-update-a.json')));
  assert.deepEqual(
    groups.map((g) => g.source),
    ['git:file:///tmp/h-flake/a', 'git:file:///tmp/h-flake/nixpkgs'],
  );
  const [a, nixpkgs] = groups;
  assert.deepEqual(
    a.occurrences.map((o) => o.id),
    ['a', 'c/a'],
  );
  assert.deepEqual(
    a.suggestions.map((s) => s.nix),
    ['inputs.c.inputs.a.follows = "a";'],
  );
  assert.deepEqual(
    nixpkgs.occurrences.map((o) => `${o.id}@${o.shortRev}`),
    ['a/nixpkgs@7fb6ceb', 'c/a/nixpkgs@da8d391', 'nixpkgs@7fb6ceb'],
  );
  // inputs.c.inputs.a.inputs.nixpkgs would override an input of the followed flake: not suggested.
  assert.deepEqual(nixpkgs.suggestions, []);
});

test('github sources match case-insensitively; root-level duplicates get no follows', () => {
  const groups = findDuplicateInputs(lockOf(fixture('handwritten-github-flake.lock.json')));
  assert.equal(groups.length, 1);
  const [g] = groups;
  assert.equal(g.source, 'github:github.com/nixos/nixpkgs');
  assert.equal(g.label, 'github:NixOS/nixpkgs');
  assert.deepEqual(
    g.occurrences.map((o) => o.id),
    ['a/b/nixpkgs', 'home-manager/nixpkgs', 'nixpkgs', 'nixpkgs-stable', 'registry'],
  );
  assert.equal(g.revisions.length, 4);
  assert.deepEqual(
    g.suggestions.map((s) => [s.input, s.dep, s.target, s.nix]),
    [
      ['a', 'b/nixpkgs', 'nixpkgs', 'inputs.a.inputs.b.inputs.nixpkgs.follows = "nixpkgs";'],
      ['home-manager', 'nixpkgs', 'nixpkgs', 'inputs.home-manager.inputs.nixpkgs.follows = "nixpkgs";'],
    ],
  );
});

test('the target prefers the same name, then the same branch, then the newest', () => {
  const l = lock({
    root: { inputs: { hm: 'hm', 'nixpkgs-stable': 'stable', unstable: 'unstable' } },
    hm: { ...gh('nix-community', 'home-manager', 'h', 1), inputs: { nixpkgs: 'old' } },
    old: gh('NixOS', 'nixpkgs', 'o', 100, 'nixos-24.05'),
    stable: gh('NixOS', 'nixpkgs', 's', 200, 'nixos-24.05'),
    unstable: gh('NixOS', 'nixpkgs', 'u', 300, 'nixos-unstable'),
  });
  const [g] = findDuplicateInputs(l);
  assert.deepEqual(
    g.suggestions.map((s) => [s.dep, s.target]),
    [['nixpkgs', 'nixpkgs-stable']],
  );
});

test('without a root input of that source, the older copy follows the newer one', () => {
  const l = lock({
    root: { inputs: { x: 'x', y: 'y' } },
    x: { ...gh('o', 'x', 'x', 1), inputs: { nixpkgs: 'n1' } },
    y: { ...gh('o', 'y', 'y', 1), inputs: { nixpkgs: 'n2' } },
    n1: gh('NixOS', 'nixpkgs', 'r1', 100),
    n2: gh('NixOS', 'nixpkgs', 'r2', 200),
  });
  const [g] = findDuplicateInputs(l);
  assert.deepEqual(
    g.suggestions.map((s) => s.nix),
    ['inputs.x.inputs.nixpkgs.follows = "y/nixpkgs";'],
  );
  // Three copies: all follow the same one, never each other.
  const three = lock({
    root: { inputs: { x: 'x', y: 'y', z: 'z' } },
    x: { ...gh('o', 'x', 'x', 1), inputs: { nixpkgs: 'n1' } },
    y: { ...gh('o', 'y', 'y', 1), inputs: { nixpkgs: 'n2' } },
    z: { ...gh('o', 'z', 'z', 1), inputs: { nixpkgs: 'n3' } },
    n1: gh('NixOS', 'nixpkgs', 'r1', 300),
    n2: gh('NixOS', 'nixpkgs', 'r2', 200),
    n3: gh('NixOS', 'nixpkgs', 'r3', 100),
  });
  assert.deepEqual(
    findDuplicateInputs(three)[0].suggestions.map((s) => `${s.input}/${s.dep}->${s.target}`),
    ['y/nixpkgs->x/nixpkgs', 'z/nixpkgs->x/nixpkgs'],
  );
});

test('names that follows cannot express get no suggestion', () => {
  const l = lock({
    root: { inputs: { nixpkgs: 'n1', 'my.input': 'm' } },
    m: { ...gh('o', 'm', 'm', 1), inputs: { nixpkgs: 'n2' } },
    n1: gh('NixOS', 'nixpkgs', 'r1', 100),
    n2: gh('NixOS', 'nixpkgs', 'r2', 200),
  });
  const [g] = findDuplicateInputs(l);
  assert.equal(g.occurrences.length, 2);
  assert.deepEqual(g.suggestions, []);
  assert.equal(followsSuggestion(['nixpkgs'], ['other']), undefined);
  assert.equal(followsSuggestion(['a', 'b'], ['a', 'b', 'c']), undefined);
  assert.equal(followsSuggestion(['a', 'b'], []), undefined);
  assert.deepEqual(followsSuggestion(['a', 'b'], ['b'], 'flake1'), {
    flake: 'flake1',
    input: 'a',
    dep: 'b',
    target: 'b',
    path: ['a', 'b'],
    nix: 'inputs.a.inputs.b.follows = "b";',
  });
});

test('same revision everywhere is not a duplicate; follows entries are not occurrences', () => {
  const l = lock({
    root: { inputs: { nixpkgs: 'n1', hm: 'hm', other: 'o' } },
    hm: { ...gh('o', 'hm', 'h', 1), inputs: { nixpkgs: ['nixpkgs'] } },
    o: { ...gh('o', 'o', 'o', 1), inputs: { nixpkgs: 'n2' } },
    n1: gh('NixOS', 'nixpkgs', 'r1', 100),
    n2: gh('NixOS', 'nixpkgs', 'r1', 100),
  });
  assert.deepEqual(findDuplicateInputs(l), []);
});

test('git URLs on github.com are the same source as github: references; channel tarballs by their URL', () => {
  const l = lock({
    root: { inputs: { nixpkgs: 'n1', x: 'x', c1: 'c1', y: 'y' } },
    x: { ...gh('o', 'x', 'x', 1), inputs: { nixpkgs: 'g' } },
    n1: gh('NixOS', 'nixpkgs', 'r1', 100),
    g: {
      locked: { lastModified: 50, narHash: 'sha256-g', ref: 'main', rev: 'r2', type: 'git', url: 'https://github.com/nixos/nixpkgs.git' },
      original: { type: 'git', url: 'https://github.com/nixos/nixpkgs.git', ref: 'main' },
    },
    c1: {
      locked: { narHash: 'sha256-c1', type: 'tarball', url: 'https://releases.nixos.org/nixos/25.05/nixos-25.05.1.aaa/nixexprs.tar.xz' },
      original: { type: 'tarball', url: 'https://channels.nixos.org/nixos-25.05/nixexprs.tar.xz' },
    },
    y: { ...gh('o', 'y', 'y', 1), inputs: { chan: 'c2' } },
    c2: {
      locked: { narHash: 'sha256-c2', type: 'tarball', url: 'https://releases.nixos.org/nixos/25.05/nixos-25.05.2.bbb/nixexprs.tar.xz' },
      original: { type: 'tarball', url: 'https://channels.nixos.org/nixos-25.05/nixexprs.tar.xz?x=1' },
    },
  });
  const groups = findDuplicateInputs(l);
  assert.deepEqual(
    groups.map((g) => g.source),
    ['github:github.com/nixos/nixpkgs', 'url:https://channels.nixos.org/nixos-25.05/nixexprs.tar.xz'],
  );
  assert.deepEqual(
    groups[0].suggestions.map((s) => s.nix),
    ['inputs.x.inputs.nixpkgs.follows = "nixpkgs";'],
  );
  assert.equal(groups[1].spreadDays, undefined);
  assert.deepEqual(groups[1].revisions, ['sha256-c1', 'sha256-c2']);
  const g = findInput(l, 'x/nixpkgs');
  assert.ok(g);
  assert.equal(sourceOf(g)?.label, 'github:nixos/nixpkgs');
});

test('across lock files: occurrences are labelled, suggestions stay within their flake', () => {
  const before = lockOf(fixture('nix-2.8-flake.lock.before.json'));
  const after = lockOf(fixture('nix-2.8-flake.lock.after-update.json'));
  const groups = findDuplicateInputsAcross([
    { flake: 'one', lock: before },
    { flake: 'two', lock: after },
  ]);
  const g = groups.find((x) => x.source === 'git:file:///tmp/h-flake/nixpkgs');
  assert.ok(g);
  assert.deepEqual(
    g.occurrences.map((o) => `${o.flake}:${o.id}`),
    ['one:a/nixpkgs', 'one:c/a/nixpkgs', 'one:nixpkgs', 'two:a/nixpkgs', 'two:c/a/nixpkgs', 'two:extra/nixpkgs', 'two:nixpkgs'],
  );
  assert.equal(g.revisions.length, 3);
  assert.ok(g.suggestions.every((s) => s.flake === 'one' || s.flake === 'two'));
  assert.deepEqual(
    g.suggestions.filter((s) => s.flake === 'two').map((s) => `${s.input}/${s.dep}`),
    ['a/nixpkgs', 'extra/nixpkgs'],
  );
  // In 'two', c/a lags behind a: following a is suggested instead of overriding c/a/nixpkgs.
  const aGroup = groups.find((x) => x.source === 'git:file:///tmp/h-flake/a');
  assert.deepEqual(
    aGroup?.suggestions.map((s) => `${s.flake}: ${s.nix}`),
    ['two: inputs.c.inputs.a.follows = "a";'],
  );
  // Two flakes pinning nixpkgs differently at the top level: reported, nothing to follow.
  const a = lock({ root: { inputs: { nixpkgs: 'n' } }, n: gh('NixOS', 'nixpkgs', 'r1', 100) });
  const b = lock({ root: { inputs: { nixpkgs: 'n' } }, n: gh('NixOS', 'nixpkgs', 'r2', 100 + 86400 * 3) });
  const [cross] = findDuplicateInputsAcross([
    { flake: 'a', lock: a },
    { flake: 'b', lock: b },
  ]);
  assert.deepEqual(
    cross.occurrences.map((o) => o.flake),
    ['a', 'b'],
  );
  assert.equal(cross.spreadDays, 3);
  assert.deepEqual(cross.suggestions, []);
});

test('thousands of copies of one source stay fast', () => {
  const nodes: Record<string, object> = {};
  const rootInputs: Record<string, string> = {};
  for (let i = 0; i < 3000; i++) {
    rootInputs[`r${i}`] = `r${i}`;
    nodes[`r${i}`] = { ...gh('NixOS', 'nixpkgs', `root${i}`, i), inputs: { nixpkgs: `n${i}` } };
    nodes[`n${i}`] = gh('NixOS', 'nixpkgs', `dep${i}`, 10_000 + i);
  }
  nodes.root = { inputs: rootInputs };
  const start = Date.now();
  const [g] = findDuplicateInputs(lock(nodes));
  assert.equal(g.occurrences.length, 6000);
  assert.equal(g.suggestions.length, 3000);
  assert.ok(Date.now() - start < 8000, `${Date.now() - start} ms`);
});
