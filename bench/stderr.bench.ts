// The process layer's stderr stream: 100 MB of short lines (4,000,000 lines of 25 bytes, like the build log lines of
// `nix build -L`) read through run() — line splitting, a line callback, the last 4 MiB kept as lines (maxStderr) —
// against a bare baseline reading the same bytes: child_process.spawn of the same command, the lines split with
// indexOf and handed to the same callback, the last 4 MiB of bytes collected and split into lines at the end (the
// least any reader must do to give the same result). Both start the command in a session and process group of its
// own (run() must, to cancel everything it started; with Linux's autogroup scheduling a new session is also a new
// scheduling group, which alone moved the figure by ±0.2 on a loaded machine). Measured interleaved, elapsed time.
// Goal: time ratio ≤ 1.25 (run() keeps at least 0.8× the throughput of the bare read; before the ring buffer, 12 MB
// of short lines did not finish in 300 s: every dropped line shifted the whole tail). Also printed, not judged: the
// ratio to a bare read that keeps nothing, and the throughput of JSON.parse on the same 100 MB.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { interleave, judge, main, pairedDetail } from './lib';
import { run } from '../src/core/nix/process';

const LINES = 4_000_000;
const LINE = 'building phase line 0123'; // 24 characters + newline: 100 MB in all
const SCRIPT = `yes '${LINE}' | head -n ${LINES} >&2`;

const TAIL = 4 * 1024 * 1024;

/**
 * The bare read: spawn, decode, split at newlines, call back; with `keepTail`, the last TAIL bytes collected as they
 * came and split into the lines that fit at the end. Resolves with the line count and the kept lines.
 */
function bare(onLine: (line: string) => void, keepTail: boolean): Promise<{ count: number; kept: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const decoder = new StringDecoder('utf8');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let rest = '';
    let count = 0;
    child.stderr.on('data', (b: Buffer) => {
      if (keepTail) {
        chunks.push(b);
        bytes += b.length;
        while (bytes - chunks[0].length >= TAIL) bytes -= (chunks.shift() as Buffer).length;
      }
      const s = rest + decoder.write(b);
      let from = 0;
      for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', from)) {
        onLine(s.slice(from, nl));
        count++;
        from = nl + 1;
      }
      rest = s.slice(from);
    });
    child.on('error', reject);
    child.on('close', () => {
      let kept: string[] = [];
      if (keepTail) {
        const all = Buffer.concat(chunks);
        const lines = all
          .subarray(Math.max(0, all.length - TAIL))
          .toString('utf8')
          .split('\n');
        lines.pop(); // after the last newline
        kept = all.length > TAIL ? lines.slice(1) : lines; // the first one is cut
      }
      resolve({ count, kept });
    });
  });
}

main(async () => {
  let seen = 0;
  const onLine = (line: string): void => {
    seen += line.length;
  };
  const viaRun = await run('/bin/sh', ['-c', SCRIPT], { onStderrLine: onLine });
  const viaBare = await bare(onLine, true);
  const kept = viaRun.stderrLines.length;
  if (viaBare.count !== LINES || viaRun.truncated?.stderrLines !== LINES - kept || Math.abs(viaBare.kept.length - kept) > 1) {
    throw new Error(
      `unexpected: bare read ${viaBare.count} lines and kept ${viaBare.kept.length}; run() kept ${kept} and dropped ${viaRun.truncated?.stderrLines}`,
    );
  }
  const mb = (LINES * (LINE.length + 1)) / 1e6;
  console.log(
    `stderr bench: ${LINES.toLocaleString('en-US')} lines, ${mb.toFixed(0)} MB on stderr; ` +
      `run() keeps the last ${kept.toLocaleString('en-US')} (4 MiB) and reports ${viaRun.truncated?.stderrLines.toLocaleString('en-US')} dropped`,
  );
  const subject = () => run('/bin/sh', ['-c', SCRIPT], { onStderrLine: onLine });
  const p = await interleave(subject, () => bare(onLine, true), {
    clock: 'wall',
    warmup: 2,
    minPairs: 11,
    maxPairs: 31,
    tolerance: 0.02,
    budgetMs: 60_000,
  });
  const mbps = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  // Context, not judged: a read that keeps nothing, and JSON.parse of the same bytes as one JSON array of strings.
  const nothing = await interleave(subject, () => bare(onLine, false), {
    clock: 'wall',
    warmup: 1,
    minPairs: 7,
    maxPairs: 11,
    tolerance: 0.05,
    budgetMs: 15_000,
  });
  const json = `[${Array.from({ length: LINES }, () => JSON.stringify(LINE)).join(',')}]`;
  const j0 = performance.now();
  const parsed = JSON.parse(json) as string[];
  const jsonMs = performance.now() - j0;
  judge(
    'stderr-100mb',
    p.ratio,
    { bound: 1.25, note: 'i.e. ≥ 0.8× the throughput of a bare spawn reading the same lines' },
    [
      'run() with onStderrLine (the last 4 MiB kept as lines), against child_process.spawn + indexOf line splitting + the last 4 MiB collected (time ratio)',
      pairedDetail(p, 'run()', 'bare spawn'),
      `throughput ${mbps(p.subjectMs)} against ${mbps(p.baselineMs)}`,
      `against a bare read that keeps nothing: ratio ${nothing.ratio.toFixed(3)} (${mbps(nothing.baselineMs)}); JSON.parse of the same ${mb.toFixed(0)} MB as a JSON array of ${parsed.length.toLocaleString('en-US')} strings: ${mbps(jsonMs)}`,
    ],
    [p.ratioLow, p.ratioHigh],
  );
  if (seen === -1) console.log(seen); // keep the work observable
});
