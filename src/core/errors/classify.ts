// Classifies an ANSI-stripped Nix error message (nix-cli.md §5.3, §7). No `vscode` import.

import type { ErrorDetail, OptionDefinition, TraceFrame } from './types';

/** What is known about the error besides its message. */
export interface ClassifyContext {
  /** The error has a primary position. */
  positioned: boolean;
  /** The error comes from evaluation: it has trace frames, or Nix offered `--show-trace`. */
  evaluation: boolean;
  trace: readonly TraceFrame[];
}

const BUILDER_FAILED = /builder for '([^']+)' failed(?: with exit code (\d+))?/;
const CANNOT_BUILD = /Cannot build '([^']+)'\.\s*Reason: builder failed(?: with exit code (\d+))?/;
const DEPENDENCY_FAILED = /^(\d+) dependencies of derivation '([^']+)' failed to build/;
// The 2.29+ wording of the same (seen on 2.34: `Cannot build '…'.\nReason: 1 dependency failed.`).
const DEPENDENCY_FAILED_NEW = /Cannot build '([^']+)'\.\s*Reason: (\d+) dependenc(?:y|ies) failed/;

const UNTRACKED_219 = /^getting status of '(\/[^']*?\/[0-9a-df-np-sv-z]{32}-source)\/([^']+)': No such file or directory/;
// 2.2x up to 2.27 (seen on 2.26.3): a file git does not track is missing from the flake's store copy.
const UNTRACKED_226 = /^path '(\/[^']*?\/[0-9a-df-np-sv-z]{32}-source)\/([^']+)' does not exist/;
const UNTRACKED_220 =
  /access to path '([^']+)' is forbidden because it is not under Git control; maybe you should 'git add' it to the repository '([^']+)'\?/;
const UNTRACKED_228 = /Path '([^']+)' in the repository "([^"]+)" is not tracked by Git\./;
const STORE_SOURCE_FILE = /^\/[^']*?\/[0-9a-df-np-sv-z]{32}-source\/(.+)$/;

const OPTION_MISSING = /The option `(.+?)' does not exist\. Definition values:/;
const OPTION_TYPE = /A definition for option `(.+?)' is not of type `(.*)'\. Definition values:/;
const OPTION_CONFLICT =
  /The option `(.+?)' (?:has conflicting definition values:|is defined multiple times while it's expected to be unique\.)/;
const OPTION_UNDEFINED = /The option `(.+?)' (?:was accessed but has no value defined|is used but not defined)/;
const DEFINITION = /^\s*- In `(.+?)'(?:: ?(.*))?$/gm;
const DID_YOU_MEAN = /Did you mean (.+?)\?\s*$/m;
const QUOTED = /`([^'`]+)'/g;

const ATTRIBUTE_MISSING = [
  /^attribute '(.+?)' missing/,
  /^attribute '(.+?)' in selection path '.*' not found/,
  /does not provide attribute '(.+?)'/,
];
const UNDEFINED_VARIABLE = /^undefined variable '(.+?)'/;
const TYPE_ERRORS = [
  /^value is (?:an? )?[\w ]+ while (?:an? )?[\w ]+ was expected/,
  /^expected an? [\w ]+ but found/,
  /^cannot (?:coerce|add|compare|convert|concatenate|decode|apply|call) /,
  /^attempt to call something which is not a function/,
  /^function '.*' called (?:without required argument|with unexpected argument)/,
  /^a string that refers to a store path cannot be appended to a path/,
];
const SYNTAX_ERRORS = [
  /^syntax error/,
  /^(?:dynamic )?attribute '.+?' (?:already defined|at .+ already defined) at /,
  /^duplicate formal function argument/,
  /^invalid (?:integer|float) /,
  /^path '.*' has a trailing slash/,
];
const ASSERTION = /^assertion '([\s\S]*)' failed/;
const ABORT = /^evaluation aborted with the following error message: /;
const THROW_FRAME = /while calling the 'throw' builtin/;
const NOT_A_THROW = [/^cached failure of attribute /, /^interrupted by the user/];

/** Finds a builder failure in a message: the drv path and, when printed, the exit code. */
export function matchBuilderFailure(text: string): { drvPath: string; exitCode?: number } | undefined {
  const m = CANNOT_BUILD.exec(text) ?? BUILDER_FAILED.exec(text);
  if (!m) return undefined;
  return m[2] !== undefined ? { drvPath: m[1]!, exitCode: Number(m[2]) } : { drvPath: m[1]! };
}

/** Reads the `- In `<file>': <value>` lines of a module-system error. */
export function parseOptionDefinitions(message: string): OptionDefinition[] {
  const out: OptionDefinition[] = [];
  for (const m of message.matchAll(DEFINITION)) out.push({ file: m[1]!, value: (m[2] ?? '').trim() });
  return out;
}

/** Reads the `Did you mean `a' or `b'?` suggestions of an unknown-option error. */
export function parseSuggestions(message: string): string[] {
  const line = DID_YOU_MEAN.exec(message)?.[1];
  return line ? [...line.matchAll(QUOTED)].map((m) => m[1]!) : [];
}

/** Classifies an ANSI-stripped error message (without the `error: ` prefix). */
export function classifyError(message: string, ctx: ClassifyContext): ErrorDetail {
  const first = message.trimStart();

  const builder = matchBuilderFailure(first);
  if (builder) return { kind: 'builder-failed', ...builder };
  let m = DEPENDENCY_FAILED.exec(first);
  if (m) return { kind: 'dependency-failed', drvPath: m[2]!, count: Number(m[1]) };
  m = DEPENDENCY_FAILED_NEW.exec(first);
  if (m) return { kind: 'dependency-failed', drvPath: m[1]!, count: Number(m[2]) };

  const untracked = matchUntracked(first);
  if (untracked) return untracked;

  if ((m = OPTION_MISSING.exec(first))) {
    return {
      kind: 'option-does-not-exist',
      optionPath: m[1]!,
      definitions: parseOptionDefinitions(first),
      suggestions: parseSuggestions(first),
    };
  }
  if ((m = OPTION_TYPE.exec(first))) {
    return { kind: 'option-type-mismatch', optionPath: m[1]!, expectedType: m[2]!, definitions: parseOptionDefinitions(first) };
  }
  if ((m = OPTION_CONFLICT.exec(first))) {
    return { kind: 'conflicting-definitions', optionPath: m[1]!, definitions: parseOptionDefinitions(first) };
  }
  if ((m = OPTION_UNDEFINED.exec(first))) return { kind: 'option-used-but-not-defined', optionPath: m[1]! };

  for (const re of ATTRIBUTE_MISSING) if ((m = re.exec(first))) return { kind: 'attribute-missing', attribute: m[1] };
  if ((m = UNDEFINED_VARIABLE.exec(first))) return { kind: 'undefined-variable', variable: m[1] };
  if (/^infinite recursion encountered/.test(first)) return { kind: 'infinite-recursion' };
  if (SYNTAX_ERRORS.some((re) => re.test(first))) return { kind: 'syntax-error' };
  if (TYPE_ERRORS.some((re) => re.test(first))) return { kind: 'type-error' };

  if ((m = ASSERTION.exec(first))) return { kind: 'throw', via: 'assert', assertion: m[1] };
  if (ABORT.test(first)) return { kind: 'throw', via: 'abort' };
  if (ctx.trace.some((t) => THROW_FRAME.test(t.message))) return { kind: 'throw', via: 'throw' };
  // Nix ≤ 2.12 gives a `throw` no position and no marker; other evaluation errors carry a position.
  if (!ctx.positioned && ctx.evaluation && !NOT_A_THROW.some((re) => re.test(first))) return { kind: 'throw', via: 'throw' };
  return { kind: 'other' };
}

function matchUntracked(text: string): ErrorDetail | undefined {
  let m = UNTRACKED_228.exec(text);
  if (m) return { kind: 'untracked-file', relPath: stripSlashes(m[1]!), repo: m[2]! };
  m = UNTRACKED_220.exec(text);
  if (m) {
    const store = STORE_SOURCE_FILE.exec(m[1]!);
    const repo = m[2]!;
    let rel = m[1]!;
    if (store) rel = store[1]!;
    else if (rel.startsWith(`${repo.replace(/\/+$/, '')}/`)) rel = rel.slice(repo.replace(/\/+$/, '').length + 1);
    return { kind: 'untracked-file', relPath: stripSlashes(rel), repo };
  }
  m = UNTRACKED_219.exec(text) ?? UNTRACKED_226.exec(text);
  if (m) return { kind: 'untracked-file', relPath: m[2]!, storePath: m[1]! };
  return undefined;
}

function stripSlashes(p: string): string {
  return p.replace(/^\/+/, '');
}
