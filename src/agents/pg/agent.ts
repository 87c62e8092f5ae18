/**
 * Policy-gradient agents on one actor-critic network: REINFORCE with a learned baseline, A2C
 * (n-step returns) and PPO (GAE, clipped surrogate). They share acting, the rollout layout and the
 * gradient step; only how a rollout becomes training batches and the policy loss differ.
 *
 * Actions: `Discrete` (Categorical over logits), `MultiDiscrete` (MultiCategorical, one logits
 * slice per part) and `Box` (DiagGaussian: mean head plus a state-independent log-std). Actions
 * are stored flat, `actionWidth` values per row (1, parts or dimensions); Box rows hold the
 * unclipped sample so its log-probability is the one the update reuses (clipping is the caller's).
 *
 * Recurrent state is threaded explicitly as plain arrays (`RecurrentState`), one row per env, and
 * reset by the 0/1 `starts` flags (1 = the observation is the first of an episode), both while
 * acting and inside training sequences (see src/networks/lstm.ts).
 */
import { checkFiniteUpdate } from '../divergence.js';
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, UnsupportedVersionError, formatError, describe } from '../../errors.js';
import { Box, Discrete, MultiDiscrete, type Space } from '../../envs/spaces.js';
import { Categorical, DiagGaussian, MultiCategorical } from '../policy/distributions.js';
import { actionWidth } from '../../envs/actions.js';
import { SeededRng, type RngState } from '../../envs/rng.js';
import type { ObsArray } from '../../envs/env.js';
import { ActorCritic } from './actor-critic.js';
import { resolvePgConfig, type PgConfig } from './config.js';
import { clippedSurrogateLoss, discountedReturns, gae, linearSchedule, maskedMean, normalizeAdvantages, valueLoss } from './math.js';

/** The action space as the agent sees it. */
export type PgActionSpec =
  | { kind: 'discrete'; n: number }
  | { kind: 'multi-discrete'; nvec: number[] }
  | { kind: 'box'; dims: number; low: Float32Array; high: Float32Array };

/** Flat action storage: int32 indices (Discrete, MultiDiscrete) or float32 values (Box). */
export type PgActions = Int32Array | Float32Array;

/** The action spec of a space, or a SpaceMismatchError naming the space and what the agents take. */
export function pgActionSpec(space: Space): PgActionSpec {
  if (space instanceof Discrete) return { kind: 'discrete', n: space.n };
  if (space instanceof MultiDiscrete) return { kind: 'multi-discrete', nvec: [...space.nvec] };
  if (space instanceof Box && space.shape.length === 1 && space.dtype === 'float32') {
    return { kind: 'box', dims: space.shape[0]!, low: Float32Array.from(space.low as ArrayLike<number>), high: Float32Array.from(space.high as ArrayLike<number>) };
  }
  const shown = space instanceof Box ? `Box of shape [${space.shape}] and dtype ${space.dtype}` : space.type;
  throw new SpaceMismatchError(formatError('PolicyGradientAgent', 'a Discrete, MultiDiscrete or float32 vector Box action space (ppo, a2c, reinforce)', shown, 'use an env with one of those action spaces, or an agent that takes this one'));
}

/** Width of the policy head: n, sum(nvec) or dims. */
function headWidth(a: PgActionSpec): number {
  return a.kind === 'discrete' ? a.n : a.kind === 'multi-discrete' ? a.nvec.reduce((x, y) => x + y, 0) : a.dims;
}

/** A name of the action space for snapshot checks, e.g. `MultiDiscrete(5,3,2)`. */
function actionKey(a: PgActionSpec): string {
  return a.kind === 'discrete' ? `Discrete(${a.n})` : a.kind === 'multi-discrete' ? `MultiDiscrete(${a.nvec})` : `Box(${a.dims})`;
}

/** A zeroed action array of `rows` rows. */
export function newActions(a: PgActionSpec, rows: number): PgActions {
  return a.kind === 'box' ? new Float32Array(rows * a.dims) : new Int32Array(rows * (a.kind === 'discrete' ? 1 : a.nvec.length));
}

/** Per-env LSTM state: h and c, each `numEnvs * units` values. */
export interface RecurrentState {
  h: Float32Array;
  c: Float32Array;
}

