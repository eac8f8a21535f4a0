// The messages between the "Dry Build" webview and the extension, and their run-time validators.
// Shared by both sides: no `vscode` import, no DOM, no Node APIs.
//
// Everything in these messages may come from Nix (host names, paths, error text, logs) and is untrusted:
// the webview renders it with `textContent` only. Both sides drop any message that does not validate.

import {
  boolean,
  CONTROL_LOG_LINE,
  CONTROL_MULTILINE,
  dispatch,
  integer,
  list,
  literal,
  nonNegative,
  oneOf,
  record,
  text,
  type Check,
} from './checks';

/** What the sender uses to make its data fit these validators (`LIMITS`). */
export { fitList, fitText } from './checks';

/** Bumped on any incompatible change; `ready` and `init` carry it and must match. 2: `kind` (home-manager). */
export const PROTOCOL_VERSION = 2;

/** Bounds checked by the validators. The extension must cut its data to these (see `fitText`, `fitList`). */
export const LIMITS = {
  /** Hosts in `init` / `hosts`. */
  hosts: 2000,
  /** Result cards in `init` (at most one per configuration, newest first). */
  runs: 50,
  /** A run id: 1–64 characters of `[A-Za-z0-9_.:-]`. */
  runId: 64,
  /** A host (attribute) name, a flake label, an error kind. */
  name: 256,
  /** A flake reference, a file path, a location label or `where` text. */
  path: 4096,
  /** One store path in `builds` / `fetches`. */
  storePath: 1024,
  /** Paths per list (`builds`, `fetches`). */
  items: 20_000,
  /** Errors per run. */
  errors: 100,
  /** Trace frames per error. */
  trace: 1000,
  /** An error or trace message (may be multi-line). */
  message: 16_000,
  /** Raw log lines per run (the last lines of Nix's output). */
  logLines: 1000,
  /** One raw log line. */
  logLine: 4000,
  /** A progress status text. */
  progress: 500,
  /** A count of things left out (`Omitted`). */
  count: Number.MAX_SAFE_INTEGER,
  /** A notice text. */
  notice: 2000,
  /** The text of a `copy` request. */
  copy: 1_000_000,
  /** Line and column numbers (1-based). */
  lineNumber: 10_000_000,
  /** Epoch milliseconds (`startedAt`). */
  time: 8_640_000_000_000_000,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Shared shapes

/**
 * A configuration of one flake: what `run` and `select` name. A NixOS host (`nixosConfigurations.<host>`), or with
 * `kind: 'home'` a home-manager configuration (`homeConfigurations.<host>`): a flake may have both of one name.
 */
export interface HostRef {
  /** The flake as the extension identifies it (opaque to the webview; e.g. the flake directory). */
  flake: string;
  /** The attribute name under `nixosConfigurations` (or `homeConfigurations`). */
  host: string;
  /** Absent: a NixOS host. */
  kind?: 'home';
}

/** What a configuration is: `nixos` (a host of `nixosConfigurations`) or `home` (of `homeConfigurations`). */
export type ConfigKind = 'nixos' | 'home';

export function kindOf(ref: Pick<HostRef, 'kind'>): ConfigKind {
  return ref.kind === 'home' ? 'home' : 'nixos';
}

/** The fields that name a configuration of `kind` (no `kind` for a NixOS host). */
export function hostRef(flake: string, host: string, kind: ConfigKind): HostRef {
  return kind === 'home' ? { flake, host, kind } : { flake, host };
}

/** The same configuration: flake, name and kind. */
export function sameHost(a: HostRef, b: HostRef): boolean {
  return a.flake === b.flake && a.host === b.host && kindOf(a) === kindOf(b);
}

/** One entry of the host picker. */
export interface HostEntry extends HostRef {
  /** A short display name for the flake (e.g. its folder name); hosts are grouped under it. */
  flakeLabel: string;
}

/** A position in a workspace file that the webview may ask to open. */
export interface Location {
  /** Absolute path (sent back unchanged in `open`). */
  file: string;
  /** What is shown, e.g. `hosts/db.nix` (relative to the workspace folder). Line and column are appended. */
  label: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** One trace frame (`… while evaluating …`), innermost first. */
export interface TraceView {
  message: string;
  /** Set when the frame's position is in the workspace (a link). */
  location?: Location;
  /** A position outside the workspace, shown as plain text (e.g. `nixpkgs: lib/modules.nix:512:28`). */
  where?: string;
}

/** One Nix error as shown in a failed run. */
export interface ErrorView {
  /** ANSI-free message, may be multi-line. */
  message: string;
  /** The parser's kind, e.g. `undefined-variable`, `option-does-not-exist`, `other`. */
  kind: string;
  /** Set when the error's position is in the workspace (a link). */
  location?: Location;
  /** A position outside the workspace, shown as plain text. */
  where?: string;
  trace: TraceView[];
}

export type RunStatus = 'evaluating' | 'done' | 'failed' | 'cancelled';
export type FinishedStatus = Exclude<RunStatus, 'evaluating'>;

/** What a finished run found (also present, possibly empty, on a run still evaluating). */
export interface RunResult {
  /** Derivations that would be built (`/nix/store/…-name.drv`), in Nix's order. */
  builds: string[];
  /** Store paths that would be fetched from substituters. */
  fetches: string[];
  /** Download size of the fetches, in bytes, when Nix announced it. */
  downloadBytes?: number;
  /** Unpacked size of the fetches, in bytes, when Nix announced it. */
  unpackedBytes?: number;
  errors: ErrorView[];
  /** The last lines of Nix's output (ANSI-free). */
  log: string[];
  /** What the run left out to stay within its bounds or its time (the card says so); absent when nothing was. */
  omitted?: Omitted;
}

/**
 * What a run left out. Every buffer between Nix and the card has a bound; reaching one is shown, never silent.
 * Counts are of things not shown or not kept; each is absent when nothing was left out.
 */
export interface Omitted {
  /** Errors after the first `LIMITS.errors`. */
  errors?: number;
  /** Paths after the first `LIMITS.items` of `builds`, of `fetches`. */
  builds?: number;
  fetches?: number;
  /** Lines of output before the last ones in `log`. */
  logLines?: number;
  /** Nix's messages (errors, warnings) beyond what a run keeps. */
  messages?: number;
  /** Of those, error messages: the list of errors may be incomplete. */
  errorMessages?: number;
  /** The oldest lines of stderr, beyond the bound of the output kept. */
  stderrLines?: number;
  /** Lines cut at their length bound. */
  longLines?: number;
  /** Lines of output that could not be read (the reader failed on them), and why the first one failed. */
  unreadLines?: number;
  unreadReason?: string;
  /**
   * The errors' places in the workspace were not looked up (the store paths in them are shown as Nix printed them):
   * the lookup ran out of time (`lookupMs`), or was cancelled.
   */
  locations?: 'timeout' | 'cancelled';
  lookupMs?: number;
}

/** One result card: a run of one configuration, as `init` sends it. */
export interface RunState extends HostRef, RunResult {
  runId: string;
  state: RunStatus;
  /** Epoch milliseconds when the run started (extension clock; display only). */
  startedAt: number;
  /** Time taken so far (evaluating) or in total (finished), in milliseconds. */
  elapsedMs: number;
  /** The latest progress text while evaluating. */
  progress?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Webview → extension

export type ToExtension =
  /** Sent once the UI has rendered (after every load, including reloads after the panel was hidden). */
  | { type: 'ready'; protocolVersion: number }
  /** Dry-build this host. The extension answers with `runStarted`, or a `notice` when it cannot. */
  | ({ type: 'run' } & HostRef)
  /** Cancel a run that is evaluating. */
  | { type: 'cancel'; runId: string }
  /** The picker's choice changed: remember it. */
  | ({ type: 'select' } & HostRef)
  /** Open a location that the extension sent in an `ErrorView`. */
  | ({ type: 'open' } & Pick<Location, 'file' | 'line' | 'column'>)
  /** Write this text to the clipboard. */
  | { type: 'copy'; text: string }
  /** The user removed one result card. */
  | { type: 'dismiss'; runId: string }
  /** The user removed all finished result cards. */
  | { type: 'clear' };

// ---------------------------------------------------------------------------------------------------------
// Extension → webview

export interface InitMessage {
  type: 'init';
  protocolVersion: number;
  hosts: HostEntry[];
  /** The remembered choice. */
  selected?: HostRef;
  /** True while the hosts are still being looked up. */
  loading?: boolean;
  /** Every result card, newest first. Replaces the webview's cards. */
  runs: RunState[];
}

export interface HostsMessage {
  type: 'hosts';
  hosts: HostEntry[];
  selected?: HostRef;
  loading?: boolean;
}

export interface RunStartedMessage extends HostRef {
  type: 'runStarted';
  runId: string;
  startedAt: number;
}

export interface ProgressMessage {
  type: 'progress';
  runId: string;
  text: string;
}

export interface RunFinishedMessage extends RunResult {
  type: 'runFinished';
  runId: string;
  state: FinishedStatus;
  elapsedMs: number;
}

export interface NoticeMessage {
  type: 'notice';
  level: 'info' | 'warning' | 'error';
  /** May be multi-line. An empty text clears the notice. */
  text: string;
}

export type ToWebview = InitMessage | HostsMessage | RunStartedMessage | ProgressMessage | RunFinishedMessage | NoticeMessage;

// ---------------------------------------------------------------------------------------------------------
// Validators

const RUN_ID = /^[A-Za-z0-9_.:-]+$/;
const ABSOLUTE = /^(?:\/|[A-Za-z]:[\\/])/;

const runId = text(LIMITS.runId, { min: 1, pattern: RUN_ID });
const flake = text(LIMITS.path, { min: 1 });
const host = text(LIMITS.name, { min: 1 });
const flakeLabel = text(LIMITS.name, { min: 1 });
const absolutePath = text(LIMITS.path, { min: 2, pattern: ABSOLUTE });
const storePath = text(LIMITS.storePath, { min: 2, pattern: /^\// });
const lineNumber = integer(1, LIMITS.lineNumber);
const bytes = nonNegative(Number.MAX_SAFE_INTEGER);
const duration = nonNegative(Number.MAX_SAFE_INTEGER);
const time = nonNegative(LIMITS.time);
const message = text(LIMITS.message, { control: CONTROL_MULTILINE });
const where = text(LIMITS.path, { min: 1 });

const hostRefFields = { flake, host };
const kind = { kind: literal('home') };
const hostRefCheck = record(hostRefFields, kind);
const hostEntry = record({ ...hostRefFields, flakeLabel }, kind);
const hosts = list(hostEntry, LIMITS.hosts);

const location = record({ file: absolutePath, label: text(LIMITS.path, { min: 1 }), line: lineNumber, column: lineNumber });
const traceView = record({ message }, { location, where });
const errorView = record({ message, kind: text(LIMITS.name, { min: 1 }), trace: list(traceView, LIMITS.trace) }, { location, where });

const count = integer(0, LIMITS.count);
const omitted = record(
  {},
  {
    errors: count,
    builds: count,
    fetches: count,
    logLines: count,
    messages: count,
    errorMessages: count,
    stderrLines: count,
    longLines: count,
    unreadLines: count,
    unreadReason: text(LIMITS.notice),
    locations: oneOf('timeout', 'cancelled'),
    lookupMs: count,
  },
);

const resultFields = {
  builds: list(storePath, LIMITS.items),
  fetches: list(storePath, LIMITS.items),
  errors: list(errorView, LIMITS.errors),
  log: list(text(LIMITS.logLine, { control: CONTROL_LOG_LINE }), LIMITS.logLines),
};
const resultOptional = { downloadBytes: bytes, unpackedBytes: bytes, omitted };
const progressText = text(LIMITS.progress);

const runState = record(
  {
    ...hostRefFields,
    ...resultFields,
    runId,
    state: oneOf('evaluating', 'done', 'failed', 'cancelled'),
    startedAt: time,
    elapsedMs: duration,
  },
  { ...resultOptional, ...kind, progress: progressText },
);

/** Cards: run ids are unique (the webview keeps only the first card of a configuration). */
const runs: Check = (v) => {
  if (!list(runState, LIMITS.runs)(v)) return false;
  const ids = new Set((v as RunState[]).map((r) => r.runId));
  return ids.size === (v as RunState[]).length;
};

const version = literal(PROTOCOL_VERSION);

const toExtension: Record<ToExtension['type'], Check> = {
  ready: record({ type: literal('ready'), protocolVersion: version }),
  run: record({ type: literal('run'), ...hostRefFields }, kind),
  cancel: record({ type: literal('cancel'), runId }),
  select: record({ type: literal('select'), ...hostRefFields }, kind),
  open: record({ type: literal('open'), file: absolutePath, line: lineNumber, column: lineNumber }),
  copy: record({ type: literal('copy'), text: text(LIMITS.copy, { min: 1, control: CONTROL_MULTILINE }) }),
  dismiss: record({ type: literal('dismiss'), runId }),
  clear: record({ type: literal('clear') }),
};

const toWebview: Record<ToWebview['type'], Check> = {
  init: record({ type: literal('init'), protocolVersion: version, hosts, runs }, { selected: hostRefCheck, loading: boolean }),
  hosts: record({ type: literal('hosts'), hosts }, { selected: hostRefCheck, loading: boolean }),
  runStarted: record({ type: literal('runStarted'), runId, ...hostRefFields, startedAt: time }, kind),
  progress: record({ type: literal('progress'), runId, text: progressText }),
  runFinished: record(
    { type: literal('runFinished'), runId, state: oneOf('done', 'failed', 'cancelled'), elapsedMs: duration, ...resultFields },
    resultOptional,
  ),
  notice: record({
    type: literal('notice'),
    level: oneOf('info', 'warning', 'error'),
    text: text(LIMITS.notice, { control: CONTROL_MULTILINE }),
  }),
};

/** True when `msg` is a well-formed webview → extension message within `LIMITS`. */
export function isToExtension(msg: unknown): msg is ToExtension {
  return dispatch(toExtension, msg);
}

/** True when `msg` is a well-formed extension → webview message within `LIMITS`. */
export function isToWebview(msg: unknown): msg is ToWebview {
  return dispatch(toWebview, msg);
}
