/**
 * Soft Actor-Critic for `Box` actions (Haarnoja et al. 2018), read top to bottom like CleanRL's
 * `sac_continuous_action.py`: the losses as pure tensor functions, the networks, then the agent
 * (act, observe -> update, save/load).
 *
 * - Actor: MLP (Dict observations: per-key encoders then the MLP, see `sacEncoders`) -> [mean, log-std] per action dim; log-std squashed into [-5, 2] by tanh as
 *   CleanRL; a `TanhGaussian` samples and scales the action onto the Box bounds.
 * - Twin critics Q1, Q2: MLPs on concat(obs, action); target copies follow by Polyak averaging.
 * - Automatic entropy tuning: learnable log(alpha) towards target entropy -|A|.
 * - Replay of float observations and action vectors; uniform random actions before
 *   `learningStarts` (as CleanRL); one update of critics, actor and alpha per `trainEvery` steps.
 * - Exploration: white noise (SAC) or colored noise per env and episode (`config.exploration`).
 */
import * as tf from '@tensorflow/tfjs';
import { SpaceMismatchError, formatError } from '../../errors.js';
import type { ObsArray } from '../../envs/env.js';
import { SeededRng, type Rng } from '../../envs/rng.js';
import { Box, type Space } from '../../envs/spaces.js';
import { buildQNetwork, copyWeights, polyakUpdate } from '../../networks/builders.js';
import { SlotOptimizer, applyGradients } from '../../networks/optimizers.js';
import { badUpdateCounters, readSnapshot, writeSnapshot, type SnapshotParts } from '../policy/snapshot.js';
import { TanhGaussian } from '../policy/distributions.js';
import { checkFiniteUpdate } from '../divergence.js';
import { actMode, type ActOptions, type ActResult, type Agent, type AgentSnapshot, type StepBatch, type UpdateMetrics } from '../agent.js';
import { sacEncoders, type SacConfig, type SacEncoderChoice } from './config.js';
import { boxInputScale } from '../../envs/dict-obs.js';
import { ContinuousReplay, type ContinuousSample } from './replay.js';
import { ColoredNoise, type ColoredNoiseState } from './noise.js';

// ---------------------------------------------------------------------------------------------
// Losses and helpers (pure tensor functions; call inside tidy, tested against hand-computed values)

/** Bounds of the actor's log-std (CleanRL's LOG_STD_MIN / LOG_STD_MAX). */
export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;

/** Maps the raw log-std head into [LOG_STD_MIN, LOG_STD_MAX] smoothly (tanh, as CleanRL; a hard clamp would stop its gradient). */
export function squashLogStd(raw: tf.Tensor): tf.Tensor {
  return tf.add(LOG_STD_MIN, tf.mul(0.5 * (LOG_STD_MAX - LOG_STD_MIN), tf.add(tf.tanh(raw), 1)));
}

/**
 * Soft TD target y = r + gamma (1 - terminated) (min(Q1', Q2') - alpha log pi(a'|s')), with a'
 * drawn from the current policy at s'. Truncated transitions bootstrap (terminated is 0 there).
 */
export function softTarget(o: { rewards: tf.Tensor1D; terminated: tf.Tensor1D; nextQ1: tf.Tensor1D; nextQ2: tf.Tensor1D; nextLogProb: tf.Tensor1D; alpha: tf.Scalar | number; gamma: number }): tf.Tensor1D {
  const softValue = tf.sub(tf.minimum(o.nextQ1, o.nextQ2), tf.mul(o.alpha, o.nextLogProb));
  return tf.add(o.rewards, tf.mul(tf.mul(tf.sub(1, o.terminated), o.gamma), softValue)) as tf.Tensor1D;
}

/** Critic loss: MSE(Q1, y) + MSE(Q2, y) (CleanRL's qf_loss). */
export function criticLoss(q1: tf.Tensor1D, q2: tf.Tensor1D, y: tf.Tensor1D): tf.Scalar {
  return tf.add(tf.mean(tf.square(tf.sub(q1, y))), tf.mean(tf.square(tf.sub(q2, y)))) as tf.Scalar;
}

/** Actor loss: mean(alpha log pi(a|s) - min(Q1(s, a), Q2(s, a))) with a reparameterised. */
export function actorLoss(logProb: tf.Tensor1D, q1: tf.Tensor1D, q2: tf.Tensor1D, alpha: tf.Scalar | number): tf.Scalar {
  return tf.mean(tf.sub(tf.mul(alpha, logProb), tf.minimum(q1, q2))) as tf.Scalar;
}

