// Dates of locked inputs for people: "3 months ago", "2025-10-01". Pure: the current time is passed in.
// No `vscode` import.

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** Average month and year (Gregorian), for rounding only. */
const MONTH = 30.436875 * DAY;
const YEAR = 365.2425 * DAY;

/** 9999-12-31T23:59:59Z: later times do not fit `YYYY-MM-DD`. */
const MAX_SECONDS = 253402300799;

/** True for a usable Unix time in seconds (flake.lock writes 0 for dirty trees, which is not a date). */
export function isValidTimestamp(seconds: unknown): seconds is number {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_SECONDS;
}

/**
 * How long ago `lastModifiedSeconds` (Unix seconds) was at `nowMs` (Unix milliseconds): "just now",
 * "5 minutes ago", "2 days ago", "3 weeks ago", "3 months ago", "2 years ago". Times more than a minute
 * in the future give "in the future"; unusable input gives "unknown date".
 */
export function formatAge(lastModifiedSeconds: number, nowMs: number): string {
  if (!isValidTimestamp(lastModifiedSeconds) || !Number.isFinite(nowMs)) return 'unknown date';
  const diff = nowMs / 1000 - lastModifiedSeconds;
  if (diff < -MINUTE) return 'in the future';
  if (diff < MINUTE) return 'just now';
  if (diff < HOUR) return ago(Math.floor(diff / MINUTE), 'minute');
  if (diff < DAY) return ago(Math.floor(diff / HOUR), 'hour');
  if (diff < WEEK) return ago(Math.floor(diff / DAY), 'day');
  if (diff < MONTH) return ago(Math.floor(diff / WEEK), 'week');
  if (diff < YEAR) return ago(Math.max(1, Math.floor(diff / MONTH)), 'month');
  return ago(Math.floor(diff / YEAR), 'year');
}

/** `YYYY-MM-DD` in UTC (how Nix prints lock dates); unusable input gives "unknown date". */
export function formatDate(seconds: number): string {
  if (!isValidTimestamp(seconds)) return 'unknown date';
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Whole days between two Unix times (absolute, rounded down). */
export function daysBetween(aSeconds: number, bSeconds: number): number {
  return Math.floor(Math.abs(aSeconds - bSeconds) / DAY);
}

function ago(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}
