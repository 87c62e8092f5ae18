/**
 * The on-policy learner shared by PPO, A2C and REINFORCE (`ppo.ts`, `a2c.ts`, `reinforce.ts` hold
 * what differs: how a rollout becomes training batches, and the policy loss). One class,
 * `PolicyGradientAgent`, implements the runner's `Agent` contract:
 *
 * - act: training draws from the policy and fills the rollout (observations, actions, log-probs,
 *   values, episode starts); `mode: 'eval'` takes the most likely action, threads the caller's
 *   recurrent state and leaves the rollout alone.
 * - observe: files rewards and episode ends, bootstraps truncated episodes from V(finalObs), and
 *   once `numSteps` steps per env are in, runs the algorithm's batches through the gradient step.
 * - gradient step: loss = policy loss - entCoef H(pi) + vfCoef value loss, then the one gradient
 *   path of every agent (`applyGradients`: global-norm clip, fused Adam `SlotOptimizer`).
 * - save/load: the shared snapshot format (`agents/policy/snapshot.ts`), plus the partial rollout, the
 *   training recurrent state and the normalisation statistics.
 *
 * Actions: `Discrete` (Categorical over logits), `MultiDiscrete` (MultiCategorical, one logits
 * slice per part), `Box` (DiagGaussian: mean head plus a state-independent log-std). Box actions go
 * to the envs clipped to the bounds (`clipToBox`), the rollout keeps the unclipped sample, and the
 * number of clipped values since the last update is the `clipped_actions` metric. With
 * `normObs`/`normReward` the agent normalises what the runner hands it (statistics updated by
 * training steps only, frozen in evaluation, saved in the snapshot).
 *
 * Recurrent state is threaded explicitly as plain arrays (`RecurrentState`), one row per env, and
 * reset by the 0/1 `starts` flags (1 = the observation is the first of an episode), both while
 * acting and inside training sequences (see src/networks/lstm.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { checkFiniteUpdate } from '../divergence.js';
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import { Box, type Space } from '../../envs/spaces.js';
import { actionWidth, type ActionBatch } from '../../envs/actions.js';
import { SeededRng } from '../../envs/rng.js';
import type { ObsArray } from '../../envs/env.js';
import { SlotOptimizer, applyGradients } from '../../networks/optimizers.js';
import { Categorical, DiagGaussian, MultiCategorical, clipToBox } from '../policy/distributions.js';
import { actMode, type ActOptions, type ActResult, type Agent, type AgentSnapshot, type StepBatch, type UpdateMetrics } from '../agent.js';
import { badCounters, blobOf, floatBlob, readSnapshot, writeSnapshot, type SnapshotParts } from '../policy/snapshot.js';
import { ActorCritic } from './actor-critic.js';
import { boxInputScale } from '../../envs/dict-obs.js';
import { resolvePgConfig, type PgAlgorithm, type PgConfig } from './config.js';
import { linearSchedule, maskedMean, normalizeAdvantages, valueLoss, vtrace } from './math.js';
import { RewardScaler, RunningMeanStd, normalizeObs, type RewardScalerState, type RunningMeanStdState } from './normalize.js';
import { actionKey, headWidth, loadRolloutBlobs, newActions, newRollout, pgActionSpec, rolloutBlobs, type PgActionSpec, type PgActions, type RecurrentState, type Rollout, type RolloutLayout, type TrainBatch } from './rollout.js';
import { ppo } from './ppo.js';
import { a2c } from './a2c.js';
import { reinforce } from './reinforce.js';

/** What a batch builder of an algorithm gets from the learner. */
export interface BatchContext {
  config: PgConfig;
  layout: RolloutLayout;
  recurrent: boolean;
  /** A shuffled 0..n-1 from the agent's RNG (part of the snapshot). */
  permutation(n: number): number[];
  /**
   * Advantages and value targets computed outside (`learnOffPolicy`: V-trace); only PPO takes
   * them. Absent: the algorithm computes its own from the rollout.
   */
  targets?: { advantages: Float32Array; returns: Float32Array };
}

/**
 * A rollout another process's policy collected (distributed actors), for `learnOffPolicy`.
 * Time-major like `Rollout` (row t * numEnvs + e); feed-forward policies only.
 */
export interface OffPolicyRollout {
  numSteps: number;
  numEnvs: number;
  /** `numSteps * numEnvs * obsSize` observations the actions were taken in. */
  obs: ObsArray;
  /** `numEnvs * obsSize`: the observation after each env's last step (the bootstrap). */
  lastObs: ObsArray;
  actions: PgActions;
  /** log mu(a_t|x_t): the behaviour policy's log-probabilities of the actions taken. */
  behaviourLogProbs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Rows that were truncated (not terminated), and their final observations, `truncRows.length * obsSize`. */
  truncRows: Int32Array;
  truncObs: ObsArray;
}

/** V-trace truncation levels (IMPALA's rho_bar and c_bar). */
export interface VtraceOptions {
  rhoBar: number;
  cBar: number;
}

