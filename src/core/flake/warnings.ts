// Structured warnings from `nix flake show` (and any other nix command's stderr), with explanations for people.
// No `vscode` import.

import { clip } from './json';
import { nixMessageLines } from './stderr';

/** Why `nix flake show` printed `{}` instead of an output. */
export type OmittedReason = 'other-system' | 'legacy' | 'import-from-derivation' | 'not-a-derivation' | 'failed' | 'unknown';

interface WarningBase {
  /** The warning as printed, without `warning: ` and ANSI codes (continuation lines joined with a space). */
  text: string;
  /** A plain-English explanation for users. */
  explanation: string;
}

/** `ignoring untrusted flake configuration setting 'X'` (2.8; 2.12+ adds "Pass '--accept-flake-config' to trust it"; Lix words it differently). */
export interface UntrustedConfigWarning extends WarningBase {
  kind: 'untrusted-config';
  /** The `nixConfig` setting, e.g. `extra-substituters`. */
  setting: string;
}

/** `Git tree '/path' is dirty`. */
export interface DirtyTreeWarning extends WarningBase {
  kind: 'dirty-tree';
  tree: string;
}

/** `packages.aarch64-linux.hello omitted (use '--all-systems' to show)` and the `--legacy` forms. */
export interface OmittedWarning extends WarningBase {
  kind: 'omitted';
  reason: 'other-system' | 'legacy';
  /** The flag that would show it. */
  flag: '--all-systems' | '--legacy';
  /**
   * The attribute path as printed (names joined with `.`, unquoted), e.g. `legacyPackages.x86_64-linux`.
   * For 2.8's tree-drawing form (`│   └───x86_64-linux: omitted …`), rebuilt as `legacyPackages.<system>`.
   */
  attrPath: string;
}

/** `packages.x86_64-linux.foo is not a derivation` (2.33+; the leaf becomes `{}`). */
export interface NotADerivationWarning extends WarningBase {
  kind: 'not-a-derivation';
  attrPath: string;
}

/** `checks.x86_64-linux.foo omitted due to use of import from derivation` (2.29+). */
export interface ImportFromDerivationWarning extends WarningBase {
  kind: 'import-from-derivation';
  attrPath: string;
}

/**
 * A warning raised by Nix code while evaluating (a deprecation in nixpkgs or in the flake itself): 2.23+ print
 * `evaluation warning: <text>` (`builtins.warn`); before that, nixpkgs' `lib.warn` printed `trace: warning: <text>`.
 */
export interface EvaluationWarning extends WarningBase {
  kind: 'evaluation';
}

export type NixWarning =
  EvaluationWarning | UntrustedConfigWarning | DirtyTreeWarning | OmittedWarning | NotADerivationWarning | ImportFromDerivationWarning;

