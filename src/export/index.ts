export * from './export-policy.js';
