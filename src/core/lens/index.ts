// The Build CodeLens core: the `nix eval` query that asks where outputs are defined, lenses placed from its answer,
// instant lenses from the source scanner, and the merge of the two. No `vscode` import.

export * from './query';
export * from './anchors';
export * from './semantic';
export * from './reconcile';
