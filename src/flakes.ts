// Moved to src/workspace/flakes.ts; kept while imports move over.
export * from './workspace/flakes';
