import { register } from '../../src/envs/registry.js';
import { BeaconEnv, BEACON_MAX_STEPS, type BeaconOptions } from './beacon.js';

export { BeaconEnv, BEACON_ACTIONS, BEACON_DEFAULTS, BEACON_MAX_STEPS, BEACON_REWARD, BEACON_STEP_REWARD, resolveBeaconConfig, type BeaconObs, type BeaconOptions } from './beacon.js';

register('beacon', (o) => new BeaconEnv(o as BeaconOptions), {
  maxEpisodeSteps: BEACON_MAX_STEPS,
  rewardThreshold: 0.8,
  description: 'Beacon: walk to a beacon on an 8x8 grid; Dict observation (grid image + offset vector), Discrete(4) action, 30-step cap.',
  // Dict observations: PPO with one encoder per key (the one auto rule).
  train: {
    agent: 'ppo',
    preset: 'default',
    steps: 20_000,
    envs: 8,
    config: { numSteps: 64, lr: 1e-3, gamma: 0.95, entCoef: 0.01 },
    run: { evalEvery: 5000, evalEpisodes: 100, logEvery: 1000, checkpointEvery: 5000 },
    // DQN's MinAtar preset with the same budget (untuned); 'auto' gives it one encoder per key of the Dict.
    agents: { dqn: { preset: 'minatar', config: { network: 'auto' }, steps: 20_000, envs: 8, run: { evalEvery: 5000, evalEpisodes: 100, logEvery: 1000, checkpointEvery: 5000 } } },
  },
});