/** What `act` returns for a batch of envs. */
export interface PgActResult {
  /** `numEnvs x actionWidth` actions (Box: the unclipped sample, or the mean when greedy). */
  actions: PgActions;
  /** log pi(action) per env. */
  logProbs: Float32Array;
  /** V(obs) per env. */
  values: Float32Array;
  /** Action probabilities, `numEnvs * numActions` (MultiDiscrete: per part, concatenated; Box: empty). For the viewer. */
  probs: Float32Array;
  /** State after this step (null for feed-forward nets). */
  state: RecurrentState | null;
}

/** One on-policy rollout, time-major (row t * numEnvs + e). */
export interface Rollout {
  numSteps: number;
  numEnvs: number;
  /** Observations seen at each step, `numSteps * numEnvs * obsSize`. */
  obs: ObsArray;
  /** `numSteps * numEnvs * actionWidth` actions. */
  actions: PgActions;
  logProbs: Float32Array;
  values: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** V(finalObs) where truncated. */
  truncValues: Float32Array;
  /** 1 where the observation is the first of an episode. */
  starts: Float32Array;
  /** V(obs after the last step) per env. */
  lastValues: Float32Array;
  /** Recurrent state entering step 0 (before the starts mask), or null. */
  initialState: RecurrentState | null;
}

/** Averages of one update's losses; null fields did not apply. */
export interface PgUpdateMetrics {
  loss: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number | null;
  clipFraction: number | null;
  gradNorm: number;
  lr: number;
  /** Gradient steps taken by this update. */
  gradientSteps: number;
}

export interface PgAgentOptions {
  /** Partial config merged over the algorithm defaults. */
  config?: Partial<PgConfig>;
  /** Observation space (a Box). */
  observationSpace: Space;
  /** Action space (Discrete, MultiDiscrete or a float32 vector Box). */
  actionSpace: Space;
  /** Seed of the network initialisers and the agent's RNG (sampling, shuffling). */
  seed: number;
}

/** A training batch of `steps x batch` rows, time-major; masked rows are padding. */
interface TrainBatch {
  steps: number;
  batch: number;
  obs: ObsArray;
  actions: PgActions;
  starts: Float32Array;
  mask: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  oldLogProbs: Float32Array | null;
  oldValues: Float32Array | null;
  h0: Float32Array | null;
  c0: Float32Array | null;
}

interface PendingEpisode {
  obs: number[][];
  /** `actionWidth` values per step. */
  actions: number[];
  rewards: number[];
  /** Bootstrap value after the last step: 0 if terminated, V(finalObs) if truncated. */
  tail: number;
}

function newObsLike(like: ObsArray, size: number): ObsArray {
  return like instanceof Uint8Array ? new Uint8Array(size) : like instanceof Int32Array ? new Int32Array(size) : new Float32Array(size);
}

const AGENT_FORMAT = 'npcforge-pg-agent';
const AGENT_VERSION = 1;

/** REINFORCE / A2C / PPO agent. Owns a network and an optimizer: call `dispose()`. */
export class PolicyGradientAgent {
  readonly config: PgConfig;
  readonly net: ActorCritic;
  readonly obsShape: number[];
  readonly obsSize: number;
  /** Width of the policy head (see `headWidth`). */
  readonly numActions: number;
  readonly action: PgActionSpec;
  /** Values per stored action row. */
  readonly actionWidth: number;
  private optimizer: tf.AdamOptimizer;
  private rng: SeededRng;
  /** Updates done (each may hold several gradient steps). */
  updates = 0;
  private pending: PendingEpisode[][] = [];
  private ready: PendingEpisode[] = [];

  constructor(options: PgAgentOptions) {
    this.config = resolvePgConfig(options.config ?? {});
    const { observationSpace: os, actionSpace: as } = options;
    if (!(os instanceof Box)) throw new SpaceMismatchError(formatError('PolicyGradientAgent', 'a Box observation space', os.type, 'wrap the env so observations are arrays'));
    this.action = pgActionSpec(as);
    this.actionWidth = actionWidth(as);
    this.obsShape = [...os.shape];
    this.obsSize = os.size;
    this.numActions = headWidth(this.action);
    const high = Math.max(...Array.from(os.high as ArrayLike<number>));
    // uint8 pixels (0..255) are scaled to [0, 1]; 0/1 grids and float vectors are used as they are.
    const obsScale = os.dtype === 'uint8' && high > 1 ? 1 / 255 : 1;
    this.net = new ActorCritic({ obsShape: this.obsShape, observationSpace: os, numActions: this.numActions, obsScale, encoder: this.config.encoder, mlpHidden: this.config.mlpHidden, lstmUnits: this.config.lstmUnits, seed: options.seed, logStdDims: this.action.kind === 'box' ? this.action.dims : 0, separateCritic: this.config.separateCritic });
    this.optimizer = tf.train.adam(this.config.lr, 0.9, 0.999, this.config.adamEps);
    this.rng = new SeededRng(options.seed);
  }

