/**
 * Pure math of the policy-gradient family: discounted returns, GAE(lambda), advantage
 * normalisation (plain arrays), and the losses (tfjs tensors): clipped surrogate, clipped value
 * loss, categorical log-probabilities and entropy.
 *
 * Rollout arrays are time-major: index `t * numEnvs + e`. Episode ends keep Gymnasium's split:
 * `terminated` (no bootstrap: the value after the end is 0) and `truncated` (bootstrap with the
 * value of the episode's final observation, `truncValues`, since the game itself went on).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { Categorical } from '../policy/distributions.js';

/** One rollout of `numSteps x numEnvs` transitions, time-major. */
export interface RolloutSignals {
  /** Steps per env in the rollout. */
  numSteps: number;
  /** Parallel envs. */
  numEnvs: number;
  /** Reward received after the action at (t, e). */
  rewards: ArrayLike<number>;
  /** 1 where the episode ended by the game's rules after (t, e). */
  terminated: ArrayLike<number>;
  /** 1 where the episode was cut off (time limit) after (t, e). */
  truncated: ArrayLike<number>;
  /** V(finalObs) at truncated (t, e); read only where `truncated` is 1. */
  truncValues?: ArrayLike<number>;
  /** V(obs after the rollout) per env: the bootstrap for episodes still running at the end; zeros to not bootstrap. */
  lastValues: ArrayLike<number>;
  /** Discount factor in [0, 1]. */
  gamma: number;
}

function checkSignals(component: string, s: RolloutSignals, extra: Record<string, ArrayLike<number> | undefined> = {}): void {
  const n = s.numSteps * s.numEnvs;
  const problems: string[] = [];
  if (!Number.isInteger(s.numSteps) || s.numSteps < 1) problems.push(`numSteps=${describe(s.numSteps)}`);
  if (!Number.isInteger(s.numEnvs) || s.numEnvs < 1) problems.push(`numEnvs=${describe(s.numEnvs)}`);
  if (!(s.gamma >= 0 && s.gamma <= 1)) problems.push(`gamma=${describe(s.gamma)}`);
  const arrays: Record<string, [ArrayLike<number> | undefined, number]> = {
    rewards: [s.rewards, n],
    terminated: [s.terminated, n],
    truncated: [s.truncated, n],
    lastValues: [s.lastValues, s.numEnvs],
  };
  if (s.truncValues) arrays.truncValues = [s.truncValues, n];
  for (const [k, v] of Object.entries(extra)) arrays[k] = [v, n];
  for (const [k, [arr, len]] of Object.entries(arrays)) if (!arr || arr.length !== len) problems.push(`${k} of length ${arr ? arr.length : 'missing'} (want ${len})`);
  if (problems.length) {
    throw new InvalidConfigError(formatError(component, 'rollout arrays of numSteps * numEnvs values and gamma in [0, 1]', problems.join(', '), 'pass time-major arrays of the rollout shape'));
  }
}

/** The value that follows (t, e): 0 after termination, V(finalObs) after truncation, else `following`. */
function nextValue(s: RolloutSignals, i: number, following: number): number {
  if (s.terminated[i]) return 0;
  if (s.truncated[i]) {
    if (!s.truncValues) {
      throw new InvalidConfigError(formatError('pg-math', 'truncValues where an episode was truncated', 'none', 'pass V(finalObs) for truncated steps'));
    }
    return s.truncValues[i]!;
  }
  return following;
}

/**
 * Discounted returns G_t = r_t + gamma * G_{t+1}, restarted at episode ends: 0 after a
 * termination, V(finalObs) after a truncation, `lastValues` after the rollout's last step.
 */
export function discountedReturns(s: RolloutSignals): Float32Array {
  checkSignals('discountedReturns', s);
  const { numSteps: T, numEnvs: N, gamma } = s;
  const out = new Float32Array(T * N);
  for (let e = 0; e < N; e++) {
    let g = s.lastValues[e]!;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + e;
      g = s.rewards[i]! + gamma * nextValue(s, i, g);
      out[i] = g;
    }
  }
  return out;
}

/** GAE(lambda) advantages and the matching value targets (advantages + values). */
export function gae(s: RolloutSignals & { values: ArrayLike<number>; lambda: number }): { advantages: Float32Array; returns: Float32Array } {
  checkSignals('gae', s, { values: s.values });
  if (!(s.lambda >= 0 && s.lambda <= 1)) {
    throw new InvalidConfigError(formatError('gae', 'lambda in [0, 1]', describe(s.lambda), 'pass e.g. 0.95'));
  }
  const { numSteps: T, numEnvs: N, gamma, lambda } = s;
  const advantages = new Float32Array(T * N);
  const returns = new Float32Array(T * N);
  for (let e = 0; e < N; e++) {
    let lastGaeLam = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + e;
      const following = t === T - 1 ? s.lastValues[e]! : s.values[i + N]!;
      const delta = s.rewards[i]! + gamma * nextValue(s, i, following) - s.values[i]!;
      // The advantage chain is cut at any episode end; truncation is already bootstrapped in delta.
      const cont = s.terminated[i] || s.truncated[i] ? 0 : 1;
      lastGaeLam = delta + gamma * lambda * cont * lastGaeLam;
      advantages[i] = lastGaeLam;
      returns[i] = lastGaeLam + s.values[i]!;
    }
  }
  return { advantages, returns };
}

