export * from './env.js';
export * from './spaces.js';
export * from './rng.js';
export * from './registry.js';
export * from './check-env.js';
export * from './wrappers/index.js';
export type * from './vector/types.js';
export { SyncVectorEnv } from './vector/sync-vector-env.js';
export { WorkerVectorEnv, resolveWorkerVectorEnvConfig, type WorkerVectorEnvConfig } from './vector/worker-vector-env.js';
