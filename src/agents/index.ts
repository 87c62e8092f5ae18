export type * from './agent.js';
export * from './dqn/index.js';
export * from './registry.js';
