// Prepares the workspace the in-host suites open: fixture flakes copied into fresh git repositories, gathered in a
// multi-root .code-workspace, and the environment (offline NIX_CONFIG, where the fixtures are).
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitAll, copyFixture, nixConfig, repoRoot, runMarker, scratchDir } from '../support/nix';
import { copyDeployFixture } from '../support/testHost';

/** The fixtures opened as workspace folders. */
export const WORKSPACE_FIXTURES = [
  'hello',
  'builds',
  'broken',
  'unlocked',
  'multi',
  'hosts',
  'homes',
  'lens-broken',
  'lens-builders',
  'deploy-host',
  'format',
  'checks',
  'devshell',
  'results',
];

export interface PreparedWorkspace {
  workspaceFile: string;
  fixtures: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

export function prepareWorkspace(names: string[] = WORKSPACE_FIXTURES): PreparedWorkspace {
  const copies = new Map<string, string>();
  const fixtures: Record<string, string> = {};
  // Multi-repository setup: `tools` locks nixpkgs-stub at its first commit; then nixpkgs-stub moves on, so the
  // flakes locked afterwards (`multi`) pin a newer nixpkgs while tools/nixpkgs stays old, as when a follows is missing.
  if (names.includes('multi')) {
    const stub = copyFixture('nixpkgs-stub', copies);
    copyFixture('tools', copies);
    appendFileSync(`${stub}/flake.nix`, '# a newer revision\n');
    commitAll(stub, 'a newer nixpkgs');
  }
  // deploy-host (test/fixtures/deploy-host): a NixOS host stand-in whose paths are new in every run.
  for (const n of names) fixtures[n] = n === 'deploy-host' ? copyDeployFixture(n) : copyFixture(n, copies);
  for (const [n, p] of copies) fixtures[n] ??= p;
  const workspaceFile = join(scratchDir(), 'tests.code-workspace');
  writeFileSync(workspaceFile, JSON.stringify({ folders: names.map((n) => ({ path: fixtures[n], name: n })), settings: {} }, null, 2));
  return {
    workspaceFile,
    fixtures,
    env: {
      NIX_CONFIG: nixConfig(),
      NIX_FLAKES_FIXTURES: JSON.stringify(fixtures),
      NIX_FLAKES_REPO: repoRoot(),
      NIX_FLAKES_RUN_MARKER: runMarker(),
    },
  };
}
