// The Flake Outputs tree's cost against nix itself, on generated flakes of 200 and 2,000 packages:
//  - outputs-cold: what an evaluation of the tree does once the cache key says "changed" (the features/outputs
//    service's evaluateKey): `nix flake show --json` through the process layer (spawn, line splitting, bounded
//    buffers, the same arguments and environment as `ctx.runNix`), then the warnings read from stderr and the
//    output parsed into the model; against the same command spawned bare (child_process.spawn in a session of its
//    own like every run, stdout collected).
//    Goal: ratio ≤ 1.05.
//  - outputs-warm-reopen: what a window reload with nothing changed does (the service's currentKey — git rev-parse
//    and git status — then the cached output parsed into the model), at 2,000 packages. Goal: ≤ 50 ms.
//  - outputs-warm-flat: the same at 2,000 packages against 200 packages, interleaved. Goal: ratio ≤ 1.25 (ten
//    times the packages may cost at most a quarter more: the reopen does not grow with the flake).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { bareRun, interleave, judge, main, pairedDetail } from './lib';
import { makeRepo, nixTestEnv, scratchDir, testNix } from '../test/support/nix';
import { run } from '../src/core/nix/process';
import { nixArgs, nixEnv } from '../src/core/nix/args';
import { parseFlakeShow } from '../src/core/flake/show';
import { parseFlakeShowWarnings } from '../src/core/flake/warnings';
import { flakeCacheKey } from '../src/core/flake/cacheKey';

const SYSTEM = 'x86_64-linux';

function generatedFlake(n: number): string {
  return makeRepo(join(scratchDir(), `bench-${n}`), {
    'flake.nix': `{
  outputs = { self }: {
    packages.x86_64-linux = builtins.listToAttrs (map (i: {
      name = "pkg-\${toString i}";
      value = builtins.derivation { name = "pkg-\${toString i}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
    }) (builtins.genList (i: i) ${n}));
  };
}
`,
  });
}

/** The absolute path of the nix the benchmark runs (the extension runs nix by its absolute path too). */
function nixPath(env: NodeJS.ProcessEnv): string {
  const nix = testNix();
  if (nix.includes('/')) return nix;
  return execFileSync('sh', ['-c', 'command -v "$0"', nix], { env, encoding: 'utf8' }).trim();
}

main(async () => {
  const env = nixTestEnv();
  // flakeCacheKey's git runs inherit the environment, as in the extension host.
  process.env.NIX_CONFIG = env.NIX_CONFIG;
  const nix = nixPath(env);
  const version = execFileSync(nix, ['--version'], { env, encoding: 'utf8' }).trim();
  const dirs = { 200: generatedFlake(200), 2000: generatedFlake(2000) };
  console.log(`outputs bench: ${version}, flakes of 200 and 2,000 packages (${SYSTEM})`);

  // --- cold ---------------------------------------------------------------------------------------------------
  const dir = dirs[200];
  const args = nixArgs(['flake', 'show'], ['--json', dir]);
  const childEnv = nixEnv(env);
  const bare = () => bareRun(nix, args, { cwd: dir, env: childEnv });
  const ours = async () => {
    const r = await run(nix, args, { cwd: dir, env: childEnv, log: () => undefined });
    const stderr = r.stderrLines.join('\n');
    const parsed = parseFlakeShow(r.stdout, { system: SYSTEM, warnings: parseFlakeShowWarnings(stderr) });
    if (!parsed.ok) throw new Error(parsed.error.message);
    return parsed.model;
  };
  // The warm-up fills nix's eval cache and the store: both sides then do the same work.
  const cold = await interleave(ours, bare, { warmup: 4, minPairs: 31, maxPairs: 301, tolerance: 0.015, budgetMs: 45_000 });
  judge(
    'outputs-cold',
    cold.ratio,
    { bound: 1.05 },
    [
      '200 packages: process layer + warnings + parse + model, against bare `nix flake show --json`',
      pairedDetail(cold, 'ours', 'bare nix'),
      'not included: the cache key computed just before (two git processes; it is what outputs-warm-reopen measures)',
    ],
    [cold.ratioLow, cold.ratioHigh],
  );

  // --- warm reopen ----------------------------------------------------------------------------------------------
  const cached: Record<number, string> = {};
  for (const n of [200, 2000] as const) {
    cached[n] = execFileSync(nix, nixArgs(['flake', 'show'], ['--json', dirs[n]]), {
      env: childEnv,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  const extra = [version.replace(/^nix \(Nix\) /, 'Nix '), SYSTEM, '', 'false'];
  const reopen = (n: 200 | 2000) => async () => {
    const key = await flakeCacheKey(dirs[n], { extra });
    if (!key) throw new Error('no cache key: not a git work tree?');
    const parsed = parseFlakeShow(cached[n], { system: SYSTEM });
    if (!parsed.ok) throw new Error(parsed.error.message);
    parseFlakeShowWarnings('');
    return parsed.model;
  };
  const warm = await interleave(reopen(2000), reopen(200), { warmup: 4, minPairs: 31, maxPairs: 401, tolerance: 0.015, budgetMs: 25_000 });
  judge(
    'outputs-warm-reopen',
    warm.subjectMs,
    { bound: 50, unit: 'ms' },
    [
      `2,000 packages: cache key (git rev-parse + git status) + cached output (${(cached[2000].length / 1024).toFixed(0)} KiB) parsed into the model`,
      `200 packages: ${warm.baselineMs.toFixed(1)} ms (median of ${warm.pairs})`,
    ],
    [warm.subjectLow, warm.subjectHigh],
  );
  judge(
    'outputs-warm-flat',
    warm.ratio,
    { bound: 1.25, note: '2,000 against 200 packages' },
    [pairedDetail(warm, '2,000 packages', '200 packages')],
    [warm.ratioLow, warm.ratioHigh],
  );

  rmSync(scratchDir(), { recursive: true, force: true });
});
