import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { atLeast, capabilities, describe as describeNix, parseNixVersion } from '../../src/core/nix/version';
import { displayCommand, nixArgs, sanitizeExtraArgs } from '../../src/core/nix/args';
import { ByteLineSplitter, CancelledError, ExitError, run, SpawnError } from '../../src/core/nix/process';
import { splitLines } from '../../src/core/log/lines';
import { detectNix, hostSystem, parseVersionOutput } from '../../src/core/nix/detect';
import { makeRepo, nixTestEnv, processesWith, scratchDir } from '../support/nix';

describe('parseNixVersion', () => {
  test('CppNix', () => {
    const v = parseNixVersion('nix (Nix) 2.8.0\n');
    assert.deepEqual([v?.flavor, v?.major, v?.minor, v?.patch, v?.raw], ['nix', 2, 8, 0, '2.8.0']);
  });
  test('Lix, including a patched banner', () => {
    assert.equal(parseNixVersion('nix (Lix, like Nix) 2.91.1')?.flavor, 'lix');
    assert.equal(parseNixVersion('nix (Lix, like Nix) 2.90.0-lix')?.patch, 0);
    assert.equal(parseNixVersion('nix (but for lesbians) 2.92.0')?.flavor, 'lix');
  });
  test('Determinate: the Nix version is the last token', () => {
    const v = parseNixVersion('nix (Determinate Nix 3.14.0) 2.32.4');
    assert.deepEqual([v?.flavor, v?.major, v?.minor, v?.patch, v?.determinateVersion], ['determinate', 2, 32, 4, '3.14.0']);
    assert.equal(describeNix(v!), 'Determinate Nix 3.14.0 (Nix 2.32.4)');
  });
  test('suffixes and missing patch', () => {
    assert.equal(parseNixVersion('nix (Nix) 2.25.0pre20241101_abcdef')?.minor, 25);
    assert.equal(parseNixVersion('nix (Nix) 2.24.14-1')?.patch, 14);
    assert.equal(parseNixVersion('nix (Nix) 2.3')?.patch, 0);
  });
  test('garbage gives undefined, not a throw', () => {
    assert.equal(parseNixVersion(''), undefined);
    assert.equal(parseNixVersion('command not found'), undefined);
    assert.equal(parseNixVersion('\u0000\u00ff\ufffd'), undefined);
  });
});

describe('capabilities', () => {
  const caps = (s: string) => capabilities(parseNixVersion(s)!);
  test('2.8: old update syntax, no --print-out-paths, no --all-systems', () => {
    const c = caps('nix (Nix) 2.8.0');
    assert.equal(c.supported, true);
    assert.equal(c.flakeUpdateInputs, false);
    assert.equal(c.lockUpdateInput, true);
    assert.equal(c.printOutPaths, false);
    assert.equal(c.allSystems, false);
    assert.equal(c.evalCacheKeepsErrors, false);
  });
  test('2.19.0 removed --update-input, 2.19.2 brought it back as an alias', () => {
    assert.equal(caps('nix (Nix) 2.19.0').flakeUpdateInputs, true);
    assert.equal(caps('nix (Nix) 2.19.0').lockUpdateInput, false);
    assert.equal(caps('nix (Nix) 2.19.2').lockUpdateInput, true);
    assert.equal(caps('nix (Nix) 2.18.9').flakeUpdateInputs, false);
  });
  test('Lix refuses --update-input; Determinate 3.17 prints the inventory schema', () => {
    assert.equal(caps('nix (Lix, like Nix) 2.91.1').lockUpdateInput, false);
    assert.equal(caps('nix (Lix, like Nix) 2.91.1').flakeUpdateInputs, true);
    assert.equal(caps('nix (Determinate Nix 3.17.0) 2.32.4').flakeShowInventory, true);
    assert.equal(caps('nix (Determinate Nix 3.14.0) 2.32.4').flakeShowInventory, false);
    assert.equal(caps('nix (Nix) 2.32.4').flakeShowInventory, false);
  });
  test('older than 2.8 is unsupported', () => {
    assert.equal(caps('nix (Nix) 2.7.0').supported, false);
    assert.equal(caps('nix (Nix) 2.3.16').supported, false);
    assert.equal(atLeast({ major: 3, minor: 0, patch: 0 }, 2, 99), true);
  });
});

