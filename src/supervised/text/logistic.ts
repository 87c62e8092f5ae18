/**
 * L2-regularised logistic regression on sparse rows, trained full batch by L-BFGS in float64.
 * No randomness: the same data and settings give the same weights bit for bit.
 *
 * Binary objective (scikit-learn's C convention, so C values carry over):
 *   f(w, b) = sum_i log(1 + exp(-y_i (w.x_i + b))) + ||w||^2 / (2 C),  y_i in {-1, +1}
 * More than two classes: one classifier per class against the rest.
 *
 * NB weighting (Wang & Manning 2012, "Baselines and bigrams", NB-LR): each feature is scaled by
 * the log-count ratio r = log((p / |p|_1) / (q / |q|_1)), p = alpha + sum of the positive rows,
 * q = alpha + sum of the negative rows, before the regression. Since the model stays linear, the
 * saved weights fold r in (w_j r_j) and prediction needs no r.
 */
import type { CsrMatrix } from './ngram-features.js';

/** Training settings of one logistic regression. */
export interface LogisticConfig {
  /** Inverse L2 strength (larger = weaker regularisation). */
  c: number;
  /** Scale features by the NB log-count ratio before fitting. */
  nbWeighting: boolean;
  /** Additive smoothing of the NB counts. */
  nbAlpha: number;
  /** Most L-BFGS iterations. */
  maxIterations: number;
  /** Stop when the largest gradient component is below this (objective units). */
  gradientTolerance: number;
  /** L-BFGS memory (pairs kept). */
  memory: number;
}

export const DEFAULT_LOGISTIC_CONFIG: LogisticConfig = { c: 10, nbWeighting: false, nbAlpha: 1, maxIterations: 300, gradientTolerance: 1e-5, memory: 10 };

/** A fitted binary classifier: score = w.x + b (NB ratio already folded into w). */
export interface BinaryLogistic {
  weights: Float64Array;
  bias: number;
  iterations: number;
  /** Final objective value. */
  objective: number;
}

/** x . w for every row of `x`, plus `bias`. */
export function sparseScores(x: CsrMatrix, w: ArrayLike<number>, bias: number, out = new Float64Array(x.rows)): Float64Array {
  for (let i = 0; i < x.rows; i++) {
    let s = bias;
    for (let k = x.indptr[i]!; k < x.indptr[i + 1]!; k++) s += x.values[k]! * w[x.indices[k]!]!;
    out[i] = s;
  }
  return out;
}

/** log(1 + exp(z)) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** NB log-count ratio of each column for labels y in {-1, +1}. */
export function nbLogCountRatio(x: CsrMatrix, y: Int8Array, alpha: number): Float64Array {
  const p = new Float64Array(x.cols).fill(alpha);
  const q = new Float64Array(x.cols).fill(alpha);
  for (let i = 0; i < x.rows; i++) {
    const side = y[i]! > 0 ? p : q;
    for (let k = x.indptr[i]!; k < x.indptr[i + 1]!; k++) side[x.indices[k]!]! += x.values[k]!;
  }
  let sp = 0;
  let sq = 0;
  for (let j = 0; j < x.cols; j++) {
    sp += p[j]!;
    sq += q[j]!;
  }
  return Float64Array.from(p, (pj, j) => Math.log(pj / sp / (q[j]! / sq)));
}

function scaleColumns(x: CsrMatrix, r: Float64Array): CsrMatrix {
  return { ...x, values: Float64Array.from(x.values, (v, k) => v * r[x.indices[k]!]!) };
}