/** Entropy-temperature loss: mean(-alpha (log pi + target entropy)), alpha = exp(logAlpha), log pi held fixed (pass a tensor computed outside the gradient closure). */
export function alphaLoss(logAlpha: tf.Tensor, logProb: tf.Tensor1D, targetEntropy: number): tf.Scalar {
  return tf.mean(tf.mul(tf.neg(tf.exp(logAlpha)), tf.add(logProb, targetEntropy))) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------
// Networks

/** Mean and squashed log-std [B, D] of the actor on `x` [B, obsSize]. */
function actorHeads(actor: tf.LayersModel, x: tf.Tensor, d: number): { mean: tf.Tensor2D; logStd: tf.Tensor2D } {
  const out = actor.apply(x) as tf.Tensor2D;
  const [mean, raw] = tf.split(out, [d, d], 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mean, logStd: squashLogStd(raw) as tf.Tensor2D };
}

/** Q(s, a) [B] of one critic. */
function qValue(critic: tf.LayersModel, x: tf.Tensor, a: tf.Tensor): tf.Tensor1D {
  return tf.reshape(critic.apply(tf.concat([x, a], 1)) as tf.Tensor, [-1]) as tf.Tensor1D;
}

function variablesOf(models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.weights.map((w) => w.read() as tf.Variable));
}

// ---------------------------------------------------------------------------------------------
// The agent

export interface SacAgentOptions {
  config: SacConfig;
  observationSpace: Space;
  actionSpace: Space;
  /** Seed of the weights, exploration, replay sampling and policy noise. */
  seed: number;
}

const SNAPSHOT_FORMAT = 'npcforge-sac';

export class SacAgent implements Agent {
  readonly kind = 'sac';
  readonly config: SacConfig;
  readonly actor: tf.LayersModel;
  readonly q1: tf.LayersModel;
  readonly q2: tf.LayersModel;
  readonly q1Target: tf.LayersModel;
  readonly q2Target: tf.LayersModel;
  readonly logAlpha: tf.Variable;
  readonly replay: ContinuousReplay;
  readonly obsSize: number;
  readonly actionDims: number;
  readonly targetEntropy: number;
  /** Multiplier from stored observation values to network inputs (1/255 for byte pixels). */
  readonly obsScale: number;
  private readonly low: Float64Array;
  private readonly high: Float64Array;
  private readonly actorVars: tf.Variable[];
  private readonly criticVars: tf.Variable[];
  private readonly actorOptimizer: SlotOptimizer;
  private readonly criticOptimizer: SlotOptimizer;
  private readonly alphaOptimizer: SlotOptimizer;
  /** Random actions before learning starts and the policy's sampling noise while training. */
  private readonly exploreRng: SeededRng;
  /** Replay sampling and the noise of the update's policy samples. */
  private readonly learnRng: SeededRng;
  /** Per-env colored exploration noise (drawn from `exploreRng`); null = white noise. */
  private readonly noise: ColoredNoise | null;
  /** Env steps observed. */
  envSteps = 0;
  /** Gradient updates done. */
  updates = 0;
  private updateDebt = 0;
  /** alpha = exp(logAlpha), read back after each update (for the metrics and `schedule`). */
  private alpha: number;

