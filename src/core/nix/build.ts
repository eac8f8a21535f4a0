// `nix build`: its arguments and its `--json` result. No `vscode` import.
import { storePathName } from './store';
import type { DroppedLines, Truncation } from './process';

/**
 * The arguments after `nix build` for one installable or several, read by the extension from internal-json progress.
 * `keepGoing`: build every derivation that can be built, whatever fails (`--keep-going`).
 */
export function buildArgs(installables: string | readonly string[], opts: { outLink?: string; keepGoing?: boolean } = {}): string[] {
  return [
    '--log-format',
    'internal-json',
    '-v',
    '--json',
    ...(opts.keepGoing ? ['--keep-going'] : []),
    ...(opts.outLink ? ['--out-link', opts.outLink] : ['--no-link']),
    ...(typeof installables === 'string' ? [installables] : installables),
  ];
}

/** The out-link `nix build` would make for an attribute path, named after its last segment: `result-hello`. */
export function outLinkName(attrPath: readonly string[]): string {
  const last = attrPath[attrPath.length - 1] ?? 'out';
  return `result-${last.replace(/[^\w.+-]/g, '_') || 'out'}`;
}

/**
 * Reads `nix build --json` stdout, `[{drvPath, outputs: {out: path}}]`, into output name → store path; with several
 * derivations the names are `<drv name>.<output>`. Untrusted input: anything else (not JSON, wrong shapes, paths
 * that are not strings) is skipped; bad input gives `{}`.
 */
export function readBuildOutputs(stdout: string): Record<string, string> {
  const out = new Map<string, string>();
  let arr: unknown;
  try {
    arr = JSON.parse(stdout);
  } catch {
    return {};
  }
  if (!Array.isArray(arr)) return {};
  for (const item of arr) {
    if (!item || typeof item !== 'object') continue;
    const outputs = (item as { outputs?: unknown }).outputs;
    if (!outputs || typeof outputs !== 'object' || Array.isArray(outputs)) continue;
    const drvPath = (item as { drvPath?: unknown }).drvPath;
    for (const [name, path] of Object.entries(outputs)) {
      if (typeof path !== 'string') continue;
      out.set(arr.length > 1 ? `${storePathName(typeof drvPath === 'string' ? drvPath : '')}.${name}` : name, path);
    }
  }
  return Object.fromEntries(out);
}

/** What a run left out to stay within its bounds, for people; undefined when nothing was. */
export function describeLeftOut(run: { truncated?: Truncation; dropped?: DroppedLines }, messagesDropped = 0): string | undefined {
  const parts: string[] = [];
  const t = run.truncated;
  if (t?.stderrLines) parts.push(`${t.stderrLines.toLocaleString('en-US')} older log line${t.stderrLines === 1 ? '' : 's'} not kept`);
  if (t?.longLines) parts.push(`${t.longLines.toLocaleString('en-US')} over-long line${t.longLines === 1 ? '' : 's'} cut`);
  if (t?.stdout) parts.push('output over its size bound');
  if (messagesDropped) parts.push(`${messagesDropped.toLocaleString('en-US')} message${messagesDropped === 1 ? '' : 's'} not kept`);
  if (run.dropped)
    parts.push(
      `${run.dropped.lines.toLocaleString('en-US')} unreadable line${run.dropped.lines === 1 ? '' : 's'} skipped (${run.dropped.firstError})`,
    );
  return parts.length ? `Left out to stay within bounds: ${parts.join('; ')}.` : undefined;
}
