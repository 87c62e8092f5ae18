/** Memory needs of a DQN / DRQN config (see `agents/memory.ts`), checked before the agent is built. */
import { autoEncoderOrMlp, encoderSize, lstmParams, spaceFacts, type MemoryContext, type MemoryNeed } from '../memory.js';
import type { DqnConfig } from './config.js';

/** Replay memory, network (online + target + optimizer slots + gradients) and one batch of activations. */
export function dqnMemoryNeeds(c: DqnConfig, ctx: MemoryContext): MemoryNeed[] {
  const { shape, size, bytesPerValue, numActions } = spaceFacts(ctx);
  const spec = c.network === 'auto' ? autoEncoderOrMlp(ctx.observationSpace) : c.network;
  const enc = encoderSize(spec, ctx.observationSpace, shape);
  const units = c.lstmUnits;
  const rnn = units > 0 ? lstmParams(enc.features, units) : 0;
  const headIn = units > 0 ? units : enc.features;
  const head = c.dueling ? headIn * (numActions + 1) + numActions + 1 + (numActions + 1) * numActions : headIn * numActions + numActions;
  const params = enc.params + rnn + head;
  const slots = c.optimizer.kind === 'adam' ? 2 : c.optimizer.momentum > 0 ? 3 : 2;
  const needs: MemoryNeed[] = [];
  // Two networks (online, target), the optimizer's slots and one set of gradients, float32.
  needs.push({ key: units > 0 && rnn > enc.params ? 'lstmUnits' : c.network === 'auto' ? 'network' : spec.kind === 'mlp' ? 'network.hidden' : 'network', what: `network weights (${params} parameters)`, bytes: params * 4 * (3 + slots) });
  if (units > 0) {
    // Sequence replay: each step keeps its observation, action, reward, flags and (stored) LSTM state.
    const state = c.sequenceState === 'stored' ? 2 * units : 0;
    needs.push({ key: 'bufferSize', what: 'replay memory', bytes: c.bufferSize * (size * bytesPerValue + 9 + state * 4), largestArray: c.bufferSize * Math.max(size, state) });
    const rows = c.batchSize * (c.seqLength + c.burnIn);
    needs.push({ key: 'batchSize', what: 'activations of one update', bytes: rows * (enc.activations + 10 * units + numActions) * 4 * 3 });
  } else {
    // Flat replay: the newest frame of each row (bit-packing can only shrink it), action, reward, flags, stamp; PER adds a sum tree.
    const frame = (size / Math.max(1, c.frameStack)) * bytesPerValue;
    needs.push({ key: 'bufferSize', what: 'replay memory', bytes: c.bufferSize * (frame + 17 + (c.prioritized ? 16 : 0)), largestArray: c.bufferSize * (size / Math.max(1, c.frameStack)) });
    needs.push({ key: 'batchSize', what: 'activations of one update', bytes: c.batchSize * (enc.activations + headIn + numActions) * 4 * 4 });
  }
  return needs;
}
