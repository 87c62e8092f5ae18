import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Categorical, DiagGaussian, MultiCategorical, TanhGaussian, clipToBox } from '../../../src/agents/policy/index.js';
import { SeededRng } from '../../../src/envs/rng.js';
import { initBackend } from '../../../src/networks/backend.js';
import { InvalidConfigError, SpaceMismatchError } from '../../../src/errors.js';

const N = 10_000;
const read = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};
const close = (a: number[], b: number[], digits = 5): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i]!, digits);
};
/** Mean and (population) variance of every column of row-major `values` with `d` columns. */
function moments(values: ArrayLike<number>, d: number): { mean: number[]; variance: number[] } {
  const n = values.length / d;
  const mean = new Array<number>(d).fill(0);
  const variance = new Array<number>(d).fill(0);
  for (let i = 0; i < values.length; i++) mean[i % d]! += values[i]! / n;
  for (let i = 0; i < values.length; i++) variance[i % d]! += (values[i]! - mean[i % d]!) ** 2 / n;
  return { mean, variance };
}
function frequencies(values: ArrayLike<number>, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (let i = 0; i < values.length; i++) c[values[i]!]! += 1 / values.length;
  return c;
}

beforeAll(async () => {
  await tf.ready();
});

describe('Categorical', () => {
  // Row 0: logits [0, ln 2, ln 3] -> exp = [1, 2, 3], probs = [1/6, 1/3, 1/2].
  // Row 1: logits [5, 5, 5] -> uniform, probs 1/3 each.
  const rows = [[0, Math.LN2, Math.log(3)], [5, 5, 5]];

  it('logProb, entropy and mode match hand-computed values', () => {
    const logits = tf.tensor2d(rows);
    const d = new Categorical(logits);
    // log p(2 | row 0) = ln(1/2) = -0.693147; log p(0 | row 1) = ln(1/3) = -1.098612
    close(read(d.logProb(tf.tensor1d([2, 0], 'int32'))), [-0.693147, -1.098612]);
    // log p(0 | row 0) = -ln 6 = -1.791759
    close(read(d.logProb(tf.tensor1d([0, 1], 'int32'))), [-1.791759, -1.098612]);
    // H(row 0) = ln6/6 + ln3/3 + ln2/2 = 0.298627 + 0.366204 + 0.346574 = 1.011404; H(row 1) = ln 3 = 1.098612
    close(read(d.entropy()), [1.011404, 1.098612]);
    expect(read(d.mode())).toEqual([2, 0]); // ties go to the first index
    close(read(d.probs()), [1 / 6, 1 / 3, 1 / 2, 1 / 3, 1 / 3, 1 / 3]);
    logits.dispose();
  });

  it('samples with the given frequencies (10k draws, fixed seed) and only from the Rng', () => {
    const logits = tf.tile(tf.tensor2d([rows[0]!]), [N, 1]) as tf.Tensor2D;
    const d = new Categorical(logits);
    const a = read(d.sample(new SeededRng(0)));
    const f = frequencies(a, 3);
    // Binomial sd at p = 1/2, n = 10k is 0.005: 0.015 is three sd.
    for (const [i, p] of [1 / 6, 1 / 3, 1 / 2].entries()) expect(Math.abs(f[i]! - p)).toBeLessThan(0.015);
    expect(read(d.sample(new SeededRng(0)))).toEqual(a);
    expect(read(d.sample(new SeededRng(1)))).not.toEqual(a);
    // Rows draw independently (a seeded tf.multinomial would give every row the same action).
    expect(new Set(a.slice(0, 20)).size).toBeGreaterThan(1);
    logits.dispose();
  });

  it('gradient of logProb w.r.t. the logits is onehot(a) - p', () => {
    const logits = tf.tensor2d([rows[0]!]);
    const g = tf.grad((l: tf.Tensor) => tf.sum(new Categorical(l as tf.Tensor2D).logProb(tf.tensor1d([2], 'int32'))))(logits);
    // onehot(2) - [1/6, 1/3, 1/2] = [-1/6, -1/3, 1/2]
    close(read(g), [-1 / 6, -1 / 3, 1 / 2]);
    logits.dispose();
  });

  it('rejects logits that are not [batch, actions]', () => {
    const l = tf.tensor1d([1, 2]);
    expect(() => new Categorical(l as unknown as tf.Tensor2D)).toThrowError(SpaceMismatchError);
    expect(() => new Categorical(l as unknown as tf.Tensor2D)).toThrowError(/\[Categorical\] expected logits of rank 2, received shape \[2\]; fix: /);
    l.dispose();
  });
});

