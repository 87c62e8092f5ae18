import { describe, expect, it } from 'vitest';
import { ObsSlab } from '../../../games/common/obs-slab.js';
import { fillRect, solidFrame } from '../../../games/common/raster.js';

describe('ObsSlab', () => {
  it('hands out zeroed, non-overlapping views across slab boundaries', () => {
    const slab = new ObsSlab(100, 1000);
    const views = Array.from({ length: 25 }, () => slab.next());
    for (const [i, v] of views.entries()) {
      expect(v.length).toBe(100);
      expect(v.every((x) => x === 0)).toBe(true);
      v.fill(i + 1);
    }
    // Writing every view after the fact left the earlier ones intact.
    for (const [i, v] of views.entries()) expect(v.every((x) => x === i + 1)).toBe(true);
    expect(new Set(views.map((v) => v.buffer)).size).toBe(3);
  });

  it('uses one slab per observation when the observation is larger than a slab', () => {
    const slab = new ObsSlab(5000, 1000);
    const a = slab.next();
    const b = slab.next();
    expect(a.length).toBe(5000);
    expect(a.buffer).not.toBe(b.buffer);
  });
});

describe('raster', () => {
  it('fillRect paints exactly the rectangle', () => {
    const data = solidFrame(4, 3, 1, 2, 3);
    fillRect(data, 4, 1, 1, 2, 2, 9, 8, 7);
    const painted: string[] = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) if (data[(y * 4 + x) * 3] === 9) painted.push(`${x},${y}`);
    expect(painted).toEqual(['1,1', '2,1', '1,2', '2,2']);
    expect(Array.from(data.slice(0, 3))).toEqual([1, 2, 3]);
    expect(Array.from(data.slice((2 * 4 + 2) * 3, (2 * 4 + 2) * 3 + 3))).toEqual([9, 8, 7]);
  });
});
