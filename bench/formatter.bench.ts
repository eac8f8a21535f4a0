// Formatting with the flake's formatter, warm (the formatter resolved: no nix): a 2,000-line .nix file through the
// provider's core path — formatText with the process layer's run(), stdin in and stdout kept exactly, in a private
// empty folder — against running the same formatter program directly: child_process.spawn in a session of its own
// (as run() must start every program, so that cancel reaches what it starts), the text written to stdin, stdout
// collected. The program is the test fixture's formatter (test/fixtures/flakes/format/fmt.sh: awk over the text),
// the one its flake builds. Measured interleaved, elapsed time. Goal: time ratio ≤ 1.2.
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareRun, interleave, judge, main, pairedDetail } from './lib';
import { formatText } from '../src/core/flake/formatter';
import { run } from '../src/core/nix/process';
import { fixtureSource } from '../test/support/nix';

const LINES = 2000;

/** A 2,000-line Nix file with tabs and trailing blanks for the formatter to fix. */
function document(): string {
  const out = ['{ lib, ... }:', '{'];
  for (let i = 0; out.length < LINES - 1; i++) {
    out.push(`\tpackage${i} = {`, `\t\tname = "package-${i}";   `, `\t\tversion = "1.${i}";`, '\t\tdeps = [ lib.a lib.b ];\t', '\t};');
  }
  out.length = LINES - 1;
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** The formatter run directly: spawn, stdin, stdout. */
const direct = (program: string, text: string, cwd: string) => bareRun(program, [], { cwd, input: text });

main(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nix-flakes-fmt-bench-'));
  try {
    const program = join(dir, 'fixture-fmt');
    copyFileSync(join(fixtureSource('format'), 'fmt.sh'), program);
    chmodSync(program, 0o755);
    const scratch = mkdtempSync(join(dir, 'scratch-'));
    const text = document();
    const opts = { fileName: 'big.nix', relPath: 'big.nix', flakeDir: dir, scratch, mode: 'stdin' as const, run, log: () => undefined };
    const viaCore = await formatText(program, text, opts);
    const viaDirect = await direct(program, text, scratch);
    if (!viaCore.ok || viaCore.text !== viaDirect || viaDirect === text)
      throw new Error(`unexpected: ${JSON.stringify(viaCore).slice(0, 200)}`);
    console.log(
      `formatter bench: ${LINES} lines, ${text.length.toLocaleString('en-US')} characters, formatted to ${viaDirect.length.toLocaleString('en-US')}`,
    );
    const p = await interleave(
      async () => {
        const r = await formatText(program, text, opts);
        if (!r.ok) throw new Error(r.message);
      },
      () => direct(program, text, scratch),
      { clock: 'wall', warmup: 5, minPairs: 31, maxPairs: 201, tolerance: 0.02, budgetMs: 30_000 },
    );
    judge(
      'formatter-warm',
      p.ratio,
      { bound: 1.2, note: 'formatting through the provider against the formatter run directly' },
      [pairedDetail(p, 'provider', 'direct')],
      [p.ratioLow, p.ratioHigh],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