describe('MultiCategorical', () => {
  // nvec [3, 2]. Part 0 logits [0, ln 2, ln 3] -> probs [1/6, 1/3, 1/2]; part 1 logits [ln 3, 0] -> probs [3/4, 1/4].
  const row = [0, Math.LN2, Math.log(3), Math.log(3), 0];

  it('sums logProb and entropy over parts (hand-computed) and takes the mode per part', () => {
    const logits = tf.tensor2d([row, [0, 0, 0, 0, 0]]);
    const d = new MultiCategorical(logits, [3, 2]);
    // log p([2, 1]) = ln(1/2) + ln(1/4) = -0.693147 - 1.386294 = -2.079442
    // row 1 uniform: log p([0, 0]) = ln(1/3) + ln(1/2) = -1.098612 - 0.693147 = -1.791759
    close(read(d.logProb(tf.tensor2d([[2, 1], [0, 0]], [2, 2], 'int32'))), [-2.079442, -1.791759]);
    // H = 1.011404 + (3/4 ln(4/3) + 1/4 ln 4 = 0.215762 + 0.346574 = 0.562335) = 1.573739; row 1: ln 3 + ln 2 = 1.791759
    close(read(d.entropy()), [1.573739, 1.791759]);
    expect(read(d.mode())).toEqual([2, 0, 0, 0]);
    logits.dispose();
  });

  it('samples every part with its frequencies (10k draws, fixed seed)', () => {
    const logits = tf.tile(tf.tensor2d([row]), [N, 1]) as tf.Tensor2D;
    const d = new MultiCategorical(logits, [3, 2]);
    const s = d.sample(new SeededRng(3));
    expect(s.shape).toEqual([N, 2]);
    expect(s.dtype).toBe('int32');
    const a = read(s);
    const f0 = frequencies(a.filter((_, i) => i % 2 === 0), 3);
    const f1 = frequencies(a.filter((_, i) => i % 2 === 1), 2);
    for (const [i, p] of [1 / 6, 1 / 3, 1 / 2].entries()) expect(Math.abs(f0[i]! - p)).toBeLessThan(0.015);
    expect(Math.abs(f1[1]! - 0.25)).toBeLessThan(0.015);
    logits.dispose();
  });

  it('rejects an nvec that does not fit the logits', () => {
    const logits = tf.tensor2d([row]);
    expect(() => new MultiCategorical(logits, [3, 3])).toThrowError(/\[MultiCategorical\] expected logits with sum\(nvec\) = 6 columns, received shape \[1, 5\]/);
    expect(() => new MultiCategorical(logits, [])).toThrowError(InvalidConfigError);
    const d = new MultiCategorical(logits, [3, 2]);
    const wrong = tf.tensor2d([[1, 1, 1]], [1, 3], 'int32');
    expect(() => d.logProb(wrong)).toThrowError(SpaceMismatchError);
    wrong.dispose();
    logits.dispose();
  });
});

