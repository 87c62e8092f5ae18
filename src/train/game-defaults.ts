/**
 * Default agent, preset, step budget and overrides per game, so `npcforge train <game>` works
 * with nothing else. Add a row per game; `prefix/*` rows match every id under the prefix.
 */
import type { Box, Space } from '../envs/spaces.js';
import { SAC_GAME_ROWS } from '../agents/sac/config.js';

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

/** DQN on the memory tasks: the feed-forward twin (32 replayed transitions per env step). */
const MEMORY_DQN = { network: { kind: 'mlp', hidden: [64] }, learningStarts: 1000, epsilonDecaySteps: 15_000, epsilonEnd: 0.1, targetUpdateEvery: 100, bufferSize: 20_000, batchSize: 64, trainEvery: 2 };
/** ... and its DRQN version: 32 sequences of 8 trained steps every 8 env steps (the same replay ratio). */
const MEMORY_DRQN = { ...MEMORY_DQN, lstmUnits: 32, seqLength: 8, burnIn: 2, batchSize: 32, trainEvery: 8 };
const MEMORY_RUN = { envs: 8, evalEvery: 10_000, evalEpisodes: 100, logEvery: 2500, checkpointEvery: 10_000 };

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
  {
    // gamma 0.9: waiting at the junction (bumping the wall) must cost more than the noise in Q.
    match: 'memory-maze',
    agent: 'dqn',
    preset: 'classic',
    steps: 60_000,
    agentOverrides: { ...MEMORY_DQN, gamma: 0.9 },
    runOverrides: MEMORY_RUN,
    recurrent: { steps: 60_000, agentOverrides: { ...MEMORY_DRQN, gamma: 0.9 }, runOverrides: MEMORY_RUN },
  },
  {
    match: 'catch/flicker',
    agent: 'dqn',
    preset: 'classic',
    steps: 160_000,
    agentOverrides: MEMORY_DQN,
    runOverrides: MEMORY_RUN,
    recurrent: { steps: 160_000, agentOverrides: MEMORY_DRQN, runOverrides: MEMORY_RUN },
  },
  // Continuous torque: SAC (RL Zoo's Pendulum-v1 settings, 20k steps).
  { match: 'pendulum', agent: 'sac', ...SAC_GAME_ROWS.pendulum! },
  // Continuous force: SAC with pink exploration noise (src/agents/sac/config.ts).
  { match: 'mountain-car-continuous', agent: 'sac', ...SAC_GAME_ROWS['mountain-car-continuous']! },
  // MultiDiscrete actions (DQN takes Discrete only): PPO with its tank preset (src/agents/pg/config.ts), same run settings.
  { match: 'tank', agent: 'ppo', preset: 'tank', steps: 200_000, runOverrides: { envs: 8, evalEvery: 20_000, evalEpisodes: 100, logEvery: 2500, checkpointEvery: 20_000 } },
  // Dict observations (an 8x8x2 grid and an offset vector, games/beacon): PPO with one encoder per key.
  {
    match: 'beacon',
    agent: 'ppo',
    preset: 'default',
    steps: 20_000,
    agentOverrides: { numSteps: 64, lr: 1e-3, gamma: 0.95, entCoef: 0.01 },
    runOverrides: { envs: 8, evalEvery: 5000, evalEpisodes: 100, logEvery: 1000, checkpointEvery: 5000 },
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
