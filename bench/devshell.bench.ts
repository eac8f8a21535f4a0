// Dev shells, on the fixture flake's default shell (test/fixtures/flakes/devshell), measured interleaved:
// - devshell-cached: applying the cached environment on reopen (readCachedDevShell: the record read and checked, its
//   profile's presence, nix's output read again as untrusted input, the changes made, applied to an environment)
//   against reading the cache file alone. Goal: time ratio ≤ 3.
// - devshell-cold: evaluating and applying it as the extension does with nothing cached (evaluateDevShell: nix
//   print-dev-env --json --profile through the process layer, the output read, the changes made and applied)
//   against a bare `nix print-dev-env --json` of the same shell, spawned directly. Goal: time ratio ≤ 1.1. Saving it
//   for the next time (the flake's key from git, the record written atomically, older generations removed) runs
//   after the environment is applied, as in the extension; it is awaited untimed after each run (`afterSubject`),
//   so that it slows neither side, and its own time is printed.
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bareRun, interleave, judge, main, median, pairedDetail } from './lib';
import { performance } from 'node:perf_hooks';
import {
  applyMutations,
  devShellInstallable,
  devShellKeyParts,
  evaluateDevShell,
  readCachedDevShell,
  saveDevShell,
} from '../src/core/flake/devShell';

import { flakeCacheKey } from '../src/core/flake/cacheKey';
import { nixArgs } from '../src/core/nix/args';
import { run } from '../src/core/nix/process';
import { copyFixture, nixTestEnv, scratchDir, testNix } from '../test/support/nix';

main(async () => {
  const dir = copyFixture('devshell');
  const env = nixTestEnv();
  const nix = testNix();
  const inst = devShellInstallable(`git+file://${dir}`, 'x86_64-linux', 'default')!;
  const profile = join(scratchDir(), 'devshell-bench');
  const record = `${profile}.json`;
  const printDevEnv = (args: string[]) => run(nix, nixArgs(['print-dev-env'], args), { env, log: () => undefined });
  const key = () =>
    flakeCacheKey(dir, { extra: devShellKeyParts({ nix, system: 'x86_64-linux', name: 'default', extraArgs: [], offline: false }), env });
  const first = await evaluateDevShell({ installable: inst, profile, printDevEnv });
  if (first.ok) await saveDevShell({ installable: inst, profile, json: first.json, key: await key() });
  if (!first.ok || first.env.variables.PROBE_VAR !== 'set by the default shell')
    throw new Error(`unexpected: ${JSON.stringify(first).slice(0, 300)}`);
  console.log(
    `devshell bench: ${inst}, ${Object.keys(first.env.variables).length} variables applied, cache record ${readFileSync(record).length} bytes`,
  );

  const cached = await interleave(
    async () => {
      const c = await readCachedDevShell(record);
      if (!c) throw new Error('no cached shell');
      applyMutations(process.env, c.mutations);
    },
    () => readFile(record, 'utf8'),
    { clock: 'wall', warmup: 20, minPairs: 61, maxPairs: 401, tolerance: 0.02, budgetMs: 15_000 },
  );
  judge(
    'devshell-cached',
    cached.ratio,
    { bound: 3, note: 'applying the cached environment against reading the cache file' },
    [pairedDetail(cached, 'cached apply', 'read the file')],
    [cached.ratioLow, cached.ratioHigh],
  );

  const bareArgs = nixArgs(['print-dev-env'], ['--json', inst]);
  let save: (() => Promise<unknown>) | undefined;
  const saveMs: number[] = [];
  const cold = await interleave(
    async () => {
      await rm(record, { force: true });
      const r = await evaluateDevShell({ installable: inst, profile, printDevEnv });
      if (!r.ok) throw new Error(r.message);
      applyMutations(process.env, r.mutations);
      save = async () => saveDevShell({ installable: inst, profile, json: r.json, key: await key() });
    },
    async () => {
      const out = await bareRun(nix, bareArgs, { env });
      if (!out.includes('PROBE_VAR')) throw new Error('bare print-dev-env printed no PROBE_VAR');
    },
    {
      clock: 'wall',
      warmup: 3,
      minPairs: 31,
      maxPairs: 201,
      tolerance: 0.02,
      budgetMs: 40_000,
      afterSubject: async () => {
        const t0 = performance.now();
        await save?.();
        saveMs.push(performance.now() - t0);
      },
    },
  );
  judge(
    'devshell-cold',
    cold.ratio,
    { bound: 1.1, note: 'a cold apply against a bare nix print-dev-env --json' },
    [
      pairedDetail(cold, 'cold apply', 'bare nix'),
      `saving it afterwards (key from git, record, old generations): ${median(saveMs).toFixed(2)} ms (median)`,
    ],
    [cold.ratioLow, cold.ratioHigh],
  );
});
