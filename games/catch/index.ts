import { InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { register } from '../../src/envs/registry.js';
import type { EnvSpec } from '../../src/envs/env.js';
import { Flicker } from '../../src/envs/wrappers/flicker.js';
import { CatchEnv, type CatchOptions } from './catch.js';

export { CatchEnv, CATCH_ACTIONS, type CatchOptions } from './catch.js';

register('catch', (o) => new CatchEnv(o as CatchOptions), {
  rewardThreshold: 0.9,
  description: 'bsuite Catch: a ball falls down a 10x5 grid; move the paddle to catch it (+1 / -1).',
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
  },
);
