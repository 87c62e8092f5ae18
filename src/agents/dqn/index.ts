export * from './config.js';
export * from './td.js';
export * from './dqn-agent.js';
