// Moved to src/workspace/ (mapping.ts, diagnostics.ts); kept while imports move over.
export * from '../workspace/mapping';
export * from '../workspace/diagnostics';
