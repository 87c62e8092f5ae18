/**
 * Action distributions shared by every agent: one per kind of action space.
 *
 * - `Categorical`: `Discrete` actions, from logits [B, A].
 * - `MultiCategorical`: `MultiDiscrete` actions, a product of Categoricals over slices of one
 *   logits tensor [B, sum(nvec)].
 * - `DiagGaussian`: `Box` actions for on-policy agents (PPO, A2C): mean from the network and a
 *   state-independent log-std parameter (CleanRL `ppo_continuous_action.py`). The env gets the
 *   sample clipped to the Box (`clipToBox`); the log-probability is taken of the unclipped sample.
 * - `TanhGaussian`: `Box` actions for SAC: a Gaussian squashed by tanh and scaled to the bounds.
 *
 * Ownership: a distribution keeps references to the tensors it was built from and never disposes
 * them; it must not outlive them. Every method returns new tensors that the caller owns (and
 * disposes). Methods run inside `tf.tidy`, so no intermediate tensor leaks. Inside
 * `tf.variableGrads`/`tf.grad` the results stay differentiable w.r.t. the inputs.
 *
 * Randomness: sampling takes an explicit `Rng` and derives one tfjs seed per draw from it, so a
 * seeded Rng gives the same samples on the same backend (never `Math.random`).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import type { Rng } from '../../envs/rng.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** The operations every distribution offers. `A` is the action tensor type. */
export interface ActionDistribution<A extends tf.Tensor = tf.Tensor> {
  /** One action per row, drawn with a seed taken from `rng`. Caller owns the result. */
  sample(rng: Rng): A;
  /** log pi(a) per row [B], summed over parts or dimensions. Caller owns the result. */
  logProb(actions: A): tf.Tensor1D;
  /** The greedy action per row (evaluation mode). Caller owns the result. */
  mode(): A;
}

/** A tfjs seed from one draw of the caller's RNG. */
function seedFrom(rng: Rng): number {
  return rng.int(0, 0x7fffffff);
}

function requireRank(component: string, name: string, t: tf.Tensor, rank: number, fix: string): void {
  if (t.rank !== rank) throw new SpaceMismatchError(formatError(component, `${name} of rank ${rank}`, `shape [${t.shape.join(', ')}]`, fix));
}

/**
 * Samples one index per row of `logits` [B, A] by Gumbel-max: argmax(logits - log(-log(u))),
 * u ~ U(0, 1). Not `tf.multinomial`: given a seed, its cpu kernel restarts the generator for every
 * row, so all rows of a batch would draw the same number. Caller owns the [B] int32 result.
 */
function sampleCategorical(logits: tf.Tensor2D, seed: number): tf.Tensor1D {
  return tf.tidy(() => {
    // u = 0 would give an infinite Gumbel noise; 1e-30 keeps it finite and is far below 2^-24.
    const u = tf.maximum(tf.randomUniform(logits.shape, 0, 1, 'float32', seed), 1e-30);
    const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
    return tf.cast(tf.argMax(tf.add(logits, gumbel), 1), 'int32') as tf.Tensor1D;
  });
}

function categoricalLogProb(logits: tf.Tensor2D, actions: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(actions, 'int32'), logits.shape[1]);
    return tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1) as tf.Tensor1D;
  });
}

function categoricalEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D;
  });
}

/** Distribution over `Discrete` actions: softmax of `logits` [B, A]. Actions are int32 [B]. */
export class Categorical implements ActionDistribution<tf.Tensor1D> {
  constructor(readonly logits: tf.Tensor2D) {
    requireRank('Categorical', 'logits', logits, 2, 'pass logits of shape [batch, numActions]');
  }

  sample(rng: Rng): tf.Tensor1D {
    return sampleCategorical(this.logits, seedFrom(rng));
  }

  logProb(actions: tf.Tensor1D): tf.Tensor1D {
    return categoricalLogProb(this.logits, actions);
  }

  /** Entropy per row (nats). Caller owns the result. */
  entropy(): tf.Tensor1D {
    return categoricalEntropy(this.logits);
  }

  /** The most likely action (the first on ties). */
  mode(): tf.Tensor1D {
    return tf.tidy(() => tf.cast(tf.argMax(this.logits, 1), 'int32') as tf.Tensor1D);
  }

  /** Action probabilities [B, A] (for the viewer and agent info). Caller owns the result. */
  probs(): tf.Tensor2D {
    return tf.softmax(this.logits) as tf.Tensor2D;
  }
}

