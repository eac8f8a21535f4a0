// The Build CodeLens on a generated 20,000-line flake.nix: what `provideCodeLenses` (features/codeLens) computes for
// each new version of a flake.nix document, measured interleaved with splitting the text into lines.
//  - syntacticLenses(text, { isFlakeNix: true }): builder calls, plus the bindings under `packages.<system>`;
//  - reconcile(…, text): merged with the lenses evaluation placed. A placed binding lens with no syntactic twin (a
//    formatter taken from nixpkgs, `checks.<system>.x = pkgs.y`) is found again by its key in the scan the syntactic
//    lenses came from (it used to rescan the text and key every binding: 24 ms);
//  - a LineIndex of the text, and the position of every lens.
// Not included: the two doc.getText() calls and the vscode.CodeLens objects (this process has no `vscode`).
// Two states, both judged: lens-flake-nix once the flake has been evaluated (every edit from then on), and
// lens-flake-nix-pending before (the first versions after opening). Goal for both: < 20 ms.
// What evaluation places is computed once, as the extension does, from the records Nix would give for this text
// (unsafeGetAttrPos of each output; meta.position = the line of `description`; outputs from nixpkgs point there).
import { interleave, judge, main, pairedDetail } from './lib';
import { packageFlake } from './nixgen';
import { reconcile, semanticLenses, syntacticLenses, type PositionRecord, type SemanticLens } from '../src/core/lens';
import { DEFAULT_BUILDERS, LineIndex, scanNix } from '../src/core/source';
import type { MappedFile } from '../src/core/errors/storePath';

const TARGET_LINES = 20_000;
const SYSTEM = 'x86_64-linux';
const WORKSPACE = '/home/user/generated-flake';
const FILE = `${WORKSPACE}/flake.nix`;
const STORE_SOURCE = '/nix/store/0c0vbm6mjvz6dj3hsdz0xl5jqvj2bkq4-source';
const NIXPKGS = '/nix/store/9ryq3ssxd7pxzrfskp4yq8ddm2wcy5cd-source';

/** The positions query's answer for this text, found with plain text search (independent of the scanner). */
function records(text: string): PositionRecord[] {
  const lines = text.split('\n');
  const at = (re: RegExp) => {
    for (let i = 0; i < lines.length; i++) {
      const m = re.exec(lines[i]);
      if (m) return { file: `${STORE_SOURCE}/flake.nix`, line: i + 1, column: m.index + (m[1]?.length ?? 0) + 1 };
    }
    throw new Error(`not in the generated flake: ${re}`);
  };
  const description = new Map<string, number>();
  const out: PositionRecord[] = [];
  lines.forEach((l, i) => {
    const m = /description = "Example package number (\d+)"/.exec(l);
    if (m) description.set(`pkg${m[1]}`, i + 1);
  });
  const meta = (pkg: string) => ({ file: `${STORE_SOURCE}/flake.nix`, line: description.get(pkg)! });
  lines.forEach((l, i) => {
    const call = /^(\s*)(pkg\d+) = /.exec(l);
    if (call) {
      const name = call[2];
      out.push({
        attrPath: ['packages', SYSTEM, name],
        attrPos: { file: `${STORE_SOURCE}/flake.nix`, line: i + 1, column: call[1].length + 1 },
        metaPosition: meta(name),
        mainProgram: name.replace('pkg', 'pkg-'),
        metaRead: true,
      });
    }
    const alias = /^(\s*)(pkg\d+)-alias = self\.packages\.x86_64-linux\.(pkg\d+);/.exec(l);
    if (alias) {
      out.push({
        attrPath: ['packages', SYSTEM, `${alias[2]}-alias`],
        attrPos: { file: `${STORE_SOURCE}/flake.nix`, line: i + 1, column: alias[1].length + 1 },
        metaPosition: meta(alias[3]),
        mainProgram: alias[3].replace('pkg', 'pkg-'),
        metaRead: true,
      });
    }
  });
  out.push({
    attrPath: ['devShells', SYSTEM, 'default'],
    attrPos: at(/^(\s*)devShells\.x86_64-linux\.default = /),
    metaPosition: { file: `${NIXPKGS}/pkgs/build-support/mkshell/default.nix`, line: 14 },
    metaRead: true,
  });
  out.push({
    attrPath: ['checks', SYSTEM, 'pkg0'],
    attrPos: at(/^(\s*)checks\.x86_64-linux\.pkg0 = /),
    metaPosition: meta('pkg0'),
    mainProgram: 'pkg-0',
    metaRead: true,
  });
  out.push({
    attrPath: ['formatter', SYSTEM],
    attrPos: at(/^(\s*)formatter\.x86_64-linux = /),
    metaPosition: { file: `${NIXPKGS}/pkgs/by-name/ni/nixfmt-rfc-style/package.nix`, line: 30 },
    mainProgram: 'nixfmt',
    metaRead: true,
  });
  return out;
}

