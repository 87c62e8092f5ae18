import { register } from '../../src/envs/registry.js';
import { MountainCarContinuousEnv, type MountainCarContinuousOptions } from './mountain-car-continuous.js';

export {
  MountainCarContinuousEnv,
  MCC_DEFAULTS,
  MCC_GOAL_POSITION,
  MCC_MAX_POSITION,
  MCC_MAX_SPEED,
  MCC_MIN_POSITION,
  MCC_POWER,
  resolveMountainCarContinuousConfig,
  type MountainCarContinuousOptions,
} from './mountain-car-continuous.js';

register('mountain-car-continuous', (o) => new MountainCarContinuousEnv(o as MountainCarContinuousOptions), {
  maxEpisodeSteps: 999,
  rewardThreshold: 90,
  description: 'MountainCarContinuous-v0 (Gymnasium dynamics): rock a car out of a valley with a force in [-1, 1]; continuous (Box) action, 999-step cap.',
  // SAC with pink exploration noise (src/agents/sac/config.ts) and RL Zoo's budget, no early stop: the
  // policy passes the threshold of 90 around 10-15k steps and keeps improving to ~94 (RL Zoo's figure).
  train: { agent: 'sac', preset: 'mountain-car-continuous', steps: 50_000, run: { evalEvery: 5000, evalEpisodes: 50, logEvery: 1000, checkpointEvery: 5000 } },
});
