// The lock files of the workspace's flakes, read without nix, with the duplicate-input analysis across them.
// Re-read when a flake.lock changes.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { FlakeLock, parseFlakeLock } from '../../core/flake/lock';
import { DuplicateGroup, findDuplicateInputsAcross } from '../../core/flake/duplicates';

export interface FlakeLockState {
  flake: Flake;
  lockPath: string;
  text?: string;
  lock?: FlakeLock;
  /** Why the lock could not be read (missing, unreadable, malformed). */
  problem?: string;
  missing: boolean;
}

export class Locks implements vscode.Disposable {
  private cache: Promise<FlakeLockState[]> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    const w = vscode.workspace.createFileSystemWatcher('**/{flake.lock,flake.nix}');
    const reset = () => this.invalidate();
    this.disposables.push(w, w.onDidChange(reset), w.onDidCreate(reset), w.onDidDelete(reset), this.changed, ctx.onDidChangeState(reset));
  }

  invalidate(): void {
    this.cache = undefined;
    this.changed.fire();
  }

  all(): Promise<FlakeLockState[]> {
    this.cache ??= this.ctx.flakes().then((flakes) => Promise.all(flakes.map(readLock)));
    return this.cache;
  }

  async of(flake: Flake): Promise<FlakeLockState | undefined> {
    return (await this.all()).find((s) => s.flake.uri.toString() === flake.uri.toString());
  }

  /** Sources locked at different revisions: within each lock, and across the workspace's flakes. */
  async duplicates(): Promise<DuplicateGroup[]> {
    const states = (await this.all()).filter((s) => s.lock);
    return findDuplicateInputsAcross(states.map((s) => ({ flake: s.flake.label, lock: s.lock! })));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export async function readLock(flake: Flake): Promise<FlakeLockState> {
  const lockPath = join(flake.uri.fsPath, 'flake.lock');
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { flake, lockPath, missing, problem: missing ? 'No flake.lock yet' : `flake.lock cannot be read: ${(e as Error).message}` };
  }
  const parsed = parseFlakeLock(text);
  if (!parsed.ok) return { flake, lockPath, text, missing: false, problem: parsed.error.message };
  return { flake, lockPath, text, lock: parsed.lock, missing: false };
}