describe('nixArgs', () => {
  test('background runs never write the lock file; experimental features always on', () => {
    assert.deepEqual(nixArgs(['flake', 'show'], ['--json', '.']), [
      '--extra-experimental-features',
      'nix-command flakes',
      'flake',
      'show',
      '--no-write-lock-file',
      '--json',
      '.',
    ]);
  });
  test('explicit runs may write it; offline and extra args are passed', () => {
    const a = nixArgs(['build'], ['.#x'], { writeLockFile: true, offline: true, extraArgs: ['--option', 'max-jobs', '4'] });
    assert.ok(!a.includes('--no-write-lock-file'));
    assert.deepEqual(a.slice(3), ['--offline', '--option', 'max-jobs', '4', '.#x']);
  });
  test('commands without flake options get no --no-write-lock-file', () => {
    assert.deepEqual(nixArgs(['--version'], [], { flakeOptions: false }).slice(2), ['--version']);
  });
  test('--accept-flake-config is never passed, in any form', () => {
    const r = sanitizeExtraArgs([
      '--accept-flake-config',
      '-L',
      '--option',
      'accept-flake-config',
      'true',
      '--extra-accept-flake-config',
      '--option',
      'cores',
      '2',
    ]);
    assert.deepEqual(r.args, ['-L', '--option', 'cores', '2']);
    assert.equal(r.dropped.length, 5);
    assert.ok(!nixArgs(['build'], [], { extraArgs: ['--accept-flake-config=true'] }).some((a) => a.includes('accept-flake-config')));
  });
  test('command lines are quoted for display', () => {
    assert.equal(
      displayCommand('nix', ['build', '.#nixosConfigurations."my host".config', "it's"]),
      `nix build '.#nixosConfigurations."my host".config' 'it'\\''s'`,
    );
  });
  test('a leading # is quoted for display (a shell would read the rest as a comment)', () => {
    assert.equal(displayCommand('nix', ['eval', '#x', 'a#b', '.#pkg']), `nix eval '#x' a#b .#pkg`);
  });
  test('a displayed command line reads back, through /bin/sh, as the same arguments', async () => {
    const args = [
      '#comment',
      'a#b',
      '.#pkg',
      '',
      ' ',
      "it's",
      '$HOME',
      '`id`',
      '*',
      '~',
      '~root',
      '{a,b}',
      'a;b',
      'a|b',
      '!x',
      'x=y',
      '-',
      '--x=y',
      'line\nbreak',
      'tab\tx',
      '\\',
    ];
    // The program position too: `A=b` there would be an assignment, not a command.
    const shown = displayCommand('X=y', args);
    assert.match(shown, /^'X=y' /);
    const r = await run('/bin/sh', ['-c', `printf '%s\\0' ${shown.slice("'X=y' ".length)}`]);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), args);
  });
});