/** Tensors of one batch the policy loss is computed from (inside the gradient closure). */
export interface PolicyLossInputs {
  /** log pi(a|s) of the stored actions under the current policy. */
  logProbs: tf.Tensor1D;
  /** log pi_old(a|s) stored at acting time, or null when the batch has none (REINFORCE). */
  oldLogProbs: tf.Tensor1D | null;
  advantages: tf.Tensor1D;
  /** 1 for real rows, 0 for padding. */
  mask: tf.Tensor1D;
  config: PgConfig;
}

/** What differs between PPO, A2C and REINFORCE. */
export interface OnPolicyAlgorithm {
  readonly name: PgAlgorithm;
  /**
   * Training batches of a full rollout, in order; null = nothing to learn yet (REINFORCE collecting
   * episodes). A batch may be overwritten by the next one (reused buffers): use it before asking.
   */
  batches(r: Rollout, ctx: BatchContext): Iterable<TrainBatch> | null;
  /** The policy loss of a batch (and PPO's diagnostics); new scalars the caller owns. */
  policyLoss(i: PolicyLossInputs): { loss: tf.Scalar; approxKl?: tf.Scalar; clipFraction?: tf.Scalar };
  /** PPO's value clip range, or null for the plain value loss. */
  valueClip(config: PgConfig): number | null;
  /** State that must survive a checkpoint (REINFORCE's episodes being collected): a JSON-safe header and blobs. */
  getState?(): { json: unknown; blobs: Record<string, Uint8Array> };
  /** Restores `getState`'s output; checks it first (it comes from a file). */
  setState?(json: unknown, blobs: Record<string, Uint8Array>): void;
}

function algorithmFor(name: PgAlgorithm, layout: RolloutLayout): OnPolicyAlgorithm {
  return name === 'ppo' ? ppo : name === 'a2c' ? a2c : reinforce(layout);
}

/** What `policyStep` returns for a batch of envs. */
export interface PolicyStep {
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

/** Recurrent state handed out by `act` in evaluation (opaque to the runner). */
export interface PgEvalState {
  state: RecurrentState | null;
}

export interface PolicyGradientAgentOptions {
  /** Partial config merged over the algorithm defaults; `annealSteps` = env steps over which lr anneals (0 = none). */
  config: Partial<PgConfig> & { annealSteps?: number };
  /** Observation space (a Box). */
  observationSpace: Space;
  /** Action space (Discrete, MultiDiscrete or a float32 vector Box). */
  actionSpace: Space;
  /** Parallel envs of the training rollout. */
  numEnvs: number;
  /** Seed of the network initialisers and the agent's RNG (sampling, shuffling). */
  seed: number;
}

const SNAPSHOT_FORMAT = 'npcforge-pg';

/** The next recurrent state out of a packed read whose rows (width `W`) end with [h | c]; null when `H` is 0. */
function unpackState(flat: Float32Array, numEnvs: number, W: number, H: number): RecurrentState | null {
  if (H === 0) return null;
  const next = { h: new Float32Array(numEnvs * H), c: new Float32Array(numEnvs * H) };
  for (let e = 0; e < numEnvs; e++) {
    const end = (e + 1) * W;
    next.h.set(flat.subarray(end - 2 * H, end - H), e * H);
    next.c.set(flat.subarray(end - H, end), e * H);
  }
  return next;
}

/** REINFORCE / A2C / PPO agent. Owns a network and an optimizer: call `dispose()`. */
export class PolicyGradientAgent implements Agent {
  readonly kind: PgAlgorithm;
  readonly config: PgConfig;
  readonly net: ActorCritic;
  readonly obsShape: number[];
  readonly obsSize: number;
  /** Width of the policy head (see `headWidth`). */
  readonly numActions: number;
  readonly action: PgActionSpec;
  /** Values per stored action row. */
  readonly actionWidth: number;
  readonly numEnvs: number;
  /** Updates done (each may hold several gradient steps). */
  updates = 0;
  private readonly algorithm: OnPolicyAlgorithm;
  private readonly layout: RolloutLayout;
  private readonly annealSteps: number;
  private readonly optimizer: SlotOptimizer;
  private readonly rng: SeededRng;
  private readonly rollout: Rollout;
  /** Rollout steps filled so far (0..numSteps-1). */
  private t = 0;
  private envSteps = 0;
  /** Training recurrent state and episode-start flags of the next `act`. */
  private state: RecurrentState | null;
  private starts: Float32Array;
  /** State after each sub-env's latest training act; it becomes `state` when that step is observed (null for feed-forward nets). */
  private readonly pending: RecurrentState | null;
  /** Rollout step each sub-env's next training act writes: a slice acts on step t + 1 before the others observed step t. */
  private readonly actT: Int32Array;
  /** Sub-envs observed so far in step `t`. */
  private observed = 0;
  /** Box actions clipped to the bounds since the last update (training acts only). */
  private clippedSinceUpdate = 0;
  private readonly obsStats: RunningMeanStd | null;
  private readonly rewardScaler: RewardScaler | null;

