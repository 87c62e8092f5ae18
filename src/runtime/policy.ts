/**
 * A loaded policy: preprocessing, the network and (for recurrent policies) its state, behind
 * `act(frame)`. One instance plays one agent in one episode stream; call `reset()` between episodes.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { flattenDictObs } from '../envs/dict-obs.js';
import type { Rng } from '../envs/rng.js';
import { FramePipeline } from './frame-pipeline.js';
import { outputWidth, shapeSize, type PolicyFile } from './policy-file.js';

export interface PolicyActOptions {
  /** Pick the best action (default true). false: sample from the probabilities (logits policies) or act epsilon-greedily (Q policies), drawing from `rng`. */
  greedy?: boolean;
  /** Random source for non-greedy acting; `random()` returns a float in [0, 1). */
  rng?: Pick<Rng, 'random'>;
  /** Exploration rate of a non-greedy Q policy (default 0.05). */
  epsilon?: number;
}

export interface PolicyAction {
  /** Discrete: the index. MultiDiscrete: one index per part. Box: the greedy action, the mean clipped to the bounds. */
  action: number | Int32Array | Float32Array;
  /** Discrete: the action's name; MultiDiscrete: one name per part; Box: null. */
  actionName: string | string[] | null;
  /** Action probabilities (logits policies; MultiDiscrete: per part, concatenated). */
  probs?: Float32Array;
  /** Gaussian mean before clipping (Box policies; before tanh for squashed-mean). */
  mean?: Float32Array;
  /** Q-values (Q policies). */
  q?: Float32Array;
}

export class Policy {
  readonly file: PolicyFile;
  readonly model: tf.LayersModel;
  /** Width of the network's action output: actions, sum of nvec, or Box values. */
  readonly numActions: number;
  private readonly pipeline: FramePipeline;
  /** Network input, scaled; reused across calls (the tensor made from it is disposed before the next call). */
  private readonly input: Float32Array;
  private readonly inputShape: number[];
  /** Recurrent state tensors owned by the policy (empty for feed-forward). */
  private state: tf.Tensor[] = [];
  private disposed = false;
  /** Dict bundles: the flattened observation, allocated on first use. */
  private dictFrame: Float32Array | null = null;

  /** Wraps a loaded model; `loadPolicy` is the usual entry point. The policy owns the model. */
  constructor(file: PolicyFile, model: tf.LayersModel) {
    this.file = file;
    this.model = model;
    this.numActions = outputWidth(file);
    this.pipeline = new FramePipeline(file);
    this.input = new Float32Array(shapeSize(file.observation.shape));
    this.inputShape = [1, ...file.observation.shape];
    this.reset();
  }

