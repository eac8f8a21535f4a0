// The messages of one `nix` run, kept for the errors read from them when it fails. No `vscode` import.
// Nix output is untrusted input: a run that floods stderr (a builder, an evaluation warning in a loop) must not make
// the list grow without limit. The first errors are kept (the first error is the cause; later ones mostly follow
// from it), and the newest of everything else (what led up to the end); what was dropped is counted.

import type { LogEvent } from './types';

export interface MessageLogOptions {
  /** Error messages (level-0 `msg` events) kept, the first ones. Default 200. */
  maxErrors?: number;
  /** Other events kept, the newest ones. Default 2000. */
  maxOthers?: number;
}

interface Entry {
  /** The order in which the event arrived. */
  seq: number;
  ev: LogEvent;
}

/** A bounded, ordered list of a run's events: the first errors and the newest others. */
export class MessageLog {
  private readonly maxErrors: number;
  private readonly maxOthers: number;
  private readonly errors: Entry[] = [];
  /** A ring of the newest other events: `others[(head + i) % maxOthers]` is the i-th oldest kept. */
  private readonly others: Entry[] = [];
  private head = 0;
  private seq = 0;
  private droppedErrorCount = 0;
  private droppedOtherCount = 0;

  constructor(options: MessageLogOptions = {}) {
    this.maxErrors = Math.max(0, Math.floor(options.maxErrors ?? 200));
    this.maxOthers = Math.max(0, Math.floor(options.maxOthers ?? 2000));
  }

  /** Keeps an event (or counts it as dropped). */
  add(ev: LogEvent): void {
    const entry = { seq: this.seq++, ev };
    if (ev.kind === 'msg' && ev.level === 0) {
      if (this.errors.length < this.maxErrors) this.errors.push(entry);
      else this.droppedErrorCount++;
      return;
    }
    if (this.maxOthers === 0) {
      this.droppedOtherCount++;
    } else if (this.others.length < this.maxOthers) {
      this.others.push(entry);
    } else {
      this.others[this.head] = entry;
      this.head = (this.head + 1) % this.maxOthers;
      this.droppedOtherCount++;
    }
  }

  /** The kept events, in the order they arrived. */
  events(): LogEvent[] {
    const out: LogEvent[] = [];
    const n = this.others.length;
    let e = 0;
    for (let i = 0; i < n; i++) {
      const o = this.others[(this.head + i) % n];
      while (e < this.errors.length && this.errors[e].seq < o.seq) out.push(this.errors[e++].ev);
      out.push(o.ev);
    }
    while (e < this.errors.length) out.push(this.errors[e++].ev);
    return out;
  }

  /** Events added so far, kept or not. */
  get total(): number {
    return this.seq;
  }

  /** Events dropped: errors after the first `maxErrors`, and others older than the newest `maxOthers`. */
  get dropped(): number {
    return this.droppedErrorCount + this.droppedOtherCount;
  }

  /** Error messages dropped (after the first `maxErrors`). */
  get droppedErrors(): number {
    return this.droppedErrorCount;
  }
}
