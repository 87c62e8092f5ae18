import { register } from '../../src/envs/registry.js';
import { BeaconEnv, BEACON_MAX_STEPS, type BeaconOptions } from './beacon.js';

export { BeaconEnv, BEACON_ACTIONS, BEACON_DEFAULTS, BEACON_MAX_STEPS, BEACON_REWARD, BEACON_STEP_REWARD, resolveBeaconConfig, type BeaconObs, type BeaconOptions } from './beacon.js';

register('beacon', (o) => new BeaconEnv(o as BeaconOptions), {
  maxEpisodeSteps: BEACON_MAX_STEPS,
  rewardThreshold: 0.8,
  description: 'Beacon: walk to a beacon on an 8x8 grid; Dict observation (grid image + offset vector), Discrete(4) action, 30-step cap.',
});
