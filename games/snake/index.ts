import { register } from '../../src/envs/registry.js';
import { SnakeEnv, type SnakeOptions } from './snake.js';

export { SnakeEnv, SNAKE_ACTIONS, SNAKE_CHANNELS, type SnakeOptions, type SnakeEndCause } from './snake.js';

register('snake', (o) => new SnakeEnv(o as SnakeOptions), {
  description: 'Snake on a 9x9 grid: eat fruit (+1), grow, avoid walls and yourself (-1); starving after 2*cells steps ends it.',
  // PPO with the MinAtar games' preset (64 envs, MinAtar CNN): seeds 0-2 in docs/games.md. The
  // earlier default, DQN with the MinAtar preset (`--agent dqn`, untuned), started beside it, had
  // run 74,820 steps (evaluation -0.8) in the 3 minutes in which PPO ran 925k (evaluation 10.55 at
  // 750k; bench/JOURNAL.md, "Snake").
  train: {
    agent: 'ppo',
    preset: 'minatar',
    steps: 3_000_000,
    envs: 64,
    run: { evalEvery: 250_000, evalEpisodes: 20, logEvery: 25_000, checkpointEvery: 250_000 },
    agents: { dqn: { preset: 'minatar', steps: 1_000_000, config: { network: 'auto' } } },
  },
});
