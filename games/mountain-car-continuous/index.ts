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
});
