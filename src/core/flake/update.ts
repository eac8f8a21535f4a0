// Updating flake inputs: the nix arguments per version, the `• Updated input …` messages, and lock diffs.
// No `vscode` import.
//
// Semantics (nix-cli reference §4): Nix ≥ 2.19, Lix and Determinate take input paths as arguments of
// `nix flake update` and the flake with `--flake`; ≤ 2.18 reads `nix flake update X` as a flake reference, so
// single inputs go through `nix flake lock --update-input X`. Messages go to stderr inside a `warning:`.

import { capabilities, type NixVersion } from '../nix/version';
import { clip } from './json';
import { allInputs, parseFlakeLock, type FlakeLock, type LockInput } from './lock';
import { parseErrorText } from '../errors/parseText';
import { nixMessageLines } from './stderr';
import { classifyPrivateInputFailure } from './privateInputs';
import { formatDate } from './time';

export interface UpdateOptions {
  /** Add `--commit-lock-file` (commits flake.lock with a `flake.lock: Update` message). */
  commitLockFile?: boolean;
}

/**
 * The nix arguments (after `nix`) that update `inputs` (all of them when empty) of the flake `flakeRef`:
 * `flake update --flake REF [inputs…]` on 2.19+ / Lix / Determinate; on older Nix `flake update REF` for all,
 * `flake lock REF --update-input A --update-input B` for some. Input paths should be checked with
 * `isValidInputPath` first (Nix rejects other names).
 */
export function updateArgs(version: NixVersion, flakeRef: string, inputs: readonly string[], opts: UpdateOptions = {}): string[] {
  const commit = opts.commitLockFile ? ['--commit-lock-file'] : [];
  if (capabilities(version).flakeUpdateInputs) return ['flake', 'update', ...commit, '--flake', flakeRef, ...inputs];
  if (inputs.length === 0) return ['flake', 'update', ...commit, flakeRef];
  return ['flake', 'lock', ...commit, flakeRef, ...inputs.flatMap((i) => ['--update-input', i])];
}

/** `flake lock REF`: creates missing lock entries only (never updates existing ones on 2.19+). */
export function lockArgs(flakeRef: string): string[] {
  return ['flake', 'lock', flakeRef];
}

/** One side of a `• Updated input` message. */
export interface LockedRefText {
  /** The locked reference as printed, without quotes, e.g. `github:NixOS/nixpkgs/31d8e65…?narHash=…`. */
  ref?: string;
  /** For `follows 'x'` entries: the followed input path. */
  follows?: string;
  /** The 40-hex revision found in the reference. */
  rev?: string;
  shortRev?: string;
  /** `YYYY-MM-DD`, as printed after the reference. */
  date?: string;
}

export interface LockUpdateMessages {
  /** The flake.lock path of `updating lock file '…'` / `creating lock file "…"`. */
  lockFile?: string;
  /** `creating lock file` rather than `updating lock file`. */
  created: boolean;
  added: ({ path: string } & LockedRefText)[];
  removed: { path: string }[];
  updated: { path: string; from: LockedRefText; to: LockedRefText }[];
  /** Input names that matched nothing (2.8's `--update-input` warning, 2.19.2+'s `Invalid flake input`, newer wordings). */
  unknownInputs: string[];
  /** `committed new revision '…'` after `--commit-lock-file`. */
  committedRevision?: string;
}

const BULLET = /^\s*•\s*(Added|Removed|Updated) input (?:'([^']*)'|"([^"]*)")(:?)\s*$/;
const HEADER = /^(?:warning:\s*)?(updating|creating) lock file (?:'([^']*)'|"([^"]*)"|(\S+?))\s*:?\s*$/;
const REF_LINE = /^\s*(?:→\s*)?(?:follows (?:'([^']*)'|"([^"]*)")|'([^']*)'|"([^"]*)"|(\S+))(?:\s+\((\d{4}-\d{2}-\d{2})\))?\s*$/;
const UNKNOWN_INPUT = [
  /the flag '--update-input ([^']*)' does not match any input/,
  /Invalid flake input '([^']*)'/,
  /^(?:warning:\s*)?'([^']*)' does not match any input of this flake/,
];
const COMMITTED = /committed new revision '([0-9a-f]+)'/;

