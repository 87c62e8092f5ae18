import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { percentile, summarize } from '../../src/envs/episode-stats.js';

describe('summarize', () => {
  it('matches hand-computed values', () => {
    const s = summarize([4, 1, 3, 2, 10]);
    expect(s.mean).toBe(4);
    // squared deviations 0 + 9 + 1 + 4 + 36 = 50, / (n - 1) = 12.5
    expect(s.std).toBeCloseTo(Math.sqrt(12.5), 12);
    expect(s.sem).toBeCloseTo(Math.sqrt(12.5) / Math.sqrt(5), 12);
    expect(s.median).toBe(3);
    // sorted [1, 2, 3, 4, 10]: p05 at position 0.2 -> 1.2, p95 at 3.8 -> 4 + 0.8 * 6 = 8.8
    expect(s.p05).toBeCloseTo(1.2, 12);
    expect(s.p95).toBeCloseTo(8.8, 12);
    expect(s.min).toBe(1);
    expect(s.max).toBe(10);
  });

  it('gives null std and sem for one value', () => {
    expect(summarize([7])).toEqual({ mean: 7, std: null, sem: null, median: 7, p05: 7, p95: 7, min: 7, max: 7 });
  });

  it('interpolates the median of an even sample', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
  });

  it('rejects an empty sample', () => {
    expect(() => summarize([])).toThrow(InvalidConfigError);
  });
});
