// Text formatting for the panel. Pure functions (no DOM); sizes, durations and store names as everywhere else.

import type { Omitted } from '../src/protocol/dryBuild';

import { formatBytes, formatDuration } from '../src/core/format';
import { storePathName } from '../src/core/nix/store';

export { formatBytes, formatDuration, storePathName as storeName };

export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
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
    out.push(
      `The errors’ places in your files were not looked up: that took longer than ${formatDuration(o.lookupMs ?? 0)}. Paths are shown as Nix printed them.`,
    );
  } else if (o.locations === 'cancelled') {
    out.push('The errors’ places in your files were not looked up (cancelled). Paths are shown as Nix printed them.');
  }
  if (o.errors) out.push(`${plural(o.errors, 'more error is', 'more errors are')} not listed (only the first ones are).`);
  if (o.messages) {
    const errors = o.errorMessages
      ? ` (${plural(o.errorMessages, 'error', 'errors')} among them: the list of errors may be incomplete)`
      : '';
    out.push(`Nix printed more messages than are kept: ${plural(o.messages, 'message was', 'messages were')} left out${errors}.`);
  }
  if (o.builds) out.push(`${plural(o.builds, 'more derivation', 'more derivations')} to build not listed.`);
  if (o.fetches) out.push(`${plural(o.fetches, 'more path', 'more paths')} to fetch not listed.`);
  if (o.stderrLines)
    out.push(`Nix’s output was longer than what is kept: its first ${plural(o.stderrLines, 'line was', 'lines were')} dropped.`);
  if (o.longLines) out.push(`${plural(o.longLines, 'line', 'lines')} of output ${o.longLines === 1 ? 'was' : 'were'} too long and cut.`);
  if (o.unreadLines)
    out.push(`${plural(o.unreadLines, 'line', 'lines')} of output could not be read${o.unreadReason ? ` (${o.unreadReason})` : ''}.`);
  return out;
}
