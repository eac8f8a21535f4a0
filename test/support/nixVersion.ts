// The version of the `nix` the tests run (test/support/nix.ts's testNix(): NIX_FLAKES_TEST_NIX, else the first on
// PATH), so that a test can expect what that version really prints. One place: no test reads `nix --version` itself.
import { execFileSync } from 'node:child_process';
import { atLeast, parseNixVersion, type NixVersion } from '../../src/core/nix/version';
import { testNix as testNixProgram } from './nix';

let detected: NixVersion | undefined;

/** The Nix the tests run, from `nix --version` (asked once per test process). */
export function testNix(): NixVersion {
  if (!detected) {
    const out = execFileSync(testNixProgram(), ['--version'], { encoding: 'utf8' });
    const v = parseNixVersion(out);
    if (!v) throw new Error(`cannot read the version of ${testNixProgram()} from ${JSON.stringify(out)}`);
    detected = v;
  }
  return detected;
}

/** True when the tests run Nix `major.minor` (or newer). */
export function nixAtLeast(major: number, minor: number, patch = 0): boolean {
  return atLeast(testNix(), major, minor, patch);
}

/** `2.8`, `2.26`, `2.34`: how captures of this version are named (`test/fixtures/captured/…/nix-<tag>-…`). */
export function nixTag(): string {
  const v = testNix();
  return `${v.major}.${v.minor}`;
}

/**
 * The expectation for the running version: `byVersion({ '2.8': a, '2.13': b, '2.20': c })` is the value of the newest
 * version key that is not newer than the running Nix. Throws when every key is newer (no expectation was written
 * for this version), so that a new version fails loudly instead of being compared with an old one's text.
 */
export function byVersion<T>(table: Record<string, T>): T {
  const v = testNix();
  let best: { key: [number, number, number]; value: T } | undefined;
  for (const [k, value] of Object.entries(table)) {
    const [major, minor, patch = 0] = k.split('.').map(Number);
    if (!atLeast(v, major, minor, patch)) continue;
    if (!best || atLeast({ major, minor, patch }, best.key[0], best.key[1], best.key[2])) best = { key: [major, minor, patch], value };
  }
  if (!best) throw new Error(`no expectation for ${v.banner} among ${Object.keys(table).join(', ')}`);
  return best.value;
}
