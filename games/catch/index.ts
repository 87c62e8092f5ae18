import { register } from '../../src/envs/registry.js';
import { CatchEnv, type CatchOptions } from './catch.js';

export { CatchEnv, CATCH_ACTIONS, type CatchOptions } from './catch.js';

register('catch', (o) => new CatchEnv(o as CatchOptions), {
  rewardThreshold: 0.9,
  description: 'bsuite Catch: a ball falls down a 10x5 grid; move the paddle to catch it (+1 / -1).',
});
