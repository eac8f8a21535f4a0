// Text formatting for the panel. Pure functions (no DOM).

import type { Omitted } from '../src/protocol/dryBuild';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `12.3 MiB`, `512 B`, `1.02 GiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`;
}

/** `0.4s`, `12s`, `3m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Nix's base-32 hash of a store path name. */
const HASHED = /^[0-9a-df-np-sv-z]{32}-(.+)$/;

/** The name part of a store path: `/nix/store/<hash>-hello-2.12.drv` → `hello-2.12` (`.drv` dropped). */
export function storeName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const m = HASHED.exec(base);
  const name = m ? m[1] : base;
  return name.endsWith('.drv') && name.length > 4 ? name.slice(0, -4) : name || path;
}

/** `undefined-variable` → `undefined variable`. */
export function kindLabel(kind: string): string {
  return kind.replace(/[-_]+/g, ' ');
}

export function positionLabel(label: string, line: number, column: number): string {
  return `${label}:${line}:${column}`;
}

/** A case-insensitive substring filter; an empty query matches everything. */
export function matcher(query: string): (s: string) => boolean {
  const q = query.trim().toLowerCase();
  return q ? (s) => s.toLowerCase().includes(q) : () => true;
}

/** What a run left out (see `Omitted`), as sentences for its card. The raw log's own count is shown with the log. */
export function omittedLines(o: Omitted | undefined): string[] {
  if (!o) return [];
  const out: string[] = [];
  if (o.locations === 'timeout') {
    out.push(`The errors’ places in your files were not looked up: that took longer than ${formatDuration(o.lookupMs ?? 0)}. Paths are shown as Nix printed them.`);
  } else if (o.locations === 'cancelled') {
    out.push('The errors’ places in your files were not looked up (cancelled). Paths are shown as Nix printed them.');
  }
  if (o.errors) out.push(`${plural(o.errors, 'more error is', 'more errors are')} not listed (only the first ones are).`);
  if (o.messages) {
    const errors = o.errorMessages ? ` (${plural(o.errorMessages, 'error', 'errors')} among them: the list of errors may be incomplete)` : '';
    out.push(`Nix printed more messages than are kept: ${plural(o.messages, 'message was', 'messages were')} left out${errors}.`);
  }
  if (o.builds) out.push(`${plural(o.builds, 'more derivation', 'more derivations')} to build not listed.`);
  if (o.fetches) out.push(`${plural(o.fetches, 'more path', 'more paths')} to fetch not listed.`);
  if (o.stderrLines) out.push(`Nix’s output was longer than what is kept: its first ${plural(o.stderrLines, 'line was', 'lines were')} dropped.`);
  if (o.longLines) out.push(`${plural(o.longLines, 'line', 'lines')} of output ${o.longLines === 1 ? 'was' : 'were'} too long and cut.`);
  if (o.unreadLines) out.push(`${plural(o.unreadLines, 'line', 'lines')} of output could not be read${o.unreadReason ? ` (${o.unreadReason})` : ''}.`);
  return out;
}
