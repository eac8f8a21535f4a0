// Why fetching a private input failed, from nix's stderr (2.8 to 2.34, ANSI codes ignored), and what to do about it:
// an SSH server that refused every key (`Permission denied (publickey)`: no key, the wrong key, or a key locked by a
// passphrase that a run without a terminal cannot unlock), a host key nobody accepted (`Host key verification
// failed`), a prompt for a passphrase, password or user name, and a download refused for want of credentials (HTTP
// 401/403) or hidden behind a 404 (how GitHub and GitLab answer for a private repository without a token). The
// extension's nix runs never wait for an answer (stdin closed, no terminal, ssh in batch mode); a terminal can
// answer, so the ssh cases are offered one. No `vscode` import.
import { stripAnsi } from '../text';

export type PrivateInputFailureKind = 'ssh-publickey' | 'ssh-host-key' | 'prompt' | 'http-unauthorized' | 'http-not-found';

export interface PrivateInputFailure {
  kind: PrivateInputFailureKind;
  /** The input's URL (or the repository git fetched), when nix named it. */
  url?: string;
  /** The host (`user@host`, `[host]:port`) ssh or the download named. */
  host?: string;
  /** The HTTP status, for the download cases. */
  status?: number;
  /** What happened and what to do, in one paragraph. */
  message: string;
  /** Whether running the same command in a terminal can help (someone can answer a prompt there). */
  terminal: boolean;
}

const MAX_TEXT = 256 * 1024;
const MAX_FIELD = 300;

const PUBLICKEY = /(?:^|\n)(?:([^\s:]+): )?Permission denied \(([^)\n]*publickey[^)\n]*)\)/;
const HOST_KEY_FAILED = /Host key verification failed/;
const HOST_KEY_UNKNOWN = /No [\w-]+ host key is known for (\S+) and you have requested strict checking/;
const HOST_KEY_CHANGED = /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for (\S+) has changed/;
const PROMPT =
  /Enter passphrase for key|Enter PIN for|[Pp]assword(?: for '[^'\n]*')?:\s*$|could not read (?:Username|Password) for '([^'\n]+)'|terminal prompts disabled|read_passphrase: can't open \/dev\/tty|ssh_askpass: exec\(/m;
const HTTP = /unable to download '([^'\n]+)': HTTP error (\d{3})/;
const FETCHING = /while fetching the input '([^'\n]+)'/;
const GIT_FETCH = /Failed to fetch git repository '([^'\n]+)'|(?:fetching|fetching Git repository) '([^'\n]+)'/;

function clip(s: string): string {
  return s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD)}…` : s;
}

/** `github.com`, `gitlab.example.org` of a URL (undefined for what is not one). */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

const AGENT =
  'A key locked by a passphrase can only be used through ssh-agent here: run `ssh-add` in a terminal, and start the editor from a session that has SSH_AUTH_SOCK. Check that the key is the one the server knows (IdentityFile in ~/.ssh/config for that host).';

/** Recognises a private input's fetch failure in nix's stderr; undefined for every other failure. Never throws. */
export function classifyPrivateInputFailure(stderr: string): PrivateInputFailure | undefined {
  const text = stripAnsi(typeof stderr === 'string' ? stderr.slice(-MAX_TEXT) : '');
  const fetching = FETCHING.exec(text)?.[1];
  const git = GIT_FETCH.exec(text);
  const url = fetching ?? git?.[1] ?? git?.[2];
  const of = url ? ` while fetching ${clip(url)}` : '';
  const with_ = (f: Omit<PrivateInputFailure, 'url'>): PrivateInputFailure => ({ ...f, ...(url ? { url: clip(url) } : {}) });

  const http = HTTP.exec(text);
  if (http) {
    const download = clip(http[1]!);
    const status = Number(http[2]);
    const host = hostOf(http[1]!);
    const tokenHost = host === 'api.github.com' ? 'github.com' : host;
    const token =
      `give nix credentials for ${tokenHost ?? 'that host'}: for GitHub and GitLab a token in nix.conf (\`access-tokens = ${tokenHost ?? 'github.com'}=<token>\`, in ~/.config/nix/nix.conf or /etc/nix/nix.conf), ` +
      'for other servers a `machine` entry in the file of the `netrc-file` setting.';
    if (status === 401 || status === 403) {
      return with_({
        kind: 'http-unauthorized',
        status,
        ...(host ? { host } : {}),
        terminal: false,
        message: `The download of ${download} was refused (HTTP ${status}): it needs credentials. To fetch it, ${token}`,
      });
    }
    if (status === 404) {
      return with_({
        kind: 'http-not-found',
        status,
        ...(host ? { host } : {}),
        terminal: false,
        message: `${download} was not found (HTTP 404). Check the input's URL; a private repository on GitHub or GitLab also answers 404 without a token. If it is private, ${token}`,
      });
    }
    return undefined;
  }

  if (HOST_KEY_FAILED.test(text) || HOST_KEY_CHANGED.test(text)) {
    const host = HOST_KEY_UNKNOWN.exec(text)?.[1] ?? HOST_KEY_CHANGED.exec(text)?.[1];
    const changed = HOST_KEY_CHANGED.test(text);
    const name = host ? clip(host) : 'the server';
    return with_({
      kind: 'ssh-host-key',
      ...(host ? { host: clip(host) } : {}),
      terminal: true,
      message: changed
        ? `The host key of ${name} has changed since it was accepted (Host key verification failed)${of}. Find out why before going on; if the change is expected, remove the old key (ssh-keygen -R <host>) and connect once in a terminal to accept the new one.`
        : `ssh does not know the host key of ${name} (Host key verification failed)${of}, and nix, running without a terminal, cannot ask you to accept it. Connect once in a terminal (ssh to that host, or run the update there) and accept the key after checking its fingerprint, or add it to ~/.ssh/known_hosts.`,
    });
  }

  const denied = PUBLICKEY.exec(text);
  if (denied) {
    const host = denied[1];
    return with_({
      kind: 'ssh-publickey',
      ...(host ? { host: clip(host) } : {}),
      terminal: true,
      message: `The SSH server ${host ? `${clip(host)} ` : ''}accepted none of the keys offered (Permission denied (publickey))${of}. ${AGENT}`,
    });
  }

  const prompt = PROMPT.exec(text);
  if (prompt) {
    const https = prompt[1];
    return with_({
      kind: 'prompt',
      ...(https ? { host: clip(https) } : {}),
      terminal: true,
      message: https
        ? `git wanted a user name or password for ${clip(https)}${of}, and a run without a terminal cannot answer. Use an SSH URL with a key in ssh-agent, a git credential helper, or an access token in nix.conf (access-tokens); or run the update in a terminal.`
        : `ssh asked for a passphrase or password${of}, and a run without a terminal cannot answer. Load the key into ssh-agent (ssh-add) or run the update in a terminal.`,
    });
  }
  return undefined;
}