/** What `vtrace` needs beyond the rollout signals. */
export interface VtraceInputs extends RolloutSignals {
  /** V(x_t) under the learner's current value function, time-major. */
  values: ArrayLike<number>;
  /** log pi(a_t|x_t) - log mu(a_t|x_t): target policy (the learner's) over behaviour policy (the actor's), time-major. */
  logRhos: ArrayLike<number>;
  /** Trace decay lambda in [0, 1] (IMPALA's remark: c_i = lambda min(c_bar, pi/mu)); 1 = the paper's plain V-trace. */
  lambda: number;
  /** rho_bar: truncation of the importance weights in the TD errors and the policy-gradient advantages (IMPALA: 1). */
  rhoBar: number;
  /** c_bar: truncation of the trace-cutting coefficients (IMPALA: 1); c_bar <= rho_bar. */
  cBar: number;
}

/**
 * V-trace targets (Espeholt et al. 2018, "IMPALA", section 4.1), time-major like `gae`:
 *
 *   rho_t = min(rho_bar, pi/mu),  c_t = lambda min(c_bar, pi/mu)
 *   delta_t V = rho_t (r_t + gamma V(x_{t+1}) - V(x_t))
 *   v_s = V(x_s) + delta_s V + gamma c_s (v_{s+1} - V(x_{s+1}))
 *   policy-gradient advantage A_s = rho_s (r_s + gamma v_{s+1} - V(x_s))
 *
 * Episode ends as in `gae`: after a termination the next value (and v_{s+1}) is 0, after a
 * truncation it is V(finalObs) (`truncValues`), and the trace is cut in both cases; after the
 * rollout's last step v_T = V(x_T) = `lastValues`. With pi = mu, v_s is GAE(lambda) + V(x_s).
 */
export function vtrace(s: VtraceInputs): { vs: Float32Array; pgAdvantages: Float32Array; clippedRhos: Float32Array } {
  checkSignals('vtrace', s, { values: s.values, logRhos: s.logRhos });
  const bad: string[] = [];
  if (!(s.lambda >= 0 && s.lambda <= 1)) bad.push(`lambda=${describe(s.lambda)} (want [0, 1])`);
  if (!(s.rhoBar > 0)) bad.push(`rhoBar=${describe(s.rhoBar)} (want > 0)`);
  if (!(s.cBar > 0 && s.cBar <= s.rhoBar)) bad.push(`cBar=${describe(s.cBar)} (want (0, rhoBar])`);
  if (bad.length) throw new InvalidConfigError(formatError('vtrace', 'lambda in [0, 1] and 0 < cBar <= rhoBar', bad.join(', '), 'pass e.g. lambda 0.95, rhoBar 1, cBar 1'));
  const { numSteps: T, numEnvs: N, gamma, lambda } = s;
  const vs = new Float32Array(T * N);
  const pgAdvantages = new Float32Array(T * N);
  const clippedRhos = new Float32Array(T * N);
  for (let e = 0; e < N; e++) {
    // v_{s+1} - V(x_{s+1}) of the step after the one being computed.
    let acc = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + e;
      const ratio = Math.exp(s.logRhos[i]!);
      const rho = Math.min(s.rhoBar, ratio);
      const c = lambda * Math.min(s.cBar, ratio);
      const last = t === T - 1;
      const nextV = nextValue(s, i, last ? s.lastValues[e]! : s.values[i + N]!);
      const end = s.terminated[i] || s.truncated[i] ? 1 : 0;
      const delta = rho * (s.rewards[i]! + gamma * nextV - s.values[i]!);
      // The trace is cut at an episode end: nothing after it belongs to this episode.
      acc = delta + gamma * c * (end ? 0 : acc);
      const nextVs = end || last ? nextV : vs[i + N]!;
      vs[i] = s.values[i]! + acc;
      pgAdvantages[i] = rho * (s.rewards[i]! + gamma * nextVs - s.values[i]!);
      clippedRhos[i] = rho;
    }
  }
  return { vs, pgAdvantages, clippedRhos };
}

