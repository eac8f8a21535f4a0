// Updating a flake's inputs (one, or all) and locking it: the nix command this version knows, progress, the
// outcome with a diff of flake.lock, and a cancel that loses nothing.
//
// One change of a flake's lock at a time: an update or lock of a flake that is already being updated waits for it
// (its notification says so, and its Cancel gives up waiting); other flakes run meanwhile. A cancel puts back only
// what that run wrote (planCancelRestore); a lock that changed for another reason is left and the user told so; a
// lock Nix already committed (nixFlakes.inputs.commitLockFile) is kept, so file and commit agree.
import * as vscode from 'vscode';
import { readFile, unlink } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import { FlakeLockState, Locks, readLock } from './model';
import { flakeOfNode, InputNode } from './view';
import { CancelledError, ExitError } from '../../core/nix/process';
import {
  diffLocks,
  diffSummary,
  explainUpdateFailure,
  lockArgs,
  parseLockUpdateMessages,
  planCancelRestore,
  updateArgs,
} from '../../core/flake/update';
import { allInputs, isValidInputPath } from '../../core/flake/lock';
import { writeFileAtomic } from '../../core/fs/atomic';
import { KeyedSerialiser } from '../../core/serial';
import { stripAnsi } from '../../core/text';
import { flakeRef } from '../../workspace/mapping';

export interface UpdateOutcome {
  status: 'updated' | 'unchanged' | 'failed' | 'cancelled';
  summary: string[];
  message?: string;
  /**
   * After a cancel, what became of flake.lock: as it was (`unchanged`), put back (`restored`), removed because the
   * run had created it (`removed`), left because it changed for another reason (`kept`), or kept because Nix had
   * already committed it (`committed`).
   */
  lock?: 'unchanged' | 'restored' | 'removed' | 'kept' | 'committed';
  /** A failure a terminal can help with (a private input's ssh): the update is offered there. */
  terminal?: boolean;
}

export interface Updates {
  /** Updates `inputs` (all when empty); `signal` cancels like the notification's Cancel button. */
  update(flake: Flake, inputs: string[], signal?: AbortSignal): Promise<UpdateOutcome>;
  /** Locks the flake (`nix flake lock`: adds missing entries); `signal` cancels. */
  lock(flake: Flake, signal?: AbortSignal): Promise<UpdateOutcome>;
}

const BEFORE_SCHEME = 'nix-flakes-lock-before';
/** A bound on the small git queries around a commit-lock-file update. */
const GIT_TIMEOUT_MS = 10_000;

interface Deps {
  ctx: Ctx;
  locks: Locks;
  /** One change of a flake's lock at a time, keyed by the flake's folder. */
  serial: KeyedSerialiser;
  /** The lock as it was before an update, for the diff editor. */
  before: Map<string, string>;
}

export function registerUpdates(ctx: Ctx, locks: Locks): Updates {
  const deps: Deps = { ctx, locks, serial: new KeyedSerialiser(), before: new Map() };
  ctx.register(
    vscode.workspace.registerTextDocumentContentProvider(BEFORE_SCHEME, {
      provideTextDocumentContent: (uri) => deps.before.get(uri.query) ?? '',
    }),
  );
  const update = (flake: Flake, inputs: string[], signal?: AbortSignal) => updateInputs(deps, flake, inputs, signal);
  const lock = (flake: Flake, signal?: AbortSignal) => lockFlake(deps, flake, signal);
  const pickFlake = async (arg: unknown): Promise<Flake | undefined> => {
    const f = flakeOfNode(arg as InputNode) ?? (isFlake(arg) ? arg : undefined);
    if (f) return f;
    const flakes = await ctx.flakes();
    if (flakes.length <= 1) return flakes[0];
    const picked = await vscode.window.showQuickPick(
      flakes.map((fl) => ({ label: fl.label, description: fl.uri.fsPath, fl })),
      { placeHolder: 'Which flake?' },
    );
    return picked?.fl;
  };

  ctx.register(
    vscode.commands.registerCommand('nixFlakes.updateInput', async (arg?: unknown, name?: string) => {
      const node = arg as InputNode | undefined;
      const flake = await pickFlake(arg);
      if (!flake) return undefined;
      let input = node?.kind === 'input' ? node.input.id : name;
      if (!input) {
        const state = await readLock(flake);
        const items = (state.lock ? allInputs(state.lock) : [])
          .filter((i) => !i.follows && i.path.length === 1)
          .map((i) => ({ label: i.id, description: [i.shortRev, i.original].filter(Boolean).join(' · ') }));
        if (!items.length) {
          void vscode.window.showInformationMessage(`${flake.label} has no locked inputs to update.`);
          return undefined;
        }
        input = (await vscode.window.showQuickPick(items, { placeHolder: `Update which input of ${flake.label}?` }))?.label;
      }
      if (!input) return undefined;
      return update(flake, [input]);
    }),
    vscode.commands.registerCommand('nixFlakes.updateAllInputs', async (arg?: unknown) => {
      const flake = await pickFlake(arg);
      return flake ? update(flake, []) : undefined;
    }),
    vscode.commands.registerCommand('nixFlakes.lockFlake', async (arg?: unknown) => {
      const flake = await pickFlake(arg);
      return flake ? lock(flake) : undefined;
    }),
  );
  return { update, lock };
}

