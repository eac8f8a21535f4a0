import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  drvNameWithoutVersion,
  formatterBuildArgs,
  formatterCacheKey,
  formatterInfoArgs,
  formatterInstallable,
  formatterProgram,
  formatText,
  gcRootName,
  initialMode,
  isMissingFormatter,
  readFormatterInfo,
  type FormatOptions,
} from '../../src/core/flake/formatter';
import { readBuildOutputs } from '../../src/core/nix/build';
import { EXPERIMENTAL } from '../../src/core/nix/args';
import { CancelledError, ExitError, run } from '../../src/core/nix/process';
import { copyFixture, fixtureSource, nixTestEnv, scratchDir, testNix } from '../support/nix';

/** A formatter script in a folder of its own, named `name`. */
function script(name: string, body: string): string {
  const dir = mkdtempSync(join(scratchDir(), 'fmt-bin-'));
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function options(extra: Partial<FormatOptions> = {}): FormatOptions {
  return {
    fileName: 'flake.nix',
    relPath: 'sub/flake.nix',
    flakeDir: scratchDir(),
    scratch: mkdtempSync(join(scratchDir(), 'scratch-')),
    run,
    ...extra,
  };
}

test('the program is meta.mainProgram, else pname, else the derivation name without its version (as nix fmt finds it)', () => {
  assert.deepEqual(readFormatterInfo({ isDrv: true, mainProgram: 'nixfmt', pname: 'nixfmt-rfc-style', name: 'nixfmt-rfc-style-1.0' }), {
    ok: true,
    program: 'nixfmt',
  });
  assert.deepEqual(readFormatterInfo({ isDrv: true, mainProgram: null, pname: 'alejandra', name: 'alejandra-3.0.0' }), {
    ok: true,
    program: 'alejandra',
  });
  assert.deepEqual(readFormatterInfo({ isDrv: true, mainProgram: null, pname: null, name: 'nixpkgs-fmt-1.3.0' }), {
    ok: true,
    program: 'nixpkgs-fmt',
  });
  assert.equal(drvNameWithoutVersion('treefmt-nix'), 'treefmt-nix');
  assert.equal(drvNameWithoutVersion('fixture-fmt-1.0'), 'fixture-fmt');
  assert.equal(drvNameWithoutVersion('hello'), 'hello');
  // Untrusted names: no path, no control characters; a bad mainProgram falls through to the next.
  assert.deepEqual(readFormatterInfo({ isDrv: true, mainProgram: '../../bin/sh', name: 'x-1' }), { ok: true, program: 'x' });
  assert.equal(readFormatterInfo({ isDrv: true, mainProgram: '..', name: '' }).ok, false);
  assert.equal(readFormatterInfo({ isDrv: false, name: 'x' }).ok, false);
  assert.equal(readFormatterInfo(null).ok, false);
  assert.equal(readFormatterInfo([]).ok, false);
  assert.equal(formatterProgram('/nix/store/abc-x', 'nixfmt'), '/nix/store/abc-x/bin/nixfmt');
});

test('arguments: one evaluation for the program, one build that leaves a GC root; installables quoted', () => {
  assert.equal(formatterInstallable('git+file:///src/f', 'x86_64-linux'), 'git+file:///src/f#formatter.x86_64-linux');
  assert.deepEqual(formatterBuildArgs('f#formatter.x', '/gs/gcroots/formatter-1'), [
    '--json',
    '--out-link',
    '/gs/gcroots/formatter-1',
    'f#formatter.x',
  ]);
  assert.equal(formatterInfoArgs('f#formatter.x')[1], 'f#formatter.x');
  assert.equal(formatterInfoArgs('f#formatter.x')[2], '--apply');
  assert.equal(initialMode('/nix/store/x/bin/treefmt'), 'treefmt');
  assert.equal(initialMode('/nix/store/x/bin/nixfmt'), undefined);
  assert.ok(isMissingFormatter("error: flake 'path:/x' does not provide attribute 'formatter.x86_64-linux'"));
});

test('the resolution key changes with flake.nix, flake.lock, the system and nix, and with nothing else', () => {
  const base = { flakeNix: '{ }', flakeLock: '{"nodes":{}}', system: 'x86_64-linux', nix: '2.34.0' };
  const k = formatterCacheKey(base);
  assert.equal(formatterCacheKey({ ...base }), k);
  for (const change of [
    { flakeNix: '{ x = 1; }' },
    { flakeLock: '{}' },
    { flakeLock: undefined },
    { system: 'aarch64-linux' },
    { nix: '2.8.0' },
  ]) {
    assert.notEqual(formatterCacheKey({ ...base, ...change }), k, JSON.stringify(change));
  }
  // No confusion between a missing lock and a lock holding the marker text, or between fields.
  assert.notEqual(
    formatterCacheKey({ ...base, flakeNix: 'a', flakeLock: 'b' }),
    formatterCacheKey({ ...base, flakeNix: 'a\0flake.lock\0b', flakeLock: undefined }),
  );
  assert.equal(gcRootName('/a', 'x86_64-linux'), gcRootName('/a', 'x86_64-linux'));
  assert.notEqual(gcRootName('/a', 'x86_64-linux'), gcRootName('/b', 'x86_64-linux'));
  assert.match(gcRootName('/a', 'x86_64-linux'), /^formatter-[0-9a-f]{32}$/);
});

test('a stdin formatter gets the text and gives it back formatted, exactly (trailing newline and CRLF kept), in an empty folder', async () => {
  const bin = script('fmt', `pwd > "$0.cwd"; ls -A > "$0.ls"; sed -e 's/[ ]*$//' -e 's/x/y/'`);
  const o = options();
  const r = await formatText(bin, 'x\r\nb \n\n', o);
  assert.deepEqual(r, { ok: true, text: 'y\r\nb\n\n', mode: 'stdin' });
  assert.equal(readFileSync(`${bin}.cwd`, 'utf8').trim(), o.scratch);
  assert.equal(readFileSync(`${bin}.ls`, 'utf8'), '', 'its working folder holds nothing of the user');
});

test('a formatter that needs a file is given a copy with the same name in a private folder, which is removed', async () => {
  // Without a file it prints nothing and succeeds (as a formatter of its working folder would).
  const bin = script('fmt', `[ $# -eq 0 ] && exit 0\necho "$1" > "$0.arg"\nsed -i -e 's/[ ]*$//' "$1"`);
  const o = options({ fileName: '/home/me/project/default.nix' });
  const r = await formatText(bin, 'x  \ny\n', o);
  assert.deepEqual(r, { ok: true, text: 'x\ny\n', mode: 'file' });
  const arg = readFileSync(`${bin}.arg`, 'utf8').trim();
  assert.ok(arg.startsWith(o.scratch) && arg.endsWith('/default.nix'), arg);
  assert.deepEqual(readdirSync(o.scratch), [], 'the copy is gone');
  // Known mode: straight to the file.
  assert.deepEqual(await formatText(bin, 'z \n', { ...o, mode: 'file' }), { ok: true, text: 'z\n', mode: 'file' });
  // One that fails without a file is also tried with one.
  const strict = script('fmt', `[ $# -eq 0 ] && { echo "usage: fmt FILE" >&2; exit 2; }\nsed -i -e 's/[ ]*$//' "$1"`);
  assert.deepEqual(await formatText(strict, 'q  \n', options()), { ok: true, text: 'q\n', mode: 'file' });
});

test('treefmt is given --stdin with the path in the flake, in the flake folder', async () => {
  const bin = script('treefmt', `[ "$1" = --stdin ] || exit 9\necho "$2 $PWD" > "$0.arg"\ntr a-z A-Z`);
  const o = options();
  assert.deepEqual(await formatText(bin, 'abc\n', o), { ok: true, text: 'ABC\n', mode: 'treefmt' });
  assert.equal(readFileSync(`${bin}.arg`, 'utf8').trim(), `sub/flake.nix ${o.flakeDir}`);
});

test("a formatter's error is its message, never a text; a hung formatter is stopped at the bound; a cancel throws", async () => {
  const failing = script('fmt', `echo "error: unexpected '}' at 3:1" >&2; echo partial output; exit 1`);
  const r = await formatText(failing, '{ }\n', options({ mode: 'stdin' }));
  assert.deepEqual(r, { ok: false, message: "error: unexpected '}' at 3:1", mode: 'stdin' });
  // Unknown mode: stdin fails, the file copy fails too: the stdin error is said.
  const both = await formatText(failing, '{ }\n', options());
  assert.equal(both.ok, false);
  assert.match(!both.ok ? both.message : '', /unexpected/);
  const silent = script('fmt', 'exit 4');
  assert.deepEqual(await formatText(silent, 'x', options({ mode: 'stdin' })), {
    ok: false,
    message: 'the formatter exited with code 4',
    mode: 'stdin',
  });
  const hung = script('fmt', 'exec sleep 30');
  const t0 = Date.now();
  const slow = await formatText(hung, 'x', options({ mode: 'stdin', timeoutMs: 300 }));
  assert.deepEqual(slow, { ok: false, message: 'the formatter did not finish within 0 s', mode: 'stdin' });
  assert.ok(Date.now() - t0 < 5000);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(formatText(hung, 'x', options({ mode: 'stdin', signal: ac.signal })), CancelledError);
  const missing = await formatText('/nonexistent/bin/fmt', 'x', options({ mode: 'stdin' }));
  assert.match(!missing.ok ? missing.message : '', /was not found/);
});

// The fixture flake's formatter resolved as the extension does it, with real nix: one evaluation for the program's
// name, one build with a GC root; then the program formats text with no nix at all.
test('the fixture formatter resolves with real nix (program from its name, GC root left) and formats', async () => {
  const dir = copyFixture('format');
  const inst = formatterInstallable(`git+file://${dir}`, 'x86_64-linux')!;
  const nix = (sub: string[], rest: string[]) =>
    run(testNix(), [...EXPERIMENTAL, ...sub, '--no-write-lock-file', ...rest], { env: nixTestEnv(), cwd: dir });
  const info = readFormatterInfo(JSON.parse((await nix(['eval'], formatterInfoArgs(inst))).stdout));
  assert.deepEqual(info, { ok: true, program: 'fixture-fmt' });
  const link = join(mkdtempSync(join(scratchDir(), 'gcroots-')), gcRootName(dir, 'x86_64-linux'));
  const outputs = readBuildOutputs((await nix(['build'], formatterBuildArgs(inst, link))).stdout);
  assert.ok(outputs.out, JSON.stringify(outputs));
  assert.equal(readlinkSync(link), outputs.out, 'the GC root points at the formatter');
  const program = formatterProgram(outputs.out, info.ok ? info.program : '');
  assert.ok(existsSync(program));
  const r = await formatText(program, '{\n\tx = 1;   \n}\n', options());
  assert.deepEqual(r, { ok: true, text: '{\n  x = 1;\n}\n', mode: 'stdin' });
  const bad = await formatText(program, '{ FORMAT_ERROR }\n', options({ mode: 'stdin' }));
  assert.deepEqual(bad, { ok: false, message: 'fixture-fmt: line 1: FORMAT_ERROR cannot be formatted', mode: 'stdin' });
  // In file mode too (the same script formats the files it is given).
  assert.deepEqual(await formatText(program, 'a\t\n', options({ mode: 'file' })), { ok: true, text: 'a\n', mode: 'file' });
  // A flake without a formatter: nix says so in words the extension recognises.
  const none = copyFixture('basic');
  await assert.rejects(
    run(
      testNix(),
      [...EXPERIMENTAL, 'eval', '--no-write-lock-file', ...formatterInfoArgs(formatterInstallable(`git+file://${none}`, 'x86_64-linux')!)],
      { env: nixTestEnv() },
    ),
    (e: unknown) => e instanceof ExitError && isMissingFormatter(e.stderrLines.join('\n')),
  );
  assert.ok(readFileSync(join(fixtureSource('format'), 'fmt.sh'), 'utf8').startsWith('#!/bin/sh'));
});
