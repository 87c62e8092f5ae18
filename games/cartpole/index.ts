import { register } from '../../src/envs/registry.js';
import { CartPoleEnv, type CartPoleOptions } from './cartpole.js';

export { CartPoleEnv, THETA_THRESHOLD, X_THRESHOLD, type CartPoleOptions } from './cartpole.js';

register('cartpole', (o) => new CartPoleEnv(o as CartPoleOptions), {
  maxEpisodeSteps: 500,
  rewardThreshold: 475,
  description: 'CartPole-v1 (Gymnasium-exact physics): balance a pole on a cart; +1 per step, 500-step cap.',
  // RL Baselines3 Zoo's CartPole-v1 DQN. SB3 trains in bursts (128 updates every 256 steps) and syncs
  // the target between bursts, hence a sync every 128 updates here. The run stops once a 20-episode
  // greedy eval is perfect; best/ keeps the best-evaluated weights in case the policy collapses later.
  train: {
    agent: 'dqn',
    preset: 'classic',
    steps: 50_000,
    config: {
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
    run: { evalEvery: 2500, evalEpisodes: 20, stopAtEval: 500, logEvery: 2500, checkpointEvery: 10_000 },
    // The policy-gradient presets tuned on cartpole (src/agents/pg/config.ts; figures in docs/policy-gradient.md).
    agents: {
      ppo: { preset: 'cartpole', steps: 150_000, envs: 8, run: { evalEvery: 30_000, evalEpisodes: 100, logEvery: 3800, checkpointEvery: 30_000 } },
      a2c: { preset: 'cartpole', steps: 300_000, envs: 8, run: { evalEvery: 60_000, evalEpisodes: 100, logEvery: 7500, checkpointEvery: 60_000 } },
      reinforce: { preset: 'cartpole', steps: 300_000, envs: 8, run: { evalEvery: 60_000, evalEpisodes: 100, logEvery: 7500, checkpointEvery: 60_000 } },
    },
  },
});
