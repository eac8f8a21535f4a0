// Private inputs: nix's stderr when a `git+ssh://` input or a tarball cannot be fetched for want of credentials,
// captured from Nix 2.8 and 2.34 against the test host's sshd (test/fixtures/captured/private), recognised with what
// to do; and, with the test host and the nix of this run, the same failures live: an update with the key works,
// without it and with an unknown host key nix ends at once with the explanation, nothing left waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyPrivateInputFailure } from '../../src/core/flake/privateInputs';
import { explainUpdateFailure } from '../../src/core/flake/update';
import { nixEnv } from '../../src/core/nix/args';
import { makeRepo, nixTestEnv, processesWith, scratchDir, testNix } from '../support/nix';
import { startTestHost, testHostUnavailable } from '../support/testHost';
import { gitSshServer, type SshClient } from '../support/gitSsh';

const captured = (name: string) => readFileSync(join('test/fixtures/captured/private', `${name}.txt`), 'utf8');

for (const v of ['2.8', '2.34']) {
  test(`Nix ${v}: Permission denied (publickey), a wrong key or a locked one: ssh-agent, the key the server knows; a terminal helps`, () => {
    for (const c of ['wrongKey', 'passphrase']) {
      const f = classifyPrivateInputFailure(captured(`${v}-${c}`));
      assert.equal(f?.kind, 'ssh-publickey', c);
      assert.equal(f.host, 'root@127.0.0.1');
      assert.ok(f.terminal);
      assert.match(f.message, /ssh-agent/);
      assert.match(f.message, /ssh-add/);
      if (v === '2.34') assert.match(f.url ?? '', /^git\+ssh:\/\/testhost\/.*\?ref=main$/);
    }
  });

  test(`Nix ${v}: Host key verification failed: known_hosts, accept it in a terminal`, () => {
    const f = classifyPrivateInputFailure(captured(`${v}-unknownHost`));
    assert.equal(f?.kind, 'ssh-host-key');
    assert.match(f.host ?? '', /^\[127\.0\.0\.1\]:\d+$/);
    assert.match(f.message, /known_hosts/);
    assert.ok(f.terminal);
  });

  test(`Nix ${v}: HTTP 401/403 need credentials (access-tokens, netrc); 404 may be a private repository`, () => {
    for (const code of [401, 403]) {
      const f = classifyPrivateInputFailure(captured(`${v}-http${code}`));
      assert.equal(f?.kind, 'http-unauthorized');
      assert.equal(f.status, code);
      assert.match(f.message, /access-tokens = 127\.0\.0\.1=<token>/);
      assert.match(f.message, /netrc-file/);
      assert.ok(!f.terminal);
    }
    const nf = classifyPrivateInputFailure(captured(`${v}-http404`));
    assert.equal(nf?.kind, 'http-not-found');
    assert.match(nf.message, /private repository on GitHub or GitLab also answers 404/);
  });

  test(`Nix ${v}: an update's failure explains the credentials, not "the network"`, () => {
    const u = explainUpdateFailure(captured(`${v}-wrongKey`));
    assert.equal(u.kind, 'credentials');
    assert.ok(u.terminal);
    if (v === '2.34') assert.match(u.message, /^Input 'private': The SSH server root@127\.0\.0\.1 accepted none/);
    assert.equal(explainUpdateFailure(captured(`${v}-http401`)).kind, 'credentials');
  });
}

