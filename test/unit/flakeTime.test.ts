import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daysBetween, formatAge, formatDate, isValidTimestamp } from '../../src/core/flake/time';

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const now = NOW_MS / 1000;

test('formatAge: just now, minutes, hours, days, weeks, months, years', () => {
  assert.equal(formatAge(now, NOW_MS), 'just now');
  assert.equal(formatAge(now - 59, NOW_MS), 'just now');
  assert.equal(formatAge(now + 30, NOW_MS), 'just now');
  assert.equal(formatAge(now - 60, NOW_MS), '1 minute ago');
  assert.equal(formatAge(now - 5 * 60, NOW_MS), '5 minutes ago');
  assert.equal(formatAge(now - 3600, NOW_MS), '1 hour ago');
  assert.equal(formatAge(now - 23 * 3600, NOW_MS), '23 hours ago');
  assert.equal(formatAge(now - 86400, NOW_MS), '1 day ago');
  assert.equal(formatAge(now - 2 * 86400, NOW_MS), '2 days ago');
  assert.equal(formatAge(now - 7 * 86400, NOW_MS), '1 week ago');
  assert.equal(formatAge(now - 29 * 86400, NOW_MS), '4 weeks ago');
  assert.equal(formatAge(now - 31 * 86400, NOW_MS), '1 month ago');
  assert.equal(formatAge(now - 95 * 86400, NOW_MS), '3 months ago');
  assert.equal(formatAge(now - 364 * 86400, NOW_MS), '11 months ago');
  assert.equal(formatAge(now - 366 * 86400, NOW_MS), '1 year ago');
  assert.equal(formatAge(now - 3 * 366 * 86400, NOW_MS), '3 years ago');
  // From the captured lock: nixpkgs c1 (2025-10-01) seen on 2026-01-15.
  assert.equal(formatAge(1759320000, NOW_MS), '3 months ago');
});

test('formatAge: future and unusable values', () => {
  assert.equal(formatAge(now + 3600, NOW_MS), 'in the future');
  assert.equal(formatAge(0, NOW_MS), 'unknown date');
  assert.equal(formatAge(-5, NOW_MS), 'unknown date');
  assert.equal(formatAge(Number.NaN, NOW_MS), 'unknown date');
  assert.equal(formatAge(Number.POSITIVE_INFINITY, NOW_MS), 'unknown date');
  assert.equal(formatAge(now, Number.NaN), 'unknown date');
  assert.equal(formatAge('1700000000' as unknown as number, NOW_MS), 'unknown date');
});

test('formatDate is UTC YYYY-MM-DD', () => {
  assert.equal(formatDate(1759320000), '2025-10-01');
  assert.equal(formatDate(1763640000), '2025-11-20');
  assert.equal(formatDate(Date.UTC(2025, 11, 31, 23, 59, 59) / 1000), '2025-12-31');
  assert.equal(formatDate(1), '1970-01-01');
  assert.equal(formatDate(0), 'unknown date');
  assert.equal(formatDate(1e20), 'unknown date');
  assert.equal(formatDate(Number.NaN), 'unknown date');
  assert.equal(isValidTimestamp(253402300799), true);
  assert.equal(isValidTimestamp(253402300800), false);
});

test('daysBetween', () => {
  assert.equal(daysBetween(1759320000, 1763640000), 50);
  assert.equal(daysBetween(1763640000, 1759320000), 50);
  assert.equal(daysBetween(5, 5), 0);
});
