import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSerialisedErrors, stripAnsi } from '../../src/core/text';
import { explainBuildLog } from '../../src/core/errors/explain';

/** A Nix wire-format string: 8-byte little-endian length, the bytes, zeros up to a multiple of 8. */
function wireString(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  return wireNumber(bytes.length) + s + '\x00'.repeat((8 - (bytes.length % 8)) % 8);
}
function wireNumber(n: number): string {
  return String.fromCharCode(...Array.from({ length: 8 }, (_, i) => Math.floor(n / 256 ** i) % 256));
}
/** A serialised `Error` as Nix 2.8 writes it: "Error", level, "Error", message, position 0, traces. */
function wireError(msg: string, traces: string[] = []): string {
  return (
    wireString('Error') +
    wireNumber(0) +
    wireString('Error') +
    wireString(msg) +
    wireNumber(0) +
    wireNumber(traces.length) +
    traces.map((t) => wireNumber(0) + wireString(t)).join('')
  );
}

test('stripAnsi removes escapes and every control character but newline and tab', () => {
  assert.equal(stripAnsi('\x1b[31;1merror:\x1b[0m a\tb\r\nc\x00d\x01\x05\x7f\x9b\x1b'), 'error: a\tb\ncd');
  assert.equal(stripAnsi('plain text, ünïcode ✓'), 'plain text, ünïcode ✓');
  // A build log line as the Build command's output channel shows it: the builder's serialised error, decoded.
  assert.equal(
    stripAnsi(`fails> ${wireError("executing '/bin/sh': No such file or directory")}`),
    "fails> error: executing '/bin/sh': No such file or directory",
  );
});

test("2.8's serialised builder error becomes the text newer Nix prints; the \\x01 marker line goes", () => {
  const record = wireError("executing '\x1b[35;1m/bin/sh\x1b[0m': \x1b[35;1mNo such file or directory\x1b[0m");
  assert.equal(record.length % 8, 0);
  assert.equal(decodeSerialisedErrors(record), "error: executing '\x1b[35;1m/bin/sh\x1b[0m': \x1b[35;1mNo such file or directory\x1b[0m");
  assert.equal(stripAnsi(record), "error: executing '/bin/sh': No such file or directory");
  assert.equal(stripAnsi('\x01'), '');
  // Quoted in a 2.8 error text, as `nix build` prints the log tail.
  assert.equal(
    stripAnsi(`       last 2 log lines:\n       > \x01\n       > ${record}\n       For full logs`),
    "       last 2 log lines:\n       > error: executing '/bin/sh': No such file or directory\n       For full logs",
  );
  // Traces, and a message whose length counts UTF-8 bytes.
  assert.equal(stripAnsi(wireError('über', ['while doing x'])), 'error: über\n… while doing x');
  // Cut short: the message still reads; the rest loses its control characters.
  assert.equal(stripAnsi(wireError('cut').slice(0, -10)), 'error: cut');
  // Not a record: only the control characters go.
  assert.equal(stripAnsi('\x05\x00\x00\x00\x00\x00\x00\x00Errorish'), 'Errorish');
  assert.equal(decodeSerialisedErrors('no record here'), 'no record here');
});

test('what a build log means: a builder missing from the sandbox, not a missing store path or other text', () => {
  assert.match(explainBuildLog(["error: executing '/bin/sh': No such file or directory"]) ?? '', /^The build sandbox has no \/bin\/sh:/);
  assert.match(
    explainBuildLog("last 1 log lines:\n> error: executing '/usr/bin/env': No such file or directory\nFor full logs") ?? '',
    /no \/usr\/bin\/env/,
  );
  assert.equal(explainBuildLog(["error: executing '/nix/store/abc-bash/bin/bash': No such file or directory"]), undefined);
  assert.equal(explainBuildLog(['building', "echo executing '/bin/sh': No such file or directory and more"]), undefined);
  assert.equal(explainBuildLog([]), undefined);
});
