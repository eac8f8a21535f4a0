// Argument builders for `nix` command lines. Pure: no process, no `vscode`.

/** Options every nix invocation honours. */
export interface NixCommandOptions {
  /**
   * Whether nix may create or rewrite `flake.lock`. Only runs the user explicitly started (build, update, lock)
   * may; refreshes, lenses and dry-builds pass `--no-write-lock-file`.
   */
  writeLockFile?: boolean;
  /** `--offline`: use only what is already in the store and caches. */
  offline?: boolean;
  /** The user's extra arguments (a machine-scoped setting). */
  extraArgs?: readonly string[];
  /** Whether the subcommand takes flake options (`--no-write-lock-file`); false for e.g. `--version`, `log`. */
  flakeOptions?: boolean;
}

export const EXPERIMENTAL = ['--extra-experimental-features', 'nix-command flakes'] as const;

/**
 * Settings that must never be passed on the user's behalf: accepting a flake's `nixConfig` lets the flake run
 * programs (e.g. a `post-build-hook`) as a trusted user.
 */
const FORBIDDEN_SETTINGS = new Set(['accept-flake-config', 'extra-accept-flake-config']);

/**
 * Removes `--accept-flake-config`, `--option accept-flake-config …` and `--extra-accept-flake-config` from a list of
 * user arguments, keeping everything else in order. Returns the kept arguments and what was dropped.
 */
export function sanitizeExtraArgs(args: readonly string[]): { args: string[]; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const flag = a.replace(/^--(?:no-)?/, '');
    if (a.startsWith('--') && FORBIDDEN_SETTINGS.has(flag.split('=')[0]!)) {
      dropped.push(a);
      continue;
    }
    if ((a === '--option' || a === '--extra-option') && FORBIDDEN_SETTINGS.has(args[i + 1] ?? '')) {
      dropped.push(...args.slice(i, i + 3));
      i += 2;
      continue;
    }
    kept.push(a);
  }
  return { args: kept, dropped };
}

/**
 * Builds the full argument list of a nix command: experimental features, the subcommand, flake options,
 * `--offline`, the user's extra arguments (sanitised), then the command's own arguments.
 *
 *   nixArgs(['flake', 'show'], ['--json', '.'], { offline: true })
 *   → ['--extra-experimental-features', 'nix-command flakes', 'flake', 'show', '--no-write-lock-file',
 *      '--offline', '--json', '.']
 */
export function nixArgs(subcommand: readonly string[], rest: readonly string[], opts: NixCommandOptions = {}): string[] {
  const out: string[] = [...EXPERIMENTAL, ...subcommand];
  if ((opts.flakeOptions ?? true) && !opts.writeLockFile) out.push('--no-write-lock-file');
  if (opts.offline) out.push('--offline');
  if (opts.extraArgs?.length) out.push(...sanitizeExtraArgs(opts.extraArgs).args);
  out.push(...rest);
  return out;
}

/**
 * Quotes one argument for display in a log line, the way a POSIX shell would need it. Never executed.
 * A word that starts with `#` begins a comment in a shell, so it is quoted (`#` elsewhere, as in `.#pkg`, is not).
 */
export function quoteForDisplay(arg: string): string {
  if (arg !== '' && !arg.startsWith('#') && /^[\w@%+=:,./#-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command line for logs and error messages: `nix --extra-experimental-features 'nix-command flakes' …`.
 * The program is also quoted when it holds `=` (a shell would read `A=b` in that place as an assignment).
 */
export function displayCommand(file: string, args: readonly string[]): string {
  const program = file.includes('=') ? `'${file.replace(/'/g, `'\\''`)}'` : quoteForDisplay(file);
  return [program, ...args.map(quoteForDisplay)].join(' ');
}

/**
 * The nix configuration in the extension host's environment that a terminal of ours passes on (terminals otherwise
 * start from the user's shell, which may not have it).
 */
export const NIX_CONFIG_ENV: readonly string[] = [
  'NIX_CONFIG',
  'NIX_PATH',
  'NIX_REMOTE',
  'NIX_USER_CONF_FILES',
  'NIX_CONF_DIR',
  'NIX_SSL_CERT_FILE',
  'NIX_STORE_DIR',
];

/**
 * The environment every nix child gets on top of the inherited one: no colours, no TTY tricks, and nothing that waits
 * for an answer nobody can give (the gateway starts nix with stdin closed and without a terminal). ssh runs in batch
 * mode: `-o BatchMode=yes` is added to the user's own NIX_SSHOPTS (nix's ssh to stores and builders) and to a
 * GIT_SSH_COMMAND the user set (git's ssh for `git+ssh://` inputs). Without one, git's ssh is left as the user
 * configured it (a `core.sshCommand` must keep working, and GIT_SSH_COMMAND would override it); ssh cannot prompt
 * there either, and SSH_ASKPASS_REQUIRE=never (unless the user set it) keeps it from opening a graphical prompt.
 */
export function nixEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, NO_COLOR: '1', TERM: 'dumb', NIX_PAGER: 'cat', PAGER: 'cat', GIT_TERMINAL_PROMPT: '0' };
  env.NIX_SSHOPTS = withBatchMode(base.NIX_SSHOPTS);
  if (base.GIT_SSH_COMMAND?.trim()) env.GIT_SSH_COMMAND = withBatchMode(base.GIT_SSH_COMMAND);
  if (base.SSH_ASKPASS_REQUIRE === undefined) env.SSH_ASKPASS_REQUIRE = 'never';
  return env;
}

/** ssh options with `-o BatchMode=yes` added, unless they say BatchMode already. */
function withBatchMode(options: string | undefined): string {
  const o = (options ?? '').trim();
  if (/BatchMode/i.test(o)) return o;
  return o ? `${o} -o BatchMode=yes` : '-o BatchMode=yes';
}