  get recurrent(): boolean {
    return this.net.recurrent;
  }

  /** A zero recurrent state for `numEnvs` envs, or null for feed-forward nets. */
  initialState(numEnvs: number): RecurrentState | null {
    if (!this.recurrent) return null;
    const n = numEnvs * this.net.stateUnits;
    return { h: new Float32Array(n), c: new Float32Array(n) };
  }

  private stateTensors(state: RecurrentState | null, rows: number) {
    if (!this.recurrent) return null;
    const H = this.net.stateUnits;
    const s = state ?? this.initialState(rows)!;
    return { h: tf.tensor2d(s.h, [rows, H]), c: tf.tensor2d(s.c, [rows, H]) };
  }

  private checkObs(obs: ObsArray, numEnvs: number): void {
    if (obs.length !== numEnvs * this.obsSize) {
      throw new SpaceMismatchError(formatError('PolicyGradientAgent.act', `${numEnvs} x ${this.obsSize} observation values`, describe(obs), 'pass the batched observations of the vector env'));
    }
  }

  /**
   * Picks one action per env (sampled, or the most likely with `greedy`) and reports the
   * probabilities and value estimates. `starts` (1 = first observation of an episode) resets the state.
   */
  async act(obs: ObsArray, numEnvs: number, state: RecurrentState | null, starts: ArrayLike<number>, options: { greedy?: boolean } = {}): Promise<PgActResult> {
    this.checkObs(obs, numEnvs);
    if (this.action.kind !== 'discrete') return this.actFromDistribution(obs, numEnvs, state, starts, options);
    const A = this.numActions;
    const H = this.net.stateUnits;
    // One packed read per step [logp | value | h | c]: on the cpu backend each await data() costs
    // about 2 ms of scheduling (measured), dataSync of the packed tensor about 0.1 ms.
    const packed = tf.tidy(() => {
      const st = this.stateTensors(state, numEnvs);
      const out = this.net.step(this.net.obsTensor(obs, numEnvs), st, st ? tf.tensor1d(Float32Array.from(starts)) : null);
      const parts: tf.Tensor2D[] = [tf.logSoftmax(out.logits), tf.expandDims(out.values, 1) as tf.Tensor2D];
      if (out.state) parts.push(out.state.h, out.state.c);
      return tf.concat(parts, 1);
    });
    const flat = packed.dataSync() as Float32Array;
    packed.dispose();
    const W = A + 1 + 2 * H;
    const values = new Float32Array(numEnvs);
    const next = H > 0 ? { h: new Float32Array(numEnvs * H), c: new Float32Array(numEnvs * H) } : null;
    const logp = new Float32Array(numEnvs * A);
    for (let e = 0; e < numEnvs; e++) {
      logp.set(flat.subarray(e * W, e * W + A), e * A);
      values[e] = flat[e * W + A]!;
      if (next) {
        next.h.set(flat.subarray(e * W + A + 1, e * W + A + 1 + H), e * H);
        next.c.set(flat.subarray(e * W + A + 1 + H, e * W + W), e * H);
      }
    }
    const actions = new Int32Array(numEnvs);
    const logProbs = new Float32Array(numEnvs);
    const probs = new Float32Array(numEnvs * A);
    for (let e = 0; e < numEnvs; e++) {
      let best = 0;
      for (let a = 0; a < A; a++) {
        probs[e * A + a] = Math.exp(logp[e * A + a]!);
        if (logp[e * A + a]! > logp[e * A + best]!) best = a;
      }
      let action = best;
      if (!options.greedy) {
        const u = this.rng.random();
        let acc = 0;
        action = A - 1;
        for (let a = 0; a < A; a++) {
          acc += probs[e * A + a]!;
          if (u < acc) { action = a; break; }
        }
      }
      actions[e] = action;
      logProbs[e] = logp[e * A + action]!;
    }
    return { actions, logProbs, values, probs, state: next };
  }

