// How sizes and durations are written for people, the same in notifications, the status bar, logs and webviews.
// No `vscode` import, no DOM.

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A byte count as Nix 2.33+ writes it: `512 B`, `1.2 MiB`, `800.0 KiB`. Not a number, or negative: `0 B`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(Number.isFinite(bytes) ? bytes : 0))} B`;
  let v = bytes;
  let k = 0;
  while (v >= 1024 && k < SIZE_UNITS.length - 1) {
    v /= 1024;
    k++;
  }
  return `${v.toFixed(1)} ${SIZE_UNITS[k]}`;
}

/** An elapsed time: `0.4s`, `12s`, `3m 05s`, `1h 02m`. Not a number, or negative: `0.0s`. */
export function formatDuration(ms: number): string {
  const s = Number.isFinite(ms) ? Math.max(0, ms) / 1000 : 0;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