function isFlake(x: unknown): x is Flake {
  return !!x && typeof x === 'object' && 'uri' in x && 'folder' in x && 'label' in x;
}

/**
 * Runs `body` in a cancellable notification, after any other change of the same flake's lock has finished (the
 * notification says what it waits for). Cancel, or `signal`, gives up waiting or cancels the run.
 */
function exclusive(
  deps: Deps,
  flake: Flake,
  title: string,
  what: string,
  signal: AbortSignal | undefined,
  body: (signal: AbortSignal, progress: vscode.Progress<{ message?: string }>) => Promise<UpdateOutcome>,
): Promise<UpdateOutcome> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      if (signal?.aborted) ac.abort();
      signal?.addEventListener('abort', () => ac.abort(), { once: true });
      const release = await deps.serial.acquire(flake.uri.toString(), what, ac.signal, (holder) =>
        progress.report({ message: `waiting for ${holder} of ${flake.label} to finish…` }),
      );
      if (!release) {
        return {
          status: 'cancelled',
          summary: [],
          lock: 'unchanged',
          message: `Cancelled before it started (another change of ${flake.label}'s flake.lock was running); nothing ran.`,
        } satisfies UpdateOutcome;
      }
      try {
        progress.report({ message: '' });
        return await body(ac.signal, progress);
      } finally {
        deps.locks.invalidate();
        release();
      }
    }),
  );
}

