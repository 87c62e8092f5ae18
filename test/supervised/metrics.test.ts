import { describe, expect, it } from 'vitest';
import { argmaxRows, balancedClassWeights, classificationReport, pickMisclassified } from '../../src/supervised/metrics.js';

describe('classification metrics', () => {
  it('matches a hand-computed report', () => {
    // truth a a a b b c ; pred a a b b c c
    const r = classificationReport(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]);
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    expect(r.confusion).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    expect(r.per_class.a).toEqual({ precision: 1, recall: 2 / 3, f1: 0.8, support: 3 });
    expect(r.per_class.b!.precision).toBeCloseTo(0.5, 12);
    expect(r.per_class.c!.precision).toBeCloseTo(0.5, 12);
    expect(r.per_class.c!.recall).toBe(1);
  });

  it('argmax per row and balanced weights', () => {
    expect(Array.from(argmaxRows([0.1, 0.9, 0.7, 0.3], 2))).toEqual([1, 0]);
    expect(balancedClassWeights([0, 0, 0, 1], 2)).toEqual([4 / 6, 2]);
  });

  it('picks misclassified samples class by class in turn, in test order, at most max', () => {
    // index:  0  1  2  3  4  5  6  7  8
    // truth:  0  0  0  0  1  1  2  2  2
    // pred:   1  2  0  1  0  1  0  0  2   -> wrong: class 0 at 0, 1, 3; class 1 at 4; class 2 at 6, 7
    const truth = [0, 0, 0, 0, 1, 1, 2, 2, 2];
    const pred = [1, 2, 0, 1, 0, 1, 0, 0, 2];
    expect(pickMisclassified(truth, pred, 16)).toEqual([0, 4, 6, 1, 7, 3]);
    expect(pickMisclassified(truth, pred, 4)).toEqual([0, 4, 6, 1]);
    expect(pickMisclassified([0, 1], [0, 1], 16)).toEqual([]);
  });
});