describe('DiagGaussian', () => {
  // mean [0, 1], logStd [0, ln 2] -> std [1, 2].
  it('logProb, entropy and mode match hand-computed values', () => {
    const mean = tf.tensor2d([[0, 1], [0, 1]]);
    const logStd = tf.tensor1d([0, Math.LN2]);
    const d = new DiagGaussian(mean, logStd);
    // a = [1, 2]: z = [(1 - 0) / 1, (2 - 1) / 2] = [1, 0.5]
    // log p = (-1/2 - 0 - 0.918939) + (-0.125 - 0.693147 - 0.918939) = -1.418939 - 1.737086 = -3.156024
    // a = [0, 1] (the mean): log p = -0.918939 + (-0.693147 - 0.918939) = -2.531024
    close(read(d.logProb(tf.tensor2d([[1, 2], [0, 1]]))), [-3.156024, -2.531024]);
    // H = (0.5 + 0.918939 + 0) + (0.5 + 0.918939 + 0.693147) = 3.531024 per row
    close(read(d.entropy()), [3.531024, 3.531024]);
    const m = d.mode();
    expect(read(m)).toEqual([0, 1, 0, 1]);
    expect(mean.isDisposed).toBe(false); // the mode is a copy: disposing it keeps the net output
    mean.dispose();
    logStd.dispose();
  });

  it('gradients of logProb: d/dmean = (a - mean) / std^2, d/dlogStd = z^2 - 1', () => {
    const mean = tf.tensor2d([[0, 1]]);
    const logStd = tf.tensor1d([0, Math.LN2]);
    const a = tf.tensor2d([[1, 2]]);
    const [gMean, gLogStd] = tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(new DiagGaussian(m as tf.Tensor2D, s as tf.Tensor1D).logProb(a)))([mean, logStd]);
    // (a - mean) / std^2 = [1 / 1, 1 / 4]; z^2 - 1 = [1 - 1, 0.25 - 1]
    close(read(gMean!), [1, 0.25]);
    close(read(gLogStd!), [0, -0.75]);
    tf.dispose([mean, logStd, a]);
  });

  it('samples with the right mean and variance (10k draws, fixed seed), seeded by the Rng', () => {
    const mean = tf.tile(tf.tensor2d([[0, 1]]), [N, 1]) as tf.Tensor2D;
    const logStd = tf.tensor1d([0, Math.LN2]);
    const d = new DiagGaussian(mean, logStd);
    const s = read(d.sample(new SeededRng(7)));
    const { mean: mu, variance } = moments(s, 2);
    // sd of the sample mean: std / 100 = 0.01 and 0.02; of the sample variance: var * sqrt(2 / n) = 1.4%.
    expect(Math.abs(mu[0]! - 0)).toBeLessThan(0.04);
    expect(Math.abs(mu[1]! - 1)).toBeLessThan(0.07);
    expect(Math.abs(variance[0]! / 1 - 1)).toBeLessThan(0.05);
    expect(Math.abs(variance[1]! / 4 - 1)).toBeLessThan(0.05);
    expect(read(d.sample(new SeededRng(7)))).toEqual(s);
    tf.dispose([mean, logStd]);
  });

  it('rejects a logStd that does not fit the mean', () => {
    const mean = tf.tensor2d([[0, 1]]);
    const logStd = tf.tensor1d([0, 0, 0]);
    expect(() => new DiagGaussian(mean, logStd)).toThrowError(/\[DiagGaussian\] expected logStd of shape \[2\] or \[1, 2\], received shape \[3\]/);
    tf.dispose([mean, logStd]);
  });
});

describe('clipToBox', () => {
  it('clips to the bounds per dimension into a new array and counts the clipped values', () => {
    const raw = Float32Array.of(-3, 0.5, 2.5, -1.5, 1, 1);
    const { actions, clipped } = clipToBox(raw, { low: [-2, -1], high: [2, 1] });
    expect(Array.from(actions)).toEqual([-2, 0.5, 2, -1, 1, 1]);
    expect(clipped).toBe(3);
    expect(Array.from(raw)).toEqual([-3, 0.5, 2.5, -1.5, 1, 1]); // the unclipped sample is kept for logProb
    expect(() => clipToBox([1, 2, 3], { low: [-1, -1], high: [1, 1] })).toThrowError(SpaceMismatchError);
  });
});