  /** The distribution of the policy head output `logits` [rows, numActions]. Call inside tidy. */
  private distribution(logits: tf.Tensor2D): Categorical | MultiCategorical | DiagGaussian {
    const a = this.action;
    if (a.kind === 'discrete') return new Categorical(logits);
    if (a.kind === 'multi-discrete') return new MultiCategorical(logits, a.nvec);
    return new DiagGaussian(logits, this.net.logStd!);
  }

  /** Stored actions as the distribution's action tensor. Call inside tidy. */
  private actionTensor(actions: PgActions, rows: number): tf.Tensor {
    const a = this.action;
    if (a.kind === 'discrete') return tf.tensor1d(actions as Int32Array, 'int32');
    if (a.kind === 'multi-discrete') return tf.tensor2d(actions as Int32Array, [rows, a.nvec.length], 'int32');
    return tf.tensor2d(actions as Float32Array, [rows, a.dims]);
  }

  /**
   * `act` for MultiDiscrete and Box: samples (or takes the mode) with the distributions module.
   * Discrete keeps its own path above so its numbers (and RNG stream) stay what they were.
   */
  private async actFromDistribution(obs: ObsArray, numEnvs: number, state: RecurrentState | null, starts: ArrayLike<number>, options: { greedy?: boolean }): Promise<PgActResult> {
    const Wa = this.actionWidth;
    const H = this.net.stateUnits;
    const P = this.action.kind === 'multi-discrete' ? this.numActions : 0;
    // One packed read per step [action | logp | value | probs | h | c], as the Discrete path.
    const packed = tf.tidy(() => {
      const st = this.stateTensors(state, numEnvs);
      const out = this.net.step(this.net.obsTensor(obs, numEnvs), st, st ? tf.tensor1d(Float32Array.from(starts)) : null);
      const dist = this.distribution(out.logits);
      const a = (options.greedy ? dist.mode() : dist.sample(this.rng)) as tf.Tensor2D;
      const logp = (dist as MultiCategorical | DiagGaussian).logProb(a);
      const parts: tf.Tensor2D[] = [tf.cast(a, 'float32'), tf.expandDims(logp, 1) as tf.Tensor2D, tf.expandDims(out.values, 1) as tf.Tensor2D];
      if (this.action.kind === 'multi-discrete') {
        const slices = this.action.nvec.length === 1 ? [out.logits] : tf.split(out.logits, this.action.nvec, 1);
        parts.push(...slices.map((l) => tf.softmax(l) as tf.Tensor2D));
      }
      if (out.state) parts.push(out.state.h, out.state.c);
      return tf.concat(parts, 1);
    });
    const flat = packed.dataSync() as Float32Array;
    packed.dispose();
    const W = Wa + 2 + P + 2 * H;
    const actions = newActions(this.action, numEnvs);
    const logProbs = new Float32Array(numEnvs);
    const values = new Float32Array(numEnvs);
    const probs = new Float32Array(numEnvs * P);
    const next = H > 0 ? { h: new Float32Array(numEnvs * H), c: new Float32Array(numEnvs * H) } : null;
    for (let e = 0; e < numEnvs; e++) {
      const o = e * W;
      // Int32Array.set rounds nothing: MultiDiscrete indices are exact small integers in float32.
      actions.set(flat.subarray(o, o + Wa), e * Wa);
      logProbs[e] = flat[o + Wa]!;
      values[e] = flat[o + Wa + 1]!;
      probs.set(flat.subarray(o + Wa + 2, o + Wa + 2 + P), e * P);
      if (next) {
        next.h.set(flat.subarray(o + Wa + 2 + P, o + Wa + 2 + P + H), e * H);
        next.c.set(flat.subarray(o + Wa + 2 + P + H, o + W), e * H);
      }
    }
    return { actions, logProbs, values, probs, state: next };
  }

  /** V(obs) per env without acting (bootstraps); same state conventions as `act`. */
  async values(obs: ObsArray, numEnvs: number, state: RecurrentState | null, starts: ArrayLike<number>): Promise<Float32Array> {
    this.checkObs(obs, numEnvs);
    const v = tf.tidy(() => {
      const st = this.stateTensors(state, numEnvs);
      return this.net.step(this.net.obsTensor(obs, numEnvs), st, st ? tf.tensor1d(Float32Array.from(starts)) : null).values;
    });
    const out = Float32Array.from(v.dataSync() as Float32Array);
    v.dispose();
    return out;
  }