/** (a - mean) / (std + eps) over the entries where `mask` is 1 (all when no mask); others become 0. */
export function normalizeAdvantages(adv: ArrayLike<number>, options: { eps?: number; mask?: ArrayLike<number>; out?: Float32Array } = {}): Float32Array {
  const eps = options.eps ?? 1e-8;
  const mask = options.mask;
  let n = 0;
  let sum = 0;
  for (let i = 0; i < adv.length; i++) if (!mask || mask[i]) { sum += adv[i]!; n++; }
  // `out` may be `adv` itself (in place): each value is read before it is written.
  const out = options.out ?? new Float32Array(adv.length);
  if (options.out) for (let i = 0; i < adv.length; i++) if (mask && !mask[i]) out[i] = 0;
  if (n === 0) return out.fill(0);
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < adv.length; i++) if (!mask || mask[i]) sq += (adv[i]! - mean) ** 2;
  // Population std, as the usual PPO implementations use.
  const std = Math.sqrt(sq / n);
  for (let i = 0; i < adv.length; i++) if (!mask || mask[i]) out[i] = (adv[i]! - mean) / (std + eps);
  return out;
}

/** Mean over entries weighted by an optional 0/1 mask. Returns a new scalar the caller owns. */
export function maskedMean(x: tf.Tensor, mask?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (!mask) return tf.mean(x) as tf.Scalar;
    return tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** log pi(a|s) per row of `logits` [B, A] for integer `actions` [B]. Caller owns the result. */
export function logProbOf(logits: tf.Tensor2D, actions: tf.Tensor1D): tf.Tensor1D {
  return new Categorical(logits).logProb(actions);
}

/** Entropy of the categorical distribution of each row of `logits` [B, A] (nats). Caller owns it. */
export function categoricalEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  return new Categorical(logits).entropy();
}

/** The vanilla policy-gradient loss -mean(A log pi(a|s)) (A2C, REINFORCE). Caller owns the result. */
export function policyGradientLoss(args: { logProbs: tf.Tensor1D; advantages: tf.Tensor1D; mask?: tf.Tensor1D }): tf.Scalar {
  return tf.neg(maskedMean(tf.mul(args.logProbs, args.advantages), args.mask));
}

/**
 * PPO clipped surrogate, as a loss to minimise:
 * mean(max(-A * r, -A * clip(r, 1 - eps, 1 + eps))) with r = exp(logp - oldLogp).
 * Also returns the fraction of clipped entries and the estimate mean((r - 1) - log r) of KL(old||new).
 * Every returned scalar is new and owned by the caller.
 */
export function clippedSurrogateLoss(args: { logProbs: tf.Tensor1D; oldLogProbs: tf.Tensor1D; advantages: tf.Tensor1D; clip: number; mask?: tf.Tensor1D }): {
  loss: tf.Scalar;
  clipFraction: tf.Scalar;
  approxKl: tf.Scalar;
} {
  const { clip } = args;
  return tf.tidy(() => {
    const logRatio = tf.sub(args.logProbs, args.oldLogProbs);
    const ratio = tf.exp(logRatio);
    const unclipped = tf.mul(tf.neg(args.advantages), ratio);
    const clipped = tf.mul(tf.neg(args.advantages), tf.clipByValue(ratio, 1 - clip, 1 + clip));
    const loss = maskedMean(tf.maximum(unclipped, clipped), args.mask);
    const clipFraction = maskedMean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clip), 'float32'), args.mask);
    const approxKl = maskedMean(tf.sub(tf.sub(ratio, 1), logRatio), args.mask);
    return { loss, clipFraction, approxKl };
  });
}

/**
 * Value loss 0.5 * (V - R)^2; with `clip`, the PPO2 form
 * 0.5 * max((V - R)^2, (oldV + clip(V - oldV, -c, c) - R)^2). Caller owns the result.
 */
export function valueLoss(args: { values: tf.Tensor1D; returns: tf.Tensor1D; oldValues?: tf.Tensor1D; clip?: number | null; mask?: tf.Tensor1D }): tf.Scalar {
  return tf.tidy(() => {
    const unclipped = tf.square(tf.sub(args.values, args.returns));
    if (args.clip === undefined || args.clip === null) return tf.mul(0.5, maskedMean(unclipped, args.mask)) as tf.Scalar;
    if (!args.oldValues) throw new InvalidConfigError(formatError('valueLoss', 'oldValues when clip is set', 'none', 'pass the values stored at collection time'));
    const vClipped = tf.add(args.oldValues, tf.clipByValue(tf.sub(args.values, args.oldValues), -args.clip, args.clip));
    const clippedSq = tf.square(tf.sub(vClipped, args.returns));
    return tf.mul(0.5, maskedMean(tf.maximum(unclipped, clippedSq), args.mask)) as tf.Scalar;
  });
}

/** Linear annealing: `start` at progress 0 down to `start * endFraction` at progress 1. */
export function linearSchedule(start: number, progress: number, endFraction = 0): number {
  const p = Math.min(1, Math.max(0, progress));
  return start * (1 - p * (1 - endFraction));
}