  constructor(options: SacAgentOptions) {
    const { config, observationSpace, actionSpace, seed } = options;
    if (!(actionSpace instanceof Box) || actionSpace.dtype !== 'float32' || actionSpace.shape.length !== 1) {
      throw new SpaceMismatchError(formatError('sac', 'a Box action space of float32 vectors', actionSpace instanceof Box ? `Box of shape [${actionSpace.shape.join(', ')}] ${actionSpace.dtype}` : `${actionSpace.type} actions`, 'SAC handles continuous actions; use --agent dqn, ppo, a2c or reinforce for discrete actions'));
    }
    if (!(observationSpace instanceof Box)) throw new SpaceMismatchError(formatError('sac', 'a Box or Dict observation space', observationSpace.type, 'use an env with array (or Dict of array) observations'));
    for (let i = 0; i < actionSpace.size; i++) {
      if (!Number.isFinite(actionSpace.low[i]) || !Number.isFinite(actionSpace.high[i]) || !(actionSpace.high[i]! > actionSpace.low[i]!)) {
        throw new SpaceMismatchError(formatError('sac', 'finite action bounds with low < high', `dim ${i}: [${actionSpace.low[i]}, ${actionSpace.high[i]}]`, 'SAC squashes actions into the bounds; give the Box finite bounds'));
      }
    }
    this.config = config;
    this.obsSize = observationSpace.size;
    this.actionDims = actionSpace.size;
    this.low = actionSpace.low;
    this.high = actionSpace.high;
    this.obsScale = boxInputScale(observationSpace);
    this.targetEntropy = config.targetEntropy ?? -this.actionDims;
    const D = this.actionDims;
    // One seed stream per network, so the critics start different from each other.
    const seeds = new SeededRng((seed * 2654435761 + 3) >>> 0);
    const enc = sacEncoders(config.hidden, observationSpace, D);
    const withLayout = (c: SacEncoderChoice) => ({ encoder: c.encoder, ...(c.layout ? { layout: c.layout } : {}) });
    this.actor = buildQNetwork({ inputShape: [this.obsSize], numActions: 2 * D, ...withLayout(enc.actor), head: { kind: 'q' }, seed: seeds.int(0, 0x7fffffff) });
    const critic = (): tf.LayersModel => buildQNetwork({ inputShape: [this.obsSize + D], numActions: 1, ...withLayout(enc.critic), head: { kind: 'q' }, seed: seeds.int(0, 0x7fffffff) });
    this.q1 = critic();
    this.q2 = critic();
    this.q1Target = critic();
    this.q2Target = critic();
    copyWeights(this.q1, this.q1Target);
    copyWeights(this.q2, this.q2Target);
    this.alpha = config.initialAlpha;
    this.logAlpha = tf.tidy(() => tf.variable(tf.scalar(Math.log(config.initialAlpha))));
    this.actorVars = variablesOf([this.actor]);
    this.criticVars = variablesOf([this.q1, this.q2]);
    this.actorOptimizer = new SlotOptimizer(config.actorOptimizer, this.actorVars);
    this.criticOptimizer = new SlotOptimizer(config.criticOptimizer, this.criticVars);
    this.alphaOptimizer = new SlotOptimizer(config.alphaOptimizer, [this.logAlpha]);
    this.exploreRng = new SeededRng((seed * 2654435761 + 1) >>> 0);
    this.learnRng = new SeededRng((seed * 2246822519 + 2) >>> 0);
    // Run folders written before `exploration` existed hold configs without it: they trained with white noise.
    const ex = config.exploration ?? { kind: 'white' };
    this.noise = ex.kind === 'colored' ? new ColoredNoise(ex.beta, ex.length, D, this.exploreRng) : null;
    this.replay = new ContinuousReplay({ capacity: config.bufferSize, obsSize: this.obsSize, actionSize: D, batchSize: config.batchSize });
  }

  schedule(): Record<string, number> {
    return { alpha: this.alpha, updates: this.updates };
  }

  /** Float32 input [n, obsSize], scaled. A fresh array: the cpu backend keeps the one a tensor was made from. The caller owns it. */
  private input(obs: ArrayLike<number>, n: number): tf.Tensor2D {
    const size = n * this.obsSize;
    const buf = new Float32Array(size);
    if (this.obsScale === 1) for (let i = 0; i < size; i++) buf[i] = obs[i]!;
    else for (let i = 0; i < size; i++) buf[i] = obs[i]! * this.obsScale;
    return tf.tensor2d(buf, [n, this.obsSize]);
  }

  private distribution(x: tf.Tensor): TanhGaussian {
    const { mean, logStd } = actorHeads(this.actor, x, this.actionDims);
    return new TanhGaussian(mean, logStd, { low: this.low, high: this.high });
  }

