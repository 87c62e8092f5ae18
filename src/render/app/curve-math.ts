/**
 * The numbers behind the compare chart, DOM-free: a metric's finite points, TensorBoard's smoothing,
 * the mean and min-max band across runs, and the per-pixel-column downsampling that keeps a
 * million-point curve a few thousand SVG points.
 */

/** One run's points of one metric: finite values only, x ascending. */
export interface Series {
  x: Float64Array;
  y: Float64Array;
}

/** The finite (x, y) pairs of a column, sorted by x (stable) unless the caller knows they are. */
export function finitePoints(x: ArrayLike<number>, y: ArrayLike<number>, sorted: boolean): Series {
  let n = 0;
  for (let i = 0; i < y.length; i++) if (Number.isFinite(y[i]!) && Number.isFinite(x[i]!)) n++;
  const order = new Uint32Array(n);
  n = 0;
  for (let i = 0; i < y.length; i++) if (Number.isFinite(y[i]!) && Number.isFinite(x[i]!)) order[n++] = i;
  // Resumed or hand-edited files can go back in x: sort once (ties keep file order).
  if (!sorted) order.sort((a, b) => x[a]! - x[b]! || a - b);
  const out = { x: new Float64Array(n), y: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.x[i] = x[order[i]!]!;
    out.y[i] = y[order[i]!]!;
  }
  return out;
}

/**
 * TensorBoard's scalar smoothing: an exponential moving average with weight `w` in [0, 1)
 * (`last = last * w + (1 - w) * v`), divided by `1 - w^n` after n points so the start is not pulled
 * towards 0. w = 0 returns the values unchanged.
 */
export function emaSmooth(y: Float64Array, w: number): Float64Array {
  const out = new Float64Array(y.length);
  if (!(w > 0)) {
    out.set(y);
    return out;
  }
  let last = 0;
  let debias = 1;
  for (let i = 0; i < y.length; i++) {
    last = last * w + (1 - w) * y[i]!;
    debias *= w;
    out[i] = last / (1 - debias);
  }
  return out;
}

/** Index of the point whose x is nearest `x` (the series is x-ascending and not empty). */
export function nearestIndex(xs: Float64Array, x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && x - xs[lo - 1]! <= xs[lo]! - x ? lo - 1 : lo;
}

/** y at `x` by linear interpolation between the neighbouring points; NaN outside the series' x range. */
export function interpolate(xs: Float64Array, ys: Float64Array, x: number): number {
  const n = xs.length;
  if (!n || x < xs[0]! || x > xs[n - 1]!) return NaN;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (xs[lo] === x || lo === 0) return ys[lo]!;
  const x0 = xs[lo - 1]!;
  const x1 = xs[lo]!;
  return ys[lo - 1]! + ((ys[lo]! - ys[lo - 1]!) * (x - x0)) / (x1 - x0);
}

/** The mean and min-max band across runs at each grid x, and how many runs cover it. */
export interface Aggregate {
  x: Float64Array;
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  count: Uint16Array;
}

/** Union grids up to this many distinct steps are used as they are; beyond, an even grid of `AGG_GRID` steps. */
export const MAX_UNION_GRID = 20_000;
export const AGG_GRID = 2000;

/**
 * Mean, min and max across runs, aligned on x (the step). Runs logged on the same steps combine
 * point by point. Runs on different step grids combine on the union of their steps (or, past
 * MAX_UNION_GRID steps, an even grid of AGG_GRID steps over the whole range): each run contributes
 * its value linearly interpolated between its two neighbouring logged steps, and only inside its
 * own range (no run is extended past its first or last step), so `count` says how many runs a
 * point stands for.
 */
export function aggregate(series: readonly Series[]): Aggregate {
  const live = series.filter((s) => s.x.length > 0);
  let grid: Float64Array;
  const total = live.reduce((n, s) => n + s.x.length, 0);
  const union = total <= MAX_UNION_GRID * 4 ? [...new Set(live.flatMap((s) => Array.from(s.x)))].sort((a, b) => a - b) : null;
  if (union && union.length <= MAX_UNION_GRID) grid = Float64Array.from(union);
  else {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of live) (lo = Math.min(lo, s.x[0]!)), (hi = Math.max(hi, s.x[s.x.length - 1]!));
    grid = new Float64Array(AGG_GRID);
    for (let i = 0; i < AGG_GRID; i++) grid[i] = lo + ((hi - lo) * i) / (AGG_GRID - 1);
  }
  const n = grid.length;
  const out: Aggregate = { x: grid, mean: new Float64Array(n), min: new Float64Array(n).fill(Infinity), max: new Float64Array(n).fill(-Infinity), count: new Uint16Array(n) };
  for (const s of live) {
    for (let i = 0; i < n; i++) {
      const v = interpolate(s.x, s.y, grid[i]!);
      if (!Number.isFinite(v)) continue;
      out.mean[i]! += v;
      out.count[i]!++;
      if (v < out.min[i]!) out.min[i] = v;
      if (v > out.max[i]!) out.max[i] = v;
    }
  }
  for (let i = 0; i < n; i++) {
    if (out.count[i]) out.mean[i]! /= out.count[i]!;
    else out.mean[i] = out.min[i] = out.max[i] = NaN;
  }
  return out;
}

/**
 * A curve reduced for drawing: the points between `x0` and `x1` split into `columns` pixel columns,
 * each column kept as its minimum and maximum (in the order they occur), so spikes stay visible and
 * a million points become at most 2 x columns. Points outside [x0, x1] are dropped.
 */
export function downsampleMinMax(xs: ArrayLike<number>, ys: ArrayLike<number>, x0: number, x1: number, columns: number): { x: number[]; y: number[] } {
  const out = { x: [] as number[], y: [] as number[] };
  const span = x1 - x0 || 1;
  let col = -1;
  let iMin = -1;
  let iMax = -1;
  const flush = (): void => {
    if (iMin < 0) return;
    const a = Math.min(iMin, iMax);
    const b = Math.max(iMin, iMax);
    out.x.push(xs[a]!);
    out.y.push(ys[a]!);
    if (b !== a) {
      out.x.push(xs[b]!);
      out.y.push(ys[b]!);
    }
  };
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (x < x0 || x > x1 || !Number.isFinite(y)) continue;
    const c = Math.min(columns - 1, Math.floor(((x - x0) / span) * columns));
    if (c !== col) {
      flush();
      col = c;
      iMin = iMax = i;
    } else {
      if (y < ys[iMin]!) iMin = i;
      if (y > ys[iMax]!) iMax = i;
    }
  }
  flush();
  return out;
}
