export * from './config.js';
export * from './sac-agent.js';
export { ContinuousReplay, type ContinuousSample } from './replay.js';