/**
 * Reads `• Added/Removed/Updated input '…'` messages (ANSI stripped; 2.8's and newer quoting, including
 * double-quoted lock file paths and `follows '…'` entries), unknown-input warnings and the committed revision
 * from the stderr of `nix flake update` / `nix flake lock`. Plain text or internal-json. Never throws.
 */
export function parseLockUpdateMessages(stderr: string): LockUpdateMessages {
  const result: LockUpdateMessages = { created: false, added: [], removed: [], updated: [], unknownInputs: [] };
  const lines = nixMessageLines(stderr);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = HEADER.exec(line);
    if (header) {
      result.created = header[1] === 'creating';
      result.lockFile = clip(header[2] ?? header[3] ?? header[4] ?? '', 1024);
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet) {
      const path = clip(bullet[2] ?? bullet[3] ?? '', 1024);
      if (bullet[1] === 'Removed') result.removed.push({ path });
      else if (bullet[1] === 'Added') {
        const ref = refLine(lines[i + 1]);
        if (ref) i++;
        result.added.push({ path, ...ref });
      } else {
        const from = refLine(lines[i + 1]);
        if (from) i++;
        const to = refLine(lines[i + 1]);
        if (to) i++;
        result.updated.push({ path, from: from ?? {}, to: to ?? {} });
      }
      continue;
    }
    for (const re of UNKNOWN_INPUT) {
      const m = re.exec(line);
      if (m && !result.unknownInputs.includes(m[1]!)) result.unknownInputs.push(clip(m[1]!, 1024));
    }
    const committed = COMMITTED.exec(line);
    if (committed) result.committedRevision = committed[1]!;
  }
  return result;
}

/** How one input changed between two lock files. */
export type InputChangeKind = 'added' | 'removed' | 'updated' | 'unchanged';

/** The state of an input on one side of a diff. */
export interface InputState {
  rev?: string;
  shortRev?: string;
  /** `YYYY-MM-DD` of lastModified. */
  date?: string;
  lastModified?: number;
  narHash?: string;
  /** For follows entries: the followed path (`''` follows nothing). */
  follows?: string;
  locked?: string;
}

export interface InputChange {
  /** `home-manager/nixpkgs`. */
  path: string;
  change: InputChangeKind;
  from?: InputState;
  to?: InputState;
  /** For changed inputs: `nixpkgs: 2025-10-01 (a1b2c3d) → 2025-11-20 (e4f5a6b)`. */
  summary?: string;
}

/**
 * Compares two lock files input path by input path (follows entries included), like Nix's lock file diff.
 * Sorted by path.
 */
