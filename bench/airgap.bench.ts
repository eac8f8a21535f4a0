// Export for offline use against a bare `nix copy` of the same closure. The closure: the deploy-host fixture's NixOS
// toplevel stand-in with two packages of 48 MB and 96 MB (zeros: the time goes to reading, hashing and compressing
// the NARs, not to the disk). Subject: the export's core path (exportMedium with the process layer's run(): flake
// metadata, the build (already done), path-info, nix copy --to file://…?compression=zstd with progress records, nix
// flake archive --to, the manifest); baseline: `nix copy --to file://…?compression=zstd <toplevel>` alone. Each side
// writes into a fresh empty folder every time (the cache would otherwise hold everything already). Interleaved,
// elapsed time. Two baselines: the same nix commands typed by hand one after another (flake metadata for the
// revision, build, path-info for the sizes, copy --to, flake archive --to: what the medium's manifest and contents
// need) — goal: ratio ≤ 1.1, the export's own cost (process layer, progress, manifest, instructions) —, and the bare
// nix copy of the closure alone, whose ratio is printed (the export carries more than that copy).
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
  const exportOnce = async () => {
    const dir = fresh();
    const r = await exportMedium(runner, {
      flakeRef: flake,
      items: [{ display: '.#web', kind: 'host', installable }],
      medium: dir,
      privateDir,
    });
    narBytes = r.manifest.closure.narBytes;
    rmSync(dir, { recursive: true, force: true });
  };
  const nix = (args: string[]) => run(testNix(), [...EXPERIMENTAL, ...args], { env });
  const byHand = async () => {
    const dir = fresh();
    await nix(['flake', 'metadata', '--json', flake]);
    await nix(['build', '--no-link', installable]);
    await nix(['path-info', '-r', '--json', toplevel]);
    await nix(['copy', '--to', `file://${dir}?compression=zstd`, toplevel]);
    await nix(['flake', 'archive', '--to', `file://${dir}?compression=zstd`, flake]);
    rmSync(dir, { recursive: true, force: true });
  };
  const copyOnly = async () => {
    const dir = fresh();
    await nix(['copy', '--to', `file://${dir}?compression=zstd`, toplevel]);
    rmSync(dir, { recursive: true, force: true });
  };
  const opts = { clock: 'wall' as const, warmup: 2, minPairs: 11, maxPairs: 41, tolerance: 0.03, budgetMs: 90_000 };
  const hand = await interleave(exportOnce, byHand, opts);
  const copy = await interleave(exportOnce, copyOnly, opts);
  console.log(`airgap bench: a closure of ${(narBytes / 1e6).toFixed(0)} MB (NAR), ${testNix()}`);
  judge(
    'airgap-export',
    hand.ratio,
    { bound: 1.1, note: 'Export for Offline Use against the same nix commands typed by hand, one after another' },
    [
      pairedDetail(hand, 'export', 'by hand'),
      `against a bare nix copy of the closure alone: ${pairedDetail(copy, 'export', 'nix copy')}`,
      `throughput: export ${(narBytes / 1e6 / (copy.subjectMs / 1000)).toFixed(0)} MB/s, nix copy ${(narBytes / 1e6 / (copy.baselineMs / 1000)).toFixed(0)} MB/s`,
    ],
    [hand.ratioLow, hand.ratioHigh],
  );
});
