import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorFromMsg, errorsFromEvents, isErrorMsg, parseNixErrors } from '../../src/core/errors/fromLog';
import { parseErrorText } from '../../src/core/errors/parseText';
import { classifyError, matchBuilderFailure } from '../../src/core/errors/classify';
import { parseLog, parseLogLine } from '../../src/core/log/internalJson';
import type { NixError } from '../../src/core/errors/types';
import type { MsgEvent } from '../../src/core/log/types';

const read = (name: string) => readFileSync(resolve('test/fixtures/captured/errors', name), 'utf8');
const readLog = (name: string) => readFileSync(resolve('test/fixtures/captured/log', name), 'utf8');

const SRC = '/nix/store/0rvjfxp1xpxdx5lxz9jm9i78hx17fxl4-source';
const MOD = '/nix/store/lz2f0izpj3vac4yhwcdk8201v7s9m5n6-source';
const LIB = '/nix/store/vnx815ca5dwmxqk1v6n8bfb67zh906y9-source';

/** Parses both captured forms (text and internal-json) of one case and checks they agree. */
function both(name: string): NixError {
  const text = parseNixErrors(read(`${name}.stderr.txt`));
  const json = parseNixErrors(read(`${name}.jsonl`));
  assert.equal(text.length, 1, `${name}: one error in the text form`);
  assert.equal(json.length, 1, `${name}: one error in the json form`);
  const strip = ({ raw: _raw, ...rest }: NixError) => rest;
  assert.deepEqual(strip(text[0]), strip(json[0]), `${name}: text and json agree`);
  assert.ok(!/\x1b/.test(json[0].message), 'no ANSI in the message');
  return json[0];
}

const pos = (file: string, line: number, column: number) => ({ file, origin: 'path' as const, line, column });

test('attribute-missing (2.8, with and without --show-trace)', () => {
  const e = both('nix-2.8-eval-missingAttr');
  assert.equal(e.kind, 'attribute-missing');
  assert.equal(e.message, "attribute 'version' missing");
  assert.deepEqual(e.position, pos(`${SRC}/errors/missing-attr.nix`, 5, 22));
  assert.deepEqual(e.trace, []);
  const t = both('nix-2.8-eval-missingAttr-trace');
  assert.deepEqual(t.trace, [
    { message: "while evaluating the derivation attribute 'name'", position: pos(`${SRC}/errors/missing-attr.nix`, 5, 3) },
  ]);
  if (e.kind === 'attribute-missing') assert.equal(e.attribute, 'version');
});

test('undefined-variable', () => {
  for (const name of ['nix-2.8-eval-undefinedVar', 'nix-2.8-eval-undefinedVar-trace']) {
    const e = both(name);
    assert.equal(e.kind, 'undefined-variable');
    if (e.kind === 'undefined-variable') assert.equal(e.variable, 'undefinedThing');
    assert.deepEqual(e.position, pos(`${SRC}/errors/undefined-var.nix`, 2, 11));
  }
});

test('type-error: in a file and in --expr code («string»; 2.8 JSON gives the source text as file)', () => {
  const e = both('nix-2.8-eval-typeError-trace');
  assert.equal(e.kind, 'type-error');
  assert.equal(e.message, 'cannot coerce an integer to a string');
  assert.deepEqual(e.trace, [{ message: `while evaluating the file '${SRC}/errors/type-error.nix':` }]);
  assert.equal(both('nix-2.8-eval-typeError').kind, 'type-error');
  const s = parseNixErrors(read('nix-2.8-eval-expr-string.jsonl'))[0];
  assert.equal(s.kind, 'type-error');
  assert.deepEqual(s.position, { file: '«string»', origin: 'string', line: 1, column: 19 });
  assert.deepEqual(parseNixErrors(read('nix-2.8-eval-expr-string.stderr.txt'))[0].position, s.position);
});

test('syntax-error: in a file and in --expr code', () => {
  const e = both('nix-2.8-eval-syntaxError');
  assert.equal(e.kind, 'syntax-error');
  assert.equal(e.message, "syntax error, unexpected ';'");
  assert.deepEqual(e.position, pos(`${SRC}/errors/syntax.nix`, 3, 7));
  assert.equal(both('nix-2.8-eval-syntaxError-trace').kind, 'syntax-error');
  const x = parseNixErrors(read('nix-2.8-eval-expr-syntax.jsonl'))[0];
  assert.equal(x.kind, 'syntax-error');
  assert.equal(x.position?.origin, 'string');
});

