/**
 * Observation normalisation and reward scaling of the policy-gradient agents, as Gymnasium's
 * `NormalizeObservation` and `NormalizeReward` wrappers (with CleanRL's clip of 10) that CleanRL's
 * continuous PPO trains with. They live in the agent rather than around the env so that the
 * statistics are part of the agent's snapshot and evaluation sees the same scaling.
 */
import { InvalidConfigError, formatError, describe } from '../../errors.js';

/** Clip of normalised observations and scaled rewards (CleanRL's TransformObservation/TransformReward). */
export const NORMALIZE_CLIP = 10;
/** Added to the variance before the square root (exported with the statistics so the runtime matches). */
export const NORMALIZE_EPS = 1e-8;
const EPS = NORMALIZE_EPS;

/** Plain-data state of a `RunningMeanStd` (JSON-safe). */
export interface RunningMeanStdState {
  mean: number[];
  var: number[];
  count: number;
}

/** Running mean and variance per dimension over batches (Chan et al. parallel update, as Gymnasium's). */
export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  // 1e-4 as Gymnasium: the first batch then dominates without dividing by zero.
  count = 1e-4;

  constructor(readonly size: number) {
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
  }

  /** Adds `rows` rows of `size` values (row-major). */
  update(x: ArrayLike<number>, rows: number): void {
    const d = this.size;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let r = 0; r < rows; r++) m += x[r * d + j]!;
      m /= rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (x[r * d + j]! - m) ** 2;
      v /= rows;
      const delta = m - this.mean[j]!;
      const total = this.count + rows;
      const m2 = this.var[j]! * this.count + v * rows + delta * delta * this.count * rows / total;
      this.mean[j] = this.mean[j]! + delta * rows / total;
      this.var[j] = m2 / total;
    }
    this.count += rows;
  }

  getState(): RunningMeanStdState {
    return { mean: Array.from(this.mean), var: Array.from(this.var), count: this.count };
  }

  setState(s: RunningMeanStdState): void {
    const ok = s && Array.isArray(s.mean) && Array.isArray(s.var) && s.mean.length === this.size && s.var.length === this.size && typeof s.count === 'number' && s.count > 0;
    if (!ok) throw new InvalidConfigError(formatError('RunningMeanStd.setState', `mean and var of ${this.size} values and a count > 0`, describe(s && { mean: s.mean?.length, var: s.var?.length, count: s.count }), 'load a snapshot of an agent for the same game'));
    this.mean = Float64Array.from(s.mean);
    this.var = Float64Array.from(s.var);
    this.count = s.count;
  }
}

/** clip((x - mean) / sqrt(var + eps)) per value of `rows` rows, into a new Float32Array. */
export function normalizeObs(stats: RunningMeanStd, x: ArrayLike<number>, rows: number): Float32Array {
  const d = stats.size;
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) {
      const v = (x[r * d + j]! - stats.mean[j]!) / Math.sqrt(stats.var[j]! + EPS);
      out[r * d + j] = Math.min(NORMALIZE_CLIP, Math.max(-NORMALIZE_CLIP, v));
    }
  }
  return out;
}

/** Plain-data state of a `RewardScaler`. */
export interface RewardScalerState {
  returns: number[];
  stats: RunningMeanStdState;
}

/**
 * Divides rewards by the running std of the discounted return (Gymnasium `NormalizeReward`,
 * the return accumulator restarts after any episode end, as gym 0.26's wrapper that CleanRL used), then clips.
 */
export class RewardScaler {
  private returns: Float64Array;
  private readonly stats = new RunningMeanStd(1);

  constructor(readonly numEnvs: number, readonly gamma: number) {
    this.returns = new Float64Array(numEnvs);
  }

  /** Scales one vector step of rewards (updates the statistics); returns a new array. */
  scale(rewards: ArrayLike<number>, terminated: ArrayLike<number>, truncated: ArrayLike<number>): Float32Array {
    const N = this.numEnvs;
    for (let e = 0; e < N; e++) this.returns[e] = this.returns[e]! * this.gamma + rewards[e]!;
    this.stats.update(this.returns, N);
    const std = Math.sqrt(this.stats.var[0]! + EPS);
    const out = new Float32Array(N);
    for (let e = 0; e < N; e++) {
      out[e] = Math.min(NORMALIZE_CLIP, Math.max(-NORMALIZE_CLIP, rewards[e]! / std));
      if (terminated[e] || truncated[e]) this.returns[e] = 0;
    }
    return out;
  }

  getState(): RewardScalerState {
    return { returns: Array.from(this.returns), stats: this.stats.getState() };
  }

  setState(s: RewardScalerState): void {
    if (!s || !Array.isArray(s.returns) || s.returns.length !== this.numEnvs) throw new InvalidConfigError(formatError('RewardScaler.setState', `${this.numEnvs} running returns`, describe(s?.returns?.length), 'resume with the same number of envs'));
    this.returns = Float64Array.from(s.returns);
    this.stats.setState(s.stats);
  }
}
