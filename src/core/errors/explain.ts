// What a failed build's log says in plain words, for the causes a log line names exactly. No `vscode` import.

/** `executing '<builder>': No such file or directory`, as the last words of a builder that could not start. */
const EXEC_MISSING = /(?:^|\n)(?:> ?)?(?:error: )?executing '([^'\n]+)': No such file or directory\s*(?:\n|$)/;

/**
 * A sentence saying what the (ANSI-free) log lines of a failed build mean, or undefined when they show no cause this
 * knows. A builder outside the Nix store that cannot be executed is missing from the build sandbox: the sandbox only
 * holds the store and the paths of the `sandbox-paths` setting, not the host's `/bin/sh`.
 */
export function explainBuildLog(lines: readonly string[] | string): string | undefined {
  const text = typeof lines === 'string' ? lines : lines.join('\n');
  const m = EXEC_MISSING.exec(text);
  const builder = m?.[1];
  if (builder !== undefined && !builder.startsWith('/nix/store/')) {
    return (
      `The build sandbox has no ${builder}: a sandboxed build sees only the Nix store and the paths of the ` +
      '`sandbox-paths` setting, not the files of this machine. Use a builder from the store (e.g. ' +
      '"${pkgs.bash}/bin/bash", or stdenv.mkDerivation), or add the path to `sandbox-paths`.'
    );
  }
  return undefined;
}
