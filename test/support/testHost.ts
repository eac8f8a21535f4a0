// A second "machine" for deploy tests: sshd on 127.0.0.1 (a free port per run), started in a private mount namespace
// where a folder of the test is mounted on /nix, so everything that runs through it (`nix-daemon --stdio` behind
// `ssh-ng://testhost`, nix-env, an activation) has its own empty store, database and profiles at the standard paths
// while this machine's /nix is untouched. The client side never reads ~/.ssh: an ssh_config of its own (`-F`, also
// in NIX_SSHOPTS). Needs root, util-linux's unshare and Debian's openssh-server; `testHostUnavailable()` says why not.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { makeRepo, commitAll, repoRoot, runMarker, scratchDir, testNix, nixTestEnv } from './nix';

const SSHD = '/usr/sbin/sshd';

let unavailable: string | undefined | null = null;
/** Why no test host can be started here (undefined: it can). Checked once per process. */
export function testHostUnavailable(): string | undefined {
  if (unavailable !== null) return unavailable;
  unavailable = (() => {
    if (process.platform !== 'linux') return 'the test host needs Linux (mount namespaces)';
    if (process.getuid?.() !== 0) return 'the test host needs root (unshare -m, sshd, a /nix of its own)';
    if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
    for (const tool of ['ssh', 'ssh-keygen', 'unshare']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is missing`;
    }
    if (spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status !== 0)
      return 'unshare -m is not permitted here (no CAP_SYS_ADMIN)';
    if (spawnSync('sh', ['-c', 'command -v nix-daemon']).status !== 0) return 'no nix-daemon on PATH for the test host (Debian nix-bin)';
    return undefined;
  })();
  return unavailable;
}

/** A TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export interface TestHost {
  /** Its name in the ssh_config (`Host testhost`). */
  name: string;
  /** The address the deploy code is given (the ssh_config alias). */
  address: string;
  dir: string;
  /** The folder mounted on the host's /nix. */
  nixRoot: string;
  port: number;
  /** sshd's pid (from its PidFile). */
  pid: number;
  sshConfig: string;
  /** ssh options for every connection: `-F <ssh_config>`. */
  sshOptions: string[];
  /** NIX_SSHOPTS for nix commands that reach it. */
  env: Record<string, string>;
  /** The host's nix.conf (NIX_USER_CONF_FILES of everything that runs there). */
  nixConf: string;
  /** The path on this machine of a path of the host's /nix. */
  hostPath(p: string): string;
  /** Whether a store path is in the host's store. */
  storeHas(storePath: string): boolean;
  /** The host's system generations: `system-N-link` → toplevel, sorted by N. */
  generations(profile?: string): { number: number; toplevel: string }[];
  /** What the profile link points at (`system-2-link`), or undefined. */
  currentGeneration(profile?: string): string | undefined;
  /** The calls of the switch-to-configuration stand-in, in order: `[action, its path]`. */
  activations(): { action: string; script: string }[];
  /** Trusts a public signing key (`trusted-public-keys` in its nix.conf). */
  trustKey(publicKey: string): void;
  /** Runs a command on the host through ssh; returns stdout. */
  ssh(...remote: string[]): string;
  stop(): void;
}

function baseNixConf(trusted: string[]): string {
  return [
    'experimental-features = nix-command flakes',
    'substituters =',
    'sandbox = false',
    'build-users-group =',
    'require-sigs = true',
    `trusted-public-keys = ${trusted.join(' ')}`,
    '',
  ].join('\n');
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Starts a test host. Call testHostUnavailable() first; stop() it in an `after` hook. */
export async function startTestHost(name = 'testhost'): Promise<TestHost> {
  const why = testHostUnavailable();
  if (why) throw new Error(`no test host: ${why}`);
  const dir = mkdtempSync(join(scratchDir(), 'test-host-'));
  const nixRoot = join(dir, 'nix');
  mkdirSync(join(nixRoot, 'var', 'nix', 'profiles'), { recursive: true });
  mkdirSync(join(dir, 'keys'));
  for (const k of ['host', 'client'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}-${k}`, '-f', join(dir, 'keys', k)]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'keys', 'client.pub')));
  const nixConf = join(dir, 'nix.conf');
  const trusted: string[] = [];
  writeAtomic(nixConf, baseNixConf(trusted));
  const port = await freePort();
  const pidFile = join(dir, 'sshd.pid');
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'keys', 'host')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      `PidFile ${pidFile}`,
      `SetEnv NIX_USER_CONF_FILES=${nixConf}`,
      '',
    ].join('\n'),
  );
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      `Host ${name}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      '  User root',
      `  IdentityFile ${join(dir, 'keys', 'client')}`,
      '  IdentitiesOnly yes',
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  // sshd forks into the background (its pid lands in the PidFile); unshare's sh execs it, so the namespace lives as
  // long as sshd and its connections.
  execFileSync('unshare', [
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$1" /nix && exec "$2" -f "$3" -E "$4"',
    'sh',
    nixRoot,
    SSHD,
    join(dir, 'sshd_config'),
    join(dir, 'sshd.log'),
  ]);
  if (!(await waitForPort(port, 10_000)))
    throw new Error(
      `sshd did not start on port ${port}: ${existsSync(join(dir, 'sshd.log')) ? readFileSync(join(dir, 'sshd.log'), 'utf8') : ''}`,
    );
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const hostPath = (p: string): string => {
    if (!p.startsWith('/nix/')) throw new Error(`not a path under /nix: ${p}`);
    return join(nixRoot, p.slice('/nix/'.length));
  };
  const profiles = (profile: string): { dir: string; base: string } => {
    const i = profile.lastIndexOf('/');
    return { dir: hostPath(profile.slice(0, i)), base: profile.slice(i + 1) };
  };
  const host: TestHost = {
    name,
    address: name,
    dir,
    nixRoot,
    port,
    pid,
    sshConfig,
    sshOptions: ['-F', sshConfig],
    env: { NIX_SSHOPTS: `-F ${sshConfig}` },
    nixConf,
    hostPath,
    storeHas: (storePath) => existsSync(hostPath(storePath)),
    generations: (profile = '/nix/var/nix/profiles/system') => {
      const { dir: d, base } = profiles(profile);
      const re = new RegExp(`^${base}-(\\d+)-link$`);
      return (existsSync(d) ? readdirSync(d) : [])
        .map((n) => ({ m: re.exec(n), n }))
        .filter((x) => x.m)
        .map((x) => ({ number: Number(x.m![1]), toplevel: readlinkSync(join(d, x.n)) }))
        .sort((a, b) => a.number - b.number);
    },
    currentGeneration: (profile = '/nix/var/nix/profiles/system') => {
      const { dir: d, base } = profiles(profile);
      try {
        return readlinkSync(join(d, base));
      } catch {
        return undefined;
      }
    },
    activations: () => {
      const log = hostPath('/nix/var/switch-to-configuration.log');
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [action = '', script = ''] = l.split(' ');
          return { action, script };
        });
    },
    trustKey: (publicKey) => {
      trusted.push(publicKey.trim());
      writeAtomic(nixConf, baseNixConf(trusted));
    },
    ssh: (...remote) => execFileSync('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', '--', name, ...remote], { encoding: 'utf8' }),
    stop: () => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
  return host;
}

/** A signing key pair made by the test: `nix key generate-secret`, `nix key convert-secret-to-public`. */
export function makeSigningKey(keyName: string): { secretFile: string; publicKey: string } {
  const dir = mkdtempSync(join(scratchDir(), 'signing-key-'));
  const secret = execFileSync(
    testNix(),
    ['--extra-experimental-features', 'nix-command', 'key', 'generate-secret', '--key-name', keyName],
    { encoding: 'utf8', env: nixTestEnv() },
  );
  const secretFile = join(dir, 'key.sec');
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const publicKey = execFileSync(testNix(), ['--extra-experimental-features', 'nix-command', 'key', 'convert-secret-to-public'], {
    input: secret,
    encoding: 'utf8',
    env: nixTestEnv(),
  }).trim();
  return { secretFile, publicKey };
}

/**
 * Copies test/fixtures/<name> into a fresh git repository; `@RUN@` becomes a marker unique to this call, so the paths
 * it builds are new in every run (unsigned, not on the test host yet).
 */
export function copyDeployFixture(name: string): string {
  const src = join(repoRoot(), 'test', 'fixtures', name);
  const marker = `${runMarker()}.${Math.floor(Math.random() * 1e9)}`;
  const files: Record<string, string> = {};
  for (const f of readdirSync(src)) files[f] = readFileSync(join(src, f), 'utf8').replace(/@RUN@/g, marker);
  return makeRepo(mkdtempSync(join(scratchDir(), `${name}-`)), files);
}

/** Rewrites a file of a fixture copy and commits it (a host edit between two generations). */
export function editFixture(dir: string, file: string, text: string): void {
  writeFileSync(join(dir, file), text);
  commitAll(dir, `edit ${file}`);
}

/** Removes a stopped host's folder (its store is plain files owned by root). */
export function removeTestHost(h: TestHost): void {
  rmSync(h.dir, { recursive: true, force: true });
}
