// Signing store paths and reading a store's refusal of unsigned ones: shared by deployments (the closure signed in
// this store before it is copied to a target) and offline media (the paths signed where they were written, in the
// binary cache, so that this store is left as it was). No `vscode` import; no process.
import { Buffer } from 'node:buffer';

/**
 * The arguments after `nix store sign`: the closure of `paths` (`-r`), signed with the secret key in `keyFile`, in
 * `store` when given (a `file://` cache signs its .narinfo files) or else in the local store.
 */
export function signArgs(paths: readonly string[], keyFile: string, opts: { store?: string } = {}): string[] {
  return [...(opts.store ? ['--store', opts.store] : []), '-r', '--key-file', keyFile, ...paths];
}

/** What Nix says when a store refuses a path for want of a signature it trusts (2.8: "lacks a valid signature"). */
const UNSIGNED = /lacks a (?:valid )?signature|lacks a signature by a trusted key|is not signed by a trusted key/;

/** Whether a store refused paths because they are not signed by a key it trusts. */
export function isUnsignedRefusal(output: string): boolean {
  return UNSIGNED.test(output);
}

/**
 * The public half of a Nix secret key (`nix key generate-secret`: `<name>:<base64 of the 64-byte ed25519 secret>`,
 * whose last 32 bytes are the public key), as `nix key convert-secret-to-public` prints it. Undefined when the text
 * is not such a key. The secret itself is never kept or logged.
 */
export function publicKeyOf(secret: string): string | undefined {
  const m = /^([^\s:]+):([A-Za-z0-9+/]+={0,2})\s*$/.exec(secret);
  if (!m) return undefined;
  const bytes = Buffer.from(m[2]!, 'base64');
  if (bytes.length !== 64) return undefined;
  return `${m[1]}:${bytes.subarray(32).toString('base64')}`;
}

/** Whether a text is a public key as Nix writes it (`<name>:<base64 of 32 bytes>`). */
export function isPublicKey(text: string): boolean {
  const m = /^([^\s:]+):([A-Za-z0-9+/]+={0,2})$/.exec(text);
  return !!m && Buffer.from(m[2]!, 'base64').length === 32;
}
