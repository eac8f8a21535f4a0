// The flake core: outputs (`nix flake show`), installables, flake.lock, duplicate inputs, updates.
// No `vscode` import.

export * from './duplicates';
export * from './installable';
export type { FlakeParseError, FlakeParseErrorKind, TextRange } from './json';
export * from './lock';
export * from './show';
export * from './stderr';
export * from './time';
export * from './update';
export * from './warnings';
