/**
 * Recurrent DQN (DRQN, Hausknecht & Stone 2015, trained as in R2D2, Kapturowski et al. 2019):
 * the DQN encoder, an LSTM core, then the Q (or dueling) head. Acting runs the cell one step
 * per env with an explicit state, reset where an episode starts (autoreset included). Learning
 * samples `batchSize` sequences of `burnIn + seqLength + 1` consecutive steps of one sub-env:
 * - the sequence starts from the actor's stored state at its first step (`sequenceState:
 *   'stored'`) or from zeros (`'zero'`);
 * - the first `burnIn` steps are unrolled without loss and without gradient (they only warm the
 *   state up, for the online and the target net alike);
 * - the next `seqLength` steps carry the one-step TD loss, their targets coming from the target
 *   net unrolled over the same sequence (double DQN picks a' with the online net);
 * - the last step only supplies Q(s', .) for the step before it.
 * The LSTM's `starts` masking resets the state wherever a sequence crosses an episode start. A
 * step that ended by truncation has no next observation inside the sequence, so it carries no
 * loss; a terminated step's target is its reward.
 */
import * as tf from '@tensorflow/tfjs';
import { SpaceMismatchError, formatError } from '../../errors.js';
import type { ObsArray } from '../../envs/env.js';
import type { Rng } from '../../envs/rng.js';
import type { Box, Space } from '../../envs/spaces.js';
import { buildQNetworkParts } from '../../networks/builders.js';
import { LstmCore, type LstmState } from '../../networks/lstm.js';
import { SlotOptimizer, applyGradients } from '../../networks/optimizers.js';
import type { QNetworkSpec } from '../../networks/specs.js';
import { checkFiniteUpdate } from '../divergence.js';
import { SequenceReplay, type SequenceSample } from '../../replay/buffer/sequence-replay.js';
import { actEpsilon, type ActOptions, type ActResult, type Agent, type AgentSnapshot, type StepBatch, type UpdateMetrics } from '../agent.js';
import type { DqnConfig } from './config.js';
import { QAgentCore, huberTensor, readQSnapshot, scaledObsTensor, writeQSnapshot, type QLearnerState } from './q-learning.js';

/** Encoder -> LSTM -> Q head. Owns its variables. */
export class RecurrentQNetwork {
  readonly encoder: tf.LayersModel;
  readonly lstm: LstmCore;
  readonly head: tf.LayersModel;

  constructor(spec: QNetworkSpec, units: number) {
    const parts = buildQNetworkParts(spec, units);
    this.encoder = parts.encoder;
    this.head = parts.head;
    this.lstm = new LstmCore({ inputSize: parts.featureSize, units, seed: spec.seed + 101 });
  }

  /** Every weight (fixed dueling kernel included), in save order. */
  get weights(): tf.Variable[] {
    const of = (m: tf.LayersModel) => m.weights.map((w) => w.read() as tf.Variable);
    return [...of(this.encoder), ...this.lstm.variables, ...of(this.head)];
  }

  /** The trained variables. */
  get trainable(): tf.Variable[] {
    const of = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
    return [...of(this.encoder), ...this.lstm.variables, ...of(this.head)];
  }

  /** One step for a batch: Q-values and the next state. Call inside tidy. */
  step(x: tf.Tensor, state: LstmState, starts: tf.Tensor1D): { q: tf.Tensor2D; state: LstmState } {
    const next = this.lstm.step(this.encoder.apply(x) as tf.Tensor2D, state, starts);
    return { q: this.head.apply(next.h) as tf.Tensor2D, state: next };
  }

  /** Unrolls `steps` time-major steps (rows t * B + b). Call inside tidy. */
  unroll(x: tf.Tensor, starts: tf.Tensor1D, state: LstmState, steps: number): { outputs: tf.Tensor2D; state: LstmState } {
    return this.lstm.sequence(this.encoder.apply(x) as tf.Tensor2D, starts, state, steps);
  }

  /** Q-values of LSTM outputs. Call inside tidy. */
  q(outputs: tf.Tensor2D): tf.Tensor2D {
    return this.head.apply(outputs) as tf.Tensor2D;
  }

  /** Copies every weight of `from` (same architecture). */
  copyFrom(from: RecurrentQNetwork, tau = 1): void {
    const src = from.weights;
    const dst = this.weights;
    tf.tidy(() => {
      for (let i = 0; i < src.length; i++) dst[i]!.assign(tau === 1 ? src[i]! : tf.add(tf.mul(src[i]!, tau), tf.mul(dst[i]!, 1 - tau)));
    });
  }