const UNTRUSTED = /^ignoring untrusted flake configuration setting '([^']*)'/;
const DIRTY = /^Git tree '(.*)' (?:is dirty|has uncommitted changes)/;
const OMITTED = /^(.*?):? omitted \(use '(--all-systems|--legacy)' to show\)\s*$/;
const NOT_DERIVATION = /^(\S.*?) is not a derivation\s*$/;
const IFD = /^(\S.*?) omitted due to use of import from derivation\s*$/;
/** 2.8 prints the legacyPackages warning with the tree-drawing prefix of its text mode. */
const TREE_CHARS = /[│├└─]/;
/** `evaluation warning: …` (2.23+), and nixpkgs' `lib.warn` on older Nix, `trace: warning: …`. */
const EVALUATION = /^(?:evaluation warning:|trace: warning:)\s*(.*)$/;
/** Continuation lines that belong to the previous warning (2.12+, Lix). */
const CONTINUATION = /^\s*(?:Pass '--accept-flake-config' to trust it|\(may allow the flake to gain root)/i;

/**
 * Finds the known warnings in nix stderr: plain text or `--log-format internal-json` (`@nix {"action":"msg",…}`).
 * Each distinct warning is returned once, in order of appearance. Unknown lines are ignored. Never throws.
 */
export function parseFlakeShowWarnings(stderr: string): NixWarning[] {
  const out: NixWarning[] = [];
  const seen = new Set<string>();
  const lines = nixMessageLines(stderr);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const ev = EVALUATION.exec(line);
    const m = ev ?? /^warning:\s*(.*)$/.exec(line);
    if (!m) continue;
    let text = m[1]!.trim();
    while (i + 1 < lines.length && CONTINUATION.test(lines[i + 1]!)) text += ` ${lines[++i]!.trim()}`;
    const w = ev ? evaluationWarning(text) : classify(text);
    if (!w) continue;
    const key = `${w.kind}\0${w.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(w);
  }
  return out;
}

/** The omitted reason a warning gives for an attribute path (joined with `.`), if any. */
export function omittedReasonFor(warnings: readonly NixWarning[], attrPath: string): OmittedReason | undefined {
  for (const w of warnings) {
    if (w.kind === 'omitted' && w.attrPath === attrPath) return w.reason;
    if (w.kind === 'not-a-derivation' && w.attrPath === attrPath) return 'not-a-derivation';
    if (w.kind === 'import-from-derivation' && w.attrPath === attrPath) return 'import-from-derivation';
  }
  return undefined;
}

/** A sentence explaining an omitted output, for tooltips. */
export function explainOmitted(reason: OmittedReason, attrPath: string): string {
  switch (reason) {
    case 'other-system':
      return `${attrPath} is for another system. nix flake show skips other systems unless '--all-systems' is passed.`;
    case 'legacy':
      return `${attrPath} was not listed: legacyPackages is usually all of nixpkgs, so nix flake show skips it unless '--legacy' is passed.`;
    case 'import-from-derivation':
      return `${attrPath} needs "import from derivation" (building something while evaluating), which nix flake show does not do, so it was skipped.`;
    case 'not-a-derivation':
      return `${attrPath} should be a package (a derivation) but is something else, so Nix skipped it.`;
    case 'failed':
      return `${attrPath} failed to evaluate, so it was skipped.`;
    case 'unknown':
      return `Nix did not list ${attrPath}.`;
  }
}

function evaluationWarning(rawText: string): EvaluationWarning {
  return {
    kind: 'evaluation',
    text: clip(rawText, 1024),
    explanation:
      'The Nix code being evaluated (the flake or one of its inputs, often nixpkgs) printed this warning, usually ' +
      'about something deprecated. The evaluation went on; the warning says what to change before it becomes an error.',
  };
}

function classify(rawText: string): NixWarning | undefined {
  const text = clip(rawText, 1024);
  let m = UNTRUSTED.exec(rawText);
  if (m) {
    const setting = clip(m[1]!, 256);
    return {
      kind: 'untrusted-config',
      setting,
      text,
      explanation:
        `This flake's nixConfig asks Nix to set '${setting}'. Nix ignored it on purpose, because the setting is not ` +
        `trusted: accepted flake settings can make Nix run programs as root or trust other binary caches. The extension ` +
        `never passes --accept-flake-config. If you trust this flake, add the setting to your own nix.conf, or run nix ` +
        `yourself with --accept-flake-config.`,
    };
  }
  m = DIRTY.exec(rawText);
  if (m) {
    const tree = clip(m[1]!, 1024);
    return {
      kind: 'dirty-tree',
      tree,
      text,
      explanation:
        `The Git repository '${tree}' has uncommitted changes. Nix uses the working tree, but only files Git knows ` +
        `about: new files are invisible to Nix until you 'git add' them. The result is not pinned to a commit.`,
    };
  }
  m = IFD.exec(rawText);
  if (m) {
    const attrPath = clip(m[1]!, 1024);
    return { kind: 'import-from-derivation', attrPath, text, explanation: explainOmitted('import-from-derivation', attrPath) };
  }
  m = OMITTED.exec(rawText);
  if (m) {
    const flag = m[2] as OmittedWarning['flag'];
    const reason = flag === '--legacy' ? 'legacy' : 'other-system';
    let attrPath = m[1]!.trim();
    if (TREE_CHARS.test(attrPath)) {
      // 2.8: `│   └───x86_64-linux: omitted (use '--legacy' to show)`; only legacyPackages is reported this way.
      const name =
        attrPath
          .split(/[│├└─\s]+/)
          .filter((s) => s !== '')
          .pop() ?? '';
      attrPath = flag === '--legacy' ? `legacyPackages.${name}` : name;
    }
    attrPath = clip(attrPath, 1024);
    return { kind: 'omitted', reason, flag, attrPath, text, explanation: explainOmitted(reason, attrPath) };
  }
  m = NOT_DERIVATION.exec(rawText);
  if (m) {
    const attrPath = clip(m[1]!, 1024);
    return { kind: 'not-a-derivation', attrPath, text, explanation: explainOmitted('not-a-derivation', attrPath) };
  }
  return undefined;
}
