// Offline media from the editor, with the real nix: Export for Offline Use… from the `my.host` host's item of the
// Outputs tree (hosts fixture: its toplevel and the nixpkgs-stub input) into a folder, signed; Import from Folder…
// into separate chroot stores (`--store local?root=…`, as for a system installed under /mnt): accepted with the key,
// refused without it and when a file was tampered with; Ready for Offline? on the host item; a whole flake's inputs.
// The dialogs are answered through the commands' options.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, flakeOf, settled } from './helpers';
import { makeSigningKey } from '../../support/testHost';
import { testNix } from '../../support/nix';
import type { ExportOutcome, ImportOutcome } from '../../../src/features/airgap';
import type { Readiness } from '../../../src/core/airgap';

const MENU = /^nix:output:.*:(build|develop|host)/;

describe('Offline media', function () {
  this.timeout(180_000);
  const scratch = mkdtempSync(join(process.env.NIX_FLAKES_TEST_TMP ?? tmpdir(), 'airgap-inhost-'));
  const folder = join(scratch, 'medium');
  const conf = () => vscode.workspace.getConfiguration('nixFlakes');
  let key: { secretFile: string; publicKey: string };
  let exported: ExportOutcome;
  let hostItem: unknown;
  const store = (name: string) => `local?root=${mkdtempSync(join(scratch, `${name}-`))}`;
  const valid = (s: string, p: string) => {
    try {
      execFileSync(testNix(), ['--extra-experimental-features', 'nix-command', 'path-info', '--store', s, p], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    const api = await extension();
    key = makeSigningKey(`airgap-inhost-${process.pid}`);
    const flake = await flakeOf('hosts');
    await settled(flake);
    const [root] = await api.outputs.provider
      .getChildren(undefined)
      .then((roots) => roots.filter((n) => 'flake' in n && n.flake.uri.fsPath === flake.uri.fsPath));
    const cats = await api.outputs.provider.getChildren(root);
    const hostsCat = cats.find((c) => api.outputs.provider.getTreeItem(c).contextValue === 'nix:category:nixosConfigurations')!;
    const hosts = await api.outputs.provider.getChildren(hostsCat);
    hostItem = hosts.find((h) => api.outputs.provider.getTreeItem(h).label === 'my.host');
    assert.ok(hostItem, 'the my.host host is in the tree (not `good`: the dry-build tests need that one unbuilt)');
  });
  after(async () => {
    await conf().update('airgap.trustedPublicKeys', undefined, vscode.ConfigurationTarget.Global);
  });

  it("the host's item offers Export for Offline Use… and Ready for Offline? (its context value matches the menus')", async () => {
    const api = await extension();
    const cv = api.outputs.provider.getTreeItem(hostItem as never).contextValue ?? '';
    assert.match(cv, MENU);
    const menus = (
      vscode.extensions.getExtension('nix-flakes.nix-flakes')!.packageJSON as {
        contributes: { menus: Record<string, { command?: string; when?: string }[]> };
      }
    ).contributes.menus['view/item/context']!;
    for (const c of ['nixFlakes.airgap.export', 'nixFlakes.airgap.readiness'])
      assert.ok(
        menus.some((m) => m.command === c && m.when?.includes('(build|develop|host)/')),
        c,
      );
  });

  it('Export for Offline Use… from the host item: closure and inputs in a signed cache, progress in paths and bytes, the manifest and instructions', async () => {
    exported = (await vscode.commands.executeCommand<ExportOutcome>('nixFlakes.airgap.export', hostItem, {
      folder,
      keyFile: key.secretFile,
    }))!;
    assert.equal(exported.status, 'exported', exported.error);
    const m = exported.manifest!;
    assert.match(m.items[0]!.paths[0]!, /-nixos-system-my-host$/);
    assert.equal(m.items[0]!.kind, 'host');
    assert.equal(m.inputs.length, 2, "the flake's source and nixpkgs-stub's");
    assert.equal(m.publicKey, key.publicKey);
    assert.ok(
      exported.progress.some((p) => /^Copying the closure: \d+\/\d+ paths, [\d.]+ \w*B of [\d.]+ \w*B/.test(p)),
      exported.progress.join('\n'),
    );
    assert.ok(exported.progress.some((p) => p.startsWith("Copying the flake's inputs")));
    assert.ok(existsSync(join(folder, 'nix-offline.json')) && existsSync(join(folder, 'OFFLINE.txt')));
    assert.ok(readFileSync(join(folder, 'OFFLINE.txt'), 'utf8').includes(m.items[0]!.paths[0]!));
  });

  it('Import from Folder… into a separate store: refused without the key, accepted with it; a tampered file is refused', async () => {
    const m = exported.manifest!;
    const top = m.items[0]!.paths[0]!;
    const s1 = store('import-nokey');
    const refused = (await vscode.commands.executeCommand<ImportOutcome>('nixFlakes.airgap.import', folder, { store: s1 }))!;
    assert.equal(refused.status, 'failed');
    assert.equal(refused.kind, 'unsigned');
    assert.ok(refused.message!.includes(key.publicKey), "the medium's key is named");
    assert.ok(!valid(s1, top));
    await conf().update('airgap.trustedPublicKeys', [key.publicKey], vscode.ConfigurationTarget.Global);
    const ok = (await vscode.commands.executeCommand<ImportOutcome>('nixFlakes.airgap.import', folder, { store: s1 }))!;
    assert.equal(ok.status, 'imported', ok.message);
    assert.equal(ok.added!.length, m.closure.paths + m.inputs.length);
    assert.ok(valid(s1, top));
    const tampered = join(scratch, 'tampered');
    cpSync(folder, tampered, { recursive: true });
    const info = readFileSync(join(tampered, `${top.slice(11, 43)}.narinfo`), 'utf8');
    const nar = join(tampered, /^URL: (\S+)$/m.exec(info)![1]!);
    const bytes = readFileSync(nar);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(nar, bytes);
    const s2 = store('import-tampered');
    const bad = (await vscode.commands.executeCommand<ImportOutcome>('nixFlakes.airgap.import', tampered, { store: s2 }))!;
    assert.equal(bad.status, 'failed');
    assert.equal(bad.kind, 'corrupt', bad.message);
    assert.ok(!valid(s2, top));
  });

  it('Ready for Offline? on the host item: ready where it was imported; from the medium alone; not ready in an empty store', async () => {
    const m = exported.manifest!;
    const s1 = store('ready-imported');
    await vscode.commands.executeCommand('nixFlakes.airgap.import', folder, { store: s1 });
    const here = (await vscode.commands.executeCommand<Readiness>('nixFlakes.airgap.readiness', hostItem, { media: [], store: s1 }))!;
    assert.ok(here.ready, here.summary);
    assert.deepEqual([here.fromMedia, here.toBuild], [[], []]);
    const fromMedium = (await vscode.commands.executeCommand<Readiness>('nixFlakes.airgap.readiness', hostItem, {
      media: [folder],
      store: store('ready-medium'),
    }))!;
    assert.ok(fromMedium.ready, fromMedium.summary);
    assert.equal(fromMedium.fromMedia.length, m.closure.paths);
    const empty = (await vscode.commands.executeCommand<Readiness>('nixFlakes.airgap.readiness', hostItem, {
      media: [],
      store: store('ready-empty'),
    }))!;
    assert.ok(!empty.ready);
    assert.ok(
      empty.toBuild.some((d) => d.endsWith('-nixos-system-my-host.drv')),
      empty.summary,
    );
  });

  it("Export for Offline Use… on a whole flake with no output chosen: the flake's inputs alone", async () => {
    const flake = await flakeOf('hosts');
    const out = (await vscode.commands.executeCommand<ExportOutcome>(
      'nixFlakes.airgap.export',
      { flake },
      { folder: join(scratch, 'inputs-only'), keyFile: null, attrPaths: [] },
    ))!;
    assert.equal(out.status, 'exported', out.error);
    assert.deepEqual(out.manifest!.items, []);
    assert.equal(out.manifest!.inputs.length, 2);
    assert.equal(out.manifest!.publicKey, undefined);
  });
});
