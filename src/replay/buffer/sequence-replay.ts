/**
 * Sequence replay for recurrent Q-learning (DRQN, R2D2-style): each sub-env's steps are kept in
 * order in its own ring, and a sample is `length` consecutive steps of one stream, so an LSTM can
 * be unrolled over them. A sequence may span episode ends: every step carries a `start` flag
 * (1 = its observation is the first of an episode) that resets the recurrent state inside the
 * unroll, and `terminated` / `truncated` of the step's outcome.
 *
 * Optionally every step also keeps the recurrent state the actor had when it saw the
 * observation (`stateSize` floats, h then c). A sampled sequence then starts from the stored
 * state of its first step ("stored state"); without it the learner starts from zeros
 * ("zero state") and relies on burn-in.
 *
 * Observations are stored once per step as given (no frame de-duplication: recurrent agents see
 * single frames, not stacks).
 */
import { InvalidConfigError, NpcforgeError, formatError, describe } from '../../errors.js';
import type { ObsArray } from '../../envs/env.js';
import { type Dtype, allocObs } from '../../envs/spaces.js';
import type { Rng } from '../../envs/rng.js';
import { packParts, unpackParts } from './bytes.js';

export interface SequenceReplayConfig {
  /** Steps kept over all streams (each stream keeps capacity / numStreams, rounded up). */
  capacity: number;
  /** Sub-envs, each written in order into its own ring. */
  numStreams: number;
  /** Values per observation. */
  obsSize: number;
  obsDtype: Dtype;
  /** Floats of recurrent state stored per step (0 = none, zero-state sequences). */
  stateSize: number;
}

/** A batch of sequences, time-major: row t * batch + b is step t of sequence b. */
export interface SequenceSample {
  batch: number;
  length: number;
  /** `length * batch * obsSize` values. */
  obs: ObsArray;
  actions: Int32Array;
  rewards: Float32Array;
  terminated: Float32Array;
  truncated: Float32Array;
  /** 1 where the row's observation is the first of an episode. */
  starts: Float32Array;
  /** Stored state of each sequence's first step, `batch * stateSize` (empty without stored state). */
  state0: Float32Array;
}

const F_TERM = 1;
const F_TRUNC = 2;
const F_START = 4;

export class SequenceReplay {
  readonly config: SequenceReplayConfig;
  /** Steps kept per stream. */
  readonly streamCapacity: number;
  private readonly obs: ObsArray;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  private readonly flags: Uint8Array;
  private readonly states: Float32Array;
  /** Steps ever written per stream. */
  private readonly written: Float64Array;

  constructor(config: SequenceReplayConfig) {
    const bad: string[] = [];
    const int = (k: keyof SequenceReplayConfig, min: number): void => {
      const v = config[k] as number;
      if (!Number.isInteger(v) || v < min) bad.push(`${k} = ${describe(v)} (want an integer >= ${min})`);
    };
    int('capacity', 1);
    int('numStreams', 1);
    int('obsSize', 1);
    int('stateSize', 0);
    if (!['uint8', 'int32', 'float32'].includes(config.obsDtype)) bad.push(`obsDtype = ${describe(config.obsDtype)}`);
    if (bad.length) throw new InvalidConfigError(formatError('SequenceReplay', 'a valid config', bad.join('; '), 'fix the listed fields'));
    this.config = { ...config };
    const cap = Math.ceil(config.capacity / config.numStreams);
    this.streamCapacity = cap;
    const rows = cap * config.numStreams;
    this.obs = allocObs(config.obsDtype, rows * config.obsSize);
    this.actions = new Int32Array(rows);
    this.rewards = new Float32Array(rows);
    this.flags = new Uint8Array(rows);
    this.states = new Float32Array(rows * config.stateSize);
    this.written = new Float64Array(config.numStreams);
  }

  /** Steps currently held (all streams). */
  get size(): number {
    let n = 0;
    for (const w of this.written) n += Math.min(w, this.streamCapacity);
    return n;
  }

  /**
   * Adds one vector step: `obs` (numStreams * obsSize) the observations acted on, their actions,
   * rewards, outcome flags, `starts` (1 = the observation began an episode) and, with stored
   * state, `states` (numStreams * stateSize) the actor's state when it saw them.
   */
  addBatch(step: { obs: ArrayLike<number>; actions: ArrayLike<number>; rewards: ArrayLike<number>; terminated: ArrayLike<number>; truncated: ArrayLike<number>; starts: ArrayLike<number>; states?: ArrayLike<number> }): void {
    const { numStreams: N, obsSize: S, stateSize: Z } = this.config;
    if (step.obs.length !== N * S || step.actions.length !== N) {
      throw new InvalidConfigError(formatError('SequenceReplay.addBatch', `${N} observations of ${S} values`, `${step.obs.length} values, ${step.actions.length} actions`, 'add one step of every sub-env'));
    }
    if (Z > 0 && (!step.states || step.states.length !== N * Z)) {
      throw new InvalidConfigError(formatError('SequenceReplay.addBatch', `${N * Z} state values`, describe(step.states?.length), 'pass the actor state of every sub-env'));
    }
    const cap = this.streamCapacity;
    for (let s = 0; s < N; s++) {
      const row = s * cap + (this.written[s]! % cap);
      for (let i = 0; i < S; i++) this.obs[row * S + i] = step.obs[s * S + i]!;
      this.actions[row] = step.actions[s]!;
      this.rewards[row] = step.rewards[s]!;
      this.flags[row] = (step.terminated[s] ? F_TERM : 0) | (step.truncated[s] ? F_TRUNC : 0) | (step.starts[s] ? F_START : 0);
      if (Z > 0) for (let i = 0; i < Z; i++) this.states[row * Z + i] = step.states![s * Z + i]!;
      this.written[s]! += 1;
    }
  }

