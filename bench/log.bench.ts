// log-reader: the internal-json reader plus build-progress state, against bare JSON.parse of the same lines, measured
// interleaved. Goal: time ratio ≤ 1.25 (the reader keeps at least 0.8× the throughput of JSON.parse).
// The lines are built from record shapes captured from a real Nix 2.8 build (test/fixtures/captured/log/).
import { interleave, judge, main, pairedDetail } from './lib';
import { parseLogLine } from '../src/core/log/internalJson';
import { BuildProgress } from '../src/core/log/progress';

// About 1,000 builds. Short samples, many pairs: a sample seldom shares its time slice with a load spike, and the
// median of a few hundred ratios holds within about 1% on a loaded 2-core machine (240,000-line samples did not).
const TARGET_LINES = 24_000;
const BASE_ID = 28200755265536; // (pid << 32) as in the capture

/** One build's worth of records, shaped exactly like the captured ones. */
function buildCycle(n: number, out: string[]): void {
  const realise = BASE_ID;
  const builds = BASE_ID + 1;
  const copies = BASE_ID + 2;
  const id = BASE_ID + 10 + n * 2;
  const copy = id + 1;
  const drv = `/nix/store/gr4sl0430k9mpk0d5rfrpvwmy63dl${String(n % 1000).padStart(3, '0')}-hlog-dep-${n}.drv`;
  const progress = (done: number, running: number) => {
    out.push(`@nix {"action":"result","fields":[${done},${n + 10},${running},0],"id":${builds},"type":105}`);
    out.push(`@nix {"action":"result","fields":[0,0,0,0],"id":${copies},"type":105}`);
    out.push(`@nix {"action":"result","fields":[101,0],"id":${realise},"type":106}`);
    out.push(`@nix {"action":"result","fields":[100,0],"id":${realise},"type":106}`);
  };
  out.push(`@nix {"action":"start","fields":["${drv}","",1,1],"id":${id},"level":3,"text":"building '${drv}'","type":105}`);
  progress(n, 1);
  for (const phase of ['unpackPhase', 'buildPhase', 'installPhase']) {
    out.push(`@nix {"action":"result","fields":["${phase}"],"id":${id},"type":104}`);
    for (let i = 0; i < 3; i++)
      out.push(`@nix {"action":"result","fields":["${phase} output line ${i} of build ${n}"],"id":${id},"type":101}`);
  }
  progress(n + 1, 0);
  out.push(`@nix {"action":"stop","id":${id}}`);
  out.push(
    `@nix {"action":"start","fields":["/nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-hlog-big","file:///tmp/h-log/cache","local"],"id":${copy},"level":3,"text":"copying path '/nix/store/mhrbzrvp290g7vlwxzlawfdh0nlxyzqd-hlog-big' from 'file:///tmp/h-log/cache'","type":100}`,
  );
  for (let b = 1; b <= 4; b++) out.push(`@nix {"action":"result","fields":[${b * 8192},3500112,0,0],"id":${copy},"type":105}`);
  out.push(`@nix {"action":"stop","id":${copy}}`);
  out.push(`@nix {"action":"msg","level":4,"msg":"using revision de53b1d23a1884f7abf5dd6de861b27a0b0ae5a7 of repo '/tmp/h-log/f'"}`);
}

function buildLines(): string[] {
  const out = [
    `@nix {"action":"start","id":${BASE_ID},"level":0,"text":"","type":102}`,
    `@nix {"action":"start","id":${BASE_ID + 1},"level":0,"text":"","type":104}`,
    `@nix {"action":"start","id":${BASE_ID + 2},"level":0,"text":"","type":103}`,
  ];
  for (let n = 0; out.length < TARGET_LINES; n++) buildCycle(n, out);
  return out;
}

main(async () => {
  const lines = buildLines();
  let sink = 0;
  const baseline = () => {
    for (const line of lines) sink += (JSON.parse(line.slice(5)) as { action: string }).action.length;
  };
  // What the build feature does with each stderr line (features/build/build.ts): parse it, feed the progress; and a
  // snapshot for the status bar.
  const reader = () => {
    const progress = new BuildProgress();
    for (const line of lines) progress.feed(parseLogLine(line));
    sink += progress.snapshot().built;
  };
  console.log(
    `log bench: ${lines.length.toLocaleString('en-US')} internal-json lines (start/stop/result/msg, shapes from a Nix 2.8 capture)`,
  );
  const p = await interleave(reader, baseline, {
    clock: 'cpu',
    warmup: 10,
    minPairs: 61,
    maxPairs: 401,
    tolerance: 0.01,
    budgetMs: 15_000,
  });
  const perSecond = (ms: number) => `${Math.round(lines.length / (ms / 1000)).toLocaleString('en-US')} lines/s`;
  judge(
    'log-reader',
    p.ratio,
    { bound: 1.25, note: 'i.e. ≥ 0.8× the throughput of JSON.parse' },
    [
      'parseLogLine + BuildProgress.feed per line, against bare JSON.parse of the same lines (time ratio)',
      pairedDetail(p, 'reader+progress', 'JSON.parse'),
      `throughput ${(1 / p.ratio).toFixed(2)}× JSON.parse: ${perSecond(p.subjectMs)} against ${perSecond(p.baselineMs)}`,
    ],
    [p.ratioLow, p.ratioHigh],
  );
  if (sink === -1) console.log(sink); // keep the work observable
});