/**
 * Distribution over `MultiDiscrete` actions: independent Categoricals, part i reading logits
 * columns [sum(nvec[:i]), sum(nvec[:i+1])). Actions are int32 [B, parts]; log-probability and
 * entropy are sums over parts (a product distribution, as SB3's MultiCategoricalDistribution).
 */
export class MultiCategorical implements ActionDistribution<tf.Tensor2D> {
  readonly nvec: readonly number[];

  constructor(readonly logits: tf.Tensor2D, nvec: readonly number[]) {
    requireRank('MultiCategorical', 'logits', logits, 2, 'pass logits of shape [batch, sum(nvec)]');
    if (!Array.isArray(nvec) || nvec.length === 0 || nvec.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new InvalidConfigError(formatError('MultiCategorical', 'nvec to be a non-empty array of positive integers', describe(nvec), 'pass the MultiDiscrete space nvec, e.g. [3, 2]'));
    }
    const total = nvec.reduce((a, b) => a + b, 0);
    if (logits.shape[1] !== total) {
      throw new SpaceMismatchError(formatError('MultiCategorical', `logits with sum(nvec) = ${total} columns`, `shape [${logits.shape.join(', ')}]`, 'size the policy head to the sum of nvec'));
    }
    this.nvec = Object.freeze([...nvec]);
  }

  /** The logits of each part. Tensors are new; callers inside tidy need not dispose them. */
  private parts(): tf.Tensor2D[] {
    return this.nvec.length === 1 ? [tf.clone(this.logits)] : (tf.split(this.logits, [...this.nvec], 1) as tf.Tensor2D[]);
  }

  /** Draws every part with its own seed from `rng` (parts in order). */
  sample(rng: Rng): tf.Tensor2D {
    const seeds = this.nvec.map(() => seedFrom(rng));
    return tf.tidy(() => tf.stack(this.parts().map((p, i) => sampleCategorical(p, seeds[i]!)), 1) as tf.Tensor2D);
  }

  logProb(actions: tf.Tensor2D): tf.Tensor1D {
    requireRank('MultiCategorical.logProb', 'actions', actions, 2, 'pass int actions of shape [batch, parts]');
    if (actions.shape[1] !== this.nvec.length) {
      throw new SpaceMismatchError(formatError('MultiCategorical.logProb', `actions with ${this.nvec.length} parts`, `shape [${actions.shape.join(', ')}]`, 'pass one index per part'));
    }
    return tf.tidy(() => {
      const cols = tf.unstack(actions, 1) as tf.Tensor1D[];
      return tf.addN(this.parts().map((p, i) => categoricalLogProb(p, cols[i]!))) as tf.Tensor1D;
    });
  }

  /** Sum of the parts' entropies per row (nats). Caller owns the result. */
  entropy(): tf.Tensor1D {
    return tf.tidy(() => tf.addN(this.parts().map((p) => categoricalEntropy(p))) as tf.Tensor1D);
  }

  mode(): tf.Tensor2D {
    return tf.tidy(() => tf.stack(this.parts().map((p) => tf.cast(tf.argMax(p, 1), 'int32')), 1) as tf.Tensor2D);
  }
}

/**
 * Diagonal Gaussian over `Box` actions: N(mean [B, D], exp(logStd)^2), `logStd` of shape [D]
 * (the state-independent parameter of CleanRL's continuous PPO) or [B, D]. Actions are float32
 * [B, D]; log-probability and entropy are summed over the D dimensions.
 */
export class DiagGaussian implements ActionDistribution<tf.Tensor2D> {
  constructor(
    readonly mean: tf.Tensor2D,
    readonly logStd: tf.Tensor1D | tf.Tensor2D,
  ) {
    checkGaussianArgs('DiagGaussian', mean, logStd);
  }

  /** mean + std * eps with eps ~ N(0, 1); the unclipped sample (see `clipToBox` for the env). */
  sample(rng: Rng): tf.Tensor2D {
    const seed = seedFrom(rng);
    return tf.tidy(() => tf.add(this.mean, tf.mul(tf.exp(this.logStd), tf.randomNormal(this.mean.shape, 0, 1, 'float32', seed))) as tf.Tensor2D);
  }

