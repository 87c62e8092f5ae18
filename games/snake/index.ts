import { register } from '../../src/envs/registry.js';
import { SnakeEnv, type SnakeOptions } from './snake.js';

export { SnakeEnv, SNAKE_ACTIONS, SNAKE_CHANNELS, type SnakeOptions, type SnakeEndCause } from './snake.js';

register('snake', (o) => new SnakeEnv(o as SnakeOptions), {
  description: 'Snake on a 9x9 grid: eat fruit (+1), grow, avoid walls and yourself (-1); starving after 2*cells steps ends it.',
  // DQN on the grid with the MinAtar preset and the one encoder rule (untuned).
  train: { agent: 'dqn', preset: 'minatar', steps: 1_000_000, config: { network: 'auto' } },
});