  /**
   * Actions for `numEnvs` observations as one flat Float32Array [numEnvs * actionDims] (row i =
   * env i). Training: uniform random before `learningStarts`, then a policy sample. Evaluation
   * (`mode: 'eval'`): tanh(mean) scaled to the bounds.
   */
  async act(obs: ObsArray, options: ActOptions): Promise<ActResult> {
    const n = options.numEnvs;
    if (obs.length !== n * this.obsSize) {
      throw new SpaceMismatchError(formatError('sac.act', `${n} observations of ${this.obsSize} values`, `${obs.length} values`, 'pass numEnvs matching the batch'));
    }
    const greedy = actMode(options, 'sac.act') === 'eval';
    const D = this.actionDims;
    let actions: Float32Array;
    const eps = greedy ? null : this.colored(n);
    if (!greedy && this.envSteps < this.config.learningStarts) {
      const rng: Rng = options.rng ?? this.exploreRng;
      actions = new Float32Array(n * D);
      for (let i = 0; i < n * D; i++) {
        const lo = this.low[i % D]!;
        const hi = this.high[i % D]!;
        // Colored: a unit-std squashed Gaussian driven by the same correlated noise as later samples.
        actions[i] = eps ? lo + ((hi - lo) * (Math.tanh(eps[i]!) + 1)) / 2 : lo + (hi - lo) * rng.random();
      }
    } else {
      const x = this.input(obs, n);
      const rng: Rng = options.rng ?? this.exploreRng;
      const a = tf.tidy(() => {
        const dist = this.distribution(x);
        if (greedy) return dist.mode();
        return eps ? dist.sampleWithNoise(tf.tensor2d(eps, [n, D])) : dist.sample(rng);
      });
      actions = (await a.data()) as Float32Array;
      x.dispose();
      a.dispose();
    }
    return { actions, info: {} };
  }

  /** The next colored-noise vector of each of `n` envs [n * D], or null with white exploration. */
  private colored(n: number): Float32Array | null {
    if (!this.noise) return null;
    this.noise.ensureEnvs(n);
    const eps = new Float32Array(n * this.actionDims);
    for (let e = 0; e < n; e++) this.noise.next(e, eps, e * this.actionDims);
    return eps;
  }

  async observe(step: StepBatch): Promise<UpdateMetrics | null> {
    const n = step.rewards.length;
    // A new episode gets a new noise sequence (both ends count: a truncated episode is over too).
    if (this.noise) for (let e = 0; e < n; e++) if (step.terminated[e] || step.truncated[e]) this.noise.episodeEnded(e);
    this.replay.addBatch(n, step.obs, step.actions as ArrayLike<number>, step.rewards, step.terminated, step.nextObs, step.finalObs);
    this.envSteps += n;
    if (this.envSteps < this.config.learningStarts || this.replay.size === 0) return null;
    this.updateDebt += n / this.config.trainEvery;
    const sum: Record<string, number> = {};
    let count = 0;
    while (this.updateDebt >= 1) {
      this.updateDebt -= 1;
      const m = await this.update(this.replay.sample(this.config.batchSize, this.learnRng));
      for (const [k, v] of Object.entries(m)) sum[k] = (sum[k] ?? 0) + v;
      count++;
    }
    if (!count) return null;
    const out: UpdateMetrics = { updates: count };
    for (const [k, v] of Object.entries(sum)) out[k] = v / count;
    return out;
  }

