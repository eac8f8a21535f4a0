// Private `git+ssh://` inputs for tests: a repository on the test host (test/support/testHost.ts), and ssh client
// configurations for each way a fetch can go: with the authorised key, with a key the host does not accept, with a
// key locked by a passphrase, and with a host key nobody has accepted. Each is handed to nix as GIT_SSH_COMMAND
// (`ssh -F <its ssh_config>`), so nothing reads ~/.ssh.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestHost } from './testHost';

export type SshClient = 'good' | 'wrongKey' | 'passphrase' | 'unknownHost';

export interface GitSshServer {
  /** The `git+ssh://` URL of a repository folder on this machine, reached through the test host's sshd. */
  url(repoDir: string): string;
  /** The environment that makes nix's git use a client configuration. */
  env(client: SshClient): Record<string, string>;
}

export function gitSshServer(host: TestHost): GitSshServer {
  const dir = join(host.dir, 'git-clients');
  mkdirSync(dir, { recursive: true });
  const keys = join(host.dir, 'keys');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-authorised', '-f', join(dir, 'wrong')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret passphrase', '-C', 'locked', '-f', join(dir, 'locked')]);
  // The locked key is authorised: only its passphrase stands in the way.
  writeFileSync(
    join(host.dir, 'authorized_keys'),
    `${readFileSync(join(keys, 'client.pub'), 'utf8').trim()}\n${readFileSync(join(dir, 'locked.pub'), 'utf8').trim()}\n`,
  );
  writeFileSync(join(dir, 'empty_known_hosts'), '');
  const config = (client: SshClient): string => {
    const file = join(dir, `${client}.ssh_config`);
    const identity = client === 'wrongKey' ? join(dir, 'wrong') : client === 'passphrase' ? join(dir, 'locked') : join(keys, 'client');
    const strict =
      client === 'unknownHost'
        ? ['  StrictHostKeyChecking yes', `  UserKnownHostsFile ${join(dir, 'empty_known_hosts')}`]
        : ['  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null'];
    writeFileSync(
      file,
      [
        `Host ${host.name}`,
        '  HostName 127.0.0.1',
        `  Port ${host.port}`,
        '  User root',
        `  IdentityFile ${identity}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        ...strict,
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    return file;
  };
  const files = new Map<SshClient, string>();
  return {
    url: (repoDir) => `git+ssh://${host.name}${repoDir}`,
    env: (client) => {
      if (!files.has(client)) files.set(client, config(client));
      return { GIT_SSH_COMMAND: `ssh -F ${files.get(client)}` };
    },
  };
}
