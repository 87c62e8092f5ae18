/** Memory needs of a SAC config (see `agents/memory.ts`), checked before the agent is built. */
import { encoderSize, spaceFacts, type MemoryContext, type MemoryNeed } from '../memory.js';
import type { SacConfig } from './config.js';

/** Replay memory, the five networks with their optimizer slots and gradients, and one batch of activations. */
export function sacMemoryNeeds(c: SacConfig, ctx: MemoryContext): MemoryNeed[] {
  const { size } = spaceFacts(ctx);
  const space = ctx.actionSpace as unknown as { size?: number };
  const dims = typeof space.size === 'number' && space.size > 0 ? space.size : 1;
  const actor = encoderSize({ kind: 'mlp', hidden: c.hidden }, ctx.observationSpace, [size]);
  const critic = encoderSize({ kind: 'mlp', hidden: c.hidden }, ctx.observationSpace, [size + dims]);
  const actorParams = actor.params + actor.features * 2 * dims + 2 * dims;
  const criticParams = critic.params + critic.features + 1;
  // Actor: weights, 2 Adam slots, gradients; critics: 2 online + 2 target, 2 slots and gradients for the online pair.
  const params = actorParams * 4 + criticParams * 2 * 5;
  return [
    { key: 'hidden', what: `network weights (${actorParams + 4 * criticParams} parameters)`, bytes: params * 4 },
    // Each row keeps its observation and next observation, the action vector, reward and terminal flag (float32).
    { key: 'bufferSize', what: 'replay memory', bytes: c.bufferSize * (2 * size + dims + 2) * 4, largestArray: c.bufferSize * size },
    // Forward and backward activations of the actor and four critic passes over one batch.
    { key: 'batchSize', what: 'activations of one update', bytes: c.batchSize * (actor.activations + 4 * critic.activations) * 4 * 3 },
  ];
}
