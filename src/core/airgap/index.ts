// Offline and airgapped machines: exporting a closure and a flake's inputs to a medium (a `file://` binary cache in a
// folder), importing one, and checking that an installable needs nothing from the network. No `vscode` import.
export * from './medium';
export * from './progress';
export * from './images';
export * from './nix';
export * from './export';
export * from './import';
export * from './readiness';
