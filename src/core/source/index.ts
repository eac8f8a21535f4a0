// The Nix source scanner: tokens, bindings and builder calls, for CodeLens, the option locator and flake.nix edits.
// No `vscode` import. Every offset is a 0-based UTF-16 offset into the text; `LineIndex` converts to positions.

export * from './offsets';
export * from './tokens';
export * from './syntax';
export * from './walk';
export * from './modules';
export * from './optionPath';
export * from './derivations';
export * from './flake';
