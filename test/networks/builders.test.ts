import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { buildQNetwork, layersModelFiles, SlotOptimizer, clipByGlobalNorm, type QNetworkSpec } from '../../src/networks/index.js';
import { applyGradients } from '../../src/networks/optimizers.js';
import { initBackend } from '../../src/networks/backend.js';
import { CNN_TORSOS } from '../../src/networks/specs.js';
import { encoderSize } from '../../src/agents/memory.js';
import { Box } from '../../src/envs/spaces.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const weightsOf = (m: tf.LayersModel): number[][] => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('buildQNetwork', () => {
  const spec: QNetworkSpec = { inputShape: [10, 10, 4], numActions: 5, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 42 };

  it('same seed -> identical weights; another seed -> different weights', () => {
    const a = buildQNetwork(spec);
    const b = buildQNetwork(spec);
    const c = buildQNetwork({ ...spec, seed: 43 });
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(c)[0]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('builds the MinAtar and Nature torsos with the published layer sizes', () => {
    const m = buildQNetwork(spec);
    const shapes = m.weights.map((w) => w.shape.join('x'));
    expect(shapes).toEqual(['3x3x4x16', '16', '1024x128', '128', '128x5', '5']);
    m.dispose();
    const n = buildQNetwork({ ...spec, inputShape: [84, 84, 4], encoder: { kind: 'nature-cnn' } });
    expect(n.weights.map((w) => w.shape.join('x'))).toEqual(['8x8x4x32', '32', '4x4x32x64', '64', '3x3x64x64', '64', '3136x512', '512', '512x5', '5']);
    n.dispose();
  });

  it('builds the small-frame torso: a 9x9 map on a 40x40 frame, where the Nature torso leaves 1x1', () => {
    const s = buildQNetwork({ ...spec, inputShape: [40, 40, 2], encoder: { kind: 'small-cnn' } });
    // 40 -> (40 - 4) / 2 + 1 = 19 -> (19 - 3) / 2 + 1 = 9: 9 x 9 x 32 = 2592 features into the dense layer.
    expect(s.weights.map((w) => w.shape.join('x'))).toEqual(['4x4x2x16', '16', '3x3x16x32', '32', '2592x256', '256', '256x5', '5']);
    s.dispose();
    const n = buildQNetwork({ ...spec, inputShape: [40, 40, 2], encoder: { kind: 'nature-cnn' } });
    expect(n.weights.map((w) => w.shape.join('x'))).toContain('64x512');
    n.dispose();
    expect(() => buildQNetwork({ ...spec, inputShape: [7, 7, 1], encoder: { kind: 'small-cnn' } })).toThrow(/too small for small-cnn \(want >= 8x8\)/);
    expect(() => buildQNetwork({ ...spec, inputShape: [8, 8, 1], encoder: { kind: 'small-cnn' } }).dispose()).not.toThrow();
  });

  it('the memory estimate counts the parameters each CNN torso builds (one table of layers for both)', () => {
    for (const [kind, shape] of [['minatar-cnn', [10, 10, 4]], ['small-cnn', [40, 40, 2]], ['nature-cnn', [84, 84, 4]], ['nature-cnn', [40, 40, 1]]] as const) {
      const m = buildQNetwork({ ...spec, inputShape: [...shape], encoder: { kind } });
      const built = m.weights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
      const est = encoderSize({ kind }, new Box({ shape: [...shape], dtype: 'uint8', low: 0, high: 255 }), shape);
      expect(est.features).toBe(CNN_TORSOS[kind].dense);
      expect(est.params + est.features * 5 + 5, `${kind} on [${shape}]`).toBe(built);
      m.dispose();
    }
  });

  it('dueling head computes V + A - mean(A) with stock layers', () => {
    const m = buildQNetwork({ inputShape: [3], numActions: 3, encoder: { kind: 'mlp', hidden: [8] }, head: { kind: 'dueling' }, seed: 1 });
    const x = tf.tensor2d([[0.3, -1, 2]]);
    const q = (m.predict(x) as tf.Tensor).dataSync();
    // Recompute V and A from the layers' weights.
    const [k1, b1, kv, bv, ka, ba] = m.getWeights().map((w) => w.arraySync() as number[][] | number[]);
    const h = (b1 as number[]).map((b, j) => Math.max(0, b + [0.3, -1, 2].reduce((s, v, i) => s + v * (k1 as number[][])[i]![j]!, 0)));
    const v = (bv as number[])[0]! + h.reduce((s, hv, i) => s + hv * (kv as number[][])[i]![0]!, 0);
    const a = [0, 1, 2].map((j) => (ba as number[])[j]! + h.reduce((s, hv, i) => s + hv * (ka as number[][])[i]![j]!, 0));
    const mean = (a[0]! + a[1]! + a[2]!) / 3;
    for (let j = 0; j < 3; j++) expect(q[j]).toBeCloseTo(v + a[j]! - mean, 4);
    expect(m.trainableWeights.length).toBe(6);
    x.dispose();
    m.dispose();
  });

  it('saves in the stock layers format that tf.loadLayersModel reads', async () => {
    const m = buildQNetwork({ inputShape: [4], numActions: 2, encoder: { kind: 'mlp', hidden: [16, 16] }, head: { kind: 'dueling' }, seed: 3 });
    const files = await layersModelFiles(m);
    const json = JSON.parse(files.modelJson);
    expect(json.format).toBe('layers-model');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: files.weights.buffer.slice(files.weights.byteOffset, files.weights.byteOffset + files.weights.byteLength) }));
    const x = tf.tensor2d([[0.1, 0.2, -0.3, 0.4]]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
    tf.dispose([x]);
    loaded.dispose();
    m.dispose();
  });

  it('rejects bad specs naming the fields', () => {
    expect(() => buildQNetwork({ ...spec, numActions: 0, encoder: { kind: 'mlp', hidden: [-1] } })).toThrow(InvalidConfigError);
    expect(() => buildQNetwork({ ...spec, inputShape: [10, 10, 4], encoder: { kind: 'nature-cnn' } })).toThrow(/too small for nature-cnn/);
  });
});

