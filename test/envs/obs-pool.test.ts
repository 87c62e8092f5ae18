import { describe, expect, it } from 'vitest';
import { ObsPool } from '../../src/envs/obs-pool.js';

describe('ObsPool', () => {
  it('hands out zeroed, non-overlapping views across chunk boundaries', () => {
    const pool = new ObsPool(100, 1000);
    const views = Array.from({ length: 25 }, () => pool.take());
    for (const [i, v] of views.entries()) {
      expect(v.length).toBe(100);
      expect(v.every((x) => x === 0)).toBe(true);
      v.fill(i + 1);
    }
    // Writing every view after the fact left the earlier ones intact.
    for (const [i, v] of views.entries()) expect(v.every((x) => x === i + 1)).toBe(true);
    expect(new Set(views.map((v) => v.buffer)).size).toBe(3);
  });

  it('uses one chunk per observation when the observation is larger than a chunk', () => {
    const pool = new ObsPool(5000, 1000);
    const a = pool.take();
    const b = pool.take();
    expect(a.length).toBe(5000);
    expect(a.buffer).not.toBe(b.buffer);
  });
});

