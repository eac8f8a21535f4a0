// Nix implementation and version detection from `nix --version`, and what each version can do.
// No `vscode` import.

export type NixFlavor = 'nix' | 'lix' | 'determinate';

export interface NixVersion {
  flavor: NixFlavor;
  major: number;
  minor: number;
  patch: number;
  /** The Nix version token as printed, e.g. `2.32.4`, `2.25.0pre20241101_abcdef`, `2.90.0-lix`. */
  raw: string;
  /** Determinate Nix's own version (`3.14.0` in `nix (Determinate Nix 3.14.0) 2.32.4`). */
  determinateVersion?: string;
  /** The first line of `nix --version`, for messages. */
  banner: string;
}

/** The oldest Nix the extension supports (Debian 12's nix-bin). */
export const MIN_VERSION = { major: 2, minor: 8, patch: 0 } as const;

/**
 * Parses the first line of `nix --version`:
 *   `nix (Nix) 2.8.0`, `nix (Lix, like Nix) 2.91.1`, `nix (Determinate Nix 3.14.0) 2.32.4`.
 * The Nix version is the last token (Determinate prints two versions). Returns undefined when no version is found.
 */
export function parseNixVersion(output: string): NixVersion | undefined {
  const banner = (output.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim();
  const last = banner.split(/\s+/).pop() ?? '';
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(last);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const det = /Determinate Nix (\d+(?:\.\d+)*)/i.exec(banner);
  // Lix is 2.90+; some users patch the banner text, so the version alone also identifies it.
  const flavor: NixFlavor = det ? 'determinate' : /\bLix\b/i.test(banner) || (major === 2 && minor >= 90) ? 'lix' : 'nix';
  return {
    flavor,
    major,
    minor,
    patch: Number(m[3] ?? 0),
    raw: last,
    determinateVersion: det?.[1],
    banner,
  };
}

/** True when `v` is at least `major.minor.patch`. */
export function atLeast(v: Pick<NixVersion, 'major' | 'minor' | 'patch'>, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/** What the detected Nix can do; every version-dependent choice reads this table, never the version itself. */
export interface NixCapabilities {
  /** Supported at all (≥ 2.8). */
  supported: boolean;
  /** `nix flake update NAME…` and `--flake` (2.19+, Lix, Determinate); older: `nix flake lock --update-input NAME`. */
  flakeUpdateInputs: boolean;
  /** `nix flake lock --update-input` is accepted (≤ 2.18; deprecated alias on 2.19.2+; an error on Lix). */
  lockUpdateInput: boolean;
  /** `nix build --print-out-paths` (2.9+). */
  printOutPaths: boolean;
  /** `nix flake show --all-systems` (2.14+); older versions evaluate every system anyway. */
  allSystems: boolean;
  /** Error traces printed before the message (2.13+). */
  tracesFirst: boolean;
  /** internal-json `file` is `origin:line:col` (2.20+); `«string»` origins (2.13+). */
  jsonFileHasPosition: boolean;
  /** The eval cache re-evaluates cached failures to give the real error (2.23+); older needs `--no-eval-cache`. */
  evalCacheKeepsErrors: boolean;
  /** internal-json `start` records carry `parent` (2.18+). */
  activityParent: boolean;
  /** `nix config show` (2.20+) instead of `nix show-config`. */
  configShow: boolean;
  /** `nix flake show --json` prints Determinate's flake-schema inventory (`version: 2`, Determinate 3.17+). */
  flakeShowInventory: boolean;
}

export function capabilities(v: NixVersion): NixCapabilities {
  const lix = v.flavor === 'lix';
  const det = v.flavor === 'determinate';
  const detVer = det ? parseNixVersion(`x ${v.determinateVersion ?? '0.0'}`) : undefined;
  return {
    supported: atLeast(v, MIN_VERSION.major, MIN_VERSION.minor, MIN_VERSION.patch),
    flakeUpdateInputs: lix || det || atLeast(v, 2, 19),
    lockUpdateInput: !lix && (!atLeast(v, 2, 19) || atLeast(v, 2, 19, 2)),
    printOutPaths: atLeast(v, 2, 9),
    allSystems: atLeast(v, 2, 14),
    tracesFirst: atLeast(v, 2, 13),
    jsonFileHasPosition: atLeast(v, 2, 20),
    evalCacheKeepsErrors: atLeast(v, 2, 23),
    activityParent: atLeast(v, 2, 18),
    configShow: atLeast(v, 2, 20),
    flakeShowInventory: !!detVer && atLeast(detVer, 3, 17),
  };
}

/** A one-line description for logs and messages: `Nix 2.8.0`, `Lix 2.91.1`, `Determinate Nix 3.14.0 (Nix 2.32.4)`. */
export function describe(v: NixVersion): string {
  if (v.flavor === 'determinate') return `Determinate Nix ${v.determinateVersion} (Nix ${v.raw})`;
  return `${v.flavor === 'lix' ? 'Lix' : 'Nix'} ${v.raw}`;
}
