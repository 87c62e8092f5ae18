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
});