describe('TanhGaussian', () => {
  // Pendulum bounds [-2, 2]: scale 2, bias 0. mean 0.5, logStd 0 (std 1).
  const bounds = { low: [-2], high: [2] };

  it('logProb (tanh correction), mode and squashing match hand-computed values', () => {
    const mean = tf.tensor2d([[0.5]]);
    const logStd = tf.tensor2d([[0]]);
    const d = new TanhGaussian(mean, logStd, bounds);
    // u = 1: log N(1; 0.5, 1) = -0.125 - 0.918939 = -1.043939
    // log(1 - tanh(1)^2) = log(1 - 0.761594^2) = log(0.419974) = -0.867562 (= 2 (ln 2 - 1 - softplus(-2)))
    // log pi = -1.043939 - (ln 2 + (-0.867562)) = -1.043939 - (-0.174415) = -0.869524
    close(read(d.logProbPreTanh(tf.tensor2d([[1]]))), [-0.869524]);
    // The same through the scaled action a = 2 tanh(1) = 1.523188 (atanh round trip, float32).
    close(read(d.logProb(tf.tensor2d([[2 * Math.tanh(1)]]))), [-0.869524], 4);
    // mode = 2 tanh(0.5) = 0.924234
    close(read(d.mode()), [0.924234]);
    tf.dispose([mean, logStd]);

    // Asymmetric bounds [-1, 3]: scale 2, bias 1 -> mode = 2 tanh(0.5) + 1 = 1.924234
    const m2 = tf.tensor2d([[0.5]]);
    const s2 = tf.tensor1d([0]);
    close(read(new TanhGaussian(m2, s2, { low: [-1], high: [3] }).mode()), [1.924234]);
    tf.dispose([m2, s2]);
  });

  it('stays finite where 1 - tanh(u)^2 underflows in float32', () => {
    const mean = tf.tensor2d([[0]]);
    const logStd = tf.tensor2d([[0]]);
    const d = new TanhGaussian(mean, logStd, bounds);
    // u = 20: log N = -200 - 0.918939; log(1 - tanh^2) = 2 (ln 2 - 20 - softplus(-40)) = -38.613706
    // log pi = -200.918939 - (0.693147 - 38.613706) = -162.998380
    close(read(d.logProbPreTanh(tf.tensor2d([[20]]))), [-162.99838], 2);
    tf.dispose([mean, logStd]);
  });

  it('rsample: actions = squash(u), logProb of u, gradients flow through the sample', () => {
    const mean = tf.tensor2d([[0.5], [-0.2]]);
    const logStd = tf.tensor2d([[-0.5], [0.1]]);
    const d = new TanhGaussian(mean, logStd, bounds);
    const r = d.rsample(new SeededRng(9));
    const u = Array.from(r.preTanh.dataSync());
    close(read(r.actions), u.map((x) => 2 * Math.tanh(x)));
    close(read(r.logProb), read(d.logProbPreTanh(r.preTanh)));
    r.preTanh.dispose();
    // d a / d mean = scale * (1 - tanh(u)^2) for the same noise (same seed).
    const g = tf.grad((m: tf.Tensor) => {
      const s = new TanhGaussian(m as tf.Tensor2D, logStd, bounds).rsample(new SeededRng(9));
      return tf.sum(s.actions);
    })(mean);
    close(read(g), u.map((x) => 2 * (1 - Math.tanh(x) ** 2)));
    // d logProbPreTanh / d mean with u fixed = (u - mean) / std^2
    const uFixed = tf.tensor2d([[1], [0]]);
    const gm = tf.grad((m: tf.Tensor) => tf.sum(new TanhGaussian(m as tf.Tensor2D, logStd, bounds).logProbPreTanh(uFixed)))(mean);
    close(read(gm), [(1 - 0.5) / Math.exp(-1), (0 + 0.2) / Math.exp(0.2)]);
    tf.dispose([mean, logStd, uFixed]);
  });

  it('samples inside the bounds with the pre-tanh Gaussian (10k draws, fixed seed)', () => {
    const mean = tf.fill([N, 1], 0.3) as tf.Tensor2D;
    const logStd = tf.fill([N, 1], Math.log(0.5)) as tf.Tensor2D;
    const d = new TanhGaussian(mean, logStd, bounds);
    const a = read(d.sample(new SeededRng(2)));
    expect(a.every((x) => x >= -2 && x <= 2)).toBe(true);
    const u = a.map((x) => Math.atanh(x / 2));
    const { mean: mu, variance } = moments(u, 1);
    expect(Math.abs(mu[0]! - 0.3)).toBeLessThan(0.02); // sd of the mean 0.005
    expect(Math.abs(variance[0]! / 0.25 - 1)).toBeLessThan(0.05);
    expect(read(d.sample(new SeededRng(2)))).toEqual(a);
    tf.dispose([mean, logStd]);
  });

  it('sampleWithNoise: tanh(mean + std * eps) scaled to the bounds for given eps, gradients to mean and logStd; eps of another shape is refused', () => {
    const mean = tf.tensor2d([[0.5], [-0.2]]);
    const logStd = tf.tensor2d([[Math.log(0.5)], [0]]);
    const eps = tf.tensor2d([[2], [-1]]);
    // Row 0: u = 0.5 + 0.5 * 2 = 1.5 -> 2 tanh(1.5) = 1.810296; row 1: u = -0.2 - 1 = -1.2 -> 2 tanh(-1.2) = -1.667309.
    close(read(new TanhGaussian(mean, logStd, bounds).sampleWithNoise(eps)), [1.810296, -1.667309]);
    // d a / d logStd = scale (1 - tanh(u)^2) std eps: row 0: 2 (1 - tanh(1.5)^2) * 0.5 * 2 = 0.361448.
    const g = tf.grad((s: tf.Tensor) => tf.sum(new TanhGaussian(mean, s as tf.Tensor2D, bounds).sampleWithNoise(eps)))(logStd);
    close(read(g), [2 * (1 - Math.tanh(1.5) ** 2) * 0.5 * 2, 2 * (1 - Math.tanh(-1.2) ** 2) * -1]);
    const wrong = tf.tensor2d([[1, 2]]);
    expect(() => new TanhGaussian(mean, logStd, bounds).sampleWithNoise(wrong)).toThrowError(/\[TanhGaussian\.sampleWithNoise\] expected eps of shape \[2, 1\] \(as the mean\), received shape \[1, 2\]/);
    tf.dispose([mean, logStd, eps, wrong]);
  });

  it('has no closed-form entropy and rejects unbounded Box dimensions', () => {
    const mean = tf.tensor2d([[0, 0]]);
    const logStd = tf.tensor1d([0, 0]);
    expect('entropy' in new TanhGaussian(mean, logStd, { low: [-1, -1], high: [1, 1] })).toBe(false);
    expect(() => new TanhGaussian(mean, logStd, { low: [-1, -Infinity], high: [1, 1] })).toThrowError(
      /\[TanhGaussian\] expected finite Box bounds with low < high in every action dimension, received dim 1: \[-Infinity, 1\]/,
    );
    expect(() => new TanhGaussian(mean, logStd, { low: [-1], high: [1] })).toThrowError(SpaceMismatchError);
    tf.dispose([mean, logStd]);
  });
});