  constructor(options: PolicyGradientAgentOptions) {
    const { annealSteps = 0, ...config } = options.config;
    this.config = resolvePgConfig(config);
    this.kind = this.config.algorithm;
    this.annealSteps = annealSteps;
    const { observationSpace: os, actionSpace: as } = options;
    if (!(os instanceof Box)) throw new SpaceMismatchError(formatError('PolicyGradientAgent', 'a Box observation space', os.type, 'wrap the env so observations are arrays'));
    this.action = pgActionSpec(as);
    this.actionWidth = actionWidth(as);
    this.obsShape = [...os.shape];
    this.obsSize = os.size;
    this.numActions = headWidth(this.action);
    this.numEnvs = options.numEnvs;
    // uint8 pixels (0..255) are scaled to [0, 1]; 0/1 grids and float vectors are used as they are.
    const obsScale = boxInputScale(os);
    this.net = new ActorCritic({ obsShape: this.obsShape, observationSpace: os, numActions: this.numActions, obsScale, encoder: this.config.encoder, mlpHidden: this.config.mlpHidden, lstmUnits: this.config.lstmUnits, init: this.config.init, seed: options.seed, logStdDims: this.action.kind === 'box' ? this.action.dims : 0, separateCritic: this.config.separateCritic });
    this.optimizer = new SlotOptimizer({ kind: 'adam', learningRate: this.config.lr, beta1: 0.9, beta2: 0.999, epsilon: this.config.adamEps }, this.net.variables);
    this.rng = new SeededRng(options.seed);
    this.layout = { obsSize: this.obsSize, action: this.action, actionWidth: this.actionWidth, stateUnits: this.net.stateUnits };
    this.algorithm = algorithmFor(this.kind, this.layout);
    this.rollout = newRollout(this.layout, this.config.numSteps, this.numEnvs);
    this.state = this.initialState(this.numEnvs);
    this.pending = this.initialState(this.numEnvs);
    this.actT = new Int32Array(this.numEnvs);
    this.starts = new Float32Array(this.numEnvs).fill(1);
    this.obsStats = this.config.normObs ? new RunningMeanStd(this.obsSize) : null;
    this.rewardScaler = this.config.normReward ? new RewardScaler(this.numEnvs, this.config.gamma) : null;
  }

  /** True when the policy carries an LSTM state (evaluation must thread it). */
  get recurrent(): boolean {
    return this.net.recurrent;
  }

  /**
   * Slices of the training envs act and observe as the whole batch would: each env's row of a
   * forward pass depends on that row only, and the Discrete sampler draws one number per env in
   * env order. Not with `normObs`/`normReward`, whose statistics are updated per call (a slice
   * would normalise with statistics that lack the other slice's values), nor for MultiDiscrete and
   * Box actions, whose samplers draw from tensors of the whole batch.
   */
  get slicedTraining(): boolean {
    return !this.obsStats && !this.rewardScaler && this.action.kind === 'discrete';
  }

  /** True when observing the step being filled completes the rollout (an update follows). */
  updateDue(): boolean {
    return this.t === this.rollout.numSteps - 1;
  }

  /** Rows `first..first+n-1` of a per-env state, as views (the state itself for the whole batch). */
  private stateRows(s: RecurrentState | null, first: number, n: number): RecurrentState | null {
    if (!s || (first === 0 && n === this.numEnvs)) return s;
    const H = this.net.stateUnits;
    return { h: s.h.subarray(first * H, (first + n) * H), c: s.c.subarray(first * H, (first + n) * H) };
  }

  /** Checks a training slice `first..first+n-1` (the whole batch unless `slicedTraining`). */
  private checkSlice(component: string, first: number, n: number): void {
    const N = this.numEnvs;
    const whole = first === 0 && n === N;
    if (Number.isInteger(first) && first >= 0 && first + n <= N && (whole || this.slicedTraining)) return;
    const want = this.slicedTraining ? `a slice of the ${N} training sub-envs` : `all ${N} training sub-envs (this agent does not act on slices: normObs, normReward or non-Discrete actions)`;
    throw new InvalidConfigError(formatError(component, want, `${n} sub-envs from ${describe(first)}`, 'act and observe on the whole batch of training envs'));
  }

  /** Observation normalisation statistics (`normObs`), read by export; null when off. */
  get obsNormStats(): RunningMeanStd | null {
    return this.obsStats;
  }

  /** A zero recurrent state for `numEnvs` envs, or null for feed-forward nets. */
  private initialState(numEnvs: number): RecurrentState | null {
    if (!this.recurrent) return null;
    const n = numEnvs * this.net.stateUnits;
    return { h: new Float32Array(n), c: new Float32Array(n) };
  }

  // -------------------------------------------------------------------------------------------
  // Acting