test('infinite-recursion', () => {
  const e = both('nix-2.8-eval-infRec');
  assert.equal(e.kind, 'infinite-recursion');
  assert.deepEqual(e.position, pos(`${SRC}/errors/inf-rec.nix`, 2, 7));
  assert.equal(both('nix-2.8-eval-infRec-trace').trace.length, 1);
});

test('throw: a 2.8 throw has no position and no marker; recognised from the hint or the trace', () => {
  const e = both('nix-2.8-eval-throwing');
  assert.equal(e.kind, 'throw');
  assert.equal(e.message, 'hlog: a value is required here');
  assert.equal(e.position, undefined);
  const t = both('nix-2.8-eval-throwing-trace');
  assert.equal(t.kind, 'throw');
  assert.deepEqual(
    t.trace.map((f) => [f.message, f.position?.line]),
    [
      ["while evaluating 'check'", 2],
      ['from call site', 4],
      [`while evaluating the file '${SRC}/errors/throwing.nix':`, undefined],
    ],
  );
  // Newer Nix marks a throw with a trace frame.
  const marked = classifyError('boom', { positioned: true, evaluation: true, trace: [{ message: "while calling the 'throw' builtin" }] });
  assert.deepEqual(marked, { kind: 'throw', via: 'throw' });
});

test('throw via assert and abort', () => {
  for (const name of ['nix-2.8-eval-assertFail', 'nix-2.8-eval-assertFail-trace']) {
    const e = both(name);
    assert.deepEqual([e.kind, e.kind === 'throw' ? [e.via, e.assertion] : undefined], ['throw', ['assert', 'enable']]);
    assert.deepEqual(e.position, pos(`${SRC}/errors/assert.nix`, 4, 1));
  }
  const abort = parseErrorText("error: evaluation aborted with the following error message: 'nope'")[0];
  assert.equal(abort.kind === 'throw' && abort.via, 'abort');
});

test('builder-failed: 2.8 text (with log tail), 2.8 json, and the 2.29+ "Cannot build" text', () => {
  const [text] = parseNixErrors(read('nix-2.8-build-failure.stderr.txt'));
  assert.equal(text.kind, 'builder-failed');
  if (text.kind === 'builder-failed') {
    assert.equal(text.drvPath, '/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-hlog-fail.drv');
    assert.equal(text.exitCode, 3);
  }
  assert.match(text.message, /^builder for '.*' failed with exit code 3;\nlast 2 log lines:\n> line one\n> line two\n/);
  const json = parseNixErrors(readLog('nix-2.8-build-failure.jsonl'));
  assert.equal(json.length, 1);
  assert.deepEqual(
    [json[0].kind, json[0].message],
    ['builder-failed', "builder for '/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-hlog-fail.drv' failed with exit code 3"],
  );
  const [modern] = parseNixErrors(read('src-2.29-builder-failed.stderr.txt'));
  assert.deepEqual(modern.kind === 'builder-failed' && [modern.drvPath, modern.exitCode], [
    '/nix/store/fl6bc9csmvmq99lg0nkjjrgh14x2y60x-hlog-fail.drv',
    3,
  ]);
  assert.deepEqual(matchBuilderFailure("builder for '/nix/store/x.drv' failed due to signal 9 (Killed)"), { drvPath: '/nix/store/x.drv' });
});

test('several errors in one stderr are all returned (text and json)', () => {
  for (const errs of [
    parseNixErrors(read('nix-2.8-build-dep-failure.stderr.txt')),
    parseNixErrors(readLog('nix-2.8-build-dep-failure.jsonl')),
  ]) {
    assert.deepEqual(
      errs.map((e) => e.kind),
      ['builder-failed', 'dependency-failed'],
    );
    const dep = errs[1];
    assert.deepEqual(dep.kind === 'dependency-failed' && [dep.drvPath, dep.count], [
      '/nix/store/z1ry3gmbbhjmfkzsq7r6svf75bnjyjzj-hlog-uses-fail.drv',
      1,
    ]);
  }
});

