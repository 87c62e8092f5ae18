/**
 * The chain fast path (networks/chain.ts) gives the numbers of the Layers model bit for bit:
 * inference as `model.apply`, loss and gradients as `tf.variableGrads` over the model in training
 * mode, for the MinAtar, Nature-shaped and MLP Q-networks; other models get no chain.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildQNetwork } from '../../src/networks/builders.js';
import { chainForward, chainGrads, chainOf } from '../../src/networks/chain.js';
import { restoreBackendAfterAll } from '../helpers/backend.js';
import { huberTensor } from '../../src/agents/dqn/q-learning.js';
import { SeededRng } from '../../src/envs/rng.js';
import type { QNetworkSpec } from '../../src/networks/specs.js';

restoreBackendAfterAll();

const A = 4;
const B = 8;
const NETS: Array<{ name: string; spec: QNetworkSpec }> = [
  { name: 'minatar-cnn', spec: { inputShape: [10, 10, 4], numActions: A, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 5 } },
  { name: 'nature-cnn (three convolutions, strides 4 and 2)', spec: { inputShape: [44, 44, 2], numActions: A, encoder: { kind: 'nature-cnn' }, head: { kind: 'q' }, seed: 6 } },
  { name: 'small-cnn (two convolutions, stride 2)', spec: { inputShape: [20, 20, 2], numActions: A, encoder: { kind: 'small-cnn' }, head: { kind: 'q' }, seed: 8 } },
  { name: 'mlp', spec: { inputShape: [7], numActions: A, encoder: { kind: 'mlp', hidden: [16, 8] }, head: { kind: 'q' }, seed: 7 } },
];

function randomInput(shape: number[], seed: number): tf.Tensor {
  const rng = new SeededRng(seed);
  const n = B * shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => (rng.random() < 0.3 ? rng.random() * 2 - 0.5 : 0)), [B, ...shape]);
}

/** The DQN loss of the agent (Huber on Q(s, a) against fixed targets), large enough that both Huber branches occur. */
function dqnLoss(q: tf.Tensor, onehot: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(huberTensor(tf.sub(y, tf.sum(tf.mul(q, onehot), 1)))) as tf.Scalar;
}

describe.each(['wasm', 'cpu'])('chain fast path on %s', (backend) => {
  it.each(NETS)('$name: forward, loss and every gradient equal the Layers model and the tape bit for bit', async ({ spec }) => {
    await tf.setBackend(backend);
    const model = buildQNetwork(spec);
    const chain = chainOf(model);
    expect(chain).not.toBeNull();
    const x = randomInput(spec.inputShape, 11);
    const onehot = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 3, 2, 1, 0], 'int32'), A).toFloat();
    // Targets from -3 to 3: some |td| below 1 (quadratic), some above (linear).
    const y = tf.tensor1d([-3, -1.2, -0.4, -0.05, 0.1, 0.7, 1.5, 3]);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);

    const qRef = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    const qFast = tf.tidy(() => chainForward(chain!, x));
    expect(qFast.shape).toEqual(qRef.shape);
    expect(Array.from(await qFast.data())).toEqual(Array.from(await qRef.data()));

    const ref = tf.variableGrads(() => dqnLoss(model.apply(x, { training: true }) as tf.Tensor, onehot, y), vars);
    const fast = tf.tidy(() => {
      const r = chainGrads(chain!, x, (q) => dqnLoss(q, onehot, y));
      return { value: r.value, grads: r.grads };
    });
    expect((await fast.value.data())[0]).toBe((await ref.value.data())[0]);
    expect(Object.keys(fast.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    for (const v of vars) {
      const g = fast.grads[v.name]!;
      expect(g.shape).toEqual(v.shape);
      const want = await ref.grads[v.name]!.data();
      // Non-zero gradients, so the comparison is not between two arrays of zeros.
      expect(want.some((e) => e !== 0)).toBe(true);
      expect(Array.from(await g.data())).toEqual(Array.from(want));
    }
    for (const t of [qRef, qFast, x, onehot, y, ref.value, fast.value, ...Object.values(ref.grads), ...Object.values(fast.grads)]) t.dispose();
    model.dispose();
  });
});

describe('chainOf', () => {
  it('returns null for a dueling head (a concatenation and a frozen layer) and a tanh MLP', () => {
    const dueling = buildQNetwork({ inputShape: [10, 10, 4], numActions: A, encoder: { kind: 'minatar-cnn' }, head: { kind: 'dueling' }, seed: 1 });
    const tanh = buildQNetwork({ inputShape: [5], numActions: A, encoder: { kind: 'mlp', hidden: [8], activation: 'tanh' }, head: { kind: 'q' }, seed: 1 });
    expect(chainOf(dueling)).toBeNull();
    expect(chainOf(tanh)).toBeNull();
    dueling.dispose();
    tanh.dispose();
  });
});
