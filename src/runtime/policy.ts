/**
 * A loaded policy: preprocessing, the network and (for recurrent policies) its state, behind
 * `act(frame)` for one NPC (call `reset()` between its episodes) and `actBatch(frames, states)`
 * for many NPCs in one forward pass, each with its own `NpcState`.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { flattenDictObs } from '../envs/dict-obs.js';
import type { Rng } from '../envs/rng.js';
import { FramePipeline } from './frame-pipeline.js';
import { NpcState } from './npc-state.js';
import { PolicyController, type ControllerOptions } from './controller.js';
import { outputWidth, shapeSize, writeNetworkInput, type PolicyFile } from './policy-file.js';

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

/** What the game hands to `act` for one NPC: a raw frame, a preprocessed observation, or a Dict observation (one array per key). */
export type PolicyObservation = ArrayLike<number> | Record<string, ArrayLike<number>>;

export class Policy {
  readonly file: PolicyFile;
  readonly model: tf.LayersModel;
  /** Width of the network's action output: actions, sum of nvec, or Box values. */
  readonly numActions: number;
  /** The state `act()` uses: the policy's own NPC. */
  private readonly own: NpcState;
  /** States made by `createState()` and not yet disposed (the policy frees them on `dispose()`). */
  private readonly live = new Set<NpcState>();
  /** Pipeline for `actBatch` calls without states (stateless chains only: no frame stack). */
  private readonly shared: FramePipeline;
  /** Whether the preprocessing keeps past frames (a frame stack): then every NPC needs its own state. */
  private readonly stacks: boolean;
  /** Values in one network observation. */
  private readonly obsSize: number;
  /** Network input of a whole batch, scaled; grown on demand and reused across calls (the tensor made from it is disposed before the next call). */
  private input: Float32Array;
  private disposed = false;
  /** Dict bundles: the flattened observation, allocated on first use. */
  private dictFrame: Float32Array | null = null;

  /** Wraps a loaded model; `loadPolicy` is the usual entry point. The policy owns the model. */
  constructor(file: PolicyFile, model: tf.LayersModel) {
    this.file = file;
    this.model = model;
    this.numActions = outputWidth(file);
    this.obsSize = shapeSize(file.observation.shape);
    this.input = new Float32Array(this.obsSize);
    this.shared = new FramePipeline(file);
    this.stacks = file.preprocess.some((s) => s.kind === 'frameStack');
    this.own = new NpcState(file, () => undefined);
  }