  /** Learns from one rollout; `progress` in [0, 1] drives lr annealing. Null when REINFORCE is still collecting episodes. */
  async update(rollout: Rollout, progress: number): Promise<PgUpdateMetrics | null> {
    const lr = this.config.annealLr ? linearSchedule(this.config.lr, progress) : this.config.lr;
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
    let batches: TrainBatch[];
    if (this.config.algorithm === 'reinforce') {
      const b = this.reinforceBatch(rollout);
      if (!b) return null;
      batches = [b];
    } else if (this.config.algorithm === 'a2c') {
      batches = [this.a2cBatch(rollout)];
    } else {
      batches = this.ppoBatches(rollout);
    }
    const sums = { loss: 0, policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, clipFraction: 0, gradNorm: 0 };
    for (const batch of batches) {
      const m = await this.gradientStep(batch);
      for (const k of Object.keys(sums) as Array<keyof typeof sums>) sums[k] += m[k];
    }
    this.updates++;
    const n = batches.length;
    const ppo = this.config.algorithm === 'ppo';
    return {
      loss: sums.loss / n,
      policyLoss: sums.policyLoss / n,
      valueLoss: sums.valueLoss / n,
      entropy: sums.entropy / n,
      approxKl: ppo ? sums.approxKl / n : null,
      clipFraction: ppo ? sums.clipFraction / n : null,
      gradNorm: sums.gradNorm / n,
      lr,
      gradientSteps: n,
    };
  }

  private a2cBatch(r: Rollout): TrainBatch {
    const returns = discountedReturns({ ...r, gamma: this.config.gamma });
    const raw = returns.map((g, i) => g - r.values[i]!);
    const advantages = this.config.normAdv ? normalizeAdvantages(raw) : raw;
    return this.wholeRollout(r, advantages, returns);
  }

  private wholeRollout(r: Rollout, advantages: Float32Array, returns: Float32Array): TrainBatch {
    return {
      steps: r.numSteps,
      batch: r.numEnvs,
      obs: r.obs,
      actions: r.actions,
      starts: r.starts,
      mask: new Float32Array(r.numSteps * r.numEnvs).fill(1),
      advantages,
      returns,
      oldLogProbs: r.logProbs,
      oldValues: r.values,
      h0: r.initialState?.h ?? null,
      c0: r.initialState?.c ?? null,
    };
  }

  private ppoBatches(r: Rollout): TrainBatch[] {
    const { advantages, returns } = gae({ ...r, gamma: this.config.gamma, lambda: this.config.gaeLambda });
    const { numSteps: T, numEnvs: N } = r;
    const M = this.config.minibatches;
    const out: TrainBatch[] = [];
    for (let epoch = 0; epoch < this.config.epochs; epoch++) {
      if (this.recurrent) {
        // Whole sequences: minibatches split the envs, each keeps its stored start state.
        const mbs = Math.max(1, Math.min(M, N));
        const perm = this.permutation(N);
        for (let m = 0; m < mbs; m++) {
          const envs = perm.filter((_, i) => i % mbs === m);
          out.push(this.gatherSequences(r, envs, advantages, returns));
        }
      } else {
        const rows = T * N;
        const mbs = Math.max(1, Math.min(M, rows));
        const perm = this.permutation(rows);
        for (let m = 0; m < mbs; m++) out.push(this.gatherRows(r, perm.filter((_, i) => i % mbs === m), advantages, returns));
      }
    }
    if (this.config.normAdv) for (const b of out) b.advantages = normalizeAdvantages(b.advantages, { mask: b.mask });
    return out;
  }

