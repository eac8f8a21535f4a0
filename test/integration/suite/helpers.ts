// Helpers for the in-host suites (this file is bundled into each suite; it has no tests of its own).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** The flake of a prepared fixture, as the extension found it. */
export async function flakeOf(name: string) {
  const api = await extension();
  const dir = fixture(name);
  const flake = (await api.flakes()).find((f) => f.uri.fsPath === dir);
  if (!flake) throw new Error(`the extension did not find the flake of ${name} (${dir})`);
  return flake;
}

/** Waits until `check` returns a truthy value (polling), or fails after `ms`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 30_000,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs `fn` with a stand-in nix as nixFlakes.nixPath: a shell script whose `case " $* " in` arms (`arms`, given the
 * real nix and a folder of the test's) act on some commands; every other command goes to the real nix. The setting
 * is put back and the folder removed afterwards.
 */
export async function withStandInNix<T>(arms: (real: string, dir: string) => string, fn: (dir: string) => Promise<T>): Promise<T> {
  const api = await extension();
  const n = await api.nix();
  if (!n.ok) throw new Error('no nix for the stand-in to run');
  const dir = mkdtempSync(join(tmpdir(), 'nix-flakes-standin-'));
  const wrapper = join(dir, 'nix');
  writeFileSync(wrapper, `#!/bin/sh\ncase " $* " in\n${arms(n.nix.path, dir)}\nesac\nexec '${n.nix.path}' "$@"\n`, { mode: 0o755 });
  const conf = () => vscode.workspace.getConfiguration('nixFlakes');
  const previous = conf().inspect<string>('nixPath')?.globalValue;
  await conf().update('nixPath', wrapper, vscode.ConfigurationTarget.Global);
  try {
    await until('the stand-in nix to be used', async () => {
      const m = await api.nix();
      return m.ok && m.nix.path === wrapper;
    });
    return await fn(dir);
  } finally {
    await conf().update('nixPath', previous, vscode.ConfigurationTarget.Global);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The nix diagnostics of a file, or undefined when there are none (for `until`). */
export function nixDiagnostics(path: string): vscode.Diagnostic[] | undefined {
  const d = vscode.languages.getDiagnostics(vscode.Uri.file(path)).filter((x) => x.source === 'nix');
  return d.length ? d : undefined;
}

/** The 0-based line of the first line of a file that contains `needle`. */
export function lineOf(file: string, needle: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle));
}

/** A tree item's label as text. */
export function label(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/**
 * Waits until the flake's outputs are current: no evaluation running or scheduled, and the last one saw the files as
 * they are on disk now (a test's own writes reach the watcher a moment later, and its refresh would replace what the
 * test reads).
 */
export async function settled(flake: Awaited<ReturnType<typeof flakeOf>>, ms = 60_000) {
  const api = await extension();
  await api.outputs.service.ensure(flake);
  return until(
    `the outputs of ${flake.label} to be current`,
    async () => {
      const s = await api.outputs.service.whenIdle(flake);
      const key = await api.outputs.service.currentKey(flake);
      return !s.evaluating && key !== undefined && s.evaluatedKey === key ? s : undefined;
    },
    ms,
  );
}
