// One ssh connection per host for a whole deployment: ssh's connection sharing (ControlMaster) for every command
// that reaches a target or build host, ssh's own and Nix's (`nix copy --to ssh-ng://…` reads NIX_SSHOPTS), so the
// key exchange and login happen once instead of once per step. The user's own sharing (ControlPath in their ssh
// options or ssh_config, as `ssh -G` reports it) is left alone. The sockets live in a folder only this user can
// enter, and the masters are closed (`ssh -O exit`) when the deployment ends. No `vscode` import.
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from './plan';
import { sshDestination, sshOptionsFor, type SshAddress } from './host';

/** How long an idle master stays (seconds): the deployment closes it sooner; this bounds a crash. */
export const CONTROL_PERSIST_SECONDS = 60;

/** ssh options that share one connection per host (`%C`: a hash of the user, host and port, always short). */
export function sharingOptions(controlDir: string): string[] {
  return ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(controlDir, '%C')}`, '-o', `ControlPersist=${CONTROL_PERSIST_SECONDS}`];
}

/** Whether the user's ssh options already choose connection sharing (then theirs is used, untouched). */
export function optionsChooseSharing(opts: readonly string[]): boolean {
  const control = /^control(master|path|persist)\b/i;
  return opts.some(
    (o, i) =>
      o === '-M' ||
      o.startsWith('-S') ||
      (o.startsWith('-o') && control.test(o.slice(2).trim())) ||
      (opts[i - 1] === '-o' && control.test(o)),
  );
}

/** Reads `ssh -G` output (the configuration ssh would use): does the user's ssh_config share connections already? */
export function configSharesConnections(sshG: string): boolean {
  const value = (key: string) => new RegExp(`^${key}\\s+(\\S+)`, 'mi').exec(sshG)?.[1]?.toLowerCase();
  const path = value('controlpath');
  const master = value('controlmaster');
  return (path !== undefined && path !== 'none') || (master !== undefined && master !== 'false' && master !== 'no');
}

/** `ssh -G [options] [-p port] -- host`: what ssh would use for `to`, without connecting. */
export function sshConfigCommand(common: readonly string[], to: SshAddress): Command {
  return { file: 'ssh', args: [...sshOptionsFor(common, to), '-G', '--', sshDestination(to)] };
}

/** `ssh [options] -O exit -- host`: closes the shared connection to `to` (fails harmlessly when there is none). */
export function closeSharedCommand(common: readonly string[], to: SshAddress): Command {
  return { file: 'ssh', args: [...sshOptionsFor(common, to), '-O', 'exit', '--', sshDestination(to)] };
}

/**
 * A socket path must fit in a sockaddr_un (108 bytes): the folder, `/`, `%C` (40 hex digits) and the 17 characters
 * ssh appends while it makes the socket (`.XXXXXXXXXXXXXXXX`); and it carries no whitespace (NIX_SSHOPTS).
 */
const MAX_DIR = 107 - 1 - 40 - 17;
const SAFE_DIR = /^\/[A-Za-z0-9._/-]+$/;

/**
 * A folder for the sockets: `$XDG_RUNTIME_DIR/nix-flakes-ssh`, else `/tmp/nix-flakes-ssh-<uid>` (`tmp`: for tests); created with mode
 * 0700, and used only when it is a real folder owned by this user that nobody else can enter (another user's folder
 * of the same name would let them reach the connections). Undefined: no sharing.
 */
export async function controlDir(
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.(),
  tmp = '/tmp',
): Promise<string | undefined> {
  if (uid === undefined) return undefined;
  const candidates = [...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, 'nix-flakes-ssh')] : []), join(tmp, `nix-flakes-ssh-${uid}`)];
  for (const dir of candidates) {
    if (dir.length > MAX_DIR || !SAFE_DIR.test(dir)) continue;
    try {
      await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      const s = await lstat(dir);
      if (s.isDirectory() && !s.isSymbolicLink() && s.uid === uid && (s.mode & 0o077) === 0) return dir;
    } catch {
      // not usable: try the next
    }
  }
  return undefined;
}
