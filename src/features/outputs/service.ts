// Moved to src/workspace/outputs.ts; kept while imports move over.
export * from '../../workspace/outputs';
