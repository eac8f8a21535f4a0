// The files an image build offers (nix-support/hydra-build-products, untrusted) and where a VM keeps its disk.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuildProducts, vmDiskImage } from '../../src/core/deploy/images';

const OUT = '/nix/store/0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-nixos-installer.iso';

describe('image outputs', () => {
  test("hydra-build-products: the files inside the output, with their types (nixpkgs' iso-image and make-disk-image lines)", () => {
    const text = [
      `file iso ${OUT}/iso/nixos-installer.iso`,
      `file qcow2 ${OUT}/nixos.qcow2`,
      `doc manual ${OUT}/share/doc/manual index.html`,
      'file sd-image /nix/store/other-output/sd-image/x.img',
      `file iso ${OUT}/../../etc/shadow`,
      `file iso ${OUT}`,
      'file iso relative/path.iso',
      '',
      `  file raw-efi ${OUT}/disk.img  `,
    ].join('\n');
    assert.deepEqual(parseBuildProducts(text, OUT), [
      { type: 'iso', path: `${OUT}/iso/nixos-installer.iso` },
      { type: 'qcow2', path: `${OUT}/nixos.qcow2` },
      { type: 'raw-efi', path: `${OUT}/disk.img` },
    ]);
    assert.deepEqual(parseBuildProducts('', OUT), []);
    assert.equal(parseBuildProducts(`file iso ${OUT}/a.iso\n`.repeat(1000), OUT).length, 32, 'bounded');
  });

  test("a VM's disk: in the storage, one per flake folder and host, a file name made of safe characters", () => {
    const a = vmDiskImage('/storage', '/home/me/infra', 'web');
    assert.match(a, /^\/storage\/vm\/web-[0-9a-f]{12}\.qcow2$/);
    assert.equal(vmDiskImage('/storage', '/home/me/infra', 'web'), a, 'the same disk every run');
    assert.notEqual(vmDiskImage('/storage', '/home/me/other', 'web'), a, 'another flake, another disk');
    assert.match(vmDiskImage('/storage', '/f', '../<img src=x>'), /^\/storage\/vm\/\.\.__img_src_x_-[0-9a-f]{12}\.qcow2$/);
  });
});
