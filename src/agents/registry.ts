/** Agent factories by name, so the runner and the CLI stay generic over the algorithm. */
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { Space } from '../envs/spaces.js';
import type { TrainVariant } from '../envs/train-defaults.js';
import type { Agent } from './agent.js';
import type { PhaseTimer } from '../train/phases.js';
import { DQN_PRESETS, resolveDqnConfig } from './dqn/config.js';
import { DqnAgent } from './dqn/dqn-agent.js';
import { DrqnAgent } from './dqn/drqn-agent.js';
import { pgAgentFactory } from './pg/factory.js';
import { dqnMemoryNeeds } from './dqn/memory.js';
import type { MemoryContext, MemoryNeed } from './memory.js';
import { SAC_PRESETS, resolveSacConfig } from './sac/config.js';
import { SacAgent } from './sac/sac-agent.js';
import { sacMemoryNeeds } from './sac/memory.js';

export interface AgentFactory {
  /** Action space types the agent handles (e.g. `['Discrete']`), checked with the config; omitted = checked when built. */
  actionSpaces?: readonly string[];
  /** Preset name -> full hyperparameters. */
  presets: Record<string, Record<string, unknown>>;
  /** Validates overrides on a preset; throws InvalidConfigError naming every bad key. */
  resolve(preset: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown>;
  /** The agent's generic training defaults (preset, steps, envs, config, run) on a game whose train block does not mention it. */
  defaultTrain?(observationSpace: Space): TrainVariant;
  /** Optional last pass over the resolved hyperparameters that needs the runner settings (e.g. the lr-annealing horizon). */
  finalize?(config: Record<string, unknown>, run: { steps: number; envs: number }): Record<string, unknown>;
  /** Optional: the big allocations the resolved hyperparameters lead to, checked before anything is built. */
  memoryNeeds?(config: Record<string, unknown>, context: MemoryContext): MemoryNeed[];
  /** Builds the agent from resolved hyperparameters. */
  create(options: { config: Record<string, unknown>; observationSpace: Space; actionSpace: Space; numEnvs: number; seed: number; phases?: PhaseTimer }): Agent;
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

/** Names of registered agents that declare they handle action spaces of `type` (e.g. `Box`). */
export function agentsForActionSpace(type: string): string[] {
  return [...factories.entries()].filter(([, f]) => f.actionSpaces?.includes(type)).map(([name]) => name).sort();
}

/** Names of registered agents. */
export function listAgents(): string[] {
  return [...factories.keys()].sort();
}

registerAgent('dqn', {
  actionSpaces: ['Discrete'],
  presets: DQN_PRESETS as unknown as Record<string, Record<string, unknown>>,
  resolve: (preset, overrides) => resolveDqnConfig(preset as never, overrides) as unknown as Record<string, unknown>,
  // Grids and images: the MinAtar preset and budget; vectors: the classic-control preset. The one encoder rule picks the network.
  defaultTrain: (observationSpace) =>
    (observationSpace as { shape?: readonly number[] }).shape?.length === 3 ? { preset: 'minatar', steps: 1_000_000, config: { network: 'auto' } } : { preset: 'classic', steps: 100_000, config: { network: 'auto' } },
  memoryNeeds: (config, context) => dqnMemoryNeeds(config as never, context),
  create: ({ config, observationSpace, actionSpace, numEnvs, seed, phases }) =>
    (config.lstmUnits as number) > 0 ? new DrqnAgent({ config: config as never, observationSpace, actionSpace, numEnvs, seed }) : new DqnAgent({ config: config as never, observationSpace, actionSpace, numEnvs, seed, phases }),
});

for (const algorithm of ['ppo', 'a2c', 'reinforce'] as const) registerAgent(algorithm, pgAgentFactory(algorithm));

registerAgent('sac', {
  actionSpaces: ['Box'],
  presets: SAC_PRESETS as unknown as Record<string, Record<string, unknown>>,
  resolve: (preset, overrides) => resolveSacConfig(preset as never, overrides) as unknown as Record<string, unknown>,
  defaultTrain: () => ({ preset: 'default', steps: 100_000, run: { evalEvery: 10_000, evalEpisodes: 20, logEvery: 1000, checkpointEvery: 10_000 } }),
  memoryNeeds: (config, context) => sacMemoryNeeds(config as never, context),
  create: ({ config, observationSpace, actionSpace, seed }) => new SacAgent({ config: config as never, observationSpace, actionSpace, seed }),
});