export function diffLocks(before: FlakeLock, after: FlakeLock): InputChange[] {
  const old = byPath(before);
  const now = byPath(after);
  const paths = [...new Set([...old.keys(), ...now.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return paths.map((path) => {
    const a = old.get(path);
    const b = now.get(path);
    const from = a ? stateOf(a) : undefined;
    const to = b ? stateOf(b) : undefined;
    const change: InputChangeKind = !a ? 'added' : !b ? 'removed' : sameState(from, to) ? 'unchanged' : 'updated';
    const entry: InputChange = { path, change, ...(from ? { from } : {}), ...(to ? { to } : {}) };
    if (change !== 'unchanged') entry.summary = summarize(path, change, from, to);
    return entry;
  });
}

/** The summary lines of the changed inputs of a diff. */
export function diffSummary(changes: readonly InputChange[]): string[] {
  return changes.flatMap((c) => (c.summary ? [c.summary] : []));
}

/** `2025-10-01 (a1b2c3d)`, `follows nixpkgs`, or the locked reference when there is no revision. */
export function describeState(s: InputState): string {
  if (s.follows !== undefined) return s.follows === '' ? 'follows nothing' : `follows ${s.follows}`;
  const id = s.shortRev ?? (s.narHash ? shortHash(s.narHash) : undefined);
  const date = s.date ?? 'unknown date';
  return id ? `${date} (${id})` : s.locked ? `${date} (${s.locked})` : date;
}

function summarize(path: string, change: InputChangeKind, from?: InputState, to?: InputState): string {
  if (change === 'added' && to) return `${path}: added, ${describeState(to)}`;
  if (change === 'removed') return `${path}: removed`;
  return `${path}: ${from ? describeState(from) : '?'} → ${to ? describeState(to) : '?'}`;
}

function byPath(lock: FlakeLock): Map<string, LockInput> {
  return new Map(allInputs(lock).map((i) => [i.id, i]));
}

function stateOf(i: LockInput): InputState {
  if (i.follows) return { follows: i.follows.join('/') };
  return {
    ...(i.rev !== undefined ? { rev: i.rev, shortRev: i.shortRev } : {}),
    ...(i.lastModified !== undefined ? { date: formatDate(i.lastModified), lastModified: i.lastModified } : {}),
    ...(i.narHash !== undefined ? { narHash: i.narHash } : {}),
    ...(i.locked !== undefined ? { locked: i.locked } : {}),
  };
}

function sameState(a?: InputState, b?: InputState): boolean {
  if (!a || !b) return false;
  return (
    a.follows === b.follows && a.rev === b.rev && a.narHash === b.narHash && a.locked === b.locked && a.lastModified === b.lastModified
  );
}

/** `sha256-AbCdEf…` → `AbCdEfG` (7 characters after the algorithm). */
function shortHash(h: string): string {
  return h.replace(/^[a-z0-9]+-/, '').slice(0, 7);
}

function refLine(line: string | undefined): LockedRefText | undefined {
  if (line === undefined || BULLET.test(line) || !/^\s/.test(line)) return undefined;
  const m = REF_LINE.exec(line);
  if (!m) return undefined;
  const follows = m[1] ?? m[2];
  if (follows !== undefined) return { follows: clip(follows, 1024) };
  const ref = clip(m[3] ?? m[4] ?? m[5] ?? '', 2048);
  const rev = /(?:^|[/=])([0-9a-f]{40})(?:[?&#/]|$)/.exec(ref)?.[1];
  return { ref, ...(rev ? { rev, shortRev: rev.slice(0, 7) } : {}), ...(m[6] ? { date: m[6] } : {}) };
}

/** What kind of failure an update ran into (see `explainUpdateFailure`). */
export type UpdateFailureKind =
  /** A download failed (no network, a host that does not resolve, a refused connection). */
  | 'network'
  /** `--commit-lock-file`: git refused the commit because it does not know who commits. */
  | 'commit-identity'
  /** `--commit-lock-file`: git commit failed for another reason (a hook, a lock, …). */
  | 'commit-refused'
  /** An indirect input (`nixpkgs`, `flake:x`) that no flake registry knows. */
  | 'registry'
  /** A private input nix could not fetch for want of credentials (see privateInputs.ts). */
  | 'credentials'
  | 'other';

export interface UpdateFailure {
  kind: UpdateFailureKind;
  /** One paragraph for the user: what failed, the input concerned when Nix named it, and what to do. */
  message: string;
  /** The input Nix was updating when it failed (`… while updating the flake input 'x'`), when it said. */
  input?: string;
  /** Nix had written flake.lock before the failure (the `updating`/`creating lock file` warning came first). */
  lockWritten: boolean;
  /** Running the same update in a terminal can help: someone can answer ssh there (`credentials` only). */
  terminal?: boolean;
}

export interface ExplainOptions {
  /** The update ran with `--commit-lock-file`. */
  commitLockFile?: boolean;
  /** The update ran with `--offline` (`nixFlakes.offline`). */
  offline?: boolean;
}

const NETWORK =
  /unable to download|could(?: not|n't) resolve host|failed to connect|connection refused|network is unreachable|timed out|SSL connect error|couldn't connect/i;
const GIT_FAILED = /program ['"]git['"] failed with exit code (\d+)/;
/** Nix wrote the commit message to a git that had already exited (a hook refused before git read it; seen on 2.26). */
const BROKEN_PIPE = /writing to file: Broken pipe/;
const GIT_IDENTITY = /Please tell me who you are|Author identity unknown|empty ident name|no email was given|unable to auto-detect email/;
const REGISTRY = /cannot find flake ['"]flake:([^'"]*)['"] in the flake registries/;
const INPUT_FRAME = /while updating the flake input ['"]([^'"]*)['"]/;
const DOWNLOAD = /unable to download (?:'([^']*)'|"([^"]*)"): ([^;\n]*)/g;

/**
 * Explains why `nix flake update` / `nix flake lock` failed, from its stderr (plain text, any version from 2.8;
 * ANSI codes are ignored): a download (with the URL and the reason), a lock commit git refused (who commits, or
 * git's own last line), an indirect input no registry knows, else Nix's own innermost message, with the input it
 * was updating. Never throws.
 */
export function explainUpdateFailure(stderr: string, opts: ExplainOptions = {}): UpdateFailure {
  const lines = nixMessageLines(typeof stderr === 'string' ? stderr : '');
  const text = lines.join('\n');
  const errors = parseErrorText(text);
  const primary = errors.length ? errors[errors.length - 1] : undefined;
  const input = primary?.trace.map((f) => INPUT_FRAME.exec(f.message)?.[1]).find((x) => x !== undefined) ?? INPUT_FRAME.exec(text)?.[1];
  const lockWritten = parseLockUpdateMessages(text).lockFile !== undefined;
  const of = input !== undefined ? ` (input ${clip(input, 200)})` : '';
  const result = (kind: UpdateFailureKind, message: string): UpdateFailure => ({
    kind,
    message,
    ...(input !== undefined ? { input: clip(input, 1024) } : {}),
    lockWritten,
  });

  const git = GIT_FAILED.exec(text);
  const gitGone = !git && BROKEN_PIPE.test(text) && /while updating the lock file/.test(text);
  if (opts.commitLockFile && (git || gitGone)) {
    const head = 'flake.lock could not be committed (nixFlakes.inputs.commitLockFile): git commit failed';
    const written = lockWritten ? ' The updated flake.lock is on disk, not committed.' : '';
    if (GIT_IDENTITY.test(text)) {
      return result(
        'commit-identity',
        `${head} because git does not know who you are. Set user.name and user.email (git config --global user.email …), or turn the setting off.${written}`,
      );
    }
    const said = gitOutput(lines);
    return result(
      'commit-refused',
      `${head}${git ? ` (exit code ${git[1]})` : ' (git ended before it read the commit message)'}${said ? `: ${said}` : ''}. Check the repository's hooks and state; the log has git's whole message.${written}`,
    );
  }
  const registry = REGISTRY.exec(text);
  if (registry) {
    return result(
      'registry',
      `No flake registry knows '${clip(registry[1]!, 200)}'${of}: write the input's full URL in flake.nix (for example github:owner/repo), or add it to a registry.`,
    );
  }
  const credentials = classifyPrivateInputFailure(text);
  if (credentials)
    return {
      ...result('credentials', input !== undefined ? `Input '${clip(input, 200)}': ${credentials.message}` : credentials.message),
      terminal: credentials.terminal,
    };
  if (NETWORK.test(text)) {
    const downloads = [...text.matchAll(DOWNLOAD)];
    const last = downloads[downloads.length - 1];
    const what = last ? ` Could not download ${clip(last[1] ?? last[2] ?? '', 300)}: ${balance(last[3]!.trim())}.` : '';
    return result(
      'network',
      `Updating needs the network to fetch new revisions${opts.offline ? ', and nixFlakes.offline is on' : ''}${of}.${what}`,
    );
  }
  if (primary?.message) {
    const where = primary.position?.file
      ? ` (${primary.position.file}:${primary.position.line}${primary.position.column ? `:${primary.position.column}` : ''})`
      : '';
    return result('other', `Update failed${of}: ${clip(primary.message.split('\n')[0]!, 500)}${where}`);
  }
  const tail = lines
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-3)
    .join(' ');
  return result('other', `Update failed${of}: ${clip(tail || 'nix gave no message', 500)}`);
}

/** The last line git printed: lines that are not Nix's own (messages, bullets, indented references, hints). */
function gitOutput(lines: readonly string[]): string | undefined {
  let end = lines.findIndex((l) => /^error:/.test(l));
  if (end < 0) end = lines.length;
  for (let i = end - 1; i >= 0; i--) {
    const line = lines[i]!;
    const l = line.trim();
    if (!l || /^(warning|error|trace):|^•|^→|^\(use '--show-trace'/.test(l) || /^\s/.test(line)) continue;
    return clip(l, 300);
  }
  return undefined;
}

/** Drops closing parentheses that close something opened before the quoted part (2.34 wraps the message). */
function balance(s: string): string {
  let out = s;
  while (out.endsWith(')') && (out.match(/\)/g) ?? []).length > (out.match(/\(/g) ?? []).length) out = out.slice(0, -1);
  return out;
}

/** What to do with flake.lock after an update was cancelled (see `planCancelRestore`). */
export type CancelRestorePlan =
  /** The lock is as it was before the update: nothing to do. */
  | { action: 'none' }
  /** The lock holds exactly this update's changes (or its half-written file): write the old text back. */
  | { action: 'restore'; text: string }
  /** This update created the lock (there was none): remove it. */
  | { action: 'remove' }
  /** The lock changed, but not (only) by this update: leave it, and say so. */
  | { action: 'keep'; why: 'changed-elsewhere' | 'removed-elsewhere' };

/**
 * Decides what a cancelled update may put back, from the lock's text before the update, its text now (undefined:
 * no file) and the stderr of the cancelled nix run. Nix announces what it writes (`updating lock file …` with the
 * `• Updated input` lines) before writing; the lock is put back only when it differs from before in exactly the
 * inputs Nix announced, to the revisions it announced, or is a half-written file Nix announced. Anything else
 * (Nix announced nothing, other inputs changed, the file went away) changed for another reason and is kept.
 */
export function planCancelRestore(before: string | undefined, now: string | undefined, stderr: string): CancelRestorePlan {
  if (now === before) return { action: 'none' };
  const messages = parseLockUpdateMessages(stderr);
  if (messages.lockFile === undefined) return { action: 'keep', why: now === undefined ? 'removed-elsewhere' : 'changed-elsewhere' };
  if (now === undefined) return { action: 'keep', why: 'removed-elsewhere' };
  const parsedNow = parseFlakeLock(now);
  if (before === undefined) {
    // Nix announced creating it; a file it did not finish writing does not parse, and is ours too.
    if (!messages.created) return { action: 'keep', why: 'changed-elsewhere' };
    if (!parsedNow.ok) return { action: 'remove' };
    const announced = new Set(messages.added.map((a) => a.path));
    const present = allInputs(parsedNow.lock).map((i) => i.id);
    // 2.8 lists nothing when creating; newer versions list every input added.
    return announced.size === 0 || present.every((p) => announced.has(p))
      ? { action: 'remove' }
      : { action: 'keep', why: 'changed-elsewhere' };
  }
  if (messages.created) return { action: 'keep', why: 'changed-elsewhere' };
  if (!parsedNow.ok) return { action: 'restore', text: before };
  const parsedBefore = parseFlakeLock(before);
  if (!parsedBefore.ok) return { action: 'keep', why: 'changed-elsewhere' };
  const changes = diffLocks(parsedBefore.lock, parsedNow.lock).filter((c) => c.change !== 'unchanged');
  const announced = new Map<string, LockedRefText | undefined>([
    ...messages.added.map((a): [string, LockedRefText] => [a.path, a]),
    ...messages.removed.map((r): [string, undefined] => [r.path, undefined]),
    ...messages.updated.map((u): [string, LockedRefText] => [u.path, u.to]),
  ]);
  if (changes.length !== announced.size) return { action: 'keep', why: 'changed-elsewhere' };
  for (const c of changes) {
    if (!announced.has(c.path)) return { action: 'keep', why: 'changed-elsewhere' };
    const to = announced.get(c.path);
    if (c.change === 'removed' ? to !== undefined : to === undefined) return { action: 'keep', why: 'changed-elsewhere' };
    if (to?.rev !== undefined && c.to?.rev !== to.rev) return { action: 'keep', why: 'changed-elsewhere' };
    if (to?.follows !== undefined && c.to?.follows !== to.follows) return { action: 'keep', why: 'changed-elsewhere' };
  }
  return { action: 'restore', text: before };
}
