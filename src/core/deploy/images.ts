// What a host's VM and image builds leave: the files an image output offers (`nix-support/hydra-build-products`,
// the list nixpkgs' image builders write: `file iso /nix/store/…/iso/nixos.iso`), and where a VM started from the
// editor keeps its disk. No `vscode` import.
import { createHash } from 'node:crypto';
import { join, normalize } from 'node:path';

export interface BuildProduct {
  /** Hydra's type: `iso`, `qcow2`, `raw`, `sd-image`, … */
  type: string;
  /** The file, inside the output. */
  path: string;
}

/**
 * Reads `nix-support/hydra-build-products` of the output at `outPath`: `file <type> <path>` lines naming a file inside
 * that output (anything else, and paths outside it, are skipped: the text is untrusted). At most `max` products.
 */
export function parseBuildProducts(text: string, outPath: string, max = 32): BuildProduct[] {
  const out: BuildProduct[] = [];
  const root = normalize(outPath).replace(/\/+$/, '');
  for (const line of text.split('\n')) {
    const m = /^file\s+([A-Za-z0-9_.+-]{1,64})\s+(\/\S{1,4096})\s*$/.exec(line.trim());
    if (!m) continue;
    const path = normalize(m[2]!);
    if (!path.startsWith(`${root}/`)) continue;
    out.push({ type: m[1]!, path });
    if (out.length >= max) break;
  }
  return out;
}

/**
 * The disk of a VM run from the editor (`NIX_DISK_IMAGE`): in the extension's storage, one per flake folder and
 * host, so that it keeps its state between runs and never lands in the user's repository.
 */
export function vmDiskImage(storageDir: string, flakeDir: string, host: string): string {
  const id = createHash('sha256').update(`${flakeDir}\0${host}`).digest('hex').slice(0, 12);
  const name = host.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'host';
  return join(storageDir, 'vm', `${name}-${id}.qcow2`);
}
