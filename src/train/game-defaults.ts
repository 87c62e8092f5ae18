/**
 * Default agent, preset, step budget and overrides per game, so `npcforge train <game>` works
 * with nothing else. Add a row per game; `prefix/*` rows match every id under the prefix.
 */
import type { Box, Space } from '../envs/spaces.js';

export interface GameDefaults {
  /** Game id, or `prefix/*`. */
  match: string;
  agent: string;
  preset: string;
  /** Env steps of the default training run. */
  steps: number;
  /** Agent hyperparameters over the preset. */
  agentOverrides?: Record<string, unknown>;
  /** Runner settings over the generic defaults. */
  runOverrides?: Record<string, unknown>;
  /** With `--recurrent`: replaces steps / agentOverrides / runOverrides above (agentOverrides may set lstmUnits). */
  recurrent?: { steps: number; agentOverrides?: Record<string, unknown>; runOverrides?: Record<string, unknown> };
}

export const GAME_DEFAULTS: GameDefaults[] = [
  {
    match: 'catch',
    agent: 'dqn',
    preset: 'classic',
    steps: 4000,
    agentOverrides: { learningStarts: 500, epsilonDecaySteps: 2500, targetUpdateEvery: 100, bufferSize: 10_000, batchSize: 32, trainEvery: 2 },
    runOverrides: { evalEvery: 2000, evalEpisodes: 100, logEvery: 500, checkpointEvery: 2000 },
  },
  {
    // RL Baselines3 Zoo's CartPole-v1 DQN. SB3 trains in bursts (128 updates every 256 steps) and syncs
    // the target between bursts, hence a sync every 128 updates here. The run stops once a 20-episode
    // greedy eval is perfect; best/ keeps the best-evaluated weights in case the policy collapses later.
    match: 'cartpole',
    agent: 'dqn',
    preset: 'classic',
    steps: 50_000,
    agentOverrides: {
      network: { kind: 'mlp', hidden: [256, 256] },
      double: false,
      learningStarts: 1000,
      epsilonDecaySteps: 7000,
      epsilonEnd: 0.04,
      targetUpdateEvery: 128,
      bufferSize: 100_000,
      batchSize: 64,
      trainEvery: 2,
      optimizer: { kind: 'adam', learningRate: 2.3e-3 },
    },
    runOverrides: { evalEvery: 2500, evalEpisodes: 20, stopAtEval: 500, logEvery: 2500, checkpointEvery: 10_000 },
  },
  { match: 'minatar/*', agent: 'dqn', preset: 'minatar', steps: 5_000_000, runOverrides: { evalEvery: 100_000, evalEpisodes: 30, logEvery: 10_000, checkpointEvery: 100_000 } },
];

/** Row of a game id; unlisted games get a generic row chosen from the observation space. */
export function gameDefaults(id: string, observationSpace: Space): GameDefaults {
  for (const row of GAME_DEFAULTS) {
    if (row.match === id || (row.match.endsWith('/*') && id.startsWith(row.match.slice(0, -1)))) return row;
  }
  const shape = (observationSpace as Box).shape ?? [];
  const grid = shape.length === 3;
  return { match: id, agent: 'dqn', preset: grid ? 'minatar' : 'classic', steps: grid ? 1_000_000 : 100_000, agentOverrides: { network: 'auto' } };
}