test('prompts nobody can answer, and failures that are not about credentials', () => {
  assert.equal(classifyPrivateInputFailure("Enter passphrase for key '/root/.ssh/id_ed25519':")?.kind, 'prompt');
  const https = classifyPrivateInputFailure(
    "fatal: could not read Username for 'https://git.example.org': terminal prompts disabled\nerror: program 'git' failed with exit code 128",
  );
  assert.equal(https?.kind, 'prompt');
  assert.equal(https.host, 'https://git.example.org');
  assert.match(https.message, /credential helper/);
  assert.equal(classifyPrivateInputFailure('ssh_askpass: exec(/usr/bin/ssh-askpass): No such file or directory')?.kind, 'prompt');
  assert.equal(
    classifyPrivateInputFailure(
      '@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.',
    )?.message.includes('has changed'),
    true,
  );
  assert.equal(classifyPrivateInputFailure("error: unable to download 'https://x/y': HTTP error 500"), undefined);
  assert.equal(
    classifyPrivateInputFailure("error: unable to download 'https://api.github.com/x': Couldn't resolve host name (6)"),
    undefined,
  );
  assert.equal(classifyPrivateInputFailure("error: attribute 'x' missing"), undefined);
  assert.equal(classifyPrivateInputFailure(undefined as unknown as string), undefined);
  const gh = classifyPrivateInputFailure("error: unable to download 'https://api.github.com/repos/o/r/commits/HEAD': HTTP error 404");
  assert.match(gh?.message ?? '', /access-tokens = github\.com=<token>/);
});

test("nix's environment: ssh in batch mode, the user's own options kept, git's ssh left to core.sshCommand when not set", () => {
  const plain = nixEnv({ PATH: '/bin' });
  assert.equal(plain.NIX_SSHOPTS, '-o BatchMode=yes');
  assert.equal(plain.GIT_SSH_COMMAND, undefined);
  assert.equal(plain.SSH_ASKPASS_REQUIRE, 'never');
  assert.equal(plain.GIT_TERMINAL_PROMPT, '0');
  const mine = nixEnv({ NIX_SSHOPTS: '-F /my/config -p 22', GIT_SSH_COMMAND: 'ssh -i /my/key', SSH_ASKPASS_REQUIRE: 'prefer' });
  assert.equal(mine.NIX_SSHOPTS, '-F /my/config -p 22 -o BatchMode=yes');
  assert.equal(mine.GIT_SSH_COMMAND, 'ssh -i /my/key -o BatchMode=yes');
  assert.equal(mine.SSH_ASKPASS_REQUIRE, 'prefer');
  assert.equal(nixEnv({ NIX_SSHOPTS: '-oBatchMode=no' }).NIX_SSHOPTS, '-oBatchMode=no');
});

function lock(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t = Date.now();
  return new Promise((resolve) => {
    const c = spawn(testNix(), ['flake', 'lock'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-c.pid!, 'SIGKILL'), 60_000);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - t });
    });
  });
}

test(
  'live, the test host serving a git+ssh:// input: with the key the lock is written; without it, a locked key and an unknown host key explained at once, no process left',
  { skip: testHostUnavailable() },
  async () => {
    const host = await startTestHost();
    try {
      const srv = gitSshServer(host);
      const run = async (client: SshClient) => {
        // A repository of its own for each client: newer Nix keeps a clone, and a cached one would hide the failure.
        const lib = makeRepo(mkdtempSync(join(scratchDir(), 'private-lib-')), { 'flake.nix': '{ outputs = _: { value = 42; }; }' });
        const app = makeRepo(mkdtempSync(join(scratchDir(), 'private-app-')), {
          'flake.nix': `{ inputs.private.url = "${srv.url(lib)}?ref=main"; outputs = { self, private }: { v = private.value; }; }`,
        });
        return { app, ...(await lock(app, nixEnv({ ...nixTestEnv(), ...srv.env(client) }))) };
      };
      const good = await run('good');
      assert.equal(good.code, 0, good.stderr);
      assert.match(readFileSync(join(good.app, 'flake.lock'), 'utf8'), /"type": "git"[\s\S]*"url": "ssh:\/\/testhost/);
      const expected: Record<string, string> = { wrongKey: 'ssh-publickey', passphrase: 'ssh-publickey', unknownHost: 'ssh-host-key' };
      for (const client of ['wrongKey', 'passphrase', 'unknownHost'] as const) {
        const r = await run(client);
        assert.notEqual(r.code, 0, client);
        assert.ok(r.ms < 30_000, `${client} took ${r.ms} ms`);
        assert.equal(classifyPrivateInputFailure(r.stderr)?.kind, expected[client], `${client}: ${r.stderr}`);
      }
      assert.deepEqual(processesWith(join(host.dir, 'git-clients')), [], 'no ssh or git left running');
    } finally {
      host.stop();
    }
  },
);
