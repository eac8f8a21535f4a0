// Sharing one ssh connection per host during a deployment: when the user's own options or ssh_config already share
// connections (left alone), and the folder the sockets live in (only this user's).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  closeSharedCommand,
  configSharesConnections,
  controlDir,
  optionsChooseSharing,
  sharingOptions,
  sshConfigCommand,
} from '../../src/core/deploy/connections';
import { parseSshAddress } from '../../src/core/deploy/host';

const address = (text: string) => {
  const a = parseSshAddress(text);
  assert.ok(a.ok);
  return a.value;
};

// Short folders (a socket path has 107 bytes), removed at the end.
const made: string[] = [];
const short = () => {
  const d = mkdtempSync('/tmp/nf-');
  made.push(d);
  return d;
};

describe('ssh connection sharing', () => {
  after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test("the user's options that choose sharing themselves", () => {
    for (const opts of [
      ['-o', 'ControlMaster=no'],
      ['-o', 'controlpath=~/.ssh/cm-%C'],
      ['-oControlPersist=yes'],
      ['-S', '/tmp/sock'],
      ['-S/tmp/sock'],
      ['-M'],
    ])
      assert.equal(optionsChooseSharing(opts), true, opts.join(' '));
    for (const opts of [[], ['-F', '/etc/ssh/deploy_config'], ['-o', 'BatchMode=yes'], ['-i', '/keys/ControlMaster']])
      assert.equal(optionsChooseSharing(opts), false, opts.join(' '));
  });

  test('ssh -G output: sharing configured in ssh_config, or not', () => {
    const base = 'user root\nhostname 127.0.0.1\nport 22\nbatchmode no\n';
    assert.equal(configSharesConnections(`${base}controlmaster false\ncontrolpersist no\n`), false);
    assert.equal(configSharesConnections(`${base}controlmaster false\ncontrolpath none\n`), false);
    assert.equal(configSharesConnections(`${base}controlmaster auto\ncontrolpath /home/u/.ssh/cm-%C\n`), true);
    assert.equal(configSharesConnections(`${base}controlmaster false\ncontrolpath /home/u/.ssh/cm-%C\n`), true);
    assert.equal(configSharesConnections(`${base}controlmaster autoask\n`), true);
    assert.equal(configSharesConnections(''), false);
  });

  test('the commands: ssh -G and ssh -O exit, with the port and the address after --', () => {
    const opts = ['-F', '/cfg', ...sharingOptions('/run/user/1000/nix-flakes-ssh')];
    assert.deepEqual(opts.slice(2), [
      '-o',
      'ControlMaster=auto',
      '-o',
      'ControlPath=/run/user/1000/nix-flakes-ssh/%C',
      '-o',
      'ControlPersist=60',
    ]);
    assert.deepEqual(sshConfigCommand(['-F', '/cfg'], address('deploy@[::1]:2222')), {
      file: 'ssh',
      args: ['-F', '/cfg', '-p', '2222', '-G', '--', 'deploy@[::1]'],
    });
    assert.deepEqual(closeSharedCommand(opts, address('web')).args.slice(-4), ['-O', 'exit', '--', 'web']);
  });

  test("the sockets' folder: made with mode 0700, refused when others can enter it, when it is a link, or too long", async () => {
    const uid = process.getuid!();
    const runtime = short();
    const dir = await controlDir({ XDG_RUNTIME_DIR: runtime }, uid);
    assert.equal(dir, join(runtime, 'nix-flakes-ssh'));
    // ssh makes `<folder>/<%C: 40 digits>.<17 characters>` first: it fits in a socket address (107 bytes).
    assert.ok(dir.length + 1 + 40 + 17 <= 107, dir);
    const open = short();
    mkdirSync(join(open, 'nix-flakes-ssh'), { mode: 0o777 });
    chmodSync(join(open, 'nix-flakes-ssh'), 0o777);
    const linked = short();
    symlinkSync(runtime, join(linked, 'nix-flakes-ssh'));
    const tmp = short();
    const other = uid + 4242;
    for (const [env, u, why] of [
      [{ XDG_RUNTIME_DIR: open }, uid, 'others can enter'],
      [{ XDG_RUNTIME_DIR: linked }, uid, 'a symbolic link'],
      [{ XDG_RUNTIME_DIR: `/${'x'.repeat(80)}` }, uid, 'too long'],
      [{ XDG_RUNTIME_DIR: '/tmp/with space' }, uid, 'whitespace'],
    ] as const) {
      // Then the fallback: this user's own folder under tmp.
      assert.equal(await controlDir(env, u, tmp), join(tmp, `nix-flakes-ssh-${u}`), why);
    }
    assert.equal(await controlDir({ XDG_RUNTIME_DIR: runtime }, other, tmp), undefined, "another user's folders");
    assert.equal(await controlDir({}, uid, `/${'y'.repeat(40)}`), undefined, 'no folder short enough');
  });
});
