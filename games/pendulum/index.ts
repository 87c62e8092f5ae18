import { register } from '../../src/envs/registry.js';
import { PendulumEnv, type PendulumOptions } from './pendulum.js';

export {
  PendulumEnv,
  PENDULUM_DEFAULTS,
  PENDULUM_DT,
  PENDULUM_MAX_SPEED,
  PENDULUM_MAX_TORQUE,
  angleNormalize,
  resolvePendulumConfig,
  type PendulumOptions,
} from './pendulum.js';

register('pendulum', (o) => new PendulumEnv(o as PendulumOptions), {
  maxEpisodeSteps: 200,
  description: 'Pendulum-v1 (Gymnasium dynamics): swing up and balance with a torque in [-2, 2]; continuous (Box) action, 200-step cap.',
  // SAC with RL Zoo's Pendulum-v1 settings and budget; the last evaluation (50 greedy episodes) is the acceptance figure.
  train: {
    agent: 'sac',
    preset: 'pendulum',
    steps: 20_000,
    run: { evalEvery: 5000, evalEpisodes: 50, logEvery: 1000, checkpointEvery: 5000 },
    agents: {
      // CleanRL's continuous PPO with RL Zoo's Pendulum-v1 changes (src/agents/pg/config.ts, docs/policy-gradient.md).
      ppo: { preset: 'pendulum', steps: 400_000, envs: 4, run: { evalEvery: 80_000, evalEpisodes: 100, logEvery: 10_000, checkpointEvery: 80_000 }, recurrent: { preset: 'pendulum+lstm' } },
    },
  },
});
