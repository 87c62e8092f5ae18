/**
 * DQN and its common extensions (double, dueling, n-step, prioritized replay) over discrete actions.
 * The agent owns an online and a target network, the optimizer and the replay memory; learning
 * happens in `observe` every `trainEvery` env steps once `learningStarts` steps are collected.
 */
import * as tf from '@tensorflow/tfjs';
import { SpaceMismatchError, formatError } from '../../errors.js';
import type { ObsArray } from '../../envs/env.js';
import type { Rng } from '../../envs/rng.js';
import type { Box, Space } from '../../envs/spaces.js';
import { buildQNetwork, copyWeights, polyakUpdate } from '../../networks/builders.js';
import { chainBackward, chainForward, chainGrads, chainOf, chainTrainForward, type Chain } from '../../networks/chain.js';
import { SlotOptimizer, applyGradients } from '../../networks/optimizers.js';
import { QAgentCore, huberTensor, readQSnapshot, scaledObsTensor, writeQSnapshot, type QLearnerState } from './q-learning.js';
import { checkFiniteUpdate } from '../divergence.js';
import { ReplayBuffer, type ReplaySample } from '../../replay/buffer/replay-buffer.js';
import { actEpsilon, type ActOptions, type ActResult, type Agent, type AgentSnapshot, type StepBatch, type UpdateMetrics } from '../agent.js';
import type { DqnConfig } from './config.js';
import { huberLossGrad, tdTargets } from './td.js';
import type { PhaseTimer } from '../../train/phases.js';

export interface DqnAgentOptions {
  config: DqnConfig;
  observationSpace: Space;
  actionSpace: Space;
  /** Sub-envs feeding `observe` (one replay stream each). */
  numEnvs: number;
  /** Seed of the weights, exploration and replay sampling. */
  seed: number;
  /** Profile: replay add, sample, update and target sync are charged to it (see `train/phases.ts`). */
  phases?: PhaseTimer;
}

/**
 * Q-values of a batch in inference mode (call inside tidy). A plain chain of layers (the MinAtar,
 * Nature and MLP Q-nets) runs as direct ops (`networks/chain.ts`, the same kernels and numbers);
 * other nets go through `apply`, which runs the same kernels as `predict` minus predict's input
 * standardisation and batch splitting (about 0.08 ms of CPU per call on the MinAtar net).
 */
function inferQ(model: tf.LayersModel, chain: Chain | null, x: tf.Tensor): tf.Tensor {
  return chain ? chainForward(chain, x) : (model.apply(x, { training: false }) as tf.Tensor);
}

/** Row-major `[actions.length, numActions]` one-hot rows of `actions`, as floats (a fresh array: the tensor keeps it on the cpu backend). */
export function oneHotRows(actions: ArrayLike<number>, numActions: number): Float32Array {
  const out = new Float32Array(actions.length * numActions);
  for (let i = 0; i < actions.length; i++) out[i * numActions + actions[i]!] = 1;
  return out;
}

export class DqnAgent extends QAgentCore implements Agent {
  readonly online: tf.LayersModel;
  readonly target: tf.LayersModel;
  readonly replay: ReplayBuffer;
  /** The nets as direct-op chains when their layers allow (see `networks/chain.ts`), else null. */
  private readonly onlineChain: Chain | null;
  private readonly targetChain: Chain | null;
  private readonly optimizer: SlotOptimizer;
  private readonly vars: tf.Variable[];
  private readonly targetsOut: Float32Array;
  private readonly phases: PhaseTimer | undefined;
  /** Replay stream the next collected segment goes to. */
  private nextStream = 0;

  constructor(options: DqnAgentOptions) {
    super('dqn', options);
    this.phases = options.phases;
    const { config, observationSpace, numEnvs } = options;
    const box = observationSpace as Box;
    const high = Math.max(...box.high);
    this.online = buildQNetwork(this.netSpec);
    this.target = buildQNetwork(this.netSpec);
    copyWeights(this.online, this.target);
    this.onlineChain = chainOf(this.online);
    this.targetChain = chainOf(this.target);
    this.vars = this.online.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = new SlotOptimizer(config.optimizer, this.vars);
    this.replay = new ReplayBuffer({
      capacity: config.bufferSize + numEnvs * 64,
      numStreams: numEnvs,
      obsShape: this.obsShape,
      obsDtype: box.dtype,
      obsHigh: high,
      frameStack: config.frameStack,
      nStep: config.nStep,
      gamma: config.gamma,
      prioritized: config.prioritized ?? undefined,
    });
    this.targetsOut = new Float32Array(config.batchSize);
  }

