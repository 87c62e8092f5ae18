import { register } from '../../src/envs/registry.js';
import { MemoryMazeEnv, type MemoryMazeOptions } from './memory-maze.js';

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
});
