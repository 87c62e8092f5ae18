import { describe, expect, it } from 'vitest';
import { fillRect, solidFrame } from '../../../games/common/raster.js';

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
