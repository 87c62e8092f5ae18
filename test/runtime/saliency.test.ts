/**
 * The saliency maps (src/runtime/saliency.ts) on hand-checkable nets with fixed weights: the
 * gradient of a linear map is its weights; blurring what a net ignores changes nothing; the
 * perturbation score of a one-pixel reader is 1/2 (w m (A - x))^2.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { basicPolicyFile } from '../../src/export/export-policy.js';
import { InvalidConfigError } from '../../src/errors.js';
import { computeSaliency, gaussianBlur, saliencyUnsupported, type SaliencyMap } from '../../src/runtime/saliency.js';
import type { PolicyFile } from '../../src/runtime/policy-file.js';

const H = 2;
const W = 3;
const C = 2;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** conv 1x1 (kernel k per channel, no bias) -> flatten -> dense (weights D [H*W, A], no bias): out_a = sum_p (sum_c k_c x_pc) D_pa. */
function linearCnn(k: number[], D: number[][]): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [H, W, C], filters: 1, kernelSize: 1, useBias: false }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: D[0]!.length, useBias: false }));
  m.setWeights([tf.tensor4d(k, [1, 1, C, 1]), tf.tensor2d(D)]);
  return m;
}

function file(o: Partial<PolicyFile> = {}): PolicyFile {
  return { ...basicPolicyFile({ game: 'grid', observation: { shape: [H, W, C], dtype: 'float32' }, actions: ['a', 'b', 'c'] }), ...o };
}

// D[p][a]: pixel p = y * W + x.
const D = [
  [1, -2, 0.5],
  [0, 3, -1],
  [2, 0, 0],
  [-1, 1, 4],
  [0.25, 0, 0],
  [0, -0.5, 2],
];
const K = [2, -1];
const obs = Float32Array.from({ length: H * W * C }, (_, i) => ((i * 7) % 5) / 4);

describe('gradient saliency', () => {
  it('the gradient of a linear map equals its weights: d out_a / d x_pc = k_c D_pa', async () => {
    const m = linearCnn(K, D);
    for (const a of [0, 1, 2]) {
      const s = await computeSaliency({ file: file(), model: m }, obs, { kind: 'action', action: a }, { method: 'gradient' });
      for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) expect(s.gradient![p * C + c]).toBeCloseTo(K[c]! * D[p]![a]!, 6);
      // max over channels of |k_c D_pa| = 2 |D_pa|; normalised by the largest.
      const raw = D.map((row) => 2 * Math.abs(row[a]!));
      const peak = Math.max(...raw);
      raw.forEach((r, p) => {
        expect(s.raw[p]).toBeCloseTo(r, 6);
        expect(s.values[p]).toBeCloseTo(r / peak, 6);
      });
      expect(s.rows).toBe(H);
      expect(s.cols).toBe(W);
    }
    m.dispose();
  });

  it('sum over channels adds |k_c| D; the value of a Q-net is max_a Q and its gradient that action\'s', async () => {
    const m = linearCnn(K, D);
    const sum = await computeSaliency({ file: file(), model: m }, obs, { kind: 'action', action: 1 }, { method: 'gradient', reduce: 'sum' });
    D.forEach((row, p) => expect(sum.raw[p]).toBeCloseTo(3 * Math.abs(row[1]!), 6));
    const q = D[0]!.map((_, a) => D.reduce((acc, row, p) => acc + row[a]! * (K[0]! * obs[p * C]! + K[1]! * obs[p * C + 1]!), 0));
    const best = q.indexOf(Math.max(...q));
    const v = await computeSaliency({ file: file(), model: m }, obs, { kind: 'value' }, { method: 'gradient' });
    expect(v.output).toBeCloseTo(q[best]!, 5);
    for (let p = 0; p < H * W; p++) expect(v.gradient![p * C]).toBeCloseTo(K[0]! * D[p]![best]!, 6);
    m.dispose();
  });

  it('the input is scaled as when acting (inputScale), so the output is the policy\'s', async () => {
    const m = linearCnn(K, D);
    const s1 = await computeSaliency({ file: file(), model: m }, obs, { kind: 'action', action: 0 }, { method: 'gradient' });
    const s2 = await computeSaliency({ file: file({ inputScale: 0.5 }), model: m }, obs, { kind: 'action', action: 0 }, { method: 'gradient' });
    expect(s2.output).toBeCloseTo(s1.output / 2, 6);
    m.dispose();
  });
});