test('untracked-file: ≤ 2.19 "getting status", 2.20–2.27 "not under Git control", 2.28+ "not tracked by Git"', () => {
  const old = both('nix-2.8-eval-untracked');
  assert.deepEqual(old.kind === 'untracked-file' && [old.relPath, old.storePath], ['errors/newfile.nix', SRC]);
  const oldTrace = both('nix-2.8-eval-untracked-trace');
  assert.deepEqual(oldTrace.trace[0].position, pos(`${SRC}/flake.nix`, 65, 21));
  const e220 = parseNixErrors(read('src-2.20-untracked.stderr.txt'));
  assert.equal(e220.length, 1);
  assert.deepEqual(e220[0].kind === 'untracked-file' && [e220[0].relPath, e220[0].repo], ['errors/newfile.nix', '/tmp/h-log/f']);
  const e228 = parseNixErrors(read('src-2.28-untracked.stderr.txt'))[0];
  assert.deepEqual(e228.kind === 'untracked-file' && [e228.relPath, e228.repo], ['errors/newfile.nix', '/tmp/h-log/f']);
  assert.match(
    e228.message,
    /^Path 'errors\/newfile.nix' in the repository "\/tmp\/h-log\/f" is not tracked by Git\.\n\nTo make it visible/,
  );
  // 2.20 with a store path, and a missing file that is not in a source tree (not an untracked file).
  const storeVariant = classifyError(
    `access to path '${SRC}/a/b.nix' is forbidden because it is not under Git control; maybe you should 'git add' it to the repository '/r'?`,
    { positioned: false, evaluation: false, trace: [] },
  );
  assert.deepEqual(storeVariant, { kind: 'untracked-file', relPath: 'a/b.nix', repo: '/r' });
  assert.equal(parseErrorText("error: getting status of '/home/u/x.nix': No such file or directory")[0].kind, 'other');
  // 2.26.3 (seen live, the in-host dry-build of a host importing an untracked file): "path '…-source/…' does not exist".
  const e226 = parseErrorText(`error: path '${SRC}/hosts/extra.nix' does not exist`)[0];
  assert.deepEqual(e226.kind === 'untracked-file' && [e226.relPath, e226.storePath], ['hosts/extra.nix', SRC]);
  assert.equal(parseErrorText("error: path '/home/u/x.nix' does not exist")[0].kind, 'other');
});

test('option-does-not-exist: option path, each definition file, suggestions', () => {
  for (const name of ['nix-2.8-module-unknownOption', 'nix-2.8-module-unknownOption-trace']) {
    const e = both(name);
    assert.equal(e.kind, 'option-does-not-exist');
    if (e.kind !== 'option-does-not-exist') continue;
    assert.equal(e.optionPath, 'services.openssh.enabel');
    assert.deepEqual(e.definitions, [{ file: `${MOD}/hosts/unknown-option.nix`, value: 'true' }]);
    assert.deepEqual(e.suggestions, ['services.openssh.enable', 'services.openssh.ports']);
    assert.equal(e.position, undefined);
  }
});

test('option-type-mismatch: option path, expected type, definitions (also an enum type with quotes)', () => {
  const e = both('nix-2.8-module-wrongType');
  assert.deepEqual(e.kind === 'option-type-mismatch' && [e.optionPath, e.expectedType, e.definitions], [
    'users.users.alice.uid',
    'signed integer',
    [{ file: `${MOD}/hosts/wrong-type.nix`, value: '"1000"' }],
  ]);
  const t = both('nix-2.8-module-wrongType-trace');
  assert.equal(t.trace.length, 16);
  assert.equal(t.trace[1].message, "while evaluating the option `users.users.alice.uid':");
  const en = both('nix-2.8-module-badEnum');
  assert.deepEqual(en.kind === 'option-type-mismatch' && [en.optionPath, en.expectedType], [
    'services.k3s.role',
    'one of "server", "agent"',
  ]);
});

test('conflicting-definitions: every site', () => {
  const e = both('nix-2.8-module-conflict');
  assert.equal(e.kind, 'conflicting-definitions');
  if (e.kind !== 'conflicting-definitions') return;
  assert.equal(e.optionPath, 'networking.hostName');
  assert.deepEqual(e.definitions, [
    { file: `${MOD}/hosts/conflict.nix`, value: '"c1"' },
    { file: `${MOD}/hosts/conflict.nix`, value: '"c2"' },
  ]);
  const unique = classifyError(
    "The option `a.b' is defined multiple times while it's expected to be unique.\n\nDefinition values:\n- In `/x/a.nix': 1\n- In `/x/b.nix': 2",
    {
      positioned: false,
      evaluation: true,
      trace: [],
    },
  );
  assert.deepEqual(unique.kind === 'conflicting-definitions' && unique.definitions.map((d) => d.file), ['/x/a.nix', '/x/b.nix']);
});

