// The Flake Outputs tree's cost against nix itself:
//  - cold: spawning `nix flake show --json` through the process layer, parsing and modelling it, against running
//    the same command bare (goal: ratio ≤ 1.05);
//  - warm reopen: what a window reload with nothing changed does (the git-state cache key, then the cached output
//    parsed into the model), for flakes of 200 and 2,000 packages (goal ≤ 50 ms, flat in flake size).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { medianAsync, report } from './lib';
import { makeRepo, nixTestEnv, scratchDir } from '../test/support/nix';
import { run } from '../src/core/nix/process';
import { nixArgs } from '../src/core/nix/args';
import { parseFlakeShow } from '../src/core/flake/show';
import { flakeCacheKey } from '../src/core/flake/cacheKey';

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

async function main() {
  const env = nixTestEnv();
  process.env.NIX_CONFIG = env.NIX_CONFIG;
  const dir = generatedFlake(200);
  const args = nixArgs(['flake', 'show'], ['--json', dir]);
  const bare = () => {
    const r = spawnSync('nix', args, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout;
  };
  const ours = async () => {
    const r = await run('nix', args, { env });
    const m = parseFlakeShow(r.stdout, { system: 'x86_64-linux' });
    if (!m.ok) throw new Error(m.error.message);
    return m.model;
  };
  bare(); // warm the eval cache and the store: both sides then measure the same work
  const baseline = await medianAsync(async () => bare(), 7, 1);
  const cold = await medianAsync(ours, 7, 1);
  report('outputs-cold (200 packages: spawn + parse + model vs bare nix flake show --json)', cold, baseline, '(goal ≤ 1.05)');

  for (const n of [200, 2000]) {
    const d = n === 200 ? dir : generatedFlake(n);
    const stdout = execFileSync('nix', nixArgs(['flake', 'show'], ['--json', d]), { env, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
    const warm = await medianAsync(async () => {
      await flakeCacheKey(d, { extra: ['Nix 2.8.0', 'x86_64-linux'] });
      const m = parseFlakeShow(stdout, { system: 'x86_64-linux' });
      if (!m.ok) throw new Error(m.error.message);
    }, 9, 2);
    const split = await medianAsync(async () => stdout.split('\n'), 9, 2);
    console.log(`bench outputs-warm-reopen (${n} packages): ${warm.toFixed(2)} ms (goal ≤ 50 ms; flat in size), vs splitting the cached text ${split.toFixed(3)} ms`);
  }
}

void main();