describe('run', () => {
  /** The `/bin/sleep <marker>` processes (the shell's own command line holds the marker too). */
  const sleeping = (marker: string) => processesWith(marker).filter((p) => p.cmd.startsWith('/bin/sleep'));
  test('streams lines and keeps stdout', async () => {
    const lines: string[] = [];
    const logs: string[] = [];
    const r = await run('/bin/sh', ['-c', 'echo a; echo b >&2; echo c'], { onStderrLine: (l) => lines.push(l), log: (m) => logs.push(m) });
    assert.equal(r.stdout, 'a\nc');
    assert.deepEqual(lines, ['b']);
    assert.match(logs[0], /^\$ \/bin\/sh -c/);
  });
  test('a non-zero exit is an ExitError with the command and stderr tail', async () => {
    await assert.rejects(run('/bin/sh', ['-c', 'echo oops >&2; exit 3']), (e: unknown) => {
      assert.ok(e instanceof ExitError);
      assert.equal(e.exitCode, 3);
      assert.equal(e.stderrTail(), 'oops');
      assert.match(e.message, /exited with code 3/);
      return true;
    });
  });
  test('the stderr tail and the message of an ExitError carry no escape or control character', async () => {
    await assert.rejects(
      run('/bin/sh', ['-c', "printf '\\033[31;1merror:\\033[0m bad\\001\\000 bytes\\r\\n' >&2; exit 1"]),
      (e: unknown) => {
        assert.ok(e instanceof ExitError);
        assert.equal(e.stderrTail(), 'error: bad bytes');
        assert.ok(!/[\u0000-\u0008\u000b-\u001f]/.test(e.message), JSON.stringify(e.message));
        return true;
      },
    );
  });
  test('a missing program is a SpawnError', async () => {
    await assert.rejects(run('/nonexistent/nix', ['--version']), (e: unknown) => e instanceof SpawnError && e.code === 'ENOENT');
  });
  test('stderr is bounded, keeping the tail', async () => {
    await assert.rejects(
      run('/bin/sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do echo line$i >&2; i=$((i+1)); done; exit 1'], { maxStderr: 1000 }),
      (e: unknown) => {
        assert.ok(e instanceof ExitError);
        assert.ok(e.stderrLines.join('\n').length <= 1000);
        assert.equal(e.stderrLines.at(-1), 'line2999');
        return true;
      },
    );
  });
  test('a stderr bound of 0 keeps no line and still reports the exit', async () => {
    await assert.rejects(run('/bin/sh', ['-c', 'echo one >&2; echo two >&2; exit 3'], { maxStderr: 0 }), (e: unknown) => {
      assert.ok(e instanceof ExitError);
      assert.equal(e.exitCode, 3);
      assert.deepEqual(e.stderrLines, []);
      return true;
    });
  });
  test('a 10 MB line does not break it', async () => {
    const r = await run('/bin/sh', ['-c', 'head -c 10000000 /dev/zero | tr "\\0" x; echo; echo end']);
    assert.equal(r.stdout.length, 10_000_000 + 4);
  });
  test('an aborted signal before start rejects at once', async () => {
    await assert.rejects(run('/bin/true', [], { signal: AbortSignal.abort() }), CancelledError);
  });
  test('the byte splitter gives the same lines at every chunk boundary: \\r\\n, UTF-8, cut lines, lengths only', () => {
    const texts = ['a\r\nbc\r\n\r\nd\re\nlast', 'é€😀\r\nxyz\n', '\n\n\r\n', 'long line here\r\nx', 'no newline\r', ''];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      for (const max of [3, 100]) {
        const want = splitLines(text).map((l) => [l.slice(0, max), l.length]);
        for (let a = 0; a <= bytes.length; a++) {
          for (let b = a; b <= bytes.length; b++) {
            const got: [string, number][] = [];
            const lengths: number[] = [];
            const withLines = new ByteLineSplitter(max, { line: (l, n) => got.push([l, n]) });
            const countOnly = new ByteLineSplitter(max, { length: (n) => lengths.push(n) });
            for (const sp of [withLines, countOnly]) {
              sp.write(bytes.subarray(0, a));
              sp.write(bytes.subarray(a, b));
              sp.write(bytes.subarray(b));
              sp.end();
            }
            const at = `${JSON.stringify(text)} split at ${a}, ${b}, max ${max}`;
            assert.deepEqual(got, want, at);
            assert.deepEqual(
              lengths,
              want.map(([, n]) => n),
              at,
            );
            assert.equal(withLines.lines, want.length, at);
          }
        }
      }
    }
  });
  test('kept stdout is its lines joined with \\n, as the splitter reads them', async () => {
    for (const text of ['a\\r\\nb\\r\\n', 'a\\n\\n', 'x\\r', 'y\\r\\n\\r', '\\n', '']) {
      const r = await run('/bin/sh', ['-c', `printf '${text}'`]);
      const want = splitLines(JSON.parse(`"${text}"`) as string).join('\n');
      assert.equal(r.stdout, want, JSON.stringify(text));
    }
  });
  test(
    '12 MB of short stderr lines stream in linear time, keeping the tail and saying how many were dropped (before: not done in 300 s)',
    { timeout: 60_000 },
    async () => {
      // 1,200,000 lines of 10 bytes; the tail kept is bounded by maxStderr (4 MiB by default).
      const logs: string[] = [];
      let seen = 0;
      const t0 = performance.now();
      const r = await run('/bin/sh', ['-c', "yes 'line 0123' | head -n 1200000 >&2; echo last >&2"], {
        onStderrLine: () => seen++,
        log: (m) => logs.push(m),
      });
      const ms = performance.now() - t0;
      assert.equal(seen, 1_200_001);
      assert.equal(r.stderrLines.at(-1), 'last');
      assert.ok(r.stderrLines.join('\n').length <= 4 * 1024 * 1024);
      assert.equal(r.truncated?.stderrLines, 1_200_001 - r.stderrLines.length);
      assert.ok(
        logs.some((l) => /stderr over 4194304 bytes/.test(l)),
        logs.join('\n'),
      );
      assert.ok(ms < 15_000, `${ms.toFixed(0)} ms`);
    },
  );
  test(
    'a single line longer than its bound is cut and said so: 200 MB on stdout holds no more than the bound',
    { timeout: 60_000 },
    async () => {
      const cmd = 'head -c 200000000 /dev/zero | tr "\\0" x; echo; echo end';
      // Kept stdout: over maxStdout is an error, as before; memory stays near the bound, not the line.
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const logs: string[] = [];
      try {
        await assert.rejects(run('/bin/sh', ['-c', cmd], { maxStdout: 1 << 20, log: (m) => logs.push(m) }), (e: unknown) => {
          assert.ok(e instanceof ExitError);
          assert.match(e.stderrTail(), /output larger than 1048576 characters/);
          assert.equal(e.truncated?.stdout, true);
          return true;
        });
      } finally {
        clearInterval(sampler);
      }
      assert.ok(peak - rss0 < 120 * 1024 * 1024, `${((peak - rss0) / 1048576).toFixed(0)} MB more resident memory`);
      assert.ok(logs.some((l) => /output over 1048576 characters/.test(l)));
      // Lines given to a callback: cut at maxLine, marked, counted; the next line arrives whole.
      const lines: string[] = [];
      const r = await run('/bin/sh', ['-c', cmd], { onStdoutLine: (l) => lines.push(l), maxLine: 1000, log: (m) => logs.push(m) });
      assert.deepEqual(
        lines.map((l) => l.length < 2000),
        [true, true],
      );
      assert.ok(lines[0].startsWith('x'.repeat(1000)) && lines[0].includes('199999000 more characters'), lines[0].slice(990));
      assert.equal(lines[1], 'end');
      assert.equal(r.truncated?.longLines, 1);
      assert.ok(
        logs.some((l) => /1 line longer than 1000 characters was cut/.test(l)),
        logs.join('\n'),
      );
    },
  );
  test('a long stderr line is cut to the bound, and a run within every bound reports nothing', async () => {
    const r = await run('/bin/sh', ['-c', 'head -c 5000 /dev/zero | tr "\\0" y >&2; echo >&2; echo ok >&2'], { maxLine: 100 });
    assert.equal(r.stderrLines.length, 2);
    assert.ok(r.stderrLines[0].startsWith('y'.repeat(100)) && r.stderrLines[0].endsWith('(4900 more characters)'));
    assert.equal(r.truncated?.longLines, 1);
    const clean = await run('/bin/sh', ['-c', 'echo a; echo b >&2']);
    assert.equal(clean.truncated, undefined);
    assert.equal(clean.dropped, undefined);
  });
  test('a line callback that throws marks that line unreadable; the run goes on and says how many and why', async () => {
    const seen: string[] = [];
    const logs: string[] = [];
    // The extension's own case: a 5,000-deep @nix JSON line made its handler throw (stack overflow).
    const deep = `@nix ${'['.repeat(5000)}${']'.repeat(5000)}`;
    const r = await run('/bin/sh', ['-c', `echo one >&2; printf '%s\\n' '${deep}' >&2; echo bad >&2; echo two >&2; echo out`], {
      onStderrLine: (l) => {
        if (l === 'bad') throw new TypeError('cannot read this');
        if (l.startsWith('@nix ')) {
          // A handler that walks the record recursively and runs out of stack, as JSON.stringify did.
          const walk = (v: unknown, n: number): number => (Array.isArray(v) ? walk(v[0], n + 1) + walk(v, n + 1) : n);
          walk(JSON.parse(l.slice(5)), 0);
        }
        seen.push(l);
      },
      log: (m) => logs.push(m),
    });
    assert.deepEqual(seen, ['one', 'two']);
    assert.equal(r.stdout, 'out');
    assert.equal(r.dropped?.lines, 2);
    assert.match(r.dropped?.firstError ?? '', /RangeError: Maximum call stack size exceeded/);
    assert.deepEqual(r.stderrLines.slice(-2), ['bad', 'two'], 'stderr itself is kept whole');
    assert.ok(
      logs.some((l) => /a line handler failed on 2 lines \(first, on stderr: RangeError: Maximum call stack size exceeded/.test(l)),
      logs.map((l) => l.slice(0, 200)).join('\n'),
    );
  });
  test('a failing run carries what was dropped, too', async () => {
    await assert.rejects(
      run('/bin/sh', ['-c', 'echo x >&2; exit 2'], {
        onStderrLine: () => {
          throw new Error('nope');
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof ExitError);
        assert.deepEqual(e.dropped, { lines: 1, firstError: 'Error: nope' });
        return true;
      },
    );
  });
  test('cancel ends the whole process group: a grandchild sleep is gone within the grace period (before: it ran on, 8 s)', async () => {
    const marker = `8.${process.pid}${Date.now() % 100000}`;
    const ac = new AbortController();
    const p = run('/bin/sh', ['-c', `/bin/sleep ${marker}; echo never`], { signal: ac.signal, graceMs: 2000 });
    for (let i = 0; i < 100 && sleeping(marker).length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(sleeping(marker).length, 1, 'the grandchild runs');
    const t0 = performance.now();
    ac.abort();
    await assert.rejects(p, CancelledError);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `cancelled in ${ms.toFixed(0)} ms: SIGTERM reached the whole group, no SIGKILL needed`);
    for (let i = 0; i < 20 && processesWith(marker).length; i++) await new Promise((res) => setTimeout(res, 25));
    assert.deepEqual(processesWith(marker), [], 'no grandchild outlives the cancelled run');
  });
  test('cancel: members that ignore SIGTERM get SIGKILL after the grace period', async () => {
    const marker = `9.${process.pid}${Date.now() % 100000}`;
    const ac = new AbortController();
    const logs: string[] = [];
    // An ignored signal stays ignored across exec: the shell and its sleep both ignore SIGTERM.
    const p = run('/bin/sh', ['-c', `trap '' TERM; /bin/sleep ${marker}; echo never`], {
      signal: ac.signal,
      graceMs: 500,
      log: (m) => logs.push(m),
    });
    for (let i = 0; i < 100 && sleeping(marker).length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(sleeping(marker).length, 1, 'the grandchild runs');
    const t0 = performance.now();
    ac.abort();
    await assert.rejects(p, CancelledError);
    const ms = performance.now() - t0;
    assert.ok(ms >= 450 && ms < 3000, `${ms.toFixed(0)} ms`);
    for (let i = 0; i < 20 && processesWith(marker).length; i++) await new Promise((res) => setTimeout(res, 25));
    assert.deepEqual(processesWith(marker), []);
    assert.ok(
      logs.some((l) => /killed after the grace period/.test(l)),
      logs.join('\n'),
    );
  });
  test('a run that is not cancelled waits for its own exit (and for output a child still writes); stdin is empty', async () => {
    const t0 = performance.now();
    const r = await run('/bin/sh', ['-c', 'cat; (sleep 0.3; echo late) & echo early']);
    assert.equal(r.stdout, 'early\nlate');
    assert.ok(performance.now() - t0 >= 280);
    const code = await run('/bin/sh', ['-c', 'sleep 0.2; exit 0']);
    assert.equal(code.exitCode, 0);
    await assert.rejects(run('/bin/sh', ['-c', 'kill -TERM $$']), (e: unknown) => e instanceof ExitError && e.signal === 'SIGTERM');
  });
});

describe('real nix', () => {
  const env = nixTestEnv();

  test('detectNix identifies the installed nix', async () => {
    const r = await detectNix(undefined, { env });
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.ok(r.nix.caps.supported);
    assert.match(r.nix.system, /^[a-z0-9_]+-[a-z]+$/);
    assert.equal(r.nix.storeDir, '/nix/store');
  });
  test('detectNix reports a missing configured binary clearly', async () => {
    const r = await detectNix('/nope/nix');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /nixFlakes\.nixPath/);
  });
  test('detectNix gives up on a nix that does not answer, stops it, and says so', async () => {
    const marker = `hanging-nix-${process.pid}-${Date.now()}`;
    const fake = join(mkdtempSync(join(scratchDir(), 'fake-nix-')), 'nix');
    writeFileSync(fake, `#!/bin/sh\nexec /bin/sh -c "sleep 30; : ${marker}"\n`);
    chmodSync(fake, 0o755);
    const t0 = performance.now();
    const r = await detectNix(fake, { timeoutMs: 300 });
    assert.ok(performance.now() - t0 < 5000, 'bounded');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'failed');
    assert.match(!r.ok ? r.message : '', /did not answer within 0 s; it was stopped/);
    assert.deepEqual(processesWith(marker), [], 'the probe was stopped');
  });
  test('parseVersionOutput reads system and store', () => {
    const p = parseVersionOutput('nix (Nix) 2.8.0\nSystem type: aarch64-darwin\nStore directory: /nix/store\n');
    assert.deepEqual([p.system, p.storeDir], ['aarch64-darwin', '/nix/store']);
    assert.equal(hostSystem('arm64', 'darwin'), 'aarch64-darwin');
  });

  test('cancelling a build stops nix and every builder under it', async () => {
    // A unique sleep duration marks this test's builder processes (the builder's own command line holds it too).
    const marker = `${300000 + (process.pid % 100000)}.${Date.now() % 100000}`;
    const dir = makeRepo(join(scratchDir(), 'cancel'), {
      'flake.nix': `{
  outputs = { self }: {
    packages.x86_64-linux.slow = builtins.derivation {
      name = "slow"; system = "x86_64-linux"; builder = "/bin/sh";
      args = [ "-c" "/bin/sleep ${marker} & /bin/sleep ${marker}; echo > $out" ];
    };
  };
}
`,
    });
    const ac = new AbortController();
    let poll: NodeJS.Timeout | undefined;
    const started = new Promise<void>((res) => {
      poll = setInterval(() => {
        if (processesWith(marker).filter((p) => p.cmd.startsWith('/bin/sleep')).length === 2) res();
      }, 100);
    }).finally(() => clearInterval(poll));
    const p = run('nix', nixArgs(['build'], ['--no-link', '-L', `${dir}#packages.x86_64-linux.slow`], { writeLockFile: true }), {
      cwd: dir,
      env,
      signal: ac.signal,
      graceMs: 5000,
    });
    try {
      await Promise.race([started, p.then(() => assert.fail('build finished'))]);
    } finally {
      clearInterval(poll);
    }
    const t0 = Date.now();
    ac.abort();
    await assert.rejects(p, CancelledError);
    // nix kills the builder's process group on SIGTERM; give the kernel a moment to reap.
    for (let i = 0; i < 20 && processesWith(marker).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(processesWith(marker), [], 'no builder outlives the cancelled build');
    assert.ok(Date.now() - t0 < 5000, 'nix stopped on SIGTERM, before the grace period ran out');
  });
});