  dispose(): void {
    this.encoder.dispose();
    this.head.dispose();
    this.lstm.dispose();
  }
}

/** Recurrent state handed out by `act` outside training (opaque to the runner). */
export interface DrqnEvalState {
  h: Float32Array;
  c: Float32Array;
}

export interface DrqnAgentOptions {
  config: DqnConfig;
  observationSpace: Space;
  actionSpace: Space;
  numEnvs: number;
  seed: number;
}

export class DrqnAgent extends QAgentCore implements Agent {
  readonly recurrent = true;
  readonly online: RecurrentQNetwork;
  readonly target: RecurrentQNetwork;
  readonly replay: SequenceReplay;
  readonly units: number;
  private readonly numEnvs: number;
  private readonly optimizer: SlotOptimizer;
  private readonly vars: tf.Variable[];
  /** Actor state of the training envs (after their latest step) and the starts flags of their next observation. */
  private trainState: DrqnEvalState;
  private trainStarts: Float32Array;
  /** State the training actor had when it saw the observations of the pending step (h then c per env). */
  private pendingState: Float32Array;
  private sampleScratch: SequenceSample | undefined;

  constructor(options: DrqnAgentOptions) {
    super('dqn (recurrent)', options);
    const { config, observationSpace, numEnvs } = options;
    this.units = config.lstmUnits;
    this.numEnvs = numEnvs;
    this.online = new RecurrentQNetwork(this.netSpec, this.units);
    this.target = new RecurrentQNetwork(this.netSpec, this.units);
    this.target.copyFrom(this.online);
    this.vars = this.online.trainable;
    this.optimizer = new SlotOptimizer(config.optimizer, this.vars);
    this.replay = new SequenceReplay({
      capacity: config.bufferSize,
      numStreams: numEnvs,
      obsSize: this.obsSize,
      obsDtype: (observationSpace as Box).dtype,
      stateSize: config.sequenceState === 'stored' ? 2 * this.units : 0,
    });
    this.trainState = this.zeroState(numEnvs);
    this.trainStarts = new Float32Array(numEnvs).fill(1);
    this.pendingState = new Float32Array(numEnvs * 2 * this.units);
  }

  schedule(): Record<string, number> {
    return { epsilon: this.epsilon, updates: this.updates };
  }

  private zeroState(n: number): DrqnEvalState {
    return { h: new Float32Array(n * this.units), c: new Float32Array(n * this.units) };
  }

  /** Scaled float input tensor of `n` observations. Call inside tidy (or dispose it). */
  private toInput(obs: ArrayLike<number>, n: number): tf.Tensor {
    return scaledObsTensor(obs, n, this.obsShape, this.obsScale);
  }


