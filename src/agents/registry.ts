/** Agent factories by name, so the runner and the CLI stay generic over the algorithm. */
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { Space } from '../envs/spaces.js';
import type { Agent } from './agent.js';
import { DQN_PRESETS, resolveDqnConfig } from './dqn/config.js';
import { DqnAgent } from './dqn/dqn-agent.js';
import { DrqnAgent } from './dqn/drqn-agent.js';
import { pgAgentFactory } from './pg/factory.js';
import { dqnMemoryNeeds } from './dqn/memory.js';
import type { MemoryContext, MemoryNeed } from './memory.js';

export interface AgentFactory {
  /** Preset name -> full hyperparameters. */
  presets: Record<string, Record<string, unknown>>;
  /** Validates overrides on a preset; throws InvalidConfigError naming every bad key. */
  resolve(preset: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown>;
  /** Optional per-game defaults of this agent (preset, step budget, runner settings) when it is not the game's default agent. */
  gameDefaults?(game: string, observationSpace: Space, options?: { recurrent?: boolean }): { preset: string; steps: number; runOverrides?: Record<string, unknown> };
  /** Optional last pass over the resolved hyperparameters that needs the runner settings (e.g. the lr-annealing horizon). */
  finalize?(config: Record<string, unknown>, run: { steps: number; envs: number }): Record<string, unknown>;
  /** Optional: the big allocations the resolved hyperparameters lead to, checked before anything is built. */
  memoryNeeds?(config: Record<string, unknown>, context: MemoryContext): MemoryNeed[];
  /** Optional: the action space types (`Space.type`) the agent can learn; checked before a run is built (default: any). */
  actionSpaceTypes?: readonly string[];
  /** Builds the agent from resolved hyperparameters. */
  create(options: { config: Record<string, unknown>; observationSpace: Space; actionSpace: Space; numEnvs: number; seed: number }): Agent;
}

const factories = new Map<string, AgentFactory>();

/** Registers an agent family under a name (e.g. `dqn`; policy-gradient agents add theirs). */
export function registerAgent(name: string, factory: AgentFactory): void {
  factories.set(name, factory);
}

/** The factory of a registered agent; unknown names list the known ones. */
export function getAgentFactory(name: string): AgentFactory {
  const f = factories.get(name);
  if (!f) throw new InvalidConfigError(formatError('agent', `one of ${[...factories.keys()].join(', ')}`, describe(name), 'pass --agent with a known agent'));
  return f;
}

/** Names of registered agents. */
export function listAgents(): string[] {
  return [...factories.keys()].sort();
}

registerAgent('dqn', {
  actionSpaceTypes: ['Discrete'],
  presets: DQN_PRESETS as unknown as Record<string, Record<string, unknown>>,
  resolve: (preset, overrides) => resolveDqnConfig(preset as never, overrides) as unknown as Record<string, unknown>,
  memoryNeeds: (config, context) => dqnMemoryNeeds(config as never, context),
  create: ({ config, observationSpace, actionSpace, numEnvs, seed }) =>
    (config.lstmUnits as number) > 0 ? new DrqnAgent({ config: config as never, observationSpace, actionSpace, numEnvs, seed }) : new DqnAgent({ config: config as never, observationSpace, actionSpace, numEnvs, seed }),
});

for (const algorithm of ['ppo', 'a2c', 'reinforce'] as const) registerAgent(algorithm, pgAgentFactory(algorithm));