  private permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.rng.int(0, i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  private gatherRows(r: Rollout, rows: number[], adv: Float32Array, ret: Float32Array): TrainBatch {
    const B = rows.length;
    const S = this.obsSize;
    const obs = newObsLike(r.obs, B * S);
    const pick = <A extends Float32Array | Int32Array>(src: A, make: (n: number) => A) => {
      const o = make(B);
      rows.forEach((row, i) => (o[i] = src[row]!));
      return o;
    };
    rows.forEach((row, i) => obs.set(r.obs.subarray(row * S, (row + 1) * S), i * S));
    const Wa = this.actionWidth;
    const actions = newActions(this.action, B);
    rows.forEach((row, i) => actions.set(r.actions.subarray(row * Wa, (row + 1) * Wa), i * Wa));
    const f32 = (n: number) => new Float32Array(n);
    return {
      steps: 1,
      batch: B,
      obs,
      actions,
      starts: new Float32Array(B).fill(1),
      mask: new Float32Array(B).fill(1),
      advantages: pick(adv, f32),
      returns: pick(ret, f32),
      oldLogProbs: pick(r.logProbs, f32),
      oldValues: pick(r.values, f32),
      h0: null,
      c0: null,
    };
  }

  private gatherSequences(r: Rollout, envs: number[], adv: Float32Array, ret: Float32Array): TrainBatch {
    const { numSteps: T, numEnvs: N } = r;
    const B = envs.length;
    const S = this.obsSize;
    const H = this.net.stateUnits;
    const obs = newObsLike(r.obs, T * B * S);
    const f = () => new Float32Array(T * B);
    const Wa = this.actionWidth;
    const b: TrainBatch = { steps: T, batch: B, obs, actions: newActions(this.action, T * B), starts: f(), mask: f().fill(1), advantages: f(), returns: f(), oldLogProbs: f(), oldValues: f(), h0: new Float32Array(B * H), c0: new Float32Array(B * H) };
    for (let t = 0; t < T; t++) {
      envs.forEach((e, j) => {
        const src = t * N + e;
        const dst = t * B + j;
        obs.set(r.obs.subarray(src * S, (src + 1) * S), dst * S);
        b.actions.set(r.actions.subarray(src * Wa, (src + 1) * Wa), dst * Wa);
        b.starts[dst] = r.starts[src]!;
        b.advantages[dst] = adv[src]!;
        b.returns[dst] = ret[src]!;
        b.oldLogProbs![dst] = r.logProbs[src]!;
        b.oldValues![dst] = r.values[src]!;
      });
    }
    envs.forEach((e, j) => {
      b.h0!.set(r.initialState!.h.subarray(e * H, (e + 1) * H), j * H);
      b.c0!.set(r.initialState!.c.subarray(e * H, (e + 1) * H), j * H);
    });
    return b;
  }

  /** REINFORCE: files finished episodes; once enough are complete, one padded batch of whole episodes. */
  private reinforceBatch(r: Rollout): TrainBatch | null {
    const { numSteps: T, numEnvs: N } = r;
    const S = this.obsSize;
    const Wa = this.actionWidth;
    while (this.pending.length < N) this.pending.push([]);
    for (let e = 0; e < N; e++) {
      for (let t = 0; t < T; t++) {
        const i = t * N + e;
        const list = this.pending[e]!;
        if (r.starts[i] || list.length === 0) list.push({ obs: [], actions: [], rewards: [], tail: 0 });
        const ep = list[list.length - 1]!;
        ep.obs.push(Array.from(r.obs.subarray(i * S, (i + 1) * S)));
        for (let k = 0; k < Wa; k++) ep.actions.push(r.actions[i * Wa + k]!);
        ep.rewards.push(r.rewards[i]!);
        if (r.terminated[i] || r.truncated[i]) {
          ep.tail = r.terminated[i] ? 0 : r.truncValues[i]!;
          this.ready.push(list.pop()!);
        }
      }
    }
    if (this.ready.length < this.config.reinforceEpisodes) return null;
    const eps = this.ready.splice(0, this.ready.length);
    const B = eps.length;
    const L = Math.max(...eps.map((e) => e.rewards.length));
    const obs = newObsLike(r.obs, L * B * S);
    const f = () => new Float32Array(L * B);
    const b: TrainBatch = { steps: L, batch: B, obs, actions: newActions(this.action, L * B), starts: f(), mask: f(), advantages: f(), returns: f(), oldLogProbs: null, oldValues: null, h0: this.recurrent ? new Float32Array(B * this.net.stateUnits) : null, c0: this.recurrent ? new Float32Array(B * this.net.stateUnits) : null };
    eps.forEach((ep, j) => {
      let g = ep.tail;
      for (let t = ep.rewards.length - 1; t >= 0; t--) {
        g = ep.rewards[t]! + this.config.gamma * g;
        const dst = t * B + j;
        b.returns[dst] = g;
        b.mask[dst] = 1;
        for (let k = 0; k < Wa; k++) b.actions[dst * Wa + k] = ep.actions[t * Wa + k]!;
        obs.set(ep.obs[t]!, dst * S);
      }
      b.starts[j] = 1;
    });
    // Advantages need the baseline: the batch is marked so gradientStep computes G - V(s) first.
    b.advantages = new Float32Array(0);
    return b;
  }

  private async baseline(b: TrainBatch): Promise<Float32Array> {
    const v = tf.tidy(() => {
      const st = this.recurrent ? { h: tf.tensor2d(b.h0!, [b.batch, this.net.stateUnits]), c: tf.tensor2d(b.c0!, [b.batch, this.net.stateUnits]) } : null;
      return this.net.sequence(this.net.obsTensor(b.obs, b.steps * b.batch), st, st ? tf.tensor1d(b.starts) : null, b.steps).values;
    });
    const out = Float32Array.from((await v.data()) as Float32Array);
    v.dispose();
    return out;
  }

  private async gradientStep(b: TrainBatch): Promise<{ loss: number; policyLoss: number; valueLoss: number; entropy: number; approxKl: number; clipFraction: number; gradNorm: number }> {
    if (b.advantages.length === 0) {
      const v = await this.baseline(b);
      const adv = b.returns.map((g, i) => (b.mask[i] ? g - v[i]! : 0));
      b.advantages = this.config.normAdv ? normalizeAdvantages(adv, { mask: b.mask }) : adv;
    }
    const cfg = this.config;
    const vars = this.net.variables;
    const kept: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const rows = b.steps * b.batch;
      const st = this.recurrent ? { h: tf.tensor2d(b.h0!, [b.batch, this.net.stateUnits]), c: tf.tensor2d(b.c0!, [b.batch, this.net.stateUnits]) } : null;
      const out = this.net.sequence(this.net.obsTensor(b.obs, rows), st, st ? tf.tensor1d(b.starts) : null, b.steps);
      const mask = tf.tensor1d(b.mask);
      const dist = this.distribution(out.logits);
      const logp = (dist as { logProb(a: tf.Tensor): tf.Tensor1D }).logProb(this.actionTensor(b.actions, rows));
      const adv = tf.tensor1d(b.advantages);
      let pl: tf.Scalar;
      let approxKl: tf.Scalar;
      let clipFraction: tf.Scalar;
      if (cfg.algorithm === 'ppo') {
        const r = clippedSurrogateLoss({ logProbs: logp, oldLogProbs: tf.tensor1d(b.oldLogProbs!), advantages: adv, clip: cfg.clip, mask });
        pl = r.loss;
        approxKl = r.approxKl;
        clipFraction = r.clipFraction;
      } else {
        pl = tf.neg(maskedMean(tf.mul(logp, adv), mask));
        approxKl = tf.scalar(0);
        clipFraction = tf.scalar(0);
      }
      const vl = valueLoss({ values: out.values, returns: tf.tensor1d(b.returns), oldValues: b.oldValues ? tf.tensor1d(b.oldValues) : undefined, clip: cfg.algorithm === 'ppo' ? cfg.valueClip : null, mask });
      const ent = maskedMean(dist.entropy(), mask);
      const loss = tf.add(tf.sub(pl, tf.mul(cfg.entCoef, ent)), tf.mul(cfg.vfCoef, vl)) as tf.Scalar;
      for (const s of [pl, vl, ent, approxKl, clipFraction]) kept.push(tf.keep(s));
      return loss;
    }, vars);
    const names = Object.keys(grads);
    // Clip by global norm in-graph, so nothing is read back before the update.
    const normT = tf.tidy(() => tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]!))))));
    const clipped = cfg.maxGradNorm > 0
      ? tf.tidy(() => {
          const scale = tf.minimum(1, tf.div(cfg.maxGradNorm, tf.add(normT, 1e-6)));
          return Object.fromEntries(names.map((k) => [k, tf.mul(grads[k]!, scale)])) as tf.NamedTensorMap;
        })
      : grads;
    this.optimizer.applyGradients(clipped as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    const stats = tf.tidy(() => tf.stack([value, ...kept, normT]));
    const read = stats.dataSync();
    tf.dispose([stats, value, normT, ...kept, ...Object.values(grads)]);
    if (clipped !== grads) tf.dispose(Object.values(clipped));
    const [loss, policyLoss, vLoss, entropy, approxKl, clipFraction, gradNorm] = Array.from(read) as [number, number, number, number, number, number, number];
    checkFiniteUpdate(`${cfg.algorithm}.update`, { loss, gradNorm }, this.updates + 1);
    return { loss, policyLoss, valueLoss: vLoss, entropy, approxKl, clipFraction, gradNorm };
  }

  /** JSON-safe snapshot: weights, optimizer slots, RNG, counters and REINFORCE's unfinished episodes. */
  async save(): Promise<PgAgentSnapshot> {
    const weights = (await this.net.getWeights()).map((w) => ({ shape: w.shape, data: f32ToBase64(w.data) }));
    const optimizer: PgAgentSnapshot['optimizer'] = [];
    const ws = await this.optimizer.getWeights();
    for (const w of ws) optimizer.push({ name: w.name, shape: [...w.tensor.shape], data: f32ToBase64(Float32Array.from((await w.tensor.data()) as Float32Array)) });
    // The first entry (iteration count) is a fresh scalar made by getWeights; the rest are the optimizer's own slots.
    if (ws.length) ws[0]!.tensor.dispose();
    return { format: AGENT_FORMAT, version: AGENT_VERSION, config: this.config, obsShape: this.obsShape, numActions: this.numActions, actionSpace: actionKey(this.action), weights, optimizer, rng: this.rng.getState(), updates: this.updates, pending: this.pending, ready: this.ready };
  }

  /** Restores a snapshot from `save` taken by an agent of the same config and spaces. */
  async load(s: PgAgentSnapshot): Promise<void> {
    if (!s || s.format !== AGENT_FORMAT) throw new SpaceMismatchError(formatError('PolicyGradientAgent.load', `a ${AGENT_FORMAT} snapshot`, describe(s?.format), 'load a checkpoint written by a policy-gradient agent'));
    if (s.version !== AGENT_VERSION) throw new UnsupportedVersionError(formatError('PolicyGradientAgent.load', `version ${AGENT_VERSION}`, describe(s.version), 'use the npcforge version that wrote it'));
    // Snapshots from before MultiDiscrete/Box carry no actionSpace: they were Discrete(numActions).
    const savedAction = s.actionSpace ?? `Discrete(${s.numActions})`;
    if (s.obsShape.join('x') !== this.obsShape.join('x') || s.numActions !== this.numActions || savedAction !== actionKey(this.action)) {
      throw new SpaceMismatchError(formatError('PolicyGradientAgent.load', `obs [${this.obsShape}] and actions ${actionKey(this.action)}`, `obs [${s.obsShape}] and actions ${savedAction}`, 'load into an agent for the same game'));
    }
    this.net.setWeights(s.weights.map((w) => ({ shape: w.shape, data: base64ToF32(w.data) })));
    // Adam.setWeights replaces its slot variables without freeing the old ones: start from a fresh optimizer.
    this.optimizer.dispose();
    this.optimizer = tf.train.adam(this.config.lr, 0.9, 0.999, this.config.adamEps);
    if (s.optimizer.length) {
      const named = s.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(base64ToF32(w.data), w.shape, 'float32') }));
      await this.optimizer.setWeights(named);
      tf.dispose(named.map((n) => n.tensor));
    }
    this.rng.setState(s.rng);
    this.updates = s.updates;
    this.pending = s.pending;
    this.ready = s.ready;
  }

  dispose(): void {
    this.net.dispose();
    this.optimizer.dispose();
  }
}

/** Saved form of a policy-gradient agent (JSON; arrays as base64 float32). */
export interface PgAgentSnapshot {
  format: string;
  version: number;
  config: PgConfig;
  obsShape: number[];
  numActions: number;
  /** e.g. `Box(1)`; absent in snapshots written before MultiDiscrete/Box support (Discrete). */
  actionSpace?: string;
  weights: Array<{ shape: number[]; data: string }>;
  optimizer: Array<{ name: string; shape: number[]; data: string }>;
  rng: RngState;
  updates: number;
  pending: PendingEpisode[][];
  ready: PendingEpisode[];
}

export function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function base64ToF32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Throws when a rollout does not match the agent (shared by runner and tests). */
export function checkRollout(agent: PolicyGradientAgent, r: Rollout): void {
  if (r.obs.length !== r.numSteps * r.numEnvs * agent.obsSize) {
    throw new InvalidConfigError(formatError('PolicyGradientAgent.update', `${r.numSteps * r.numEnvs * agent.obsSize} observation values`, String(r.obs.length), 'collect the rollout with this agent'));
  }
}