/** Fits one binary classifier; `y[i]` is +1 or -1. */
export function fitBinaryLogistic(x: CsrMatrix, y: Int8Array, partial: Partial<LogisticConfig> = {}): BinaryLogistic {
  const cfg = { ...DEFAULT_LOGISTIC_CONFIG, ...partial };
  const r = cfg.nbWeighting ? nbLogCountRatio(x, y, cfg.nbAlpha) : null;
  const xs = r ? scaleColumns(x, r) : x;
  const d = xs.cols + 1; // last parameter = bias (not regularised)
  const z = new Float64Array(xs.rows);
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    sparseScores(xs, theta, theta[d - 1]!, z);
    grad.fill(0);
    let f = 0;
    for (let i = 0; i < xs.rows; i++) {
      const m = y[i]! * z[i]!;
      f += softplus(-m);
      // d/dz log(1 + exp(-y z)) = -y sigmoid(-y z)
      const g = -y[i]! / (1 + Math.exp(m));
      for (let k = xs.indptr[i]!; k < xs.indptr[i + 1]!; k++) grad[xs.indices[k]!]! += g * xs.values[k]!;
      grad[d - 1]! += g;
    }
    for (let j = 0; j < d - 1; j++) {
      f += (theta[j]! * theta[j]!) / (2 * cfg.c);
      grad[j]! += theta[j]! / cfg.c;
    }
    return f;
  };
  const { theta, iterations, value } = lbfgs(evaluate, new Float64Array(d), cfg);
  const weights = theta.subarray(0, d - 1);
  if (r) for (let j = 0; j < weights.length; j++) weights[j]! *= r[j]!;
  return { weights: Float64Array.from(weights), bias: theta[d - 1]!, iterations, objective: value };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Limited-memory BFGS (two-loop recursion) with a backtracking Armijo line search; minimises a smooth convex `f`. */
export function lbfgs(f: (theta: Float64Array, grad: Float64Array) => number, theta0: Float64Array, cfg: Pick<LogisticConfig, 'maxIterations' | 'gradientTolerance' | 'memory'>): { theta: Float64Array; iterations: number; value: number } {
  const n = theta0.length;
  let theta = Float64Array.from(theta0);
  let grad = new Float64Array(n);
  let value = f(theta, grad);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const alphas = new Float64Array(cfg.memory);
  let it = 0;
  for (; it < cfg.maxIterations; it++) {
    let gmax = 0;
    for (let j = 0; j < n; j++) gmax = Math.max(gmax, Math.abs(grad[j]!));
    if (gmax < cfg.gradientTolerance) break;
    // Two-loop recursion: dir = -H grad.
    for (let j = 0; j < n; j++) dir[j] = -grad[j]!;
    for (let k = sList.length - 1; k >= 0; k--) {
      alphas[k] = rho[k]! * dot(sList[k]!, dir);
      const yk = yList[k]!;
      for (let j = 0; j < n; j++) dir[j]! -= alphas[k]! * yk[j]!;
    }
    const last = sList.length - 1;
    const gamma = last >= 0 ? dot(sList[last]!, yList[last]!) / dot(yList[last]!, yList[last]!) : 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
    for (let j = 0; j < n; j++) dir[j]! *= gamma;
    for (let k = 0; k < sList.length; k++) {
      const beta = rho[k]! * dot(yList[k]!, dir);
      const sk = sList[k]!;
      for (let j = 0; j < n; j++) dir[j]! += (alphas[k]! - beta) * sk[j]!;
    }
    let slope = dot(grad, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sList.length = yList.length = rho.length = 0;
      for (let j = 0; j < n; j++) dir[j] = -grad[j]!;
      slope = dot(grad, dir);
    }
    let step = 1;
    const next = new Float64Array(n);
    const nextGrad = new Float64Array(n);
    let nextValue = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < n; j++) next[j] = theta[j]! + step * dir[j]!;
      nextValue = f(next, nextGrad);
      if (nextValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextValue < value)) break; // no progress possible at float64 precision
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = next[j]! - theta[j]!;
      yv[j] = nextGrad[j]! - grad[j]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      sList.push(s);
      yList.push(yv);
      rho.push(1 / sy);
      if (sList.length > cfg.memory) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
    }
    const relative = (value - nextValue) / Math.max(Math.abs(value), 1);
    theta = next;
    grad = nextGrad;
    value = nextValue;
    if (relative < 1e-12) {
      it++;
      break;
    }
  }
  return { theta, iterations: it, value };
}
