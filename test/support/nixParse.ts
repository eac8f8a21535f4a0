// Real Nix's parser for the scanner's tests: `nix-instantiate --parse`, found on PATH as the rest of the suite finds
// `nix`. Where it is missing, the test that wanted it says it was skipped instead of passing silently.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

let available: boolean | undefined;

/** `nix-instantiate` runs from PATH. */
export function haveNixInstantiate(): boolean {
  available ??= spawnSync('nix-instantiate', ['--version'], { stdio: 'ignore' }).status === 0;
  return available;
}

/**
 * Asserts that real Nix parses `text` (without evaluating it), written as `name`. Without `nix-instantiate` on PATH
 * the test is reported as skipped (its other assertions still run).
 */
export function assertNixParses(t: TestContext, text: string, name = 'default.nix'): void {
  if (!haveNixInstantiate()) {
    t.skip('nix-instantiate is not on PATH: real Nix did not parse the text');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'nix-source-'));
  try {
    writeFileSync(join(dir, name), text);
    execFileSync('nix-instantiate', ['--parse', join(dir, name)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    assert.fail(`nix-instantiate --parse failed:\n${String((e as { stderr?: Buffer }).stderr ?? e)}\n${text}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
