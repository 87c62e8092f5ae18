import { describe, it, expect } from 'vitest';
import { parseSeeds } from '../../bench/seeds.js';
import { InvalidConfigError } from '../../src/errors.js';

describe('bench seeds: --seeds', () => {
  it('takes a range or a list', () => {
    expect(parseSeeds('0-4')).toEqual([0, 1, 2, 3, 4]);
    expect(parseSeeds('3')).toEqual([3]);
    expect(parseSeeds('0,3,4')).toEqual([0, 3, 4]);
  });
  it('rejects junk by name', () => {
    for (const bad of ['4-0', 'a', '1,,2', '-1']) {
      expect(() => parseSeeds(bad)).toThrow(InvalidConfigError);
      expect(() => parseSeeds(bad)).toThrow(/\[bench seeds\] expected --seeds as a range/);
    }
  });
});
