import { register } from '../../src/envs/registry.js';
import { MemoryMazeEnv, type MemoryMazeOptions } from './memory-maze.js';
import { MEMORY_DQN, MEMORY_DRQN, MEMORY_RUN } from '../common/memory-train.js';

export {
  MemoryMazeEnv,
  MEMORY_MAZE_ACTIONS,
  MEMORY_MAZE_CHANNELS,
  MEMORY_MAZE_DEFAULTS,
  CUE_LEFT,
  CUE_RIGHT,
  resolveMemoryMazeConfig,
  type MemoryMazeConfig,
  type MemoryMazeOptions,
} from './memory-maze.js';

register('memory-maze', (o) => new MemoryMazeEnv(o as MemoryMazeOptions), {
  maxEpisodeSteps: 100,
  rewardThreshold: 0.9,
  description: 'T-maze: a colour cue shown only at the start says which arm pays +1 (the other -1); memoryless policies cap at 50%.',
  // gamma 0.9: waiting at the junction (bumping the wall) must cost more than the noise in Q.
  train: {
    agent: 'dqn',
    preset: 'classic',
    steps: 60_000,
    envs: 8,
    config: { ...MEMORY_DQN, gamma: 0.9 },
    run: MEMORY_RUN,
    recurrent: { config: { ...MEMORY_DRQN, gamma: 0.9 } },
    agents: {
      ppo: { preset: 'memory-maze', steps: 60_000, envs: 8, run: { evalEvery: 12_000, evalEpisodes: 100, logEvery: 1500, checkpointEvery: 12_000 }, recurrent: { preset: 'memory-maze+lstm', steps: 120_000, envs: 16 } },
    },
  },
});
