import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { atLeast, capabilities, describe as describeNix, parseNixVersion } from '../../src/core/nix/version';
import { displayCommand, nixArgs, sanitizeExtraArgs } from '../../src/core/nix/args';
import { CancelledError, ExitError, run, SpawnError } from '../../src/core/nix/process';
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
      '--extra-experimental-features', 'nix-command flakes', 'flake', 'show', '--no-write-lock-file', '--json', '.',
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
    const r = sanitizeExtraArgs(['--accept-flake-config', '-L', '--option', 'accept-flake-config', 'true', '--extra-accept-flake-config', '--option', 'cores', '2']);
    assert.deepEqual(r.args, ['-L', '--option', 'cores', '2']);
    assert.equal(r.dropped.length, 5);
    assert.ok(!nixArgs(['build'], [], { extraArgs: ['--accept-flake-config=true'] }).some((a) => a.includes('accept-flake-config')));
  });
  test('command lines are quoted for display', () => {
    assert.equal(displayCommand('nix', ['build', '.#nixosConfigurations."my host".config', "it's"]), `nix build '.#nixosConfigurations."my host".config' 'it'\\''s'`);
  });
  test('a leading # is quoted for display (a shell would read the rest as a comment)', () => {
    assert.equal(displayCommand('nix', ['eval', '#x', 'a#b', '.#pkg']), `nix eval '#x' a#b .#pkg`);
  });
  test('a displayed command line reads back, through /bin/sh, as the same arguments', async () => {
    const args = ['#comment', 'a#b', '.#pkg', '', ' ', "it's", '$HOME', '`id`', '*', '~', '~root', '{a,b}', 'a;b', 'a|b', '!x', 'x=y', '-', '--x=y', 'line\nbreak', 'tab\tx', '\\'];
    // The program position too: `A=b` there would be an assignment, not a command.
    const shown = displayCommand('X=y', args);
    assert.match(shown, /^'X=y' /);
    const r = await run('/bin/sh', ['-c', `printf '%s\\0' ${shown.slice("'X=y' ".length)}`]);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), args);
  });
});

describe('run', () => {
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
    await assert.rejects(run('/bin/sh', ['-c', "printf '\\033[31;1merror:\\033[0m bad\\001\\000 bytes\\r\\n' >&2; exit 1"]), (e: unknown) => {
      assert.ok(e instanceof ExitError);
      assert.equal(e.stderrTail(), 'error: bad bytes');
      assert.ok(!/[\u0000-\u0008\u000b-\u001f]/.test(e.message), JSON.stringify(e.message));
      return true;
    });
  });
  test('a missing program is a SpawnError', async () => {
    await assert.rejects(run('/nonexistent/nix', ['--version']), (e: unknown) => e instanceof SpawnError && e.code === 'ENOENT');
  });
  test('stderr is bounded, keeping the tail', async () => {
    await assert.rejects(run('/bin/sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do echo line$i >&2; i=$((i+1)); done; exit 1'], { maxStderr: 1000 }), (e: unknown) => {
      assert.ok(e instanceof ExitError);
      assert.ok(e.stderrLines.join('\n').length <= 1000);
      assert.equal(e.stderrLines.at(-1), 'line2999');
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
    const p = run('nix', nixArgs(['build'], ['--no-link', '-L', `${dir}#packages.x86_64-linux.slow`], { writeLockFile: true }), { cwd: dir, env, signal: ac.signal, graceMs: 5000 });
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
