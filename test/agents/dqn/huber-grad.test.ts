/**
 * huberLossGrad (agents/dqn/td.ts) gives the loss and the gradient at Q that the tensor loss and
 * tfjs's tape give, bit for bit (signed zeros included), on wasm and cpu; by hand on a small case.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { huberLossGrad } from '../../../src/agents/dqn/td.js';
import { huberTensor } from '../../../src/agents/dqn/q-learning.js';
import { oneHotRows } from '../../../src/agents/dqn/dqn-agent.js';
import { restoreBackendAfterAll } from '../../helpers/backend.js';
import { SeededRng } from '../../../src/envs/rng.js';

restoreBackendAfterAll();

/** The agent's tensor formulation: mean(huber(y - sum(q * onehot, 1))) and its gradient at q. */
async function tensorLossGrad(q: Float32Array, actions: Int32Array, targets: Float32Array, A: number): Promise<{ loss: number; dq: Float32Array }> {
  const B = targets.length;
  const qT = tf.tensor2d(q, [B, A]);
  const onehot = tf.tensor2d(oneHotRows(actions, A), [B, A]);
  const y = tf.tensor1d(targets);
  const { value, grad } = tf.valueAndGrad((qv: tf.Tensor) => tf.mean(huberTensor(tf.sub(y, tf.sum(tf.mul(qv, onehot), 1)))) as tf.Scalar)(qT);
  const out = { loss: (await value.data())[0]!, dq: (await grad.data()) as Float32Array };
  for (const t of [qT, onehot, y, value, grad]) t.dispose();
  return out;
}

describe('huberLossGrad', () => {
  it('by hand: quadratic and linear parts, gradient only at the taken action', () => {
    // td = 0.5 (quadratic: 0.125, gradient -0.5 / 2) and td = -3 (linear: 2.5, gradient +1 / 2).
    const dq = new Float32Array(4);
    const loss = huberLossGrad({ q: [0, 1.5, 9, 2], actions: [1, 1], targets: [2, -1], numActions: 2 }, dq);
    expect(loss).toBe((0.125 + 2.5) / 2);
    // Zero times a negative gradient is -0, as the tape's mul(dy, onehot) gives.
    expect(Array.from(dq)).toEqual([-0, -0.25, 0, 0.5]);
  });

  it.each(['wasm', 'cpu'])('equals the tape gradient bit for bit on %s, and the loss on wasm (whose mean sums in float32; cpu sums in doubles)', async (backend) => {
    await tf.setBackend(backend);
    const rng = new SeededRng(4);
    for (const [B, A] of [[32, 3], [32, 6], [7, 18], [64, 4]] as const) {
      for (let rep = 0; rep < 25; rep++) {
        const q = Float32Array.from({ length: B * A }, () => (rng.random() - 0.5) * 4 * 10 ** rng.int(-3, 2));
        const actions = Int32Array.from({ length: B }, () => rng.int(0, A));
        // Targets near Q(s, a) (|td| around 1, exactly 0 and exactly +-1 included) and far from it.
        const targets = Float32Array.from({ length: B }, (_, i) => {
          const qa = q[i * A + actions[i]!]!;
          const k = rng.int(0, 5);
          return k === 0 ? qa : k === 1 ? qa + (rng.random() < 0.5 ? 1 : -1) : k === 2 ? qa + (rng.random() - 0.5) * 3 : (rng.random() - 0.5) * 50;
        });
        const want = await tensorLossGrad(q, actions, targets, A);
        const dq = new Float32Array(B * A);
        const loss = huberLossGrad({ q, actions, targets, numActions: A }, dq);
        if (backend === 'wasm') expect(loss).toBe(want.loss);
        else expect(Math.abs(loss - want.loss)).toBeLessThanOrEqual(Math.abs(want.loss) * 2 ** -20);
        // toEqual on arrays of numbers tells +0 from -0.
        expect(Array.from(dq)).toEqual(Array.from(want.dq));
      }
    }
  });
});
