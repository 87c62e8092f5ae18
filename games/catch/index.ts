import { InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { register } from '../../src/envs/registry.js';
import type { EnvSpec } from '../../src/envs/env.js';
import { Flicker } from '../../src/envs/wrappers/flicker.js';
import { CatchEnv, type CatchOptions } from './catch.js';
import { MEMORY_DQN, MEMORY_DRQN, MEMORY_RUN } from '../common/memory-train.js';

export { CatchEnv, CATCH_ACTIONS, type CatchOptions } from './catch.js';

register('catch', (o) => new CatchEnv(o as CatchOptions), {
  rewardThreshold: 0.9,
  description: 'bsuite Catch: a ball falls down a 10x5 grid; move the paddle to catch it (+1 / -1).',
  train: {
    agent: 'dqn',
    preset: 'classic',
    steps: 4000,
    config: { learningStarts: 500, epsilonDecaySteps: 2500, targetUpdateEvery: 100, bufferSize: 10_000, batchSize: 32, trainEvery: 2 },
    run: { evalEvery: 2000, evalEpisodes: 100, logEvery: 500, checkpointEvery: 2000 },
    // The policy-gradient presets tuned on catch (src/agents/pg/config.ts; figures in docs/policy-gradient.md).
    agents: {
      ppo: { preset: 'catch', steps: 40_000, envs: 8, run: { evalEvery: 8000, evalEpisodes: 100, logEvery: 1000, checkpointEvery: 8000 } },
      a2c: { preset: 'catch', steps: 60_000, envs: 8, run: { evalEvery: 12_000, evalEpisodes: 100, logEvery: 1500, checkpointEvery: 12_000 } },
      reinforce: { preset: 'catch', steps: 60_000, envs: 8, run: { evalEvery: 12_000, evalEpisodes: 100, logEvery: 1500, checkpointEvery: 12_000 } },
    },
  },
});

/** Catch under Flicker, with its own spec so recorded episodes and runs name `catch/flicker`. */
class FlickerCatch extends Flicker {
  private readonly ownSpec: EnvSpec;
  constructor(env: CatchEnv, p: number) {
    super(env, { p });
    this.ownSpec = { ...env.spec, id: 'catch/flicker', options: { ...env.spec.options, flicker: p } };
  }

  override get spec(): EnvSpec {
    return this.ownSpec;
  }
}

register(
  'catch/flicker',
  (o) => {
    const { flicker = 0.5, ...rest } = o as CatchOptions & { flicker?: unknown };
    if (typeof flicker !== 'number') throw new InvalidConfigError(formatError('catch/flicker', 'flicker as a probability', describe(flicker), 'pass e.g. { flicker: 0.5 }'));
    return new FlickerCatch(new CatchEnv(rest), flicker);
  },
  {
    rewardThreshold: 0.9,
    description: 'Catch under Flicker(0.5): each frame is blanked with probability 0.5, so the ball must be remembered (memory test).',
    train: {
      agent: 'dqn',
      preset: 'classic',
      steps: 160_000,
      envs: 8,
      config: MEMORY_DQN,
      run: MEMORY_RUN,
      recurrent: { config: MEMORY_DRQN },
      agents: {
        ppo: { preset: 'catch/flicker', steps: 160_000, envs: 8, run: { evalEvery: 32_000, evalEpisodes: 100, logEvery: 4000, checkpointEvery: 32_000 }, recurrent: { preset: 'catch/flicker+lstm' } },
      },
    },
  },
);