async function updateInputs(deps: Deps, flake: Flake, inputs: string[], signal?: AbortSignal): Promise<UpdateOutcome> {
  const { ctx } = deps;
  if (!ctx.trusted) {
    void vscode.window.showWarningMessage('Restricted Mode: trust this folder to update its inputs.');
    return { status: 'failed', summary: [] };
  }
  for (const i of inputs) {
    if (!isValidInputPath(i)) {
      void vscode.window.showErrorMessage(`'${i}' is not an input name Nix accepts.`);
      return { status: 'failed', summary: [] };
    }
  }
  const nix = await ctx.requireNix();
  const commit = ctx.settings(flake.folder).commitLockFile;
  let ref: string;
  try {
    ref = await flakeRef(ctx, flake);
  } catch (e) {
    void vscode.window.showErrorMessage((e as Error).message);
    return { status: 'failed', summary: [], message: (e as Error).message };
  }
  const args = updateArgs(nix.version, ref, inputs, { commitLockFile: commit });
  const what = inputs.length ? inputs.join(', ') : 'all inputs';
  let old: FlakeLockState | undefined;
  const result = await exclusive(
    deps,
    flake,
    `Updating ${what} of ${flake.label}`,
    `the update of ${what}`,
    signal,
    async (abort, progress) => {
      // Read when this run's turn came: what an earlier run wrote is this one's starting point.
      const before = await readLock(flake);
      old = before;
      const head = commit ? await headOf(ctx, flake) : undefined;
      try {
        const r = await ctx.runNix(args.slice(0, 2), args.slice(2), {
          cwd: flake.uri.fsPath,
          scope: flake.folder,
          signal: abort,
          writeLockFile: true,
          onStderrLine: (l) => {
            const t = stripAnsi(l).trim();
            if (/^(fetching|downloading|unpacking|• |warning: updating)/.test(t)) progress.report({ message: t.slice(0, 120) });
          },
        });
        const messages = parseLockUpdateMessages(r.stderrLines.join('\n'));
        const now = await readLock(flake);
        const summary = before.lock && now.lock ? diffSummary(diffLocks(before.lock, now.lock)) : [];
        if (messages.unknownInputs.length) {
          return {
            status: 'failed',
            summary,
            message: `${flake.label} has no input named ${messages.unknownInputs.join(', ')}: nothing was updated.`,
          };
        }
        return { status: summary.length || (!before.lock && now.lock) ? 'updated' : 'unchanged', summary };
      } catch (e) {
        if (e instanceof CancelledError) return afterCancel(deps, flake, before, e.stderrLines.join('\n'), head);
        if (!(e instanceof ExitError)) throw e;
        const failure = explainUpdateFailure(e.stderrLines.join('\n'), {
          commitLockFile: commit,
          offline: ctx.settings(flake.folder).offline,
        });
        const now = failure.lockWritten ? await readLock(flake) : undefined;
        const summary = before.lock && now?.lock ? diffSummary(diffLocks(before.lock, now.lock)) : [];
        return { status: 'failed', summary, message: failure.message, ...(failure.terminal ? { terminal: true } : {}) };
      }
    },
  );
  if (result.status === 'updated' && old) {
    const key = `${flake.uri.toString()}@${Date.now()}`;
    deps.before.set(key, old.text ?? '');
    const lockPath = old.lockPath;
    const shown = result.summary.slice(0, 6).join('\n');
    void vscode.window
      .showInformationMessage(
        `Updated ${flake.label}: ${shown}${result.summary.length > 6 ? ` (+${result.summary.length - 6} more)` : ''}`,
        'Show Diff',
      )
      .then((a) => {
        if (a === 'Show Diff') {
          void vscode.commands.executeCommand(
            'vscode.diff',
            vscode.Uri.from({ scheme: BEFORE_SCHEME, path: `${lockPath} (before)`, query: key }),
            vscode.Uri.file(lockPath),
            `flake.lock: before ↔ after updating ${what}`,
          );
        }
      });
  } else if (result.status === 'unchanged') {
    void vscode.window.showInformationMessage(`${what} of ${flake.label}: already up to date, nothing changed.`);
  } else if (result.terminal) {
    // ssh could not ask for a passphrase or a host key here; in a terminal it can.
    void vscode.window.showErrorMessage(result.message ?? 'Update failed.', 'Update in Terminal', 'Show Log').then((a) => {
      if (a === 'Show Log') ctx.log.show();
      if (a === 'Update in Terminal')
        void ctx
          .openNixTerminal(args.slice(0, 2), args.slice(2), {
            name: `nix ${args.slice(0, 2).join(' ')}`,
            cwd: flake.uri.fsPath,
            scope: flake.folder,
          })
          .then((t) => t.show());
    });
  } else {
    showOutcome(deps, result);
  }
  return result;
}

async function lockFlake(deps: Deps, flake: Flake, signal?: AbortSignal): Promise<UpdateOutcome> {
  const { ctx } = deps;
  let args: string[];
  try {
    args = lockArgs(await flakeRef(ctx, flake));
  } catch (e) {
    void vscode.window.showErrorMessage((e as Error).message);
    return { status: 'failed', summary: [], message: (e as Error).message };
  }
  const result = await exclusive(deps, flake, `Locking ${flake.label}`, 'locking', signal, async (abort) => {
    const old = await readLock(flake);
    try {
      await ctx.runNix(args.slice(0, 2), args.slice(2), { cwd: flake.uri.fsPath, scope: flake.folder, signal: abort, writeLockFile: true });
    } catch (e) {
      if (e instanceof CancelledError) return afterCancel(deps, flake, old, e.stderrLines.join('\n'), undefined);
      const msg = e instanceof ExitError ? stripAnsi(e.stderrTail(3)) : (e as Error).message;
      return { status: 'failed', summary: [], message: `Locking ${flake.label} failed: ${msg}` };
    }
    const now = await readLock(flake);
    const summary =
      old.lock && now.lock ? diffSummary(diffLocks(old.lock, now.lock)) : now.lock ? now.lock.inputs.map((i) => `${i.id}: added`) : [];
    return { status: summary.length ? 'updated' : 'unchanged', summary };
  });
  if (result.status === 'failed' || result.status === 'cancelled') showOutcome(deps, result);
  return result;
}

