/** The compare chart's numbers against hand-computed values: smoothing, alignment across runs, downsampling. */
import { describe, expect, it } from 'vitest';
import { AGG_GRID, MAX_UNION_GRID, aggregate, downsampleMinMax, emaSmooth, finitePoints, interpolate, nearestIndex } from '../../src/render/app/curve-math.js';

const f64 = (...v: number[]): Float64Array => Float64Array.from(v);

describe('emaSmooth (TensorBoard)', () => {
  it('debiases the start and follows last * w + (1 - w) * v', () => {
    // w = 0.5: last 1, 2.5, 3.75; debias 0.5, 0.75, 0.875.
    const s = emaSmooth(f64(2, 4, 5), 0.5);
    expect(Array.from(s)).toEqual([2, 2.5 / 0.75, 3.75 / 0.875]);
    expect(Array.from(emaSmooth(f64(3, 3, 3, 3), 0.9)).map((v) => +v.toFixed(12))).toEqual([3, 3, 3, 3]);
    expect(Array.from(emaSmooth(f64(1, -1, 5), 0))).toEqual([1, -1, 5]);
  });
});

describe('finitePoints', () => {
  it('drops non-finite values and sorts by x (stable) when asked', () => {
    const s = finitePoints(f64(3, 1, 2, 1), Float32Array.of(30, NaN, 20, 10), false);
    expect(Array.from(s.x)).toEqual([1, 2, 3]);
    expect(Array.from(s.y)).toEqual([10, 20, 30]);
  });
});

describe('interpolate and nearestIndex', () => {
  const xs = f64(0, 10, 20);
  const ys = f64(0, 100, 50);
  it('interpolates linearly inside the range and is NaN outside', () => {
    expect(interpolate(xs, ys, 5)).toBe(50);
    expect(interpolate(xs, ys, 15)).toBe(75);
    expect(interpolate(xs, ys, 20)).toBe(50);
    expect(interpolate(xs, ys, -1)).toBeNaN();
    expect(interpolate(xs, ys, 21)).toBeNaN();
  });
  it('finds the nearest point (ties to the left)', () => {
    expect(nearestIndex(xs, 4)).toBe(0);
    expect(nearestIndex(xs, 5)).toBe(0);
    expect(nearestIndex(xs, 6)).toBe(1);
    expect(nearestIndex(xs, 100)).toBe(2);
    expect(nearestIndex(xs, -100)).toBe(0);
  });
});

describe('aggregate', () => {
  it('on one shared step grid: mean, min and max point by point', () => {
    const a = aggregate([{ x: f64(1, 2, 3), y: f64(1, 2, 3) }, { x: f64(1, 2, 3), y: f64(3, 2, 7) }]);
    expect(Array.from(a.x)).toEqual([1, 2, 3]);
    expect(Array.from(a.mean)).toEqual([2, 2, 5]);
    expect(Array.from(a.min)).toEqual([1, 2, 3]);
    expect(Array.from(a.max)).toEqual([3, 2, 7]);
    expect(Array.from(a.count)).toEqual([2, 2, 2]);
  });

  it('on different grids: the union of steps, each run interpolated within its own range only', () => {
    // Run A logs at 0, 10, 20; run B at 5, 15 (and stops there).
    const a = aggregate([{ x: f64(0, 10, 20), y: f64(0, 10, 20) }, { x: f64(5, 15), y: f64(100, 200) }]);
    expect(Array.from(a.x)).toEqual([0, 5, 10, 15, 20]);
    expect(Array.from(a.count)).toEqual([1, 2, 2, 2, 1]);
    // At 10, B is halfway between 100 and 200.
    expect(a.mean[2]).toBe((10 + 150) / 2);
    expect(a.min[1]).toBe(5);
    expect(a.max[3]).toBe(200);
    expect(a.mean[0]).toBe(0);
  });

  it('past MAX_UNION_GRID distinct steps: an even grid of AGG_GRID steps', () => {
    const n = MAX_UNION_GRID + 1;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const a = aggregate([{ x, y: x }, { x: x.map((v) => v + 0.5), y: x }]);
    expect(a.x.length).toBe(AGG_GRID);
    expect(a.x[0]).toBe(0);
    expect(a.x[AGG_GRID - 1]).toBe(n - 0.5);
  });
});

describe('downsampleMinMax', () => {
  it('keeps each pixel column as its min and max in the order they occur', () => {
    const xs = f64(0, 1, 2, 3, 4, 5, 6, 7);
    const ys = f64(5, 9, 1, 4, 2, 2, 8, 0);
    // Two columns over [0, 8): x 0-3 and 4-7.
    const d = downsampleMinMax(xs, ys, 0, 8, 2);
    expect(d.x).toEqual([1, 2, 6, 7]);
    expect(d.y).toEqual([9, 1, 8, 0]);
  });
  it('turns a million points into at most two per column', () => {
    const n = 1_000_000;
    const xs = Float64Array.from({ length: n }, (_, i) => i);
    const ys = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 1000));
    const d = downsampleMinMax(xs, ys, 0, n - 1, 640);
    expect(d.x.length).toBeLessThanOrEqual(1280);
    expect(Math.max(...d.y)).toBeCloseTo(1, 5);
    expect(Math.min(...d.y)).toBeCloseTo(-1, 5);
  });
});

describe('RunMetrics: series and smoothing extended as the file grows', () => {
  it('equals a full recompute after every piece, and after x goes back (rebuild) or the weight changes', async () => {
    const { RunMetrics } = await import('../../src/render/app/curves.js');
    const m = new RunMetrics('r');
    const enc = new TextEncoder();
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ step: i + 1, v: i % 7 === 0 ? null : Math.sin(i / 9) * 10 }) + '\n').join('');
    const check = (w: number): void => {
      const s = m.series('v')!;
      const col = m.parser.column('v')!;
      const full = finitePoints(col.x, col.y, m.parser.monotonic);
      expect(Array.from(s.x)).toEqual(Array.from(full.x));
      expect(Array.from(s.y)).toEqual(Array.from(full.y));
      const smooth = Array.from(m.smoothed('v', s, w));
      expect(smooth.map((v) => +v.toFixed(9))).toEqual(Array.from(emaSmooth(full.y, w)).map((v) => +v.toFixed(9)));
    };
    for (let o = 0; o < lines.length; o += 997) {
      m.parser.push(enc.encode(lines.slice(o, o + 997)));
      m.version++;
      check(0.8);
    }
    check(0.3);
    check(0);
    m.parser.push(enc.encode('{"step":0.5,"v":100}\n{"step":501,"v":1}\n'));
    m.version++;
    expect(m.parser.monotonic).toBe(false);
    check(0.3);
    expect(m.series('v')!.x[0]).toBe(0.5);
  });
});
