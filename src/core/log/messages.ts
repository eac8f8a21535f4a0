// The messages of one `nix` run, kept for the errors read from them when it fails. No `vscode` import.
// Nix output is untrusted input: a run that floods stderr (a builder, an evaluation warning in a loop) must not make
// the list grow without limit. The first errors are kept (the first error is the cause; later ones mostly follow
// from it), and the newest of everything else (what led up to the end); what was dropped is counted, so that whoever
// shows the result can say that something was left out.
//
// Two bounds: a number of events (`maxErrors`, `maxOthers`) and a number of characters over everything kept
// (`maxChars`: a single message may be a whole line of several megabytes). When the characters run out, the oldest
// other events go first; an error that still does not fit is dropped (and counted) like one over `maxErrors`.

import type { LogEvent, MsgEvent } from './types';

export interface MessageLogOptions {
  /** Error messages (level-0 `msg` events) kept, the first ones. Default 200. */
  maxErrors?: number;
  /** Other events kept, the newest ones. Default 2000. */
  maxOthers?: number;
  /** Characters kept over all events (see `eventChars`). Default 16 Mi. */
  maxChars?: number;
}

interface Entry {
  /** The order in which the event arrived. */
  seq: number;
  ev: LogEvent;
  chars: number;
}

/** What an event costs, in characters: its texts and the fixed part of a record. */
export function eventChars(ev: LogEvent): number {
  const RECORD = 32;
  switch (ev.kind) {
    case 'msg': {
      let n = RECORD + ev.msg.length + (ev.rawMsg?.length ?? 0) + (ev.position?.file.length ?? 0);
      for (const t of ev.trace) n += RECORD + t.rawMsg.length + (t.position?.file.length ?? 0);
      return n;
    }
    case 'plain':
      return RECORD + ev.text.length;
    case 'start':
      return RECORD + ev.text.length + ev.fields.reduce<number>((a, f) => a + String(f).length, 0);
    case 'result':
      return RECORD + ev.fields.reduce<number>((a, f) => a + String(f).length, 0);
    case 'parse-error':
      return RECORD + ev.reason.length + ev.text.length;
    case 'unknown':
      return RECORD + ev.action.length;
    case 'stop':
      return RECORD;
  }
}

/** A bounded, ordered list of a run's events: the first errors and the newest others. */
export class MessageLog {
  private readonly maxErrors: number;
  private readonly maxOthers: number;
  private readonly maxChars: number;
  private readonly errors: Entry[] = [];
  private errorChars = 0;
  /** The newest other events, oldest first from `start` (a queue: the front is dropped by moving `start`). */
  private others: Entry[] = [];
  private start = 0;
  private otherChars = 0;
  private seq = 0;
  private droppedErrorCount = 0;
  private droppedOtherCount = 0;

  constructor(options: MessageLogOptions = {}) {
    this.maxErrors = Math.max(0, Math.floor(options.maxErrors ?? 200));
    this.maxOthers = Math.max(0, Math.floor(options.maxOthers ?? 2000));
    this.maxChars = Math.max(0, Math.floor(options.maxChars ?? 16 * 1024 * 1024));
  }

  /** Keeps an event (or counts it as dropped). */
  add(ev: LogEvent): void {
    const entry = { seq: this.seq++, ev, chars: eventChars(ev) };
    if (ev.kind === 'msg' && ev.level === 0) {
      if (this.errors.length >= this.maxErrors || this.errorChars + entry.chars > this.maxChars) {
        this.droppedErrorCount++;
        return;
      }
      this.errors.push(entry);
      this.errorChars += entry.chars;
      this.trimOthers();
      return;
    }
    if (this.maxOthers === 0 || this.errorChars + entry.chars > this.maxChars) {
      this.droppedOtherCount++;
      return;
    }
    this.others.push(entry);
    this.otherChars += entry.chars;
    this.trimOthers();
  }

  /** Drops the oldest others until at most `maxOthers` of them are kept and everything fits in `maxChars`. */
  private trimOthers(): void {
    while (
      this.start < this.others.length &&
      (this.others.length - this.start > this.maxOthers || this.errorChars + this.otherChars > this.maxChars)
    ) {
      this.otherChars -= this.others[this.start]!.chars;
      this.start++;
      this.droppedOtherCount++;
    }
    // Compacted once half of the queue is dropped: each entry is moved O(1) times.
    if (this.start > 0 && this.start * 2 >= this.others.length) {
      this.others = this.others.slice(this.start);
      this.start = 0;
    }
  }

  /** The kept events, in the order they arrived. */
  events(): LogEvent[] {
    const out: LogEvent[] = [];
    let e = 0;
    for (let i = this.start; i < this.others.length; i++) {
      const o = this.others[i]!;
      while (e < this.errors.length && this.errors[e]!.seq < o.seq) out.push(this.errors[e++]!.ev);
      out.push(o.ev);
    }
    while (e < this.errors.length) out.push(this.errors[e++]!.ev);
    return out;
  }

  /** The kept `msg` events, in the order they arrived. */
  messages(): MsgEvent[] {
    return this.events().filter((e): e is MsgEvent => e.kind === 'msg');
  }

  /** Events added so far, kept or not. */
  get total(): number {
    return this.seq;
  }

  /** Events dropped: errors after the first `maxErrors`, and others older than the newest `maxOthers`. */
  get dropped(): number {
    return this.droppedErrorCount + this.droppedOtherCount;
  }

  /** Error messages dropped (after the first `maxErrors`, or over `maxChars`). */
  get droppedErrors(): number {
    return this.droppedErrorCount;
  }

  /** Characters held by the kept events (at most `maxChars`). */
  get chars(): number {
    return this.errorChars + this.otherChars;
  }
}