function map(file: string): MappedFile {
  if (file.startsWith(`${STORE_SOURCE}/`))
    return { kind: 'workspace', path: `${WORKSPACE}/${file.slice(STORE_SOURCE.length + 1)}`, match: 'hash' };
  return { kind: 'input', label: 'nixpkgs', storePath: NIXPKGS, rel: file.slice(NIXPKGS.length + 1) };
}

/** provideCodeLenses for a new version of a flake.nix, without the `vscode` objects: the lenses it would return. */
function provide(text: string, semantic: readonly SemanticLens[] | undefined): number {
  const lenses = syntacticLenses(text, { isFlakeNix: true, builders: DEFAULT_BUILDERS });
  const reconciled = reconcile(lenses, semantic, text);
  const idx = new LineIndex(text);
  let shown = 0;
  for (const lens of reconciled) {
    const p = idx.positionAt(lens.range.start);
    if (p.line < 0) continue;
    if (lens.state === 'pending') {
      if (lens.guess?.attrPath || lens.guess?.isPackage) shown++;
    } else if (lens.installables[0]) {
      shown += 1 + (lens.installables[0].command === 'develop' ? 1 : 0) + (lens.installables[0].runnable ? 1 : 0) + 1;
    }
  }
  return shown;
}

main(async () => {
  const text = packageFlake(TARGET_LINES);
  const lineCount = text.split('\n').length;
  const placed = semanticLenses({
    records: records(text),
    map,
    sources: (p) => (p === FILE ? text : undefined),
    flakeRef: WORKSPACE,
    system: SYSTEM,
  });
  const semantic = placed.get(FILE) ?? [];
  const pending = reconcile(syntacticLenses(text, { isFlakeNix: true }), undefined);
  const resolved = reconcile(syntacticLenses(text, { isFlakeNix: true }), semantic, text);
  const formatter = resolved.find((l) => l.state === 'resolved' && l.installables.some((i) => i.category === 'formatter'));
  console.log(
    `lens bench: flake.nix of ${lineCount} lines, ${text.length} characters; ${pending.length} lenses before evaluation, ` +
      `${semantic.length} placed by evaluation, ${resolved.length} shown after (formatter ${formatter ? 'found again' : 'LOST'})`,
  );
  if (resolved.length !== semantic.length || !formatter) throw new Error('the generated flake did not reconcile as expected');

  const split = () => text.split('\n');
  const opts = { clock: 'cpu' as const, warmup: 10, minPairs: 61, maxPairs: 301, tolerance: 0.01, budgetMs: 10_000 };

  const evaluated = await interleave(() => provide(text, semantic), split, opts);
  judge(
    'lens-flake-nix',
    evaluated.subjectMs,
    { bound: 20, strict: true, unit: 'ms' },
    [
      'per version of an evaluated flake.nix: syntacticLenses (as flake.nix) + reconcile with the placed lenses + positions',
      pairedDetail(evaluated, 'lenses', 'text.split'),
    ],
    [evaluated.subjectLow, evaluated.subjectHigh],
  );
  const before = await interleave(() => provide(text, undefined), split, opts);
  judge(
    'lens-flake-nix-pending',
    before.subjectMs,
    { bound: 20, strict: true, unit: 'ms' },
    ['per version before evaluation: syntacticLenses (as flake.nix) + positions', pairedDetail(before, 'lenses', 'text.split')],
    [before.subjectLow, before.subjectHigh],
  );

  // Where the time goes (not judged): the scan every step starts from.
  const scan = await interleave(() => scanNix(text), split, { ...opts, minPairs: 31, budgetMs: 4_000 });
  const syntactic = await interleave(() => syntacticLenses(text, { isFlakeNix: true }), split, { ...opts, minPairs: 31, budgetMs: 4_000 });
  console.log(
    `    of which: scanNix ${scan.subjectMs.toFixed(1)} ms; syntacticLenses (one scan) ${syntactic.subjectMs.toFixed(1)} ms; the rest is reconcile and positions (a LineIndex)`,
  );
});
