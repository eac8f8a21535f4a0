// Test support shared by unit and in-host tests: an offline Nix environment and fixture flakes copied into fresh
// git repositories. Uses the real nix and git.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The nix a test run uses: `NIX_FLAKES_TEST_NIX` (an absolute path, set by scripts/test.mjs for each version of the
 * matrix), else `nix` on PATH. In-host tests cannot rely on PATH (the extension host takes the login shell's).
 */
export function testNix(): string {
  return process.env.NIX_FLAKES_TEST_NIX || 'nix';
}

/** The same for nix's other programs (nix-instantiate, nix-store…), which live beside it. */
export function testNixTool(name: string): string {
  const nix = testNix();
  return nix.includes('/') ? join(dirname(nix), name) : name;
}

/**
 * A number unique to this test run (shared by the processes of one run through the environment), put into the
 * fixtures' long-running builders (`/bin/sleep @SLEEP@`) so that a test counts only the builders its own run
 * started: a builder left by another run or layer can neither satisfy nor break it.
 */
export function runMarker(): string {
  process.env.NIX_FLAKES_RUN_MARKER ||= `314159.${process.pid}${Math.floor(Math.random() * 1e6)}`;
  return process.env.NIX_FLAKES_RUN_MARKER;
}

/** The repository root (tests run from it, or from out/… below it). */
export function repoRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 8; i++) {
    try {
      if (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === 'nix-flakes') return d;
    } catch {
      // keep looking
    }
    d = dirname(d);
  }
  return resolve('.');
}

let scratch: string | undefined;
/** A temporary folder for this test process. */
export function scratchDir(): string {
  scratch ??= mkdtempSync(join(process.env.NIX_FLAKES_TEST_TMP ?? tmpdir(), 'nix-flakes-test-'));
  return scratch;
}

/**
 * NIX_CONFIG for offline tests: flakes on, no substituters, an empty registry (otherwise nix retries the network),
 * no build users when root, no sandbox (builders use the host's /bin/sh).
 */
export function nixConfig(extra: string[] = []): string {
  const registry = join(scratchDir(), 'registry.json');
  writeFileSync(registry, '{"flakes":[],"version":2}');
  const lines = [
    'experimental-features = nix-command flakes',
    'substituters =',
    `flake-registry = ${registry}`,
    'sandbox = false',
    'warn-dirty = false',
  ];
  if (process.getuid?.() === 0) lines.push('build-users-group =');
  return [...lines, ...extra].join('\n');
}

export function nixTestEnv(extra: string[] = []): NodeJS.ProcessEnv {
  return { ...process.env, NIX_CONFIG: nixConfig(extra) };
}

/** What a nix run left: its exit status and its whole output. */
export interface NixRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the test's nix (testNix()) offline, output kept whole (a failure is a result, not an exception). */
export function runTestNix(args: readonly string[], cwd?: string, extraConfig: string[] = []): NixRun {
  const r = spawnSync(testNix(), args, { cwd, env: nixTestEnv(extraConfig), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@example.invalid',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@example.invalid',
    },
  });
}

/** Creates a git repository at `dir` with `files` added and committed. */
export function makeRepo(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}

/** Commits everything in `dir` (a new revision of a fixture repository). */
export function commitAll(dir: string, message = 'change'): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)).map((f) => join(n, f)) : [n]));
}

/** Fixture flakes live in test/fixtures/flakes/; the bundled examples in examples/ are fixtures too. */
export function fixtureSource(name: string): string {
  for (const base of [join(repoRoot(), 'test', 'fixtures', 'flakes'), join(repoRoot(), 'examples')]) {
    if (existsSync(join(base, name))) return join(base, name);
  }
  throw new Error(`no fixture flake named ${name}`);
}

/**
 * Copies test/fixtures/flakes/<name> (or examples/<name>) into a fresh git repository and commits it. In every file, `@REPO:<other>@`
 * becomes the absolute path of the copy of fixture <other> (copied first, once per call tree via `copies`), so
 * inputs use absolute `git+file://` or `path:` URLs (Nix 2.8 refuses relative paths that leave the flake).
 */
export function copyFixture(name: string, copies: Map<string, string> = new Map(), parent = scratchDir()): string {
  const existing = copies.get(name);
  if (existing) return existing;
  const src = fixtureSource(name);
  const dest = mkdtempSync(join(parent, `${name}-`));
  copies.set(name, dest);
  const files: Record<string, string> = {};
  for (const rel of walk(src)) {
    files[rel] = readFileSync(join(src, rel), 'utf8')
      .replace(/@REPO:([\w-]+)@/g, (_, other: string) => copyFixture(other, copies, parent))
      .replace(/@SLEEP@/g, runMarker());
  }
  makeRepo(dest, files);
  // Lock inputs as a user's repository would have them, so nothing warns about a missing lock file (fixtures
  // named *unlocked stay without one).
  if (/\binputs\b/.test(files['flake.nix'] ?? '') && !('flake.lock' in files) && !name.endsWith('unlocked')) {
    execFileSync(testNix(), ['flake', 'lock'], { cwd: dest, env: nixTestEnv(), stdio: 'pipe' });
    commitAll(dest, 'lock');
  }
  return dest;
}

/** Copies a fixture folder without making it a git repository (for plain folders and untracked-file tests). */
export function copyPlain(name: string): string {
  const dest = mkdtempSync(join(scratchDir(), `${name}-`));
  cpSync(fixtureSource(name), dest, { recursive: true });
  return dest;
}

/** Store paths and process ids of every running process whose command line contains `marker`. */
export function processesWith(marker: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(marker) && Number(pid) !== process.pid) found.push({ pid: Number(pid), cmd });
    } catch {
      // gone
    }
  }
  return found;
}
