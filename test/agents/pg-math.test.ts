import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  discountedReturns,
  gae,
  normalizeAdvantages,
  clippedSurrogateLoss,
  valueLoss,
  categoricalEntropy,
  logProbOf,
  linearSchedule,
} from '../../src/agents/pg/math.js';
import { InvalidConfigError } from '../../src/errors.js';

const close = (a: ArrayLike<number>, b: number[], digits = 5): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i]!, digits);
};

describe('discountedReturns', () => {
  const base = { numSteps: 3, numEnvs: 1, rewards: [1, 2, 3], gamma: 0.5, lastValues: [4] };
  it('bootstraps the rollout end with lastValues', () => {
    close(discountedReturns({ ...base, terminated: [0, 0, 0], truncated: [0, 0, 0] }), [3.25, 4.5, 5]);
  });
  it('does not bootstrap through termination', () => {
    close(discountedReturns({ ...base, terminated: [0, 1, 0], truncated: [0, 0, 0] }), [2, 2, 5]);
  });
  it('bootstraps truncation with V(finalObs)', () => {
    close(discountedReturns({ ...base, terminated: [0, 0, 0], truncated: [0, 1, 0], truncValues: [0, 10, 0] }), [4.5, 7, 5]);
  });
  it('keeps envs apart in the time-major layout', () => {
    const r = discountedReturns({
      numSteps: 3,
      numEnvs: 2,
      gamma: 0.5,
      rewards: [1, 0, 2, 0, 3, 1],
      terminated: [0, 0, 0, 0, 0, 1],
      truncated: [0, 0, 0, 0, 0, 0],
      lastValues: [4, 100],
    });
    close(r, [3.25, 0.25, 4.5, 0.5, 5, 1]);
  });
  it('rejects arrays of the wrong length, naming them', () => {
    expect(() => discountedReturns({ ...base, rewards: [1, 2], terminated: [0, 0, 0], truncated: [0, 0, 0] })).toThrow(InvalidConfigError);
    expect(() => discountedReturns({ ...base, rewards: [1, 2], terminated: [0, 0, 0], truncated: [0, 0, 0] })).toThrow(/rewards of length 2/);
  });
  it('asks for truncValues when a step is truncated', () => {
    expect(() => discountedReturns({ ...base, terminated: [0, 0, 0], truncated: [1, 0, 0] })).toThrow(/truncValues/);
  });
});

describe('gae', () => {
  const base = { numSteps: 2, numEnvs: 1, rewards: [1, 1], values: [1, 2], lastValues: [4], gamma: 0.5, lambda: 0.5 };
  it('matches hand-computed advantages without episode ends', () => {
    const { advantages, returns } = gae({ ...base, terminated: [0, 0], truncated: [0, 0] });
    close(advantages, [1.25, 1]);
    close(returns, [2.25, 3]);
  });
  it('cuts the chain and bootstraps V(finalObs) at truncation', () => {
    const { advantages, returns } = gae({ ...base, terminated: [0, 0], truncated: [1, 0], truncValues: [6, 0] });
    close(advantages, [3, 1]);
    close(returns, [4, 3]);
  });
  it('uses a zero next value at termination', () => {
    const { advantages } = gae({ ...base, terminated: [0, 1], truncated: [0, 0] });
    close(advantages, [0.75, -1]);
  });
  it('with lambda = 1 equals discounted returns minus values', () => {
    const s = { numSteps: 4, numEnvs: 2, gamma: 0.9, rewards: [1, 0, 0.5, 1, -1, 2, 0, 1], values: [0.3, 0.1, -0.2, 0.5, 0.7, 0.2, 0.1, 0.9], terminated: [0, 0, 0, 1, 0, 0, 0, 0], truncated: [0, 0, 1, 0, 0, 0, 0, 0], truncValues: [0, 0, 2, 0, 0, 0, 0, 0], lastValues: [0.4, -0.6] };
    const { advantages } = gae({ ...s, lambda: 1 });
    const g = discountedReturns(s);
    close(advantages, Array.from(g, (x, i) => x - s.values[i]!));
  });
});

describe('normalizeAdvantages', () => {
  it('centres and scales to unit std', () => close(normalizeAdvantages([1, 2, 3]), [-1.224745, 0, 1.224745]));
  it('ignores masked entries and zeroes them', () => close(normalizeAdvantages([1, 100, 3], { mask: [1, 0, 1] }), [-1, 0, 1]));
});

describe('losses', () => {
  it('clipped surrogate, clip fraction and approx KL match hand values', () => {
    const out = tf.tidy(() => {
      const r = clippedSurrogateLoss({
        logProbs: tf.tensor1d([Math.log(1.5), Math.log(0.5), Math.log(1.1)]),
        oldLogProbs: tf.zeros([3]) as tf.Tensor1D,
        advantages: tf.tensor1d([1, 1, -2]),
        clip: 0.2,
      });
      return [r.loss.dataSync()[0]!, r.clipFraction.dataSync()[0]!, r.approxKl.dataSync()[0]!];
    });
    close(out, [0.5 / 3, 2 / 3, 0.097457]);
  });
  it('masked surrogate averages only unmasked entries', () => {
    const v = tf.tidy(() => clippedSurrogateLoss({ logProbs: tf.tensor1d([Math.log(1.5), 0]), oldLogProbs: tf.zeros([2]) as tf.Tensor1D, advantages: tf.tensor1d([1, 50]), clip: 0.2, mask: tf.tensor1d([1, 0]) }).loss.dataSync()[0]!);
    expect(v).toBeCloseTo(-1.2, 5);
  });
  it('value loss, plain and clipped', () => {
    const [plain, clipped] = tf.tidy(() => {
      const values = tf.tensor1d([1.9, 3]);
      const returns = tf.tensor1d([2, 2]);
      const oldValues = tf.tensor1d([1, 2.5]);
      return [valueLoss({ values, returns }).dataSync()[0]!, valueLoss({ values, returns, oldValues, clip: 0.2 }).dataSync()[0]!];
    });
    expect(plain).toBeCloseTo(0.2525, 5);
    expect(clipped).toBeCloseTo(0.41, 5);
  });
  it('entropy and log-probabilities of a categorical', () => {
    const [h, lp] = tf.tidy(() => {
      const logits = tf.tensor2d([[0, 0], [0, Math.log(3)]]);
      return [Array.from(categoricalEntropy(logits).dataSync()), Array.from(logProbOf(logits, tf.tensor1d([0, 1], 'int32')).dataSync())];
    });
    close(h!, [Math.LN2, 0.562335]);
    close(lp!, [-Math.LN2, Math.log(0.75)]);
  });
  it('linear schedule anneals to the end fraction', () => {
    expect(linearSchedule(1e-3, 0)).toBeCloseTo(1e-3, 10);
    expect(linearSchedule(1e-3, 0.5)).toBeCloseTo(5e-4, 10);
    expect(linearSchedule(1e-3, 2, 0.1)).toBeCloseTo(1e-4, 10);
  });
});
