export * from './multi-agent-env.js';
export { MultiAgentGameEnv, checkActions, type AgentSpec, type MultiAgentGameEnvConfig, type MultiAgentStepOutcome } from './game.js';
export * from './registry.js';
export * from './check.js';
export * from './single-agent.js';