describe('optimizers', () => {
  it('Adam takes the bias-corrected first step lr * sign(g)', () => {
    const w = tf.variable(tf.tensor1d([1, -1]));
    const opt = new SlotOptimizer({ kind: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, [w]);
    const g = tf.tensor1d([0.5, -2]);
    opt.apply([g]);
    const v = Array.from(w.dataSync());
    expect(v[0]).toBeCloseTo(0.9, 5);
    expect(v[1]).toBeCloseTo(-0.9, 5);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('centred RMSProp matches hand-computed steps', () => {
    const w = tf.variable(tf.tensor1d([1]));
    const opt = new SlotOptimizer({ kind: 'rmsprop-centered', learningRate: 0.01, decay: 0.9, momentum: 0, epsilon: 0.01 }, [w]);
    const g = tf.tensor1d([2]);
    opt.apply([g]);
    // v = 0.1*4 = 0.4, m = 0.1*2 = 0.2, step = 0.01*2/(sqrt(0.4-0.04)+0.01) = 0.02/0.61
    expect(w.dataSync()[0]).toBeCloseTo(1 - 0.02 / 0.61, 5);
    opt.apply([g]);
    // v = 0.9*0.4+0.4 = 0.76, m = 0.9*0.2+0.2 = 0.38, step = 0.02/(sqrt(0.76-0.1444)+0.01)
    expect(w.dataSync()[0]).toBeCloseTo(1 - 0.02 / 0.61 - 0.02 / (Math.sqrt(0.76 - 0.1444) + 0.01), 5);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('clips the global gradient norm', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([4])];
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(grads[0]!.dataSync())[0]).toBeCloseTo(0.6, 4);
    expect(grads[1]!.dataSync()[0]).toBeCloseTo(0.8, 4);
    tf.dispose([...g, ...grads, norm]);
  });

  it('setLearningRate changes the next steps, fused kernel and tfjs ops alike (PPO lr annealing)', () => {
    for (const fused of [true, false]) {
      const w = tf.variable(tf.tensor1d([1]));
      const opt = new SlotOptimizer({ kind: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, [w]);
      const g = tf.tensor1d([0.5]);
      opt.apply([g], { fused });
      expect(w.dataSync()[0]).toBeCloseTo(0.9, 5);
      opt.setLearningRate(0.01);
      opt.apply([g], { fused });
      // Same gradient twice: the bias-corrected step is again lr * sign(g).
      expect(w.dataSync()[0]).toBeCloseTo(0.89, 5);
      opt.setLearningRate(0);
      opt.apply([g], { fused });
      expect(w.dataSync()[0]).toBeCloseTo(0.89, 5);
      expect(() => opt.setLearningRate(Number.NaN)).toThrow(/\[Optimizer\.setLearningRate\] expected a learning rate 0 <= x <= 1, received NaN/);
      opt.dispose();
      tf.dispose([w, g]);
    }
  });

  it('applyGradients clips by the global norm (0 = off), applies in variable order and returns the norm before clipping', () => {
    for (const [clip, expected] of [[1, [1 - 0.01, 2 - 0.01]], [0, [1 - 0.01, 2 - 0.01]]] as const) {
      const a = tf.variable(tf.tensor1d([1]));
      const b = tf.variable(tf.tensor1d([2]));
      const opt = new SlotOptimizer({ kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, [a, b]);
      const norm = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.add(tf.mul(3, tf.sum(a)), tf.mul(4, tf.sum(b))) as tf.Scalar, [a, b]);
        return applyGradients(opt, [a, b], grads, clip);
      });
      expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
      // Adam's first step is lr * sign(g) whatever the scale, so both settings move each weight by lr.
      expect(Array.from(a.dataSync())[0]).toBeCloseTo(expected[0], 5);
      expect(Array.from(b.dataSync())[0]).toBeCloseTo(expected[1], 5);
      opt.dispose();
      tf.dispose([a, b, norm]);
    }
  });
});

describe('target-network helpers', () => {
  it('copyWeights makes equal nets; polyakUpdate mixes with tau', async () => {
    const { copyWeights, polyakUpdate } = await import('../../src/networks/builders.js');
    const spec: QNetworkSpec = { inputShape: [2], numActions: 2, encoder: { kind: 'mlp', hidden: [4] }, head: { kind: 'q' }, seed: 1 };
    const a = buildQNetwork(spec);
    const b = buildQNetwork({ ...spec, seed: 2 });
    const wa = weightsOf(a);
    const wb = weightsOf(b);
    polyakUpdate(a, b, 0.25);
    const mixed = weightsOf(b);
    expect(mixed[0]![0]).toBeCloseTo(0.25 * wa[0]![0]! + 0.75 * wb[0]![0]!, 5);
    copyWeights(a, b);
    expect(weightsOf(b)).toEqual(wa);
    a.dispose();
    b.dispose();
  });
});
