// Helpers for the in-host suites (this file is bundled into each suite; it has no tests of its own).
import * as vscode from 'vscode';
import type { NixFlakesApi } from '../../../src/extension';

export const EXTENSION_ID = 'nix-flakes.nix-flakes';

/** Activates the extension under test and returns its API. */
export async function extension(): Promise<NixFlakesApi> {
  const ext = vscode.extensions.getExtension<NixFlakesApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  const api = await ext.activate();
  await api.ready;
  return api;
}

/** The path of a fixture flake prepared for this run (see test/harness/integration.ts). */
export function fixture(name: string): string {
  const map = JSON.parse(process.env.NIX_FLAKES_FIXTURES ?? '{}') as Record<string, string>;
  const p = map[name];
  if (!p) throw new Error(`fixture ${name} was not prepared (have: ${Object.keys(map).join(', ')})`);
  return p;
}
