export * from './export-policy.js';
export * from './ladder.js';