  /**
   * Checks one NPC's observation (type, Dict keys, length) without touching any state, so a bad
   * NPC in a batch leaves every frame stack as it was.
   */
  private checkObservation(x: PolicyObservation, component: string, where: string): void {
    if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<number>).length === 'number') {
      const n = (x as ArrayLike<number>).length;
      const frameSize = this.shared.frameSize;
      if (n !== frameSize && n !== this.obsSize) throw new SpaceMismatchError(formatError(component, `a frame of ${frameSize} values or an observation of ${this.obsSize} values${where}`, `${describe(x)} with ${n} values`, 'pass the frame the game renders for the policy (see policy.json frame.shape)'));
      return;
    }
    const entries = this.file.observation.dict;
    if (!entries || x === null || typeof x !== 'object') throw new SpaceMismatchError(formatError(component, `an array of observation values${where}`, describe(x), 'pass the frame or observation as a typed array'));
    const obs = x as Record<string, ArrayLike<number>>;
    entries.forEach((e, i) => {
      const v = obs[e.key];
      // Keys come from the bundle: name the entry by position, never quote it.
      if (!v || typeof v.length !== 'number' || v.length !== e.size) throw new SpaceMismatchError(formatError(component, `${e.size} values at Dict key ${i + 1} of ${entries.length} (policy.file.observation.dict order)${where}`, v && typeof v.length === 'number' ? `${v.length} values` : describe(v), 'pass every key of the Dict observation with its shape'));
    });
  }

  /** The flat frame of a checked observation: the array itself, or the Dict flattened by the bundle's layout (into a buffer reused across calls). */
  private flatFrame(x: PolicyObservation): ArrayLike<number> {
    if (typeof (x as ArrayLike<number>).length === 'number') return x as ArrayLike<number>;
    this.dictFrame ??= new Float32Array(this.obsSize);
    return flattenDictObs({ entries: this.file.observation.dict!, size: this.obsSize }, x as Record<string, ArrayLike<number>>, this.dictFrame);
  }

  /** Whether the network carries state between calls. */
  get recurrent(): boolean {
    return this.file.recurrentState !== null;
  }

  /** Starts a new episode for `act()`: clears its frame stack and zeroes its recurrent state. */
  reset(): void {
    this.own.reset();
  }

  /**
   * A fresh state (empty frame stack, zero LSTM state) for one NPC of `actBatch`. The game keeps
   * it with the NPC, calls `reset()` on it at the NPC's episode start and `dispose()` when the NPC
   * leaves; the policy's `dispose()` frees the states still alive.
   */
  createState(): NpcState {
    this.checkLive('policy.createState');
    const s = new NpcState(this.file, (x) => this.live.delete(x));
    this.live.add(s);
    return s;
  }

  /**
   * A driver for many NPCs in a game loop: each decides every `decisionPeriod` frames (default:
   * the bundle's `decisionPeriod`, else 1) and repeats its last action in between; the NPCs due on
   * a frame act in one `actBatch`.
   */
  controller(options: ControllerOptions = {}): PolicyController {
    this.checkLive('policy.controller');
    return new PolicyController(this, options);
  }

  /**
   * Chooses an action for one raw frame (or preprocessed observation) and advances the recurrent
   * state. A policy of a Dict-observation game also takes the Dict object (one array per key).
   */
  async act(frameOrObs: PolicyObservation, options: PolicyActOptions = {}): Promise<PolicyAction> {
    return (await this.forward('policy.act', [frameOrObs], [this.own], options))[0]!;
  }

  /**
   * Chooses one action per NPC in ONE forward pass (the N observations stacked into one batch).
   * `states[i]` (from `createState()`) is NPC i's frame stack and LSTM state, advanced by the call;
   * required when the policy is recurrent or stacks frames, optional otherwise. Results are in
   * input order, each as `act()` returns it; their `probs`/`q`/`mean` are views into one buffer
   * per call. Non-greedy draws come from `options.rng` in NPC order.
   */
  async actBatch(observations: readonly PolicyObservation[], states?: readonly NpcState[] | null, options: PolicyActOptions = {}): Promise<PolicyAction[]> {
    const C = 'policy.actBatch';
    this.checkLive(C);
    if (!Array.isArray(observations)) throw new SpaceMismatchError(formatError(C, 'an array of observations, one per NPC', describe(observations), 'pass [obsOfNpc0, obsOfNpc1, ...]'));
    if (states === undefined || states === null) {
      if (this.recurrent || this.stacks) {
        throw new InvalidConfigError(formatError(C, `one state per NPC for a policy that ${this.recurrent ? 'is recurrent' : 'stacks frames'}`, 'no states', 'pass states = npcs.map(() => policy.createState()) and keep each with its NPC'));
      }
    } else {
      if (!Array.isArray(states) || states.length !== observations.length) {
        throw new InvalidConfigError(formatError(C, `one state per observation (${observations.length})`, Array.isArray(states) ? `${states.length} states` : describe(states), 'pass states[i] = the NpcState of the NPC whose observation is observations[i]'));
      }
      const seen = new Set<NpcState>();
      states.forEach((s, i) => {
        const ok = s instanceof NpcState && this.live.has(s);
        if (!ok || seen.has(s)) {
          const received = !(s instanceof NpcState) ? describe(s) : s.disposed ? 'a disposed state' : seen.has(s) ? 'a state already used by an earlier NPC of this batch' : 'a state of another policy';
          throw new InvalidConfigError(formatError(C, `states[${i}] to be a live state made by this policy's createState(), one per NPC`, received, 'create one state per NPC with policy.createState() and pass each once'));
        }
        seen.add(s);
      });
    }
    if (observations.length === 0) return [];
    return this.forward(C, observations, states ?? null, options);
  }

  private checkLive(component: string): void {
    if (this.disposed) throw new InvalidConfigError(formatError(component, 'a live policy', 'a disposed one', 'load the policy again'));
  }

  /** Preprocesses every observation into the batch input, runs the network once, reads one action per NPC. */
  private async forward(C: string, observations: readonly PolicyObservation[], states: readonly NpcState[] | null, options: PolicyActOptions): Promise<PolicyAction[]> {
    this.checkLive(C);
    const greedy = options.greedy ?? true;
    if (!greedy && (!options.rng || typeof options.rng.random !== 'function')) {
      throw new InvalidConfigError(formatError(C, 'an rng with random() when greedy is false', describe(options.rng), 'pass { greedy: false, rng: new SeededRng(seed) }'));
    }
    if (!greedy && this.file.action?.type === 'Box') {
      // The bundle holds the Gaussian mean only (the log-std is a training variable), so there is nothing to sample from.
      throw new InvalidConfigError(formatError(C, 'greedy acting for a Box (Gaussian) policy', 'greedy: false', 'omit greedy (the bundle holds the mean action only)'));
    }
    const n = observations.length;
    // Only a batch names the NPC: act() has one.
    const where = (k: number): string => (C === 'policy.actBatch' ? ` for NPC ${k} (observations[${k}])` : '');
    for (let k = 0; k < n; k++) this.checkObservation(observations[k]!, C, where(k));
    const size = this.obsSize;
    if (this.input.length < n * size) this.input = new Float32Array(n * size);
    const input = this.input;
    for (let k = 0; k < n; k++) {
      const frame = this.flatFrame(observations[k]!);
      const pipeline = states ? states[k]!.pipeline : this.shared;
      writeNetworkInput(this.file, pipeline.process(frame), input, k * size);
    }
    const space = this.file.action;
    const nvec = space?.type === 'MultiDiscrete' ? space.nvec : null;
    const logits = this.file.output === 'logits';
    const slots = this.file.recurrentState?.shapes.length ?? 0;
    const { head, next } = tf.tidy(() => {
      const x = tf.tensor(input.subarray(0, n * size), [n, ...this.file.observation.shape], 'float32');
      // Each NPC's state rows, stacked in input order (one row needs no copy).
      const stateIn = Array.from({ length: slots }, (_, j) => (n === 1 ? states![0]!.tensors[j]! : tf.concat(states!.map((s) => s.tensors[j]!), 0)));
      const out = this.model.predict(slots > 0 ? [x, ...stateIn] : x);
      const outs = Array.isArray(out) ? out : [out];
      const first = outs[0]!;
      // MultiDiscrete: a softmax per part (one logits slice per part, in nvec order).
      const head = !logits ? first : nvec && nvec.length > 1 ? tf.concat(tf.split(first, nvec, 1).map((l) => tf.softmax(l)), 1) : tf.softmax(first);
      // next[j][k]: state slot j of NPC k, as [1, ...shape].
      const next = outs.slice(1).map((t) => (n === 1 ? [t] : tf.split(t, n, 0)));
      return { head, next };
    });
    if (slots > 0) {
      states!.forEach((s, k) => {
        for (const t of s.tensors) t.dispose();
        s.tensors = next.map((perNpc) => perNpc[k]!);
      });
    }
    const all = (await head.data()) as Float32Array;
    head.dispose();
    const width = this.numActions;
    const results: PolicyAction[] = new Array(n);
    for (let k = 0; k < n; k++) results[k] = this.readAction(all.subarray(k * width, (k + 1) * width), greedy, options);
    return results;
  }

  /** One NPC's action from its row of the network's output. */
  private readAction(values: Float32Array, greedy: boolean, options: PolicyActOptions): PolicyAction {
    const space = this.file.action;
    const logits = this.file.output === 'logits';
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

  /** Releases the model, the recurrent state of `act()` and every state made by `createState()`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.own.dispose();
    for (const s of [...this.live]) s.dispose();
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
