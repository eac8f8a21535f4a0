// The VM and images of a NixOS host (Deploy › Build VM or Image… on a host of the Outputs tree), with the real nix
// and the nixpkgs stand-in: every host has `system.build.vm`, `vmWithBootLoader` and `images.{qemu,raw-efi}`
// (its build-vm.nix and images.nix), and the hosts fixture's `installer` imports iso-image.nix for `isoImage`. The
// command gets the host's tree item, as the context menu passes it; the pick is answered through the API's
// `deploy.ui`, which also records what was offered. Only `installer` is built (the dry-build tests need `good`
// unbuilt).
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, label, settled, until } from './helpers';
import type { DeployOutcome, DeployUi } from '../../../src/features/deploy';

type Choice = Parameters<DeployUi['pickImage']>[0][number];

const COMMAND = 'nixFlakes.deploy.images';
const EVERY_HOST = ['Build VM', 'Run VM', 'Build VM with boot loader', 'Build image: qemu', 'Build image: raw-efi'];

describe('VM and images of a NixOS host', function () {
  this.timeout(180_000);
  let previousUi: DeployUi;
  /** What the last pick offered. */
  let offered: Choice[] = [];
  /** The label of the choice to pick (undefined: the pick is dismissed). */
  let pick: string | undefined;

  before(async () => {
    const api = await extension();
    previousUi = api.deploy.ui;
    api.deploy.ui = {
      confirm: async () => false,
      pickGeneration: async () => undefined,
      pickImage: async (choices) => {
        offered = [...choices];
        return choices.find((c) => c.label === pick);
      },
    };
  });

  after(async () => {
    (await extension()).deploy.ui = previousUi;
    for (const t of vscode.window.terminals.filter((t) => t.name.startsWith('VM '))) t.dispose();
  });

  beforeEach(() => {
    offered = [];
    pick = undefined;
  });

  /** The item of a host in the Outputs tree, as its context menu passes it to the command. */
  async function hostItem(name: string): Promise<unknown> {
    const api = await extension();
    const flake = await flakeOf('hosts');
    await settled(flake);
    const p = api.outputs.provider;
    const root = (await p.getChildren(undefined)).find((n) => 'flake' in n && n.flake.uri.fsPath === flake.uri.fsPath);
    assert.ok(root, 'the hosts flake is in the tree');
    const category = (await p.getChildren(root)).find((c) => p.getTreeItem(c).contextValue === 'nix:category:nixosConfigurations');
    assert.ok(category, 'the hosts flake has NixOS configurations');
    const item = (await p.getChildren(category)).find((h) => label(p.getTreeItem(h)) === name);
    assert.ok(item, `the host ${name} is in the tree`);
    return item;
  }

  /** The processes started since `t` (the list keeps only the latest ones, so its length says nothing). */
  async function runsSince(t: number) {
    return (await extension()).recentRuns().filter((r) => r.startedAt >= t);
  }

  async function run(host: string | object, choice?: string): Promise<DeployOutcome> {
    pick = choice;
    const arg = typeof host === 'string' ? await hostItem(host) : host;
    const o = await vscode.commands.executeCommand<DeployOutcome>(COMMAND, arg);
    assert.ok(o, `${COMMAND} returned an outcome`);
    return o;
  }

  it("the host item's Deploy menu offers Build VM or Image…", async () => {
    const api = await extension();
    const cv = api.outputs.provider.getTreeItem((await hostItem('installer')) as never).contextValue ?? '';
    const menus = (
      vscode.extensions.getExtension('nix-flakes.nix-flakes')!.packageJSON as {
        contributes: { menus: Record<string, { command?: string; submenu?: string; when?: string }[]> };
      }
    ).contributes.menus;
    const submenu = menus['view/item/context']!.find((m) => m.submenu === 'nixFlakes.deploy.hostMenu');
    const when = /viewItem =~ \/(.*)\//.exec(submenu?.when ?? '')?.[1];
    assert.ok(when && new RegExp(when).test(cv), `${cv} matches the Deploy menu's ${submenu?.when}`);
    assert.ok(menus['nixFlakes.deploy.hostMenu']!.some((m) => m.command === COMMAND));
  });

  it('a host without the ISO module offers Build VM, Run VM, Build VM with boot loader and each image, no Build ISO', async () => {
    const o = await run('good');
    assert.equal(o.status, 'declined', o.message);
    assert.equal(o.message, 'Nothing chosen.');
    assert.deepEqual(
      offered.map((c) => c.label),
      EVERY_HOST,
    );
    assert.deepEqual(
      offered.map((c) => c.attr.join('.')),
      ['vm', 'vm', 'vmWithBootLoader', 'images.qemu', 'images.raw-efi'],
    );
    assert.deepEqual(
      offered.map((c) => c.run === true),
      [false, true, false, false, false],
    );
  });

  it('the installer host, which imports iso-image.nix, also offers Build ISO', async () => {
    const o = await run('installer');
    assert.equal(o.status, 'declined', o.message);
    assert.deepEqual(
      offered.map((c) => c.label),
      ['Build VM', 'Run VM', 'Build VM with boot loader', 'Build ISO', 'Build image: qemu', 'Build image: raw-efi'],
    );
    assert.deepEqual(offered.find((c) => c.label === 'Build ISO')?.attr, ['isoImage']);
  });

  it('Build VM: a nixos-vm store path with bin/run-installer-vm, a script that names the toplevel', async () => {
    const o = await run('installer', 'Build VM');
    assert.equal(o.status, 'done', `${o.message}\n${o.error?.output ?? ''}`);
    assert.match(o.path ?? '', /^\/nix\/store\/[a-z0-9]{32}-nixos-vm$/);
    assert.equal(o.message, `Build VM of installer: ${o.path}`);
    const script = join(o.path!, 'bin', 'run-installer-vm');
    assert.ok(existsSync(script), script);
    const toplevel = readlinkSync(join(o.path!, 'system'));
    assert.match(toplevel, /-nixos-system-installer$/);
    assert.ok(readFileSync(script, 'utf8').includes(toplevel), 'the script boots the toplevel');

    const withBootLoader = await run('installer', 'Build VM with boot loader');
    assert.equal(withBootLoader.status, 'done', withBootLoader.message);
    assert.notEqual(withBootLoader.path, o.path);
    assert.ok(existsSync(join(withBootLoader.path!, 'bin', 'run-installer-vm')));
  });

  it('Build ISO: a store path with iso/nixos-installer.iso, named in nix-support/hydra-build-products', async () => {
    const o = await run('installer', 'Build ISO');
    assert.equal(o.status, 'done', `${o.message}\n${o.error?.output ?? ''}`);
    assert.match(o.path ?? '', /-nixos-installer\.iso$/);
    assert.deepEqual(readdirSync(join(o.path!, 'iso')), ['nixos-installer.iso']);
    assert.equal(
      readFileSync(join(o.path!, 'nix-support', 'hydra-build-products'), 'utf8').trim(),
      `file iso ${o.path}/iso/nixos-installer.iso`,
    );
    // The message names the ISO file itself, with its size.
    assert.deepEqual(o.files, [`${o.path}/iso/nixos-installer.iso`]);
    assert.ok(o.message.startsWith(`Build ISO of installer: ${o.path}/iso/nixos-installer.iso (`), o.message);
    assert.match(o.message, / \([\d.]+ (B|KiB|MiB|GiB)\)$/);
  });

  it('Build image: qemu and raw-efi each build their image file', async () => {
    for (const [variant, ext] of [
      ['qemu', 'qcow2'],
      ['raw-efi', 'img'],
    ] as const) {
      const o = await run('installer', `Build image: ${variant}`);
      assert.equal(o.status, 'done', `${variant}: ${o.message}\n${o.error?.output ?? ''}`);
      assert.match(o.path ?? '', new RegExp(`-nixos-image-${variant}-installer$`));
      assert.deepEqual(
        readdirSync(o.path!).filter((f) => f.endsWith(`.${ext}`)),
        [`nixos-image-${variant}-installer-x86_64-linux.${ext}`],
      );
    }
  });

  it("Run VM: builds the VM and runs bin/run-installer-vm in a terminal named after the host, in the flake's folder, with its disk in the extension's storage (never in a workspace folder); it exits with 0", async () => {
    const api = await extension();
    const closed: vscode.Terminal[] = [];
    const sub = vscode.window.onDidCloseTerminal((t) => closed.push(t));
    const inFolders = (await api.flakes()).map((f) => join(f.uri.fsPath, 'installer.qcow2'));
    let disk: string | undefined;
    try {
      const o = await run('installer', 'Run VM');
      assert.equal(o.status, 'done', `${o.message}\n${o.error?.output ?? ''}`);
      disk = o.files?.[0];
      assert.ok(disk?.endsWith('.qcow2') && disk.includes('/vm/installer-'), String(disk));
      assert.equal(o.message, `Running the VM of installer (its disk: ${disk}).`);
      assert.match(o.path ?? '', /-nixos-vm$/);
      const script = join(o.path!, 'bin', 'run-installer-vm');
      assert.equal(api.recentRuns().at(-1)?.command, `terminal: ${script}`);
      const terminal = await until('the VM terminal to exit', () => {
        const t = closed.find((x) => x.name === 'VM installer') ?? vscode.window.terminals.find((x) => x.name === 'VM installer');
        return t?.exitStatus ? t : undefined;
      });
      assert.equal(terminal.exitStatus?.code, 0);
      const options = terminal.creationOptions as vscode.TerminalOptions;
      assert.equal(options.shellPath, script);
      assert.equal(String(options.cwd), fixture('hosts'));
      assert.equal(readFileSync(disk!, 'utf8'), 'qcow2 stand-in\n', "the VM made its disk in the extension's storage");
      assert.deepEqual(inFolders.filter(existsSync), [], 'no disk image in a workspace folder');
    } finally {
      sub.dispose();
      for (const p of [...inFolders, ...(disk ? [disk] : [])]) rmSync(p, { force: true });
    }
  });

  it('a host whose name is HTML (the hosts fixture\'s "<img src=x onerror=alert(1)>") reaches nix quoted and encoded, and offers its images', async () => {
    const since = Date.now();
    const o = await run('<img src=x onerror=alert(1)>');
    assert.equal(o.status, 'declined', o.message);
    assert.deepEqual(
      offered.map((c) => c.label),
      EVERY_HOST,
    );
    const evals = (await runsSince(since)).filter((r) => r.command.includes('#nixosConfigurations.'));
    assert.equal(evals.length, 2, 'config.system.build and its images');
    for (const r of evals) {
      assert.ok(r.command.includes('#nixosConfigurations."%3Cimg%20src=x%20onerror=alert(1)%3E".config.system.build'), r.command);
      assert.ok(!r.command.includes('<img'), r.command);
    }
  });

  it('a host name with a quote (no Nix attribute path can hold it) is refused before any process starts; one with "#" reaches nix encoded, and its absence is said', async () => {
    const flake = await flakeOf('hosts');
    let since = Date.now();
    const quoted = await run({ flake, host: 'lab"1' });
    assert.equal(quoted.status, 'failed');
    assert.equal(
      quoted.message,
      `Build VM or image of lab"1 failed: The attribute name "lab\\"1" contains '"', which Nix attribute paths cannot express.`,
    );
    assert.deepEqual(
      (await runsSince(since)).filter((r) => r.command.includes('lab')),
      [],
      'nothing ran with the name',
    );
    assert.deepEqual(offered, []);

    since = Date.now();
    const hash = await run({ flake, host: 'lab#1' });
    assert.equal(hash.status, 'failed');
    assert.match(hash.message, /^Build VM or image of lab#1 failed: /);
    assert.match(hash.message, /does not provide attribute .*nixosConfigurations\."lab#1"\.config\.system\.build/);
    const evals = (await runsSince(since)).filter((r) => r.command.includes('#nixosConfigurations.'));
    assert.equal(evals.length, 1);
    assert.ok(evals[0]!.command.includes('#nixosConfigurations."lab%231".config.system.build'), evals[0]!.command);
    assert.deepEqual(offered, []);
  });
});
