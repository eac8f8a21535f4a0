// Export for offline use against a bare `nix copy` of the same closure. The closure: the deploy-host fixture's NixOS
// toplevel stand-in with two packages of 48 MB and 96 MB (zeros: the time goes to reading, hashing and compressing
// the NARs, not to the disk). Subject: the export's core path (exportMedium with the process layer's run(): flake
// metadata, the build (already done), path-info, nix copy --to file://…?compression=zstd with progress records, nix
// flake archive --to, the manifest); baseline: `nix copy --to file://…?compression=zstd <toplevel>` alone. Each side
// writes into a fresh empty folder every time (the cache would otherwise hold everything already). Interleaved,
// elapsed time. Goal: time ratio ≤ 1.5 (the export runs four more nix commands than the bare copy).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { interleave, judge, main, pairedDetail } from './lib';
import { exportMedium, type NixRunner } from '../src/core/airgap';
import { run } from '../src/core/nix/process';
import { EXPERIMENTAL } from '../src/core/nix/args';
import { commitAll, nixTestEnv, scratchDir, testNix } from '../test/support/nix';
import { copyDeployFixture } from '../test/support/testHost';

main(async () => {
  const env = nixTestEnv();
  const flake = copyDeployFixture('deploy-host');
  const host = join(flake, 'host.nix');
  writeFileSync(host, readFileSync(host, 'utf8').replace('size = 4096;', 'size = 48000000;').replace('size = 20480;', 'size = 96000000;'));
  commitAll(flake, 'bigger packages');
  const installable = `${flake}#nixosConfigurations.web.config.system.build.toplevel`;
  const toplevel = execFileSync(testNix(), [...EXPERIMENTAL, 'build', '--no-link', '--print-out-paths', installable], {
    env,
    encoding: 'utf8',
  }).trim();
  const runner: NixRunner = { nix: testNix(), exec: (f, a, o) => run(f, a, o), env };
  const privateDir = mkdtempSync(join(scratchDir(), 'bench-private-'));
  const fresh = () => mkdtempSync(join(scratchDir(), 'bench-medium-'));
  let narBytes = 0;
  const p = await interleave(
    async () => {
      const dir = fresh();
      const r = await exportMedium(runner, {
        flakeRef: flake,
        items: [{ display: '.#web', kind: 'host', installable }],
        medium: dir,
        privateDir,
      });
      narBytes = r.manifest.closure.narBytes;
      rmSync(dir, { recursive: true, force: true });
    },
    async () => {
      const dir = fresh();
      await run(testNix(), [...EXPERIMENTAL, 'copy', '--to', `file://${dir}?compression=zstd`, toplevel], { env });
      rmSync(dir, { recursive: true, force: true });
    },
    { clock: 'wall', warmup: 2, minPairs: 11, maxPairs: 41, tolerance: 0.03, budgetMs: 90_000 },
  );
  console.log(`airgap bench: a closure of ${(narBytes / 1e6).toFixed(0)} MB (NAR), ${testNix()}`);
  judge(
    'airgap-export',
    p.ratio,
    { bound: 1.5, note: 'Export for Offline Use against a bare nix copy --to file:// of the same closure' },
    [
      pairedDetail(p, 'export', 'nix copy'),
      `throughput: export ${(narBytes / 1e6 / (p.subjectMs / 1000)).toFixed(0)} MB/s, nix copy ${(narBytes / 1e6 / (p.baselineMs / 1000)).toFixed(0)} MB/s`,
    ],
    [p.ratioLow, p.ratioHigh],
  );
});
