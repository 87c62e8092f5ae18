/** Memory needs of a policy-gradient config (see `agents/memory.ts`), checked before the agent is built. */
import { encoderSize, lstmParams, spaceFacts, type MemoryContext, type MemoryNeed } from '../memory.js';
import { Box } from '../../envs/spaces.js';
import { pgEncoderSpec } from './actor-critic.js';
import type { PgConfig } from './config.js';

/** Network (weights + Adam slots + gradients), one rollout and one minibatch of activations. */
export function pgMemoryNeeds(c: PgConfig, ctx: MemoryContext): MemoryNeed[] {
  const { shape, size } = spaceFacts(ctx);
  // Policy head width: n (Discrete), sum(nvec) (MultiDiscrete), dimensions (Box); 1 for anything else (refused later).
  const as = ctx.actionSpace as unknown as { n?: number; nvec?: number[]; size?: number };
  const numActions = typeof as.n === 'number' ? as.n : Array.isArray(as.nvec) ? as.nvec.reduce((a, b) => a + b, 0) : typeof as.size === 'number' ? as.size : 1;
  // A space no encoder takes is refused by the agent, by name; estimate it as a vector meanwhile.
  const space = ctx.observationSpace instanceof Box ? ctx.observationSpace : new Box({ shape: [size], dtype: 'float32', low: -Infinity, high: Infinity });
  const enc = encoderSize(pgEncoderSpec(c.encoder, c.mlpHidden, space), space, shape);
  const units = c.lstmUnits;
  const rnn = units > 0 ? lstmParams(enc.features, units) : 0;
  const headIn = units > 0 ? units : enc.features;
  // A separate critic doubles the encoder.
  const params = enc.params * (c.separateCritic ? 2 : 1) + rnn + headIn * (numActions + 1) + 2 * numActions + 1;
  const rows = c.numSteps * ctx.numEnvs;
  return [
    { key: units > 0 && rnn > enc.params ? 'lstmUnits' : 'mlpHidden', what: `network weights (${params} parameters)`, bytes: params * 4 * 4 },
    // Observations (at most float32) plus about a dozen per-step numbers (actions, log-probs, values, advantages...).
    { key: 'numSteps', what: `rollout memory (${rows} steps)`, bytes: rows * (size * 4 + 4 * (12 + numActions)), largestArray: rows * size },
    { key: 'minibatches', what: 'activations of one minibatch', bytes: Math.ceil(rows / c.minibatches) * (enc.activations + 10 * units + numActions) * 4 * 3 },
  ];
}
