// flake.lock parsing (core/flake/lock, read in Restricted Mode and on every change of the file) on generated lock
// files of about 1 MB, each measured interleaved with bare JSON.parse of the same text (CPU time of this process).
// Shapes: a realistic lock (2,000 github inputs whose own inputs follow the root's), and hostile ones: a chain of
// 55,000 follows, a follows cycle of 50,000, follows through follows (width^depth steps unmemoised), 20,000 paths to
// one node with 3,000 attributes, a chain of 16,000 nodes, a lattice of 2^40 paths.
// Goal for each: time ratio ≤ 25 to JSON.parse. The parse keeps the offset of every value in the file (jsonc-parser's
// tree alone costs about 8× JSON.parse), checks the nodes it reaches, then resolves the follows and lists the inputs
// (up to 20,000 paths); a resolution that is not linear in the file's size misses the goal by orders of magnitude
// (before memoisation: 1.4 s for the 20,000-entry cycle, 140 s for the wide node, and the nested follows never
// finished). The subject's median time is printed too: each 1 MB shape parses well under a second.
import { interleave, judge, main, pairedDetail } from './lib';
import { allInputs, parseFlakeLock } from '../src/core/flake/lock';

const minimal = (nodes: object): string => JSON.stringify({ nodes, root: 'root', version: 7 });
const github = (owner: string, repo: string, rev: string) => ({
  locked: { lastModified: 1700000000, narHash: `sha256-${rev.slice(0, 43)}=`, owner, repo, rev, type: 'github' },
  original: { owner, ref: 'main', repo, type: 'github' },
});
const rev = (i: number): string => (i.toString(16).padStart(8, '0') + 'ab'.repeat(16)).slice(0, 40);

/** A lock as a big monorepo would have it: 2,000 inputs, each with inputs that follow the root's. */
function realistic(n: number): string {
  const nodes: Record<string, object> = { nixpkgs: github('NixOS', 'nixpkgs', rev(0)), systems: github('nix-systems', 'default', rev(1)) };
  const root: Record<string, unknown> = { nixpkgs: 'nixpkgs', systems: 'systems' };
  for (let i = 0; i < n; i++) {
    root[`input-${i}`] = `input-${i}`;
    nodes[`input-${i}`] = {
      ...github('owner', `repo-${i}`, rev(i + 2)),
      inputs: { nixpkgs: ['nixpkgs'], systems: ['systems'], utils: `utils_${i}` },
    };
    nodes[`utils_${i}`] = { ...github('numtide', 'flake-utils', rev(i + 100_000)), inputs: { systems: ['input-' + i, 'systems'] } };
  }
  nodes.root = { inputs: root };
  return minimal(nodes);
}

function followsChain(n: number): string {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < n - 1; i++) inputs[`f${i}`] = [`f${i + 1}`];
  inputs[`f${n - 1}`] = 'n';
  return minimal({ root: { inputs }, n: github('o', 'r', rev(9)) });
}

function followsCycle(n: number): string {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) inputs[`f${i}`] = [`f${(i + 1) % n}`];
  return minimal({ root: { inputs } });
}

function nestedFollows(levels: number, width: number, copies: number): string {
  const inputs: Record<string, unknown> = { p0: 'B' };
  const bInputs: Record<string, unknown> = { p0: 'B' };
  for (let k = 1; k <= levels; k++) {
    const path = Array.from({ length: width }, () => `p${k - 1}`);
    inputs[`p${k}`] = path;
    bInputs[`p${k}`] = path;
  }
  // The same structure again under other names, to fill the megabyte.
  for (let c = 0; c < copies; c++) for (let k = 1; k <= levels; k++) inputs[`c${c}p${k}`] = Array.from({ length: width }, () => `p${k}`);
  return minimal({ root: { inputs }, B: { ...github('o', 'b', rev(1)), inputs: bInputs } });
}

function wideNode(paths: number, attrs: number): string {
  const inputs: Record<string, unknown> = {};
  for (let i = 0; i < paths; i++) inputs[`w${i}`] = 'W';
  const extra = Object.fromEntries(Array.from({ length: attrs }, (_, i) => [`a${i}`, `v${i}`]));
  const w = github('o', 'w', rev(2));
  return minimal({ root: { inputs }, W: { locked: { ...w.locked, ...extra }, original: { ...w.original, ...extra } } });
}

function nodeChain(n: number): string {
  const nodes: Record<string, object> = { root: { inputs: { n0: 'n0' } } };
  for (let i = 0; i < n; i++) nodes[`n${i}`] = { locked: { type: 'path', path: `/n${i}` }, inputs: { next: `n${i + 1}`, back: ['n0'] } };
  nodes[`n${n}`] = { locked: { type: 'path', path: '/end' } };
  return minimal(nodes);
}

function lattice(levels: number, pad: number): string {
  const nodes: Record<string, object> = { root: { inputs: { l0: 'l0' } } };
  for (let i = 0; i < levels; i++) nodes[`l${i}`] = { ...github('o', `l${i}`, rev(i)), inputs: { left: `l${i + 1}`, right: `l${i + 1}` } };
  nodes[`l${levels}`] = github('o', 'end', rev(levels));
  // Unreachable nodes fill the megabyte (they are read by the JSON parser, not checked).
  for (let i = 0; i < pad; i++) nodes[`pad${i}`] = github('o', `pad${i}`, rev(i));
  return minimal(nodes);
}

const SHAPES: [string, () => string][] = [
  ['realistic', () => realistic(2000)],
  ['follows-chain', () => followsChain(55_000)],
  ['follows-cycle', () => followsCycle(50_000)],
  ['nested-follows', () => nestedFollows(12, 8, 1100)],
  ['wide-node', () => wideNode(20_000, 30_000)],
  ['node-chain', () => nodeChain(16_000)],
  ['lattice', () => lattice(40, 4000)],
];

main(async () => {
  let sink = 0;
  for (const [name, make] of SHAPES) {
    const text = make();
    const r = parseFlakeLock(text);
    if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
    const listed = allInputs(r.lock).length;
    const p = await interleave(
      () => {
        const x = parseFlakeLock(text);
        sink += x.ok ? x.lock.inputs.length : 0;
      },
      () => {
        sink += Object.keys((JSON.parse(text) as { nodes: object }).nodes).length;
      },
      { clock: 'cpu', warmup: 3, minPairs: 15, maxPairs: 61, tolerance: 0.03, budgetMs: 6_000 },
    );
    judge(
      `lock-${name}`,
      p.ratio,
      { bound: 25, note: `time ratio to JSON.parse of the same ${(text.length / 1e6).toFixed(2)} MB` },
      [
        `${(text.length / 1e6).toFixed(2)} MB, ${listed.toLocaleString('en-US')} inputs listed${r.lock.truncated ? ' (listing truncated at its bounds)' : ''}`,
        pairedDetail(p, 'parseFlakeLock', 'JSON.parse'),
      ],
      [p.ratioLow, p.ratioHigh],
    );
  }
  if (sink === -1) console.log(sink); // keep the work observable
});