  /** One gradient step of the critics, then the actor, then alpha; then the target critics follow. */
  async update(batch: ContinuousSample): Promise<UpdateMetrics> {
    const c = this.config;
    const B = batch.batchSize;
    const x = this.input(batch.obs, B);
    const nextX = this.input(batch.nextObs, B);
    const a = tf.tensor2d(batch.actions.slice(), [B, this.actionDims]);
    const r = tf.tensor1d(batch.rewards.slice());
    const term = tf.tensor1d(batch.terminated.slice());
    const results = tf.tidy(() => {
      const alpha = tf.exp(this.logAlpha) as tf.Scalar;
      // The target is a constant of the critic loss (no gradient flows into actor or targets here).
      const next = this.distribution(nextX).rsample(this.learnRng);
      const y = softTarget({ rewards: r, terminated: term, nextQ1: qValue(this.q1Target, nextX, next.actions), nextQ2: qValue(this.q2Target, nextX, next.actions), nextLogProb: next.logProb, alpha, gamma: c.gamma });
      const critic = tf.variableGrads(() => criticLoss(qValue(this.q1, x, a), qValue(this.q2, x, a), y), this.criticVars);
      const criticNorm = applyGradients(this.criticOptimizer, this.criticVars, critic.grads, 0);
      // The actor is trained against the critics just updated, as CleanRL.
      // Kept out of variableGrads' own tidy for the alpha step (disposed below).
      let logProb: tf.Tensor1D | null = null;
      const actor = tf.variableGrads(() => {
        const pi = this.distribution(x).rsample(this.learnRng);
        logProb = tf.keep(pi.logProb);
        return actorLoss(pi.logProb, qValue(this.q1, x, pi.actions), qValue(this.q2, x, pi.actions), alpha);
      }, this.actorVars);
      const actorNorm = applyGradients(this.actorOptimizer, this.actorVars, actor.grads, 0);
      const lp = logProb! as tf.Tensor1D;
      let temperature: tf.Scalar = tf.scalar(0);
      let temperatureNorm: tf.Scalar = tf.scalar(0);
      if (c.autotune) {
        const t = tf.variableGrads(() => alphaLoss(this.logAlpha, lp, this.targetEntropy), [this.logAlpha]);
        temperatureNorm = applyGradients(this.alphaOptimizer, [this.logAlpha], t.grads, 0);
        temperature = t.value;
      }
      lp.dispose();
      return tf.stack([critic.value, criticNorm, actor.value, actorNorm, temperature, temperatureNorm, tf.exp(this.logAlpha) as tf.Scalar]);
    });
    const [qLoss, qNorm, piLoss, piNorm, aLoss, aNorm, alpha] = Array.from(await results.data());
    for (const t of [results, x, nextX, a, r, term]) t.dispose();
    const update = this.updates + 1;
    checkFiniteUpdate('sac.update critics', { loss: qLoss!, gradNorm: qNorm! }, update);
    checkFiniteUpdate('sac.update actor', { loss: piLoss!, gradNorm: piNorm! }, update);
    checkFiniteUpdate('sac.update alpha', { loss: aLoss!, gradNorm: aNorm! }, update);
    this.updates = update;
    this.alpha = alpha!;
    polyakUpdate(this.q1, this.q1Target, c.tau);
    polyakUpdate(this.q2, this.q2Target, c.tau);
    return { loss: qLoss!, gradNorm: qNorm!, actorLoss: piLoss!, actorGradNorm: piNorm!, alphaLoss: aLoss!, alpha: alpha! };
  }

  /** What the shared snapshot format (`agents/policy/snapshot.ts`) holds of SAC. */
  private snapshotParts(): SnapshotParts {
    return {
      weights: { actor: variablesOf([this.actor]), critics: variablesOf([this.q1, this.q2]), targets: variablesOf([this.q1Target, this.q2Target]), logAlpha: [this.logAlpha] },
      optimizers: { actor: this.actorOptimizer, critic: this.criticOptimizer, alpha: this.alphaOptimizer },
      rngs: { explore: this.exploreRng, learn: this.learnRng },
    };
  }

  async save(options: { includeReplay: boolean }): Promise<AgentSnapshot> {
    const blobs: Record<string, Uint8Array> = options.includeReplay ? { 'replay.bin': this.replay.toBytes() } : {};
    // Colored exploration: each env's sequence as a blob, the positions in the state.
    const noise = this.noise?.getState();
    if (noise) blobs['noise.bin'] = noise.bytes;
    return writeSnapshot(SNAPSHOT_FORMAT, this.snapshotParts(), { envSteps: this.envSteps, updates: this.updates, updateDebt: this.updateDebt, hasReplay: options.includeReplay, ...(noise ? { noise: noise.json } : {}) }, blobs);
  }

  /** Restores a snapshot of `save`; every blob is checked before anything is assigned. */
  async load(snapshot: AgentSnapshot): Promise<void> {
    const { state, blobs } = readSnapshot(snapshot, {
      component: 'sac.load',
      format: SNAPSHOT_FORMAT,
      parts: this.snapshotParts(),
      hint: 'resume with the agent that wrote the checkpoint',
      // The noise is checked with the counters, before anything is assigned.
      checkState: (st) => badUpdateCounters(st) ?? this.noise?.problem(st.noise, snapshot.blobs?.['noise.bin']) ?? null,
    });
    if (blobs['replay.bin']) this.replay.loadBytes(blobs['replay.bin']);
    this.noise?.setState(state.noise as ColoredNoiseState | undefined, blobs['noise.bin']);
    this.envSteps = state.envSteps as number;
    this.updates = state.updates as number;
    this.updateDebt = state.updateDebt as number;
    this.alpha = Math.exp(this.logAlpha.dataSync()[0]!);
  }

  dispose(): void {
    this.actorOptimizer.dispose();
    this.criticOptimizer.dispose();
    this.alphaOptimizer.dispose();
    this.logAlpha.dispose();
    for (const m of [this.actor, this.q1, this.q2, this.q1Target, this.q2Target]) m.dispose();
  }
}
