// Deploying NixOS hosts with Nix alone (or nixos-rebuild): settings, steps, the runner, closure diffs, generations.
// No `vscode` import.
export * from './host';
export * from './connections';
export * from './diff';
export * from './generations';
export * from './images';
export * from './plan';
export * from './runner';