  /** sum_d [-(a - mean)^2 / (2 std^2) - logStd - log(2 pi) / 2]; pass the unclipped sample. */
  logProb(actions: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => gaussianLogProb(this.mean, this.logStd, actions));
  }

  /** sum_d [1/2 + log(2 pi)/2 + logStd] per row (nats). Caller owns the result. */
  entropy(): tf.Tensor1D {
    return tf.tidy(() => {
      const perDim = tf.add(tf.zerosLike(this.mean), tf.add(this.logStd, 0.5 + HALF_LOG_2PI));
      return tf.sum(perDim, 1) as tf.Tensor1D;
    });
  }

  /** The mean (a copy the caller owns). */
  mode(): tf.Tensor2D {
    return tf.clone(this.mean);
  }
}

function checkGaussianArgs(component: string, mean: tf.Tensor, logStd: tf.Tensor): void {
  requireRank(component, 'mean', mean, 2, 'pass the mean of shape [batch, actionDims]');
  const d = mean.shape[1];
  const ok = (logStd.rank === 1 && logStd.shape[0] === d) || (logStd.rank === 2 && logStd.shape[0] === mean.shape[0] && logStd.shape[1] === d);
  if (!ok) {
    throw new SpaceMismatchError(formatError(component, `logStd of shape [${d}] or [${mean.shape[0]}, ${d}]`, `shape [${logStd.shape.join(', ')}]`, 'pass one log-std per action dimension'));
  }
}

function gaussianLogProb(mean: tf.Tensor2D, logStd: tf.Tensor, x: tf.Tensor2D): tf.Tensor1D {
  const z = tf.div(tf.sub(x, mean), tf.exp(logStd));
  const perDim = tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), logStd), HALF_LOG_2PI);
  return tf.sum(perDim, 1) as tf.Tensor1D;
}

/** Bounds of a `Box` action space, one value per dimension (the space's `low`/`high`). */
export interface ActionBounds {
  low: ArrayLike<number>;
  high: ArrayLike<number>;
}

/**
 * Clips sampled actions (row-major [B, D]) to the Box bounds for the env, into a new array; the
 * unclipped sample stays with the agent for the log-probability. Returns how many values were
 * clipped, for the metrics. Non-finite values are left as they are so the env reports them.
 */
export function clipToBox(actions: ArrayLike<number>, bounds: ActionBounds): { actions: Float32Array; clipped: number } {
  const d = bounds.low.length;
  if (d === 0 || bounds.high.length !== d || actions.length % d !== 0) {
    throw new SpaceMismatchError(formatError('clipToBox', `actions in rows of ${d} values (the Box size)`, `${actions.length} values for bounds of ${d} and ${bounds.high.length}`, 'pass [batch * actionDims] values and the Box low/high'));
  }
  const out = new Float32Array(actions.length);
  let clipped = 0;
  for (let i = 0; i < actions.length; i++) {
    const v = actions[i]!;
    const lo = bounds.low[i % d]!;
    const hi = bounds.high[i % d]!;
    if (v < lo) {
      out[i] = lo;
      clipped++;
    } else if (v > hi) {
      out[i] = hi;
      clipped++;
    } else {
      out[i] = v;
    }
  }
  return { actions: out, clipped };
}

/** Per-dimension affine map from [-1, 1] to the bounds: a = tanh(u) * scale + bias (CleanRL's action_scale/action_bias). */
function affineFromBounds(bounds: ActionBounds, d: number): { scale: Float32Array; bias: Float32Array } {
  const bad: string[] = [];
  if (bounds.low.length !== d || bounds.high.length !== d) bad.push(`${bounds.low.length} low and ${bounds.high.length} high values for ${d} dims`);
  const scale = new Float32Array(d);
  const bias = new Float32Array(d);
  for (let i = 0; i < d && !bad.length; i++) {
    const lo = bounds.low[i]!;
    const hi = bounds.high[i]!;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) bad.push(`dim ${i}: [${lo}, ${hi}]`);
    scale[i] = (hi - lo) / 2;
    bias[i] = (hi + lo) / 2;
  }
  if (bad.length) {
    throw new SpaceMismatchError(formatError('TanhGaussian', 'finite Box bounds with low < high in every action dimension', bad.join('; '), 'use a bounded Box action space'));
  }
  return { scale, bias };
}

