/**
 * A loaded policy: preprocessing, the network and (for recurrent policies) its state, behind
 * `act(frame)`. One instance plays one agent in one episode stream; call `reset()` between episodes.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { Rng } from '../envs/rng.js';
import { FramePipeline } from './frame-pipeline.js';
import { shapeSize, type PolicyFile } from './policy-file.js';

export interface PolicyActOptions {
  /** Pick the best action (default true). false: sample from the probabilities (logits policies) or act epsilon-greedily (Q policies), drawing from `rng`. */
  greedy?: boolean;
  /** Random source for non-greedy acting; `random()` returns a float in [0, 1). */
  rng?: Pick<Rng, 'random'>;
  /** Exploration rate of a non-greedy Q policy (default 0.05). */
  epsilon?: number;
}

export interface PolicyAction {
  action: number;
  actionName: string;
  /** Action probabilities (logits policies). */
  probs?: Float32Array;
  /** Q-values (Q policies). */
  q?: Float32Array;
}

export class Policy {
  readonly file: PolicyFile;
  readonly model: tf.LayersModel;
  readonly numActions: number;
  private readonly pipeline: FramePipeline;
  /** Network input, scaled; reused across calls (the tensor made from it is disposed before the next call). */
  private readonly input: Float32Array;
  private readonly inputShape: number[];
  /** Recurrent state tensors owned by the policy (empty for feed-forward). */
  private state: tf.Tensor[] = [];
  private disposed = false;

  /** Wraps a loaded model; `loadPolicy` is the usual entry point. The policy owns the model. */
  constructor(file: PolicyFile, model: tf.LayersModel) {
    this.file = file;
    this.model = model;
    this.numActions = file.actions.length;
    this.pipeline = new FramePipeline(file);
    this.input = new Float32Array(shapeSize(file.observation.shape));
    this.inputShape = [1, ...file.observation.shape];
    this.reset();
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

  /** Chooses an action for one raw frame (or preprocessed observation) and advances the recurrent state. */
  async act(frameOrObs: ArrayLike<number>, options: PolicyActOptions = {}): Promise<PolicyAction> {
    if (this.disposed) throw new InvalidConfigError(formatError('policy.act', 'a live policy', 'a disposed one', 'load the policy again'));
    const greedy = options.greedy ?? true;
    if (!greedy && (!options.rng || typeof options.rng.random !== 'function')) {
      throw new InvalidConfigError(formatError('policy.act', 'an rng with random() when greedy is false', describe(options.rng), 'pass { greedy: false, rng: new SeededRng(seed) }'));
    }
    const obs = this.pipeline.process(frameOrObs);
    const scale = this.file.inputScale;
    const input = this.input;
    for (let i = 0; i < input.length; i++) input[i] = obs[i]! * scale;
    const logits = this.file.output === 'logits';
    const recurrent = this.state.length > 0;
    const { head, next } = tf.tidy(() => {
      const x = tf.tensor(input, this.inputShape, 'float32');
      const out = this.model.predict(recurrent ? [x, ...this.state] : x);
      const outs = Array.isArray(out) ? out : [out];
      const first = outs[0]!;
      return { head: logits ? tf.softmax(first) : first, next: outs.slice(1) };
    });
    if (recurrent) {
      for (const t of this.state) t.dispose();
      this.state = next;
    }
    const values = (await head.data()) as Float32Array;
    head.dispose();
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