  /**
   * Training (`mode` 'train' or absent): samples from the policy and records the step in the
   * rollout. Evaluation (`mode: 'eval'`): the most likely action, the caller's recurrent state
   * (`state` from the previous call, reset where `episodeStarts` is 1), statistics frozen.
   */
  async act(obs: ObsArray, options: ActOptions, state?: unknown): Promise<ActResult> {
    const n = options.numEnvs;
    if (actMode(options, 'PolicyGradientAgent.act') === 'eval') {
      const prev = (state as PgEvalState | undefined)?.state ?? this.initialState(n);
      const starts = options.episodeStarts ?? new Float32Array(n).fill(state === undefined ? 1 : 0);
      const r = await this.policyStep(this.netObs(obs, n, false), n, prev, starts, true);
      return { actions: this.envActions(r.actions, false), state: { state: r.state } satisfies PgEvalState, info: { probs: r.probs, value: r.values } };
    }
    const N = this.numEnvs;
    const first = options.first ?? 0;
    this.checkSlice('PolicyGradientAgent.act', first, n);
    const T = this.actT[first]!;
    obs = this.netObs(obs, n, true);
    const starts = this.starts.subarray(first, first + n);
    const r = await this.policyStep(obs, n, this.stateRows(this.state, first, n), starts, false);
    const { obsSize: S, actionWidth: Wa } = this;
    const H = this.net.stateUnits;
    const ro = this.rollout;
    const at = T * N + first;
    if (T === 0 && this.state) {
      ro.initialState ??= this.initialState(N);
      ro.initialState!.h.set(this.stateRows(this.state, first, n)!.h, first * H);
      ro.initialState!.c.set(this.stateRows(this.state, first, n)!.c, first * H);
    }
    if (ro.obs.constructor !== obs.constructor) ro.obs = new (obs.constructor as { new (n: number): ObsArray })(ro.obs.length);
    ro.obs.set(obs, at * S);
    ro.starts.set(starts, at);
    ro.actions.set(r.actions, at * Wa);
    ro.logProbs.set(r.logProbs, at);
    ro.values.set(r.values, at);
    if (this.pending && r.state) {
      this.pending.h.set(r.state.h, first * H);
      this.pending.c.set(r.state.c, first * H);
    }
    this.actT.fill(T + 1, first, first + n);
    return { actions: this.envActions(r.actions, true), info: { probs: r.probs, value: r.values } };
  }

  /** Observations as the network sees them: normalised when `normObs` (`learn` = update the statistics first). */
  private netObs(obs: ObsArray, rows: number, learn: boolean): ObsArray {
    if (!this.obsStats) return obs;
    if (learn) this.obsStats.update(obs, rows);
    return normalizeObs(this.obsStats, obs, rows);
  }

