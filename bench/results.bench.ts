// Diff with HEAD against the two bare `nix build` runs it needs. The results fixture's manifests package with a value
// changed in the working tree (not committed), so the two builds give different results. Subject: what the command
// does outside the UI — the two builds through the process layer (`nix build --log-format internal-json -v --json
// --no-link --no-write-lock-file`, of `git+file://…?rev=<HEAD>` and of the working tree, concurrently, every stderr
// line read into the build progress; git rev-parse HEAD beside the working tree's build, before HEAD's), and the two
// results compared per file and per YAML resource. Baseline: `nix build --no-link --no-write-lock-file` of the same
// two installables, concurrently, spawned bare. Both results are in the store after the warm-up (what a repeated
// diff meets: nix evaluates and finds them built). Interleaved, elapsed time. Goal: ratio ≤ 1.2.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { interleave, judge, main, pairedDetail } from './lib';
import { run } from '../src/core/nix/process';
import { EXPERIMENTAL } from '../src/core/nix/args';
import { buildArgs, readBuildOutputs } from '../src/core/nix/build';
import { parseLogLine } from '../src/core/log/internalJson';
import { BuildProgress } from '../src/core/log/progress';
import { diffResults, revisionFlakeRef } from '../src/core/results/tree';
import { copyFixture, nixTestEnv, testNix } from '../test/support/nix';

main(async () => {
  const env = nixTestEnv();
  const flake = copyFixture('results');
  const values = join(flake, 'values.nix');
  writeFileSync(values, readFileSync(values, 'utf8').replace('replicas = 2;', 'replicas = 3;'));
  const attr = '#packages.x86_64-linux.manifests';
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: flake })).stdout.trim();
  const installables = [`${revisionFlakeRef(flake, flake, head)}${attr}`, `${flake}${attr}`];
  let changed = 0;
  const subject = async () => {
    const build = async (inst: string) => {
      const progress = new BuildProgress();
      const r = await run(testNix(), [...EXPERIMENTAL, 'build', '--no-write-lock-file', ...buildArgs(inst)], {
        env,
        cwd: flake,
        onStderrLine: (l) => progress.feed(parseLogLine(l)),
      });
      return readBuildOutputs(r.stdout).out!;
    };
    // As the command does: the working tree builds while git names HEAD and that build starts.
    const atHead = async () => {
      const rev = (await run('git', ['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd: flake })).stdout.trim();
      return build(`${revisionFlakeRef(flake, flake, rev)!}${attr}`);
    };
    const [before, after] = await Promise.all([atHead(), build(`${flake}${attr}`)]);
    const d = await diffResults(before, after);
    changed = d.changes.reduce((n, c) => n + (c.resources?.length ?? 1), 0);
  };
  const bare = () =>
    Promise.all(
      installables.map((i) => run(testNix(), [...EXPERIMENTAL, 'build', '--no-link', '--no-write-lock-file', i], { env, cwd: flake })),
    );
  const sequential = async () => {
    for (const i of installables)
      await run(testNix(), [...EXPERIMENTAL, 'build', '--no-link', '--no-write-lock-file', i], { env, cwd: flake });
  };
  const opts = { clock: 'wall' as const, warmup: 3, minPairs: 15, maxPairs: 61, tolerance: 0.02, budgetMs: 60_000 };
  const p = await interleave(subject, bare, opts);
  const s = await interleave(subject, sequential, { ...opts, minPairs: 11, budgetMs: 30_000 });
  console.log(`results bench: Diff with HEAD of the manifests fixture (${changed} change shown), ${testNix()}`);
  judge(
    'results-diff-head',
    p.ratio,
    { bound: 1.2, note: 'Diff with HEAD against the two bare nix build runs it needs (both concurrently)' },
    [
      pairedDetail(p, 'diff with HEAD', 'two bare builds'),
      `against the two bare builds one after another: ${pairedDetail(s, 'diff with HEAD', 'sequential builds')}`,
    ],
    [p.ratioLow, p.ratioHigh],
  );
});