  /**
   * Training (`mode: 'train'`): epsilon-greedy on the agent's schedule, state kept by the agent.
   * Evaluation (`mode: 'eval'`, optional `epsilon`): the caller threads `state` and `episodeStarts`.
   */
  async act(obs: ObsArray, options: ActOptions, state?: unknown): Promise<ActResult> {
    const n = options.numEnvs;
    if (obs.length !== n * this.obsSize) {
      throw new SpaceMismatchError(formatError('dqn.act', `${n} observations of ${this.obsSize} values`, `${obs.length} values`, 'pass numEnvs matching the batch'));
    }
    const eps = actEpsilon(options, this.epsilon, 'drqn.act');
    const training = options.mode === 'train';
    if (training && n !== this.numEnvs) {
      throw new SpaceMismatchError(formatError('dqn.act', `${this.numEnvs} training envs`, `numEnvs ${n}`, "act on the vector env the agent was built for, or pass mode: 'eval' to evaluate"));
    }
    const prev = training ? this.trainState : ((state as DrqnEvalState | undefined) ?? this.zeroState(n));
    const starts = training ? this.trainStarts : Float32Array.from(options.episodeStarts ?? new Float32Array(n).fill(state === undefined ? 1 : 0));
    const rng: Rng = options.rng ?? this.exploreRng;
    const actions = new Int32Array(n);
    const random = new Uint8Array(n);
    // Exploration draws first, so the RNG stream does not depend on the network's outputs.
    for (let i = 0; i < n; i++) {
      if (eps > 0 && rng.random() < eps) {
        random[i] = 1;
        actions[i] = rng.int(0, this.numActions);
      }
    }
    const H = this.units;
    const A = this.numActions;
    // The state must advance on every step, random actions included: one packed read [q | h | c].
    const packed = tf.tidy(() => {
      const out = this.online.step(this.toInput(obs, n), { h: tf.tensor2d(prev.h, [n, H]), c: tf.tensor2d(prev.c, [n, H]) }, tf.tensor1d(starts));
      return tf.concat([out.q, out.state.h, out.state.c], 1);
    });
    const flat = (await packed.data()) as Float32Array;
    packed.dispose();
    const W = A + 2 * H;
    const values = new Float32Array(n * A);
    const next = this.zeroState(n);
    for (let e = 0; e < n; e++) {
      values.set(flat.subarray(e * W, e * W + A), e * A);
      next.h.set(flat.subarray(e * W + A, e * W + A + H), e * H);
      next.c.set(flat.subarray(e * W + A + H, e * W + W), e * H);
      if (random[e]) continue;
      let best = 0;
      for (let a = 1; a < A; a++) if (values[e * A + a]! > values[e * A + best]!) best = a;
      actions[e] = best;
    }
    if (training) {
      for (let e = 0; e < n; e++) {
        this.pendingState.set(prev.h.subarray(e * H, e * H + H), e * 2 * H);
        this.pendingState.set(prev.c.subarray(e * H, e * H + H), e * 2 * H + H);
      }
      this.trainState = next;
      return { actions, info: options.withValues ? { values, epsilon: eps } : { epsilon: eps } };
    }
    return { actions, state: next satisfies DrqnEvalState, info: options.withValues ? { values, epsilon: eps } : { epsilon: eps } };
  }

  async observe(step: StepBatch): Promise<UpdateMetrics | null> {
    const n = step.actions.length;
    this.replay.addBatch({ obs: step.obs, actions: step.actions, rewards: step.rewards, terminated: step.terminated, truncated: step.truncated, starts: this.trainStarts, states: this.config.sequenceState === 'stored' ? this.pendingState : undefined });
    const starts = new Float32Array(n);
    for (let e = 0; e < n; e++) if (step.terminated[e] || step.truncated[e]) starts[e] = 1;
    this.trainStarts = starts;
    const c = this.config;
    const length = c.burnIn + c.seqLength + 1;
    return this.learnWhenDue(n, () => this.replay.canSample(length), () => {
      this.sampleScratch = this.replay.sample(c.batchSize, length, this.replayRng, this.sampleScratch);
      return this.update(this.sampleScratch);
    });
  }