  /** What the envs get: Box actions clipped to the bounds (and counted when `count`), others as they are. */
  private envActions(actions: PgActions, count: boolean): ActionBatch {
    if (this.action.kind !== 'box') return actions;
    const c = clipToBox(actions, this.action);
    if (count) this.clippedSinceUpdate += c.clipped;
    return c.actions;
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
   * One forward pass of the policy for a batch of envs: an action each (sampled, or the most
   * likely with `greedy`), its log-probability, V(obs), the probabilities and the next state.
   * `starts` (1 = first observation of an episode) resets the state.
   */
  private async policyStep(obs: ObsArray, numEnvs: number, state: RecurrentState | null, starts: ArrayLike<number>, greedy: boolean): Promise<PolicyStep> {
    this.checkObs(obs, numEnvs);
    if (this.action.kind !== 'discrete') return this.stepFromDistribution(obs, numEnvs, state, starts, greedy);
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
    const actions = new Int32Array(numEnvs);
    const logProbs = new Float32Array(numEnvs);
    const values = new Float32Array(numEnvs);
    const probs = new Float32Array(numEnvs * A);
    const next = unpackState(flat, numEnvs, W, H);
    for (let e = 0; e < numEnvs; e++) {
      const o = e * W;
      values[e] = flat[o + A]!;
      let best = 0;
      for (let a = 0; a < A; a++) {
        probs[e * A + a] = Math.exp(flat[o + a]!);
        if (flat[o + a]! > flat[o + best]!) best = a;
      }
      // Inverse-CDF sampling from the agent's RNG: one draw per env, the stream a snapshot restores.
      let action = best;
      if (!greedy) {
        const u = this.rng.random();
        let acc = 0;
        action = A - 1;
        for (let a = 0; a < A; a++) {
          acc += probs[e * A + a]!;
          if (u < acc) {
            action = a;
            break;
          }
        }
      }
      actions[e] = action;
      logProbs[e] = flat[o + action]!;
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
   * `policyStep` for MultiDiscrete and Box: samples (or takes the mode) with the distributions
   * module. Discrete keeps its own path above so its numbers (and RNG stream) stay what they were.
   */
  private async stepFromDistribution(obs: ObsArray, numEnvs: number, state: RecurrentState | null, starts: ArrayLike<number>, greedy: boolean): Promise<PolicyStep> {
    const Wa = this.actionWidth;
    const H = this.net.stateUnits;
    const P = this.action.kind === 'multi-discrete' ? this.numActions : 0;
    // One packed read per step [action | logp | value | probs | h | c], as the Discrete path.
    const packed = tf.tidy(() => {
      const st = this.stateTensors(state, numEnvs);
      const out = this.net.step(this.net.obsTensor(obs, numEnvs), st, st ? tf.tensor1d(Float32Array.from(starts)) : null);
      const dist = this.distribution(out.logits);
      const a = (greedy ? dist.mode() : dist.sample(this.rng)) as tf.Tensor2D;
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
    for (let e = 0; e < numEnvs; e++) {
      const o = e * W;
      // Int32Array.set rounds nothing: MultiDiscrete indices are exact small integers in float32.
      actions.set(flat.subarray(o, o + Wa), e * Wa);
      logProbs[e] = flat[o + Wa]!;
      values[e] = flat[o + Wa + 1]!;
      probs.set(flat.subarray(o + Wa + 2, o + Wa + 2 + P), e * P);
    }
    const next = unpackState(flat, numEnvs, W, H);
    return { actions, logProbs, values, probs, state: next };
  }

  /** V(obs) per env without acting (bootstraps); same state conventions as `policyStep`. */
  private async values(obs: ObsArray, numEnvs: number, state: RecurrentState | null, starts: ArrayLike<number>): Promise<Float32Array> {
    this.checkObs(obs, numEnvs);
    const v = tf.tidy(() => {
      const st = this.stateTensors(state, numEnvs);
      return this.net.step(this.net.obsTensor(obs, numEnvs), st, st ? tf.tensor1d(Float32Array.from(starts)) : null).values;
    });
    const out = Float32Array.from(v.dataSync() as Float32Array);
    v.dispose();
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Learning

  async observe(step: StepBatch): Promise<UpdateMetrics | null> {
    const { t: T, numEnvs: N, obsSize: S } = this;
    const first = step.first ?? 0;
    const n = step.rewards.length;
    this.checkSlice('PolicyGradientAgent.observe', first, n);
    if (this.actT[first] !== T + 1 || this.actT[first + n - 1] !== T + 1) {
      throw new InvalidConfigError(formatError('PolicyGradientAgent.observe', `the step of sub-envs ${first}..${first + n - 1} acted on last (rollout step ${T})`, `sub-envs at rollout step ${this.actT[first]! - 1}`, 'call observe once after each training act, every slice of a step before the next step'));
    }
    const ro = this.rollout;
    const at = T * N + first;
    ro.rewards.set(this.rewardScaler ? this.rewardScaler.scale(step.rewards, step.terminated, step.truncated) : step.rewards, at);
    ro.terminated.set(step.terminated, at);
    ro.truncated.set(step.truncated, at);
    const post = this.stateRows(this.pending, first, n);
    ro.truncValues.fill(0, at, at + n);
    if (step.truncated.some((x, e) => x === 1 && !step.terminated[e])) {
      // Bootstrap truncated episodes from V(finalObs), continuing each env's own recurrent state.
      const finalObs = new (step.nextObs.constructor as { new (n: number): ObsArray })(n * S);
      finalObs.set(step.nextObs);
      for (let e = 0; e < n; e++) if (step.truncated[e] && step.finalObs[e]) finalObs.set(step.finalObs[e]!, e * S);
      const v = await this.values(this.netObs(finalObs, n, false), n, post, new Float32Array(n));
      for (let e = 0; e < n; e++) if (step.truncated[e]) ro.truncValues[at + e] = v[e]!;
    }
    if (this.state && post) {
      this.state.h.set(post.h, first * this.net.stateUnits);
      this.state.c.set(post.c, first * this.net.stateUnits);
    }
    for (let e = 0; e < n; e++) this.starts[first + e] = step.terminated[e] || step.truncated[e] ? 1 : 0;
    this.envSteps += n;
    // Each slice bootstraps its own rows after the rollout's last step.
    if (T === ro.numSteps - 1) ro.lastValues.set(await this.values(this.netObs(step.nextObs, n, false), n, this.stateRows(this.state, first, n), this.starts.subarray(first, first + n)), first);
    this.observed += n;
    if (this.observed < N) return null;
    this.observed = 0;
    this.t++;
    if (this.t < ro.numSteps) return null;
    this.t = 0;
    this.actT.fill(0);
    const m = await this.update(ro, this.annealSteps > 0 ? this.envSteps / this.annealSteps : 0);
    if (!m) return null;
    if (this.action.kind === 'box') {
      m.clipped_actions = this.clippedSinceUpdate;
      this.clippedSinceUpdate = 0;
    }
    return m;
  }

  schedule(): Record<string, number> {
    return { updates: this.updates, lr: this.learningRate(this.annealSteps > 0 ? this.envSteps / this.annealSteps : 0) };
  }

  private learningRate(progress: number): number {
    return this.config.annealLr ? linearSchedule(this.config.lr, progress) : this.config.lr;
  }

  /**
   * Learns from one full rollout; `progress` in [0, 1] drives lr annealing. Returns the mean
   * losses of its gradient steps, or null when the algorithm has nothing to learn yet.
   */
  private async update(rollout: Rollout, progress: number, targets?: BatchContext['targets']): Promise<UpdateMetrics | null> {
    const lr = this.learningRate(progress);
    this.optimizer.setLearningRate(lr);
    const batches = this.algorithm.batches(rollout, { config: this.config, layout: this.layout, recurrent: this.recurrent, permutation: (n) => this.permutation(n), targets });
    if (!batches) return null;
    const sums = { loss: 0, policy_loss: 0, value_loss: 0, entropy: 0, approx_kl: 0, clip_fraction: 0, grad_norm: 0 };
    let n = 0;
    for (const batch of batches) {
      const m = await this.gradientStep(batch);
      for (const k of Object.keys(sums) as Array<keyof typeof sums>) sums[k] += m[k];
      n++;
    }
    this.updates++;
    const out: UpdateMetrics = { loss: sums.loss / n, policy_loss: sums.policy_loss / n, value_loss: sums.value_loss / n, entropy: sums.entropy / n, grad_norm: sums.grad_norm / n, lr, updates: 1 };
    // Only PPO's loss measures how far the policy moved.
    if (this.kind === 'ppo') {
      out.approx_kl = sums.approx_kl / n;
      out.clip_fraction = sums.clip_fraction / n;
    }
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

  /** The recurrent start state of a batch as tensors, or null. Call inside tidy. */
  private batchState(b: TrainBatch) {
    return this.recurrent ? { h: tf.tensor2d(b.h0!, [b.batch, this.net.stateUnits]), c: tf.tensor2d(b.c0!, [b.batch, this.net.stateUnits]) } : null;
  }

  /** G - V(s) with the current critic (REINFORCE's learned baseline), normalised when `normAdv`. */
  private async baselineAdvantages(b: TrainBatch): Promise<Float32Array> {
    const v = tf.tidy(() => {
      const st = this.batchState(b);
      return this.net.sequence(this.net.obsTensor(b.obs, b.steps * b.batch), st, st ? tf.tensor1d(b.starts) : null, b.steps).values;
    });
    const values = (await v.data()) as Float32Array;
    v.dispose();
    const adv = b.returns.map((g, i) => (b.mask[i] ? g - values[i]! : 0));
    return this.config.normAdv ? normalizeAdvantages(adv, { mask: b.mask }) : adv;
  }

  /** One gradient step on a batch: loss = policy loss - entCoef H + vfCoef value loss. */
  private async gradientStep(b: TrainBatch): Promise<{ loss: number; policy_loss: number; value_loss: number; entropy: number; approx_kl: number; clip_fraction: number; grad_norm: number }> {
    const advantages = b.advantages ?? (await this.baselineAdvantages(b));
    const cfg = this.config;
    const vars = this.net.variables;
    const kept: tf.Tensor[] = [];
    const stats = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const rows = b.steps * b.batch;
        const st = this.batchState(b);
        const out = this.net.sequence(this.net.obsTensor(b.obs, rows), st, st ? tf.tensor1d(b.starts) : null, b.steps);
        const mask = tf.tensor1d(b.mask);
        const dist = this.distribution(out.logits);
        const logProbs = (dist as { logProb(a: tf.Tensor): tf.Tensor1D }).logProb(this.actionTensor(b.actions, rows));
        const pl = this.algorithm.policyLoss({ logProbs, oldLogProbs: b.oldLogProbs ? tf.tensor1d(b.oldLogProbs) : null, advantages: tf.tensor1d(advantages), mask, config: cfg });
        const vl = valueLoss({ values: out.values, returns: tf.tensor1d(b.returns), oldValues: b.oldValues ? tf.tensor1d(b.oldValues) : undefined, clip: this.algorithm.valueClip(cfg), mask });
        const ent = maskedMean(dist.entropy(), mask);
        const loss = tf.add(tf.sub(pl.loss, tf.mul(cfg.entCoef, ent)), tf.mul(cfg.vfCoef, vl)) as tf.Scalar;
        for (const s of [pl.loss, vl, ent, pl.approxKl ?? tf.scalar(0), pl.clipFraction ?? tf.scalar(0)]) kept.push(tf.keep(s));
        return loss;
      }, vars);
      // The one gradient path of every agent: global-norm clip in-graph, then fused Adam.
      const norm = applyGradients(this.optimizer, vars, grads, cfg.maxGradNorm);
      return tf.stack([value, ...kept, norm]);
    });
    const read = stats.dataSync();
    tf.dispose([stats, ...kept]);
    const [loss, policyLoss, vLoss, entropy, approxKl, clipFraction, gradNorm] = Array.from(read) as [number, number, number, number, number, number, number];
    checkFiniteUpdate(`${cfg.algorithm}.update`, { loss, gradNorm }, this.updates + 1);
    return { loss, policy_loss: policyLoss, value_loss: vLoss, entropy, approx_kl: approxKl, clip_fraction: clipFraction, grad_norm: gradNorm };
  }

  // -------------------------------------------------------------------------------------------
  // Distributed PPO: acting for a learner elsewhere, learning from what other processes collected

  /** Refuses what the distributed path does not carry: recurrent state and normalisation statistics live in one process only. */
  private checkDistributable(component: string): void {
    const why = this.recurrent ? 'a recurrent policy (lstmUnits > 0)' : this.obsStats ? 'normObs' : this.rewardScaler ? 'normReward' : this.kind !== 'ppo' ? `algorithm ${this.kind}` : null;
    if (why) throw new InvalidConfigError(formatError(component, 'a feed-forward ppo policy without normObs/normReward (actors and learner share weights only)', why, 'train it without --distributed'));
  }

  /**
   * A distributed actor's step: samples actions from the current policy without touching the
   * training rollout. Returns the actions as stored (Box: the unclipped sample), as the envs take
   * them, and their log-probabilities (the behaviour policy's log mu, which the learner's V-trace needs).
   */
  async behaviourStep(obs: ObsArray, numEnvs: number): Promise<{ actions: PgActions; envActions: ActionBatch; logProbs: Float32Array }> {
    this.checkDistributable('PolicyGradientAgent.behaviourStep');
    const r = await this.policyStep(obs, numEnvs, null, new Float32Array(numEnvs).fill(1), false);
    return { actions: r.actions, envActions: this.envActions(r.actions, false), logProbs: r.logProbs };
  }

  /** log pi(a|s) and V(s) of every row under the current policy, in chunks of at most `chunk` rows. */
  private async logProbsAndValues(obs: ObsArray, actions: PgActions, rows: number, chunk = 4096): Promise<{ logProbs: Float32Array; values: Float32Array }> {
    const S = this.obsSize;
    const Wa = this.actionWidth;
    const logProbs = new Float32Array(rows);
    const values = new Float32Array(rows);
    for (let from = 0; from < rows; from += chunk) {
      const n = Math.min(chunk, rows - from);
      const packed = tf.tidy(() => {
        const out = this.net.step(this.net.obsTensor(obs.subarray(from * S, (from + n) * S), n), null, null);
        const dist = this.distribution(out.logits) as { logProb(a: tf.Tensor): tf.Tensor1D };
        const lp = dist.logProb(this.actionTensor(actions.subarray(from * Wa, (from + n) * Wa) as PgActions, n));
        return tf.stack([lp, out.values]);
      });
      const flat = (await packed.data()) as Float32Array;
      packed.dispose();
      logProbs.set(flat.subarray(0, n), from);
      values.set(flat.subarray(n, 2 * n), from);
    }
    return { logProbs, values };
  }

  /**
   * One PPO update on a rollout other processes collected with older weights (distributed
   * actors): V-trace (`vtrace`, with the current policy as pi and the actors' log-probs as mu)
   * gives the value targets and advantages, then the usual epochs and minibatches run on them with
   * the clip ratio taken against the behaviour log-probs (as APPO and Sample Factory do). Returns
   * the update's metrics plus the mean truncated importance weight and the fraction truncated.
   */
  async learnOffPolicy(r: OffPolicyRollout, options: VtraceOptions): Promise<UpdateMetrics | null> {
    this.checkDistributable('PolicyGradientAgent.learnOffPolicy');
    const { numSteps: T, numEnvs: N } = r;
    const rows = T * N;
    const S = this.obsSize;
    const bad: string[] = [];
    if (r.obs.length !== rows * S) bad.push(`obs of ${r.obs.length} values (want ${rows * S})`);
    if (r.lastObs.length !== N * S) bad.push(`lastObs of ${r.lastObs.length} values (want ${N * S})`);
    if (r.actions.length !== rows * this.actionWidth) bad.push(`actions of ${r.actions.length} values (want ${rows * this.actionWidth})`);
    if (r.truncObs.length !== r.truncRows.length * S) bad.push(`truncObs of ${r.truncObs.length} values (want ${r.truncRows.length * S})`);
    for (const k of ['behaviourLogProbs', 'rewards', 'terminated', 'truncated'] as const) if (r[k].length !== rows) bad.push(`${k} of ${r[k].length} values (want ${rows})`);
    if (bad.length) throw new InvalidConfigError(formatError('PolicyGradientAgent.learnOffPolicy', `a rollout of ${T} x ${N} rows`, bad.join(', '), 'pass time-major arrays of one rollout'));
    const { logProbs, values } = await this.logProbsAndValues(r.obs, r.actions, rows);
    const zeros = new Float32Array(Math.max(N, r.truncRows.length));
    const lastValues = await this.values(r.lastObs, N, null, zeros.subarray(0, N));
    const truncValues = new Float32Array(rows);
    if (r.truncRows.length) {
      const v = await this.values(r.truncObs, r.truncRows.length, null, zeros.subarray(0, r.truncRows.length));
      r.truncRows.forEach((row, k) => (truncValues[row] = v[k]!));
    }
    const logRhos = logProbs.map((lp, i) => lp - r.behaviourLogProbs[i]!);
    const cfg = this.config;
    const { vs, pgAdvantages, clippedRhos } = vtrace({ numSteps: T, numEnvs: N, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, truncValues, lastValues, values, logRhos, gamma: cfg.gamma, lambda: cfg.gaeLambda, rhoBar: options.rhoBar, cBar: options.cBar });
    // The stored log-probs are mu's: PPO's ratio pi/mu is then clipped around the behaviour policy.
    const rollout: Rollout = { numSteps: T, numEnvs: N, obs: r.obs, actions: r.actions, logProbs: r.behaviourLogProbs, values, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, truncValues, starts: new Float32Array(rows), lastValues, initialState: null };
    this.envSteps += rows;
    const m = await this.update(rollout, this.annealSteps > 0 ? this.envSteps / this.annealSteps : 0, { advantages: pgAdvantages, returns: vs });
    if (!m) return null;
    let rhoSum = 0;
    let truncated = 0;
    for (let i = 0; i < rows; i++) {
      rhoSum += clippedRhos[i]!;
      if (logRhos[i]! > Math.log(options.rhoBar)) truncated++;
    }
    m.vtrace_rho_mean = rhoSum / rows;
    m.vtrace_rho_truncated = truncated / rows;
    return m;
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots

  private snapshotParts(): SnapshotParts {
    return { weights: { net: this.net.variables }, optimizers: { adam: this.optimizer }, rngs: { policy: this.rng } };
  }

  /** Everything a resume needs, the partial rollout included (a checkpoint can fall inside one). */
  async save(): Promise<AgentSnapshot> {
    const blobs = rolloutBlobs(this.rollout);
    if (this.state) {
      blobs['state.h'] = blobOf(this.state.h);
      blobs['state.c'] = blobOf(this.state.c);
    }
    blobs['starts'] = blobOf(this.starts);
    const algorithmState = this.algorithm.getState?.() ?? null;
    if (algorithmState) Object.assign(blobs, algorithmState.blobs);
    const state = {
      algorithm: this.kind,
      obsShape: this.obsShape,
      actionSpace: actionKey(this.action),
      numEnvs: this.numEnvs,
      updates: this.updates,
      t: this.t,
      envSteps: this.envSteps,
      obsDtype: this.rollout.obs.constructor.name,
      clippedSinceUpdate: this.clippedSinceUpdate,
      norm: { obs: this.obsStats?.getState() ?? null, reward: this.rewardScaler?.getState() ?? null },
      algorithmState: algorithmState?.json ?? null,
    };
    return writeSnapshot(SNAPSHOT_FORMAT, this.snapshotParts(), state, blobs);
  }

  /** Restores a snapshot from `save` taken by an agent of the same algorithm, config, spaces and env count. */
  async load(snapshot: AgentSnapshot): Promise<void> {
    // The spaces first: loading another game's run is a SpaceMismatchError naming both.
    const json = snapshot?.json as { format?: unknown; state?: Record<string, unknown> } | undefined;
    const saved = json?.format === SNAPSHOT_FORMAT ? json.state : undefined;
    if (saved && typeof saved === 'object') {
      const savedObs = Array.isArray(saved.obsShape) ? saved.obsShape.join(',') : describe(saved.obsShape);
      if (savedObs !== this.obsShape.join(',') || saved.actionSpace !== actionKey(this.action) || saved.algorithm !== this.kind) {
        const shown = (v: unknown) => (typeof v === 'string' && v.length <= 40 ? v : describe(v));
        throw new SpaceMismatchError(formatError('PolicyGradientAgent.load', `a ${this.kind} run with obs [${this.obsShape}] and actions ${actionKey(this.action)}`, `${shown(saved.algorithm)} with obs [${savedObs.slice(0, 40)}] and actions ${shown(saved.actionSpace)}`, 'load a checkpoint of the same algorithm and game'));
      }
    }
    const N = this.numEnvs;
    const { state, blobs } = readSnapshot(snapshot, {
      component: 'PolicyGradientAgent.load',
      format: SNAPSHOT_FORMAT,
      parts: this.snapshotParts(),
      hint: 'resume with the agent that wrote the checkpoint',
      checkState: (s) => badCounters(s, ['updates', 't', 'envSteps', 'clippedSinceUpdate', 'numEnvs']) ?? ((s.t as number) < this.config.numSteps ? null : `t=${describe(s.t)} (want < numSteps ${this.config.numSteps})`),
    });
    this.updates = state.updates as number;
    this.envSteps = state.envSteps as number;
    const norm = state.norm as { obs: RunningMeanStdState | null; reward: RewardScalerState | null } | undefined;
    if (this.obsStats) this.obsStats.setState(norm?.obs as RunningMeanStdState);
    this.algorithm.setState?.(state.algorithmState, blobs);
    this.observed = 0;
    // The training rollout and state only mean something to an agent with the run's envs (a
    // resume); one built for evaluation or export (numEnvs 1) starts them afresh.
    if (state.numEnvs !== N) return;
    loadRolloutBlobs('PolicyGradientAgent.load', this.rollout, blobs, state.obsDtype, this.net.stateUnits);
    const f32 = (name: string, length: number): Float32Array => floatBlob(blobs, name, 'PolicyGradientAgent.load', length);
    const H = this.net.stateUnits;
    this.state = H > 0 ? { h: f32('state.h', N * H), c: f32('state.c', N * H) } : null;
    this.starts = f32('starts', N);
    this.t = state.t as number;
    this.actT.fill(this.t);
    this.clippedSinceUpdate = state.clippedSinceUpdate as number;
    if (this.rewardScaler) this.rewardScaler.setState(norm?.reward as RewardScalerState);
  }

  dispose(): void {
    this.net.dispose();
    this.optimizer.dispose();
  }
}