test('option-used-but-not-defined (and the older "used but not defined" wording)', () => {
  const e = both('nix-2.8-module-undefinedOption');
  assert.deepEqual(e.kind === 'option-used-but-not-defined' && e.optionPath, 'networking.hostName');
  const older = classifyError('The option `fileSystems."/".device\' is used but not defined.', {
    positioned: false,
    evaluation: true,
    trace: [],
  });
  assert.deepEqual(older, { kind: 'option-used-but-not-defined', optionPath: 'fileSystems."/".device' });
});

test('module-system errors that are plain evaluation errors', () => {
  assert.equal(both('nix-2.8-module-missingAttr').kind, 'attribute-missing');
  assert.equal(both('nix-2.8-module-recursion').kind, 'infinite-recursion');
  const thrown = both('nix-2.8-module-throwing');
  assert.equal(thrown.kind, 'throw');
  assert.equal(thrown.message, 'hostName must come from the inventory <script>alert(1)</script>');
});

test('the recursion trace (2.8, --show-trace): 24 frames, innermost first, in text and json alike', () => {
  const e = both('nix-2.8-module-recursion-trace');
  assert.equal(e.trace.length, 24);
  assert.deepEqual(e.position, pos(`${LIB}/lib/modules.nix`, 270, 22));
  assert.match(e.trace[0].message, /^if you get an infinite recursion here/);
  assert.deepEqual(e.trace[6], { message: 'from call site', position: pos(`${MOD}/hosts/recursion.nix`, 3, 13) });
  assert.deepEqual(e.trace[23].position, pos(`${LIB}/lib/modules.nix`, 283, 28));
});

test('2.13+ layout (traces first): the primary position is the `at` after the last `error:`', () => {
  for (const name of ['nix-2.18-layout-missing-arg.stderr.txt', 'nix-2.24-layout-missing-arg.stderr.txt']) {
    const [e] = parseNixErrors(read(name));
    assert.equal(e.message, "function 'anonymous lambda' called without required argument 'y'");
    assert.equal(e.kind, 'type-error');
    assert.deepEqual(e.position, pos('/pwd/lang/eval-fail-missing-arg.nix', 1, 2));
    assert.deepEqual(e.trace, [{ message: 'from call site', position: pos('/pwd/lang/eval-fail-missing-arg.nix', 1, 1) }]);
  }
  const [m] = parseNixErrors(read('nix-master-layout-derivationStrict.stderr.txt'));
  assert.equal(m.kind, 'attribute-missing');
  assert.equal(m.position, undefined);
  assert.deepEqual(m.trace, [
    { message: 'in the attrset passed as argument to builtins.derivationStrict' },
    { message: "while calling the 'derivationStrict' builtin", position: pos('/pwd/lang/eval-fail-derivationStrict-2.nix', 1, 1) },
  ]);
});

test('2.13+ text: truncated-trace notes are skipped; 2.23 "evaluation warning:" lines are not errors', () => {
  const text = [
    'evaluation warning: deprecated',
    'error:',
    "       … while evaluating the attribute 'x'",
    '         at /a/b.nix:3:5:',
    '            3|   x = y;',
    '             |     ^',
    '',
    "       (stack trace truncated; use '--show-trace' to show the full, detailed trace)",
    '',
    "       error: undefined variable 'y'",
    '       at /a/b.nix:3:9:',
  ].join('\n');
  const errs = parseErrorText(text);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].kind, 'undefined-variable');
  assert.deepEqual(errs[0].position, pos('/a/b.nix', 3, 9));
  assert.deepEqual(errs[0].trace, [{ message: "while evaluating the attribute 'x'", position: pos('/a/b.nix', 3, 5) }]);
});