  /** Sequence start positions available in stream `s` for sequences of `length`. */
  private startsIn(s: number, length: number): number {
    return Math.max(0, Math.min(this.written[s]!, this.streamCapacity) - length + 1);
  }

  /** True when at least one sequence of `length` steps is stored. */
  canSample(length: number): boolean {
    for (let s = 0; s < this.config.numStreams; s++) if (this.startsIn(s, length) > 0) return true;
    return false;
  }

  /** Draws `batch` sequences of `length` steps, uniformly over every stored start position. */
  sample(batch: number, length: number, rng: Rng, out?: SequenceSample): SequenceSample {
    const { numStreams: N, obsSize: S, stateSize: Z } = this.config;
    const counts = new Float64Array(N);
    let total = 0;
    for (let s = 0; s < N; s++) total += counts[s] = this.startsIn(s, length);
    if (total === 0) throw new NpcforgeError(formatError('SequenceReplay.sample', `at least one stored sequence of ${length} steps`, `${this.size} steps`, 'add more steps before sampling'));
    const o = out && out.batch === batch && out.length === length ? out : {
      batch,
      length,
      obs: allocObs(this.config.obsDtype, length * batch * S),
      actions: new Int32Array(length * batch),
      rewards: new Float32Array(length * batch),
      terminated: new Float32Array(length * batch),
      truncated: new Float32Array(length * batch),
      starts: new Float32Array(length * batch),
      state0: new Float32Array(batch * Z),
    };
    const cap = this.streamCapacity;
    for (let b = 0; b < batch; b++) {
      let k = Math.floor(rng.random() * total);
      let s = 0;
      while (k >= counts[s]!) k -= counts[s++]!;
      // Oldest stored step of the stream, then k steps later.
      const oldest = Math.max(0, this.written[s]! - cap);
      const first = oldest + k;
      for (let t = 0; t < length; t++) {
        const row = s * cap + ((first + t) % cap);
        const r = t * batch + b;
        o.obs.set(this.obs.subarray(row * S, row * S + S), r * S);
        o.actions[r] = this.actions[row]!;
        o.rewards[r] = this.rewards[row]!;
        const f = this.flags[row]!;
        o.terminated[r] = f & F_TERM ? 1 : 0;
        o.truncated[r] = f & F_TRUNC ? 1 : 0;
        o.starts[r] = f & F_START ? 1 : 0;
      }
      if (Z > 0) {
        const row = s * cap + (first % cap);
        o.state0.set(this.states.subarray(row * Z, row * Z + Z), b * Z);
      }
    }
    return o;
  }

  /** Bytes held by the stored arrays. */
  get byteLength(): number {
    return this.obs.byteLength + this.actions.byteLength + this.rewards.byteLength + this.flags.byteLength + this.states.byteLength;
  }

  /** Serialises the whole memory into one byte array (see bytes.ts for the layout). */
  toBytes(): Uint8Array {
    const c = this.config;
    return packParts({ format: 'npcforge-sequence-replay', version: 1, streamCapacity: this.streamCapacity, numStreams: c.numStreams, obsSize: c.obsSize, stateSize: c.stateSize, written: Array.from(this.written) }, [this.obs, this.actions, this.rewards, this.flags, this.states]);
  }

  /** Restores what `toBytes` wrote into a memory built with the same config. */
  loadBytes(bytes: Uint8Array): void {
    const c = this.config;
    const fail = (what: string): never => {
      throw new InvalidConfigError(formatError('SequenceReplay.loadBytes', 'a replay file written by a sequence replay of the same config', what, 'delete replay.bin or train without --save-replay'));
    };
    const h = unpackParts(
      bytes,
      [this.obs, this.actions, this.rewards, this.flags, this.states],
      (x) => x.format === 'npcforge-sequence-replay' && x.version === 1 && x.streamCapacity === this.streamCapacity && x.numStreams === c.numStreams && x.obsSize === c.obsSize && x.stateSize === c.stateSize,
      fail,
    );
    this.written.set(h.written as number[]);
  }
}