/**
 * Tanh-squashed Gaussian for SAC: u ~ N(mean, exp(logStd)^2), a = tanh(u) * scale + bias maps
 * onto the Box bounds. `logStd` is usually state-dependent [B, D] (SAC's actor head).
 *
 * log pi(a) = log N(u) - sum_d [log(scale_d) + log(1 - tanh(u_d)^2)], with the last term in the
 * stable form 2 * (log 2 - u - softplus(-2u)) (no eps needed, exact in float32 where
 * 1 - tanh^2 underflows).
 *
 * Entropy has no closed form, so there is no `entropy()`: SAC estimates it as -log pi of the
 * reparameterised sample (`rsample`).
 */
export class TanhGaussian implements ActionDistribution<tf.Tensor2D> {
  private readonly scale: Float32Array;
  private readonly bias: Float32Array;
  /** sum_d log(scale_d), a constant of the change of variables. */
  private readonly logScaleSum: number;

  constructor(
    readonly mean: tf.Tensor2D,
    readonly logStd: tf.Tensor1D | tf.Tensor2D,
    bounds: ActionBounds,
  ) {
    checkGaussianArgs('TanhGaussian', mean, logStd);
    const { scale, bias } = affineFromBounds(bounds, mean.shape[1]);
    this.scale = scale;
    this.bias = bias;
    this.logScaleSum = Array.from(scale).reduce((acc, s) => acc + Math.log(s), 0);
  }

  /**
   * Reparameterised draw (gradients flow to mean and logStd): the scaled action [B, D], its
   * pre-tanh value u and log pi(a) [B]. Caller owns all three.
   */
  rsample(rng: Rng): { actions: tf.Tensor2D; preTanh: tf.Tensor2D; logProb: tf.Tensor1D } {
    const seed = seedFrom(rng);
    return tf.tidy(() => {
      const u = tf.add(this.mean, tf.mul(tf.exp(this.logStd), tf.randomNormal(this.mean.shape, 0, 1, 'float32', seed))) as tf.Tensor2D;
      return { actions: this.squash(u), preTanh: u, logProb: this.logProbPreTanh(u) };
    });
  }

  /**
   * The scaled action for given standard-normal draws `eps` [B, D]: tanh(mean + std * eps) scaled
   * to the bounds. For noise drawn outside tfjs, e.g. temporally correlated exploration noise.
   * Caller owns the result.
   */
  sampleWithNoise(eps: tf.Tensor2D): tf.Tensor2D {
    if (eps.rank !== 2 || eps.shape[0] !== this.mean.shape[0] || eps.shape[1] !== this.mean.shape[1]) {
      throw new SpaceMismatchError(formatError('TanhGaussian.sampleWithNoise', `eps of shape [${this.mean.shape.join(', ')}] (as the mean)`, `shape [${eps.shape.join(', ')}]`, 'pass one noise value per row and action dimension'));
    }
    return tf.tidy(() => this.squash(tf.add(this.mean, tf.mul(tf.exp(this.logStd), eps)) as tf.Tensor2D));
  }

  /** A scaled action per row. Caller owns the result. */
  sample(rng: Rng): tf.Tensor2D {
    const { actions, preTanh, logProb } = this.rsample(rng);
    preTanh.dispose();
    logProb.dispose();
    return actions;
  }

  /** log pi(a) from the pre-tanh value u (exact; what SAC uses). Caller owns the result. */
  logProbPreTanh(u: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const logDetTanh = tf.mul(tf.sub(tf.sub(Math.LN2, u), tf.softplus(tf.mul(u, -2))), 2);
      return tf.sub(tf.sub(gaussianLogProb(this.mean, this.logStd, u), tf.sum(logDetTanh, 1)), this.logScaleSum) as tf.Tensor1D;
    });
  }

  /**
   * log pi(a) of scaled actions, inverting the squash with atanh. Actions on or beyond the bounds
   * are first moved 1e-6 inside (float32 atanh of +-1 is infinite), so prefer `rsample`'s logProb
   * or `logProbPreTanh` where u is known.
   */
  logProb(actions: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const y = tf.clipByValue(tf.div(tf.sub(actions, tf.tensor1d(this.bias)), tf.tensor1d(this.scale)), -1 + 1e-6, 1 - 1e-6);
      return this.logProbPreTanh(tf.atanh(y) as tf.Tensor2D);
    });
  }

  /** tanh(mean) scaled to the bounds. */
  mode(): tf.Tensor2D {
    return tf.tidy(() => this.squash(this.mean));
  }

  private squash(u: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.mul(tf.tanh(u), tf.tensor1d(this.scale)), tf.tensor1d(this.bias)) as tf.Tensor2D;
  }
}
