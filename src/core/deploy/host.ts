// Deployment settings of one NixOS host and the SSH addresses in them. No `vscode` import.
//
// An address is never shell text: it is checked here, then passed as one argument (to ssh after `--`) or inside a
// store URI (`ssh-ng://user@host`). Ports go to ssh as `-p` (through NIX_SSHOPTS for Nix's own transport): Nix 2.34
// reads `ssh-ng://host:port`, but 2.8 and 2.26 pass `host:port` to ssh as a host name ("Could not resolve hostname").

/** How one host of a flake is deployed (`nixFlakes.hosts.<name>`). With no target host, the host is this machine. */
export interface HostSettings {
  /** Where the system is activated: `host`, `user@host`, `host:port`, `user@[::1]:port`, or an ssh_config alias. */
  targetHost?: string;
  /** Where the system is built (Nix's remote building over `ssh-ng://`); default: this machine. */
  buildHost?: string;
  /** `nix copy --substitute-on-destination`: the target fetches from its own substituters what they have. */
  substituteOnTarget?: boolean;
  /** Run the profile change and the activation through sudo (the target user is not root). */
  sudo?: boolean;
  /** Use the real `nixos-rebuild` instead of the steps of Nix alone. */
  useNixosRebuild?: boolean;
  /** Sign the closure with this secret key file (`nix store sign`) before copying it to the target. */
  signingKeyFile?: string;
}

/** A checked SSH address. */
export interface SshAddress {
  user?: string;
  host: string;
  port?: number;
  /** As the user wrote it. */
  text: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
/** Host names, IPv4 addresses and ssh_config aliases: letters, digits, `.`, `_`, `-` (not first). */
const HOST = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$/;

/**
 * Reads an SSH address: `host`, `user@host`, `host:port`, `user@host:port`, `[v6]`, `user@[v6]:port`. Refused:
 * empty, starting with `-` (ssh would read an option), whitespace or control characters, and characters that would
 * change the meaning of a store URI or a builders line (`/ ? # ; , ' "` and the like).
 */
export function parseSshAddress(text: string, what = 'The host'): Checked<SshAddress> {
  const bad = (why: string): Checked<SshAddress> => ({ ok: false, message: `${what} ${JSON.stringify(text)} ${why}.` });
  if (text === '') return bad('is empty');
  if (text.startsWith('-')) return bad('starts with "-", which ssh would read as an option');
  if (/[\s\x00-\x1f\x7f-\x9f]/.test(text)) return bad('holds whitespace or control characters');
  if (text.length > 255) return bad('is longer than 255 characters');
  let rest = text;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) return bad('has a user name ssh cannot take');
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return bad('has a "[" without "]"');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return bad('has text after "]"');
    portText = after === '' ? undefined : after.slice(1);
    if (!IPV6.test(host)) return bad('is not an IPv6 address between "[" and "]"');
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? undefined : rest.slice(colon + 1);
    if (!HOST.test(host)) return bad('is not a host name (letters, digits, ".", "_", "-"; not "-" first)');
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      return bad('has a port that is not a number from 1 to 65535');
    port = Number(portText);
  }
  return { ok: true, value: { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}), text } };
}

/** `user@host` (IPv6 in brackets), without the port: what ssh takes after `--`. */
export function sshDestination(a: SshAddress): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return a.user !== undefined ? `${a.user}@${host}` : host;
}

/** The store of a host for Nix's transport: `ssh-ng://user@host` (the port goes through NIX_SSHOPTS). */
export function sshStoreUri(a: SshAddress): string {
  return `ssh-ng://${sshDestination(a)}`;
}

/** Two addresses that reach the same sshd as the same user (then no copy between them is needed). */
export function sameAddress(a: SshAddress, b: SshAddress): boolean {
  return a.host === b.host && a.user === b.user && a.port === b.port;
}

/** Checked host settings: the addresses read, the rest as given. */
export interface CheckedHost {
  target?: SshAddress;
  build?: SshAddress;
  substituteOnTarget: boolean;
  sudo: boolean;
  useNixosRebuild: boolean;
  signingKeyFile?: string;
}

/**
 * Checks settings as they come from a workspace file (untrusted shapes): every field of the right type, addresses
 * readable, a signing key given as an absolute path. Unknown fields are ignored.
 */
export function checkHostSettings(value: unknown): Checked<CheckedHost> {
  if (value === undefined || value === null) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'Host settings must be an object.' };
  const v = value as Record<string, unknown>;
  const out: CheckedHost = { substituteOnTarget: false, sudo: false, useNixosRebuild: false };
  for (const key of ['substituteOnTarget', 'sudo', 'useNixosRebuild'] as const) {
    const x = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    if (x !== undefined && typeof x !== 'boolean') return { ok: false, message: `"${key}" must be true or false.` };
    out[key] = x === true;
  }
  for (const [key, what, field] of [
    ['targetHost', 'The target host', 'target'],
    ['buildHost', 'The build host', 'build'],
  ] as const) {
    const x = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    if (x === undefined || x === '') continue;
    if (typeof x !== 'string') return { ok: false, message: `"${key}" must be a string.` };
    const a = parseSshAddress(x, what);
    if (!a.ok) return a;
    out[field] = a.value;
  }
  const key = Object.prototype.hasOwnProperty.call(v, 'signingKeyFile') ? v.signingKeyFile : undefined;
  if (key !== undefined && key !== '') {
    if (typeof key !== 'string' || !key.startsWith('/') || /[\x00-\x1f\x7f]/.test(key)) {
      return { ok: false, message: '"signingKeyFile" must be an absolute path.' };
    }
    out.signingKeyFile = key;
  }
  return { ok: true, value: out };
}

/**
 * Options given to ssh on its command line and, joined by spaces, in NIX_SSHOPTS (which Nix splits at whitespace:
 * an option holding whitespace cannot be passed there, so it is refused).
 */
export function checkSshOptions(opts: readonly string[]): Checked<string[]> {
  for (const o of opts) {
    if (o === '' || /[\s\x00-\x1f\x7f]/.test(o))
      return { ok: false, message: `The ssh option ${JSON.stringify(o)} is empty or holds whitespace, which NIX_SSHOPTS cannot carry.` };
  }
  return { ok: true, value: [...opts] };
}

/** ssh options for one address: the common ones, then `-p <port>` when it has one. */
export function sshOptionsFor(common: readonly string[], a: SshAddress | undefined): string[] {
  return a?.port !== undefined ? [...common, '-p', String(a.port)] : [...common];
}

/** NIX_SSHOPTS for a Nix command that reaches `a`. */
export function nixSshOpts(common: readonly string[], a: SshAddress | undefined): string {
  return sshOptionsFor(common, a).join(' ');
}