  /** One gradient step on a batch of sequences; syncs the target network when due. */
  async update(s: SequenceSample): Promise<UpdateMetrics> {
    const c = this.config;
    const B = s.batch;
    const K = s.length;
    const Bi = c.burnIn;
    const L = K - Bi - 1;
    const A = this.numActions;
    const H = this.units;
    if (L < 1) throw new SpaceMismatchError(formatError('dqn.update', `sequences longer than burnIn + 1 (${Bi + 1})`, `length ${K}`, 'sample burnIn + seqLength + 1 steps'));
    // Rows of the trained steps t = Bi .. Bi+L-1 (time-major).
    const lo = Bi * B;
    const hi = (Bi + L) * B;
    const mask = new Float32Array(L * B);
    let maskSum = 0;
    for (let i = 0; i < L * B; i++) {
      const m = s.truncated[lo + i] && !s.terminated[lo + i] ? 0 : 1;
      mask[i] = m;
      maskSum += m;
    }
    const state0 = (): LstmState => {
      if (c.sequenceState === 'zero') return { h: tf.zeros([B, H]), c: tf.zeros([B, H]) };
      const h = new Float32Array(B * H);
      const cc = new Float32Array(B * H);
      for (let b = 0; b < B; b++) {
        h.set(s.state0.subarray(b * 2 * H, b * 2 * H + H), b * H);
        cc.set(s.state0.subarray(b * 2 * H + H, b * 2 * H + 2 * H), b * H);
      }
      return { h: tf.tensor2d(h, [B, H]), c: tf.tensor2d(cc, [B, H]) };
    };
    const x = this.toInput(s.obs, K * B);
    const starts = tf.tensor1d(s.starts);
    // Without gradient: the online net's burn-in, and the target net over the whole sequence.
    const [hB, cB, qTnext] = tf.tidy(() => {
      const init = state0();
      const warm = Bi > 0 ? this.online.unroll(x.slice(0, Bi * B), starts.slice(0, Bi * B), init, Bi).state : init;
      const t = this.target.unroll(x, starts, init, K);
      return [warm.h, warm.c, this.target.q(t.outputs.slice([(Bi + 1) * B, 0], [L * B, H]))];
    });
    const rest = tf.tidy(() => x.slice(lo, (L + 1) * B));
    const restStarts = tf.tidy(() => starts.slice(lo, (L + 1) * B));
    const r = tf.tensor1d(s.rewards.slice(lo, hi));
    const notTerm = tf.tensor1d(s.terminated.slice(lo, hi).map((v) => 1 - v));
    const acts = tf.tensor1d(s.actions.slice(lo, hi), 'int32');
    const maskT = tf.tensor1d(mask);
    const [lossT, normT] = tf.tidy(() => {
      const onehot = tf.oneHot(acts, A).toFloat();
      const { value, grads } = tf.variableGrads(() => {
        const out = this.online.unroll(rest, restStarts, { h: hB as tf.Tensor2D, c: cB as tf.Tensor2D }, L + 1);
        const q = this.online.q(out.outputs);
        const qNow = q.slice([0, 0], [L * B, A]);
        // a' from the online net (double DQN) or the target net; argMax carries no gradient.
        const pick = c.double ? q.slice([B, 0], [L * B, A]) : qTnext;
        const next = tf.sum(tf.mul(qTnext, tf.oneHot(tf.argMax(pick, 1), A).toFloat()), 1);
        const y = tf.add(r, tf.mul(tf.mul(notTerm, c.gamma), next));
        const td = tf.sub(y, tf.sum(tf.mul(qNow, onehot), 1));
        const perStep = c.loss === 'huber' ? huberTensor(td) : tf.mul(0.5, tf.square(td));
        return tf.div(tf.sum(tf.mul(perStep, maskT)), Math.max(1, maskSum)) as tf.Scalar;
      }, this.vars);
      const norm = applyGradients(this.optimizer, this.vars, grads, c.gradClipNorm);
      return [value, norm];
    });
    const loss = (await lossT.data())[0]!;
    const gradNorm = (await normT.data())[0]!;
    tf.dispose([lossT, normT, x, starts, hB, cB, qTnext, rest, restStarts, r, notTerm, acts, maskT]);
    checkFiniteUpdate('drqn.update', { loss, gradNorm }, this.updates + 1);
    this.updates++;
    if (c.targetTau > 0) this.target.copyFrom(this.online, c.targetTau);
    else if (this.updates % c.targetUpdateEvery === 0) this.target.copyFrom(this.online);
    return { loss, gradNorm };
  }

  private learnerState(): QLearnerState {
    return { online: this.online.weights, target: this.target.weights, optimizer: this.optimizer, exploreRng: this.exploreRng, replayRng: this.replayRng, replay: this.replay };
  }

  async save(options: { includeReplay: boolean }): Promise<AgentSnapshot> {
    const actor = new Float32Array([...this.trainState.h, ...this.trainState.c, ...this.trainStarts]);
    return writeQSnapshot('npcforge-drqn', this.learnerState(), this.counters(), options.includeReplay, { 'actor.bin': actor });
  }

  async load(snapshot: AgentSnapshot): Promise<void> {
    const r = readQSnapshot(snapshot, 'npcforge-drqn', this.learnerState(), 'resume with the agent that wrote the checkpoint (lstmUnits must match)');
    this.setCounters(r);
    // The training actor's state only means something to an agent with the run's envs (a resume);
    // one built for evaluation or export (numEnvs 1) starts its training state afresh.
    const actor = r.blob('actor.bin');
    const n = this.numEnvs * this.units;
    if (actor.length === 2 * n + this.numEnvs) {
      this.trainState = { h: actor.slice(0, n), c: actor.slice(n, 2 * n) };
      this.trainStarts = actor.slice(2 * n);
    } else {
      this.trainState = this.zeroState(this.numEnvs);
      this.trainStarts = new Float32Array(this.numEnvs).fill(1);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    this.online.dispose();
    this.target.dispose();
  }
}