function showOutcome(deps: Deps, result: UpdateOutcome): void {
  if (result.status === 'cancelled') {
    const text = result.message ?? 'Cancelled; flake.lock is as it was.';
    if (result.lock === 'kept' || result.lock === 'committed') void vscode.window.showWarningMessage(text);
    else void vscode.window.showInformationMessage(text);
  } else if (result.status === 'failed' && result.message) {
    void vscode.window.showErrorMessage(result.message, 'Show Log').then((a) => a && deps.ctx.log.show());
  }
}

/** The commit HEAD names in the flake's repository (undefined outside git). */
async function headOf(ctx: Ctx, flake: Flake): Promise<string | undefined> {
  try {
    const r = await ctx.git(['rev-parse', '--verify', '-q', 'HEAD'], {
      cwd: flake.uri.fsPath,
      signal: AbortSignal.timeout(GIT_TIMEOUT_MS),
    });
    return r.stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The commit the cancelled run made with `--commit-lock-file`, if it got that far: HEAD moved on by one commit from
 * `head`, and that commit changes this flake's flake.lock and nothing else.
 */
async function lockCommit(ctx: Ctx, flake: Flake, head: string): Promise<string | undefined> {
  const now = await headOf(ctx, flake);
  if (!now || now === head) return undefined;
  try {
    const cwd = flake.uri.fsPath;
    const parents = (await ctx.git(['log', '-1', '--format=%P', now], { cwd, signal: AbortSignal.timeout(GIT_TIMEOUT_MS) })).stdout
      .trim()
      .split(/\s+/);
    if (parents.length !== 1 || parents[0] !== head) return undefined;
    const files = (
      await ctx.git(['diff-tree', '--no-commit-id', '--name-only', '--relative', '-r', now], {
        cwd,
        signal: AbortSignal.timeout(GIT_TIMEOUT_MS),
      })
    ).stdout
      .split('\n')
      .filter(Boolean);
    return files.length === 1 && files[0] === 'flake.lock' ? now : undefined;
  } catch {
    return undefined;
  }
}

/** After a cancelled update or lock: put back only what that run wrote, and say what became of flake.lock. */
async function afterCancel(
  deps: Deps,
  flake: Flake,
  old: FlakeLockState,
  stderr: string,
  head: string | undefined,
): Promise<UpdateOutcome> {
  const { ctx } = deps;
  const file = old.lockPath;
  const rel = relative(flake.folder.uri.fsPath, file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  if (head !== undefined) {
    const committed = await lockCommit(ctx, flake, head);
    if (committed) {
      const now = await readLock(flake);
      const summary = old.lock && now.lock ? diffSummary(diffLocks(old.lock, now.lock)) : [];
      const short = committed.slice(0, 12);
      return {
        status: 'cancelled',
        summary,
        lock: 'committed',
        message: `Cancelled too late: Nix had already committed ${shown} (commit ${short}, nixFlakes.inputs.commitLockFile), so the update was kept and the file and the commit agree. To undo it: git revert ${short}.`,
      };
    }
  }
  const read = () => readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  const now = await read();
  const plan = planCancelRestore(old.text, now, stderr);
  const kept = (how: string): UpdateOutcome => ({
    status: 'cancelled',
    summary: [],
    lock: 'kept',
    message: `Cancelled. ${shown} ${how} while the update ran, not by it (an edit, git pull or another tool?), so it was left as it is: check it before you commit it.`,
  });
  if (plan.action === 'none') return { status: 'cancelled', summary: [], lock: 'unchanged', message: `Cancelled; ${shown} is as it was.` };
  if (plan.action === 'keep') return kept(plan.why === 'removed-elsewhere' ? 'was removed' : 'changed');
  // What we read is what we replace: if it changed again since, it is not ours to touch.
  if ((await read()) !== now) return kept('changed');
  if (plan.action === 'restore') {
    await writeFileAtomic(file, plan.text);
    return {
      status: 'cancelled',
      summary: [],
      lock: 'restored',
      message: `Cancelled; Nix had already written ${shown}, which was put back as it was.`,
    };
  }
  await unlink(file);
  if (head !== undefined) {
    // `--commit-lock-file` adds the new file with --intent-to-add before committing: take that back too.
    await ctx
      .git(['rm', '--cached', '--quiet', '--ignore-unmatch', '--', 'flake.lock'], {
        cwd: flake.uri.fsPath,
        signal: AbortSignal.timeout(GIT_TIMEOUT_MS),
      })
      .catch(() => undefined);
  }
  return { status: 'cancelled', summary: [], lock: 'removed', message: `Cancelled; the ${shown} Nix had created was removed.` };
}
