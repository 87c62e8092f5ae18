import { register } from '../../src/envs/registry.js';
import { TankEnv, type TankOptions } from './tank.js';

export { TankEnv, TANK_ACTIONS, TANK_DEFAULTS, TANK_HIT_REWARD, TANK_MISS_REWARD, TANK_STEP_REWARD, resolveTankConfig, type TankOptions } from './tank.js';

register('tank', (o) => new TankEnv(o as TankOptions), {
  maxEpisodeSteps: 50,
  rewardThreshold: 0.8,
  description: 'Tank: move, turn the turret and fire at a target on a 7x7 grid; MultiDiscrete([5, 3, 2]) action, 50-step cap.',
  // MultiDiscrete actions (DQN takes Discrete only): PPO with its tank preset (src/agents/pg/config.ts).
  train: { agent: 'ppo', preset: 'tank', steps: 200_000, envs: 8, run: { evalEvery: 20_000, evalEpisodes: 100, logEvery: 2500, checkpointEvery: 20_000 } },
});