describe('tensor ownership', () => {
  it('leaves tf.memory().numTensors flat over repeated use of every method', () => {
    const logits = tf.tensor2d([[0, 1, 2], [2, 1, 0]]);
    const multi = tf.tensor2d([[0, 1, 2, 0, 1], [1, 0, 0, 2, 2]]);
    const mean = tf.tensor2d([[0, 1], [1, 0]]);
    const logStd = tf.tensor1d([0, -1]);
    const acts = { cat: tf.tensor1d([0, 2], 'int32'), multi: tf.tensor2d([[1, 0], [2, 1]], [2, 2], 'int32'), box: tf.tensor2d([[0.1, 0.2], [-0.3, 0.4]]) };
    const rng = new SeededRng(1);
    const round = (): void => {
      const cat = new Categorical(logits);
      const mc = new MultiCategorical(multi, [3, 2]);
      const dg = new DiagGaussian(mean, logStd);
      const tg = new TanhGaussian(mean, logStd, { low: [-1, -1], high: [1, 1] });
      const out: tf.Tensor[] = [
        cat.sample(rng), cat.logProb(acts.cat), cat.entropy(), cat.mode(), cat.probs(),
        mc.sample(rng), mc.logProb(acts.multi), mc.entropy(), mc.mode(),
        dg.sample(rng), dg.logProb(acts.box), dg.entropy(), dg.mode(),
        tg.sample(rng), tg.logProb(acts.box), tg.logProbPreTanh(acts.box), tg.mode(),
        ...Object.values(tg.rsample(rng)),
      ];
      const g = tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(new DiagGaussian(m as tf.Tensor2D, s as tf.Tensor1D).logProb(acts.box)))([mean, logStd]);
      tf.dispose([...out, ...g]);
    };
    round(); // burn in (kernels may cache constants on first use)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, multi, mean, logStd, ...Object.values(acts)]);
  });
});

// Training runs on wasm by default: the same hand-computed values, gradients and sampling there.
describe('on the wasm backend', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm', threads: 1, quiet: true })).toBe('wasm');
  });

  it('gives the hand-computed values, gradients and sample frequencies', () => {
    expect(tf.getBackend()).toBe('wasm');
    const logits = tf.tensor2d([[0, Math.LN2, Math.log(3), Math.log(3), 0]]);
    const mc = new MultiCategorical(logits, [3, 2]);
    close(read(mc.logProb(tf.tensor2d([[2, 1]], [1, 2], 'int32'))), [-2.079442]);
    close(read(mc.entropy()), [1.573739]);
    const mean = tf.tensor2d([[0, 1]]);
    const logStd = tf.tensor1d([0, Math.LN2]);
    const [gMean, gLogStd] = tf.grads((m: tf.Tensor, s: tf.Tensor) => tf.sum(new DiagGaussian(m as tf.Tensor2D, s as tf.Tensor1D).logProb(tf.tensor2d([[1, 2]]))))([mean, logStd]);
    close(read(gMean!), [1, 0.25]);
    close(read(gLogStd!), [0, -0.75]);
    const tg = new TanhGaussian(tf.tensor2d([[0.5]]), tf.tensor2d([[0]]), { low: [-2], high: [2] });
    close(read(tg.logProbPreTanh(tf.tensor2d([[1]]))), [-0.869524]);
    close(read(tg.mode()), [0.924234]);
    const many = tf.tile(tf.tensor2d([[0, Math.LN2, Math.log(3)]]), [N, 1]) as tf.Tensor2D;
    const f = frequencies(read(new Categorical(many).sample(new SeededRng(0))), 3);
    for (const [i, p] of [1 / 6, 1 / 3, 1 / 2].entries()) expect(Math.abs(f[i]! - p)).toBeLessThan(0.015);
    tf.dispose([logits, mean, logStd, many]);
  });
});