test('json msg records: which are errors; 2.20+ positions; structured trace wins over the text', () => {
  const line = (o: object) => parseLogLine(`@nix ${JSON.stringify(o)}`) as MsgEvent;
  assert.equal(isErrorMsg(line({ action: 'msg', level: 0, msg: 'these 2 derivations will be built:' })), false);
  assert.equal(isErrorMsg(line({ action: 'msg', level: 0, msg: "(use '--show-trace' to show detailed location information)" })), false);
  assert.equal(isErrorMsg(line({ action: 'msg', level: 1, msg: 'warning: x', raw_msg: 'x' })), false);
  assert.equal(isErrorMsg(line({ action: 'msg', level: 0, msg: '\u001b[31;1merror:\u001b[0m plain' })), true);
  const modern = errorFromMsg(
    line({
      action: 'msg',
      level: 0,
      msg: "error:\n       … from call site\n         at /pwd/a.nix:1:1:\n\n       error: function 'f' called without required argument 'y'\n       at /pwd/a.nix:1:2:",
      raw_msg: "function 'f' called without required argument 'y'",
      file: '/pwd/a.nix:1:2',
      line: 1,
      column: 2,
      trace: [{ raw_msg: 'from call site', file: '/pwd/a.nix:1:1', line: 1, column: 1 }],
    }),
  );
  assert.deepEqual(modern?.position, pos('/pwd/a.nix', 1, 2));
  assert.deepEqual(modern?.trace, [{ message: 'from call site', position: pos('/pwd/a.nix', 1, 1) }]);
  assert.equal(modern?.kind, 'type-error');
});

test('interrupted, cached failures and unknown errors are "other"; plain lines around errors are ignored', () => {
  const errs = parseNixErrors(readLog('nix-2.8-build-cancelled.jsonl'));
  assert.deepEqual(
    errs.map((e) => [e.kind, e.message]),
    [['other', 'interrupted by the user']],
  );
  const mixed = parseNixErrors(
    [
      "warning: Git tree '/src/demo' is dirty",
      "error: cached failure of attribute 'packages.x86_64-linux.hello'",
      "(use '--show-trace' to show detailed location information)",
      'some git output',
      'error: something unexpected happened',
    ].join('\n'),
  );
  assert.deepEqual(
    mixed.map((e) => e.kind),
    ['other', 'other'],
  );
});

test('hostile input: never a throw; bounded messages and traces', () => {
  const garbage = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 31337) % 256)).toString('latin1');
  assert.doesNotThrow(() => parseNixErrors(garbage));
  assert.doesNotThrow(() => parseNixErrors(`error: ${garbage}`));
  assert.doesNotThrow(() => parseNixErrors('error:\n       …\n       at :x:\n       error:'));
  const long = parseErrorText(`error: ${'m'.repeat(100_000)}\n${'       more\n'.repeat(1000)}`)[0];
  assert.ok(long.message.length < 5000);
  const deep = parseErrorText(`error: x\n${'\n       … frame\n'.repeat(5000)}`)[0];
  assert.equal(deep.trace.length, 1000);
  const emptyHeader = parseErrorText('error:\n       … only a frame')[0];
  assert.equal(emptyHeader.message, '');
  assert.equal(emptyHeader.trace.length, 1);
  assert.deepEqual(errorsFromEvents(parseLog('@nix {"action":"msg","level":0,"msg":5}\n@nix {"broken')), []);
});

test('40,000 error blocks parse in linear time (each block once; no copy of the rest per block)', () => {
  const blocks: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    blocks.push(`error: attribute 'a${i}' missing\n\n       at ${SRC}/f.nix:${i + 1}:3:`);
    blocks.push(i % 2 ? "(use '--show-trace' to show detailed location information)" : `building '/nix/store/x-${i}.drv'...`);
  }
  const text = blocks.join('\n');
  // CPU time of this process, which other processes on a loaded machine do not inflate as they do elapsed time.
  const c0 = process.cpuUsage();
  const errs = parseErrorText(text);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  assert.equal(errs.length, 40_000);
  assert.deepEqual([errs[0].message, errs[0].position?.line], ["attribute 'a0' missing", 1]);
  assert.deepEqual([errs[39_999].message, errs[39_999].position?.line], ["attribute 'a39999' missing", 40_000]);
  assert.equal(errs[39_999].raw.split('\n').length, 3, 'a block ends before the next unindented line');
  assert.deepEqual([errs[0].kind, errs[1].kind], ['attribute-missing', 'attribute-missing']);
  // The lines after each block were copied to find the line after it: 47 s for this text (elapsed, loaded 2-core
  // machine); about 0.7 s of CPU now. A generous bound, for loaded machines.
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms of CPU`);
});