  schedule(): Record<string, number> {
    const s: Record<string, number> = { epsilon: this.epsilon, updates: this.updates };
    if (this.config.prioritized) s.beta = this.replay.beta;
    return s;
  }

  /** Float32 input tensor of `n` observations (scaled). The caller owns (disposes) it. */
  private toInput(obs: ArrayLike<number>, n: number): tf.Tensor {
    return scaledObsTensor(obs, n, this.obsShape, this.obsScale);
  }


  /** Q-values of a batch of observations, row-major `[n, numActions]`. */
  async qValues(obs: ArrayLike<number>, n: number): Promise<Float32Array> {
    const x = this.toInput(obs, n);
    const q = tf.tidy(() => inferQ(this.online, this.onlineChain, x));
    const data = (await q.data()) as Float32Array;
    x.dispose();
    q.dispose();
    return data;
  }

  async act(obs: ObsArray, options: ActOptions): Promise<ActResult> {
    const n = options.numEnvs;
    if (obs.length !== n * this.obsSize) {
      throw new SpaceMismatchError(formatError('dqn.act', `${n} observations of ${this.obsSize} values`, `${obs.length} values`, 'pass numEnvs matching the batch'));
    }
    const eps = actEpsilon(options, this.epsilon, 'dqn.act');
    const rng: Rng = options.rng ?? this.exploreRng;
    const actions = new Int32Array(n);
    // Draw exploration first so the RNG stream does not depend on the network's outputs.
    let needQ = options.withValues === true;
    const random = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (eps > 0 && rng.random() < eps) {
        random[i] = 1;
        actions[i] = rng.int(0, this.numActions);
      } else {
        needQ = true;
      }
    }
    let values: Float32Array | undefined;
    if (needQ) {
      values = await this.qValues(obs, n);
      const A = this.numActions;
      for (let i = 0; i < n; i++) {
        if (random[i]) continue;
        let best = 0;
        for (let a = 1; a < A; a++) if (values[i * A + a]! > values[i * A + best]!) best = a;
        actions[i] = best;
      }
    }
    return { actions, info: options.withValues ? { values, epsilon: eps } : { epsilon: eps } };
  }

  async observe(step: StepBatch): Promise<UpdateMetrics | null> {
    const n = step.actions.length;
    this.phases?.lap('other');
    this.replay.addBatch(step.obs, step.actions, step.rewards, step.terminated, step.truncated, step.finalObs);
    this.phases?.lap('replayAdd');
    const B = this.config.batchSize;
    return this.learnWhenDue(n, () => this.replay.canSample(B), () => {
      const batch = this.replay.sample(B, this.replayRng);
      this.phases?.lap('sample');
      return this.update(batch);
    });
  }

  /**
   * Distributed learner: adds segments an actor collected (`ReplayBuffer.addSegment`), spread
   * over the replay streams in turn. Learning is separate (`learnCollected`) so the caller can
   * acknowledge the data once it is in memory and before the updates run.
   */
  addCollected(segments: ReadonlyArray<Omit<Parameters<ReplayBuffer['addSegment']>[0], 'stream'>>): number {
    let n = 0;
    for (const seg of segments) {
      this.replay.addSegment({ ...seg, stream: this.nextStream });
      this.nextStream = (this.nextStream + 1) % this.replay.config.numStreams;
      n += seg.steps;
    }
    return n;
  }

  /** Runs the updates `n` transitions added by `addCollected` owe, as `observe` does for local steps. */
  async learnCollected(n: number): Promise<UpdateMetrics | null> {
    const B = this.config.batchSize;
    return this.learnWhenDue(n, () => this.replay.canSample(B), () => this.update(this.replay.sample(B, this.replayRng)));
  }

  /** One gradient step on a sampled batch; syncs the target network when due. */
  async update(batch: ReplaySample): Promise<UpdateMetrics> {
    const c = this.config;
    const B = batch.batchSize;
    const A = this.numActions;
    const nextX = this.toInput(batch.nextObs, B);
    const qT = tf.tidy(() => inferQ(this.target, this.targetChain, nextX));
    const qO = c.double ? tf.tidy(() => inferQ(this.online, this.onlineChain, nextX)) : null;
    const nextQTarget = (await qT.data()) as Float32Array;
    const nextQOnline = qO ? ((await qO.data()) as Float32Array) : undefined;
    nextX.dispose();
    qT.dispose();
    qO?.dispose();
    const targets = this.targetsOut.length === B ? this.targetsOut : new Float32Array(B);
    tdTargets({ returns: batch.returns, discounts: batch.discounts, terminated: batch.terminated, nextQTarget, nextQOnline, numActions: A }, targets);

    const x = this.toInput(batch.obs, B);
    const chain = this.onlineChain;
    // Uniform replay, Huber loss, a chained net on wasm: the loss and its gradient at Q on the host
    // (`huberLossGrad`, bit for bit the tensor loss's numbers on wasm), then the chain's backward pass.
    const hostLoss = chain !== null && c.loss === 'huber' && !c.prioritized && tf.getBackend() === 'wasm';
    let loss: number;
    let gradNorm: number;
    let tdData: Float32Array | null = null;
    if (hostLoss) {
      let hostValue = NaN;
      const normT = tf.tidy(() => {
        const { y: q, tape } = chainTrainForward(chain, x);
        // A read of B x A floats inside the update (a copy out of the wasm heap): the gradient needs them now.
        const dq = new Float32Array(B * A);
        hostValue = huberLossGrad({ q: q.dataSync(), actions: batch.actions, targets, numActions: A }, dq);
        const grads = chainBackward(chain, tape, tf.tensor2d(dq, [B, A]));
        return applyGradients(this.optimizer, this.vars, grads, c.gradClipNorm);
      });
      loss = hostValue;
      gradNorm = (await normT.data())[0]!;
      x.dispose();
      normT.dispose();
    } else {
      const y = tf.tensor1d(targets.slice());
      // Uniform replay weighs every sample 1: no weight tensor and no multiply (x * 1 is exact, so the loss and gradients are the same).
      const w = c.prioritized ? tf.tensor1d(batch.weights.slice()) : null;
      // Built here rather than by tf.oneHot + cast: two kernel calls fewer per update, the same 0/1 floats.
      const onehot = tf.tensor2d(oneHotRows(batch.actions, A), [B, A]);
      let tdAbs: tf.Tensor | null = null;
      const lossOfQ = (q: tf.Tensor): tf.Scalar => {
        // Select Q(s, a) by one-hot multiply + sum (gather with batch dims is wrong on wasm).
        const qa = tf.sum(tf.mul(q, onehot), 1);
        const td = tf.sub(y, qa);
        tdAbs = tf.keep(tf.abs(td));
        const perSample = c.loss === 'huber' ? huberTensor(td) : tf.mul(0.5, tf.square(td));
        return tf.mean(w ? tf.mul(perSample, w) : perSample) as tf.Scalar;
      };
      const [lossT, normT] = tf.tidy(() => {
        // The chain's gradients skip the Layers call and the tape for the network (same numbers, see networks/chain.ts).
        const { value, grads } = chain ? chainGrads(chain, x, lossOfQ) : tf.variableGrads(() => lossOfQ(this.online.apply(x, { training: true }) as tf.Tensor), this.vars);
        const norm = applyGradients(this.optimizer, this.vars, grads, c.gradClipNorm);
        return [value, norm];
      });
      loss = (await lossT.data())[0]!;
      gradNorm = (await normT.data())[0]!;
      tdData = c.prioritized && tdAbs ? ((await (tdAbs as tf.Tensor).data()) as Float32Array) : null;
      for (const t of [lossT, normT, x, y, w, onehot, tdAbs as tf.Tensor | null]) t?.dispose();
    }
    // Before the priorities: NaN priorities would break the sum tree.
    checkFiniteUpdate('dqn.update', { loss, gradNorm }, this.updates + 1);
    if (tdData) this.replay.updatePriorities(batch.indices, tdData);
    this.updates++;
    this.phases?.lap('update');
    if (c.targetTau > 0) polyakUpdate(this.online, this.target, c.targetTau);
    else if (this.updates % c.targetUpdateEvery === 0) copyWeights(this.online, this.target);
    this.phases?.lap('targetSync');
    return { loss, gradNorm };
  }

  private learnerState(): QLearnerState {
    const vars = (m: tf.LayersModel) => m.weights.map((w) => w.read() as tf.Variable);
    return { online: vars(this.online), target: vars(this.target), optimizer: this.optimizer, exploreRng: this.exploreRng, replayRng: this.replayRng, replay: this.replay };
  }

  async save(options: { includeReplay: boolean }): Promise<AgentSnapshot> {
    return writeQSnapshot('npcforge-dqn', this.learnerState(), this.counters(), options.includeReplay);
  }

  async load(snapshot: AgentSnapshot): Promise<void> {
    this.setCounters(readQSnapshot(snapshot, 'npcforge-dqn', this.learnerState(), 'resume with the agent that wrote the checkpoint'));
  }

  dispose(): void {
    this.optimizer.dispose();
    this.online.dispose();
    this.target.dispose();
  }
}
