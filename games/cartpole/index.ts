import { register } from '../../src/envs/registry.js';
import { CartPoleEnv, type CartPoleOptions } from './cartpole.js';

export { CartPoleEnv, THETA_THRESHOLD, X_THRESHOLD, type CartPoleOptions } from './cartpole.js';

register('cartpole', (o) => new CartPoleEnv(o as CartPoleOptions), {
  maxEpisodeSteps: 500,
  rewardThreshold: 475,
  description: 'CartPole-v1 (Gymnasium-exact physics): balance a pole on a cart; +1 per step, 500-step cap.',
});