describe('perturbation saliency (Greydanus et al. 2018)', () => {
  it('blurring an input the net ignores scores 0 everywhere; the same input read scores > 0', async () => {
    // Channel 0 constant (its blur is itself), channel 1 varies: a net reading channel 0 only sees no change.
    const x = Float32Array.from({ length: H * W * C }, (_, i) => (i % C === 0 ? 0.5 : ((i * 13) % 7) / 7));
    const ignores = linearCnn([1, 0], D);
    const s = await computeSaliency({ file: file(), model: ignores }, x, { kind: 'action', action: 1 }, { method: 'perturbation', stride: 1, maskSigma: 1, blurSigma: 1 });
    expect(s.rows * s.cols).toBe(H * W);
    for (const v of s.raw) expect(v).toBeLessThan(1e-12);
    expect(Array.from(s.values)).toEqual(new Array(H * W).fill(0));
    const reads = linearCnn([0, 1], D);
    const r = await computeSaliency({ file: file(), model: reads }, x, { kind: 'action', action: 1 }, { method: 'perturbation', stride: 1, maskSigma: 1, blurSigma: 1 });
    expect(r.peak).toBeGreaterThan(1e-4);
    ignores.dispose();
    reads.dispose();
  });

  it('a one-pixel reader scores 1/2 (w m_p (A - x))^2 at each grid point, at the stride', async () => {
    // out_0 = 2 * x[1, 2, channel 0]: only pixel p* = 1 * W + 2 counts.
    const Dp = D.map((row, p) => row.map((_, a) => (p === W + 2 && a === 0 ? 2 : 0)));
    const m = linearCnn([1, 0], Dp);
    const sigma = 0.8;
    const blurSigma = 1.2;
    const s: SaliencyMap = await computeSaliency({ file: file(), model: m }, obs, { kind: 'action', action: 0 }, { method: 'perturbation', stride: 2, maskSigma: sigma, blurSigma, batch: 3 });
    expect([s.rows, s.cols, s.stride]).toEqual([1, 2, 2]);
    const A = gaussianBlur(obs, [H, W, C], blurSigma);
    const q = (W + 2) * C;
    [[0, 0], [0, 2]].forEach(([i, j], g) => {
      const mask = Math.exp(-((1 - i!) ** 2 + (2 - j!) ** 2) / (2 * sigma * sigma));
      const expected = 0.5 * (2 * mask * (A[q]! - obs[q]!)) ** 2;
      expect(s.raw[g]).toBeCloseTo(expected, 6);
    });
    expect(s.output).toBeCloseTo(2 * obs[q]!, 6);
    m.dispose();
  });

  it('the blur keeps a constant image constant and is a normalised Gaussian inside', () => {
    const flat = gaussianBlur(new Float32Array(5 * 5).fill(3), [5, 5, 1], 1);
    for (const v of flat) expect(v).toBeCloseTo(3, 12);
    const delta = new Float32Array(9 * 9);
    delta[4 * 9 + 4] = 1;
    const b = gaussianBlur(delta, [9, 9, 1], 1);
    const g1 = Math.exp(-0.5) / (1 + 2 * Math.exp(-0.5) + 2 * Math.exp(-2) + 2 * Math.exp(-4.5));
    const g0 = 1 / (1 + 2 * Math.exp(-0.5) + 2 * Math.exp(-2) + 2 * Math.exp(-4.5));
    expect(b[4 * 9 + 5]).toBeCloseTo(g0 * g1, 12);
  });
});

describe('value maps of actor-critics', () => {
  it('use the critic where the bundle has one: its gradient is the critic\'s weights', async () => {
    const actor = linearCnn(K, D);
    const critic = linearCnn([1, 3], D.map((row) => [row[2]!]));
    const s = await computeSaliency({ file: file({ output: 'logits' }), model: actor, valueModel: critic }, obs, { kind: 'value' }, { method: 'gradient' });
    for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) expect(s.gradient![p * C + c]).toBeCloseTo([1, 3][c]! * D[p]![2]!, 6);
    actor.dispose();
    critic.dispose();
  });
});

describe('what saliency refuses', () => {
  it('an MLP policy, a recurrent one and the value of a logits bundle are named, not computed', async () => {
    const mlp = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    const flat = { ...basicPolicyFile({ game: 'g', observation: { shape: [4], dtype: 'float32' }, actions: ['a', 'b'] }) };
    expect(saliencyUnsupported(flat, mlp)).toMatch(/MLP policy/);
    const noConv = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [H, W, C] }), tf.layers.dense({ units: 3 })] });
    expect(saliencyUnsupported(file(), noConv)).toMatch(/no convolution layer/);
    const m = linearCnn(K, D);
    expect(saliencyUnsupported(file({ recurrentState: { shapes: [[4], [4]] } }), m)).toMatch(/recurrent/);
    expect(saliencyUnsupported(file(), m)).toBeNull();
    await expect(computeSaliency({ file: file({ output: 'logits' }), model: m }, obs, { kind: 'value' }, { method: 'gradient' })).rejects.toThrow(InvalidConfigError);
    await expect(computeSaliency({ file: file({ output: 'logits' }), model: m }, obs, { kind: 'value' }, { method: 'gradient' })).rejects.toThrow(/^\[saliency\] expected .*no value model/);
    await expect(computeSaliency({ file: file(), model: m }, obs.subarray(1), { kind: 'action', action: 0 }, { method: 'gradient' })).rejects.toThrow(/observation of 12 values/);
    await expect(computeSaliency({ file: file(), model: m }, obs, { kind: 'action', action: 0 }, { method: 'perturbation', stride: 0 })).rejects.toThrow(/stride=0/);
    for (const x of [mlp, noConv, m]) x.dispose();
  });

  it('leaks no tensor: both methods, repeated, keep the tensor count', async () => {
    const m = linearCnn(K, D);
    const run = async (): Promise<void> => {
      await computeSaliency({ file: file(), model: m }, obs, { kind: 'action', action: 2 }, { method: 'gradient' });
      await computeSaliency({ file: file(), model: m }, obs, { kind: 'value' }, { method: 'perturbation', stride: 1, batch: 4 });
    };
    await run();
    const before = tf.memory().numTensors;
    await run();
    await run();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