  /** The flat frame of an array, or of a Dict observation flattened by the bundle's layout (into a buffer reused across calls). */
  private flatFrame(x: ArrayLike<number> | Record<string, ArrayLike<number>>): ArrayLike<number> {
    if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<number>).length === 'number') return x as ArrayLike<number>;
    const entries = this.file.observation.dict;
    if (!entries) throw new SpaceMismatchError(formatError('policy.act', 'an array of observation values', describe(x), 'pass the frame or observation as a typed array'));
    const obs = x as Record<string, ArrayLike<number>>;
    this.dictFrame ??= new Float32Array(shapeSize(this.file.observation.shape));
    entries.forEach((e, i) => {
      const v = obs[e.key];
      // Keys come from the bundle: name the entry by position, never quote it.
      if (!v || typeof v.length !== 'number' || v.length !== e.size) throw new SpaceMismatchError(formatError('policy.act', `${e.size} values at Dict key ${i + 1} of ${entries.length} (policy.file.observation.dict order)`, v && typeof v.length === 'number' ? `${v.length} values` : describe(v), 'pass every key of the Dict observation with its shape'));
    });
    return flattenDictObs({ entries, size: this.dictFrame.length }, obs, this.dictFrame);
  }

  /** Whether the network carries state between calls. */
  get recurrent(): boolean {
    return this.file.recurrentState !== null;
  }

  /** Starts a new episode: clears the frame stack and zeroes the recurrent state. */
  reset(): void {
    this.pipeline.reset();
    for (const t of this.state) t.dispose();
    this.state = (this.file.recurrentState?.shapes ?? []).map((s) => tf.zeros([1, ...s]));
  }

  /**
   * Chooses an action for one raw frame (or preprocessed observation) and advances the recurrent
   * state. A policy of a Dict-observation game also takes the Dict object (one array per key).
   */
  async act(frameOrObs: ArrayLike<number> | Record<string, ArrayLike<number>>, options: PolicyActOptions = {}): Promise<PolicyAction> {
    if (this.disposed) throw new InvalidConfigError(formatError('policy.act', 'a live policy', 'a disposed one', 'load the policy again'));
    const frame = this.flatFrame(frameOrObs);
    const greedy = options.greedy ?? true;
    if (!greedy && (!options.rng || typeof options.rng.random !== 'function')) {
      throw new InvalidConfigError(formatError('policy.act', 'an rng with random() when greedy is false', describe(options.rng), 'pass { greedy: false, rng: new SeededRng(seed) }'));
    }
    if (!greedy && this.file.action?.type === 'Box') {
      // The bundle holds the Gaussian mean only (the log-std is a training variable), so there is nothing to sample from.
      throw new InvalidConfigError(formatError('policy.act', 'greedy acting for a Box (Gaussian) policy', 'greedy: false', 'omit greedy (the bundle holds the mean action only)'));
    }
    const obs = this.pipeline.process(frame);
    const scale = this.file.inputScale;
    const input = this.input;
    const norm = this.file.inputNorm;
    if (norm) {
      // Same arithmetic as the training agent's normalizeObs (float64, then clip), so actions match.
      for (let i = 0; i < input.length; i++) input[i] = Math.min(norm.clip, Math.max(-norm.clip, (obs[i]! - norm.mean[i]!) / Math.sqrt(norm.var[i]! + norm.epsilon))) * scale;
    } else {
      for (let i = 0; i < input.length; i++) input[i] = obs[i]! * scale;
    }
    const space = this.file.action;
    const nvec = space?.type === 'MultiDiscrete' ? space.nvec : null;
    const logits = this.file.output === 'logits';
    const recurrent = this.state.length > 0;
    const { head, next } = tf.tidy(() => {
      const x = tf.tensor(input, this.inputShape, 'float32');
      const out = this.model.predict(recurrent ? [x, ...this.state] : x);
      const outs = Array.isArray(out) ? out : [out];
      const first = outs[0]!;
      // MultiDiscrete: a softmax per part (one logits slice per part, in nvec order).
      const head = !logits ? first : nvec && nvec.length > 1 ? tf.concat(tf.split(first, nvec, 1).map((l) => tf.softmax(l)), 1) : tf.softmax(first);
      return { head, next: outs.slice(1) };
    });
    if (recurrent) {
      for (const t of this.state) t.dispose();
      this.state = next;
    }
    const values = (await head.data()) as Float32Array;
    head.dispose();
    if (space?.type === 'Box') {
      const d = space.low.length;
      const mean = values.subarray(0, d);
      const action = new Float32Array(d);
      const squashed = this.file.output === 'squashed-mean';
      for (let i = 0; i < d; i++) {
        const lo = space.low[i]!;
        const hi = space.high[i]!;
        // squashed-mean: SAC's greedy action, tanh(mean) * (hi - lo) / 2 + (hi + lo) / 2, in float32 as the training distribution.
        const v = squashed ? Math.fround(Math.fround(Math.tanh(mean[i]!)) * Math.fround((hi - lo) / 2)) + Math.fround((hi + lo) / 2) : mean[i]!;
        action[i] = Math.min(hi, Math.max(lo, v));
      }
      return { action, actionName: null, mean };
    }
    if (space?.type === 'MultiDiscrete') {
      const action = new Int32Array(space.nvec.length);
      const names: string[] = [];
      let off = 0;
      space.nvec.forEach((k, part) => {
        const p = values.subarray(off, off + k);
        const i = greedy ? argmax(p) : sample(p, options.rng!);
        action[part] = i;
        names.push(space.names[part]![i] ?? String(i));
        off += k;
      });
      return { action, actionName: names, probs: values };
    }
    const action = greedy ? argmax(values) : logits ? sample(values, options.rng!) : epsilonGreedy(values, options.rng!, options.epsilon ?? 0.05);
    const result: PolicyAction = { action, actionName: this.file.actions[action] ?? String(action) };
    if (logits) result.probs = values;
    else result.q = values;
    return result;
  }

  /** Releases the model and the recurrent state. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.state) t.dispose();
    this.state = [];
    this.model.dispose();
  }
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function sample(p: Float32Array, rng: Pick<Rng, 'random'>): number {
  const u = rng.random();
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc += p[i]!;
    if (u < acc) return i;
  }
  return p.length - 1;
}

function epsilonGreedy(q: Float32Array, rng: Pick<Rng, 'random'>, epsilon: number): number {
  if (rng.random() < epsilon) return Math.min(q.length - 1, Math.floor(rng.random() * q.length));
  return argmax(q);
}
