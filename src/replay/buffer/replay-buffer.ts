/**
 * Replay memory for off-policy agents. Preallocated, circular, typed arrays only (no tensors).
 *
 * Layout: one contiguous stream of rows per sub-env, so that the next observation of row j is
 * row j+1 of the same stream and each observation is stored once. When an episode ends
 * (terminated or truncated) an extra "final" row holds the last observation, so truncated
 * transitions can bootstrap from it. Pixel frame stacks (`frameStack` > 1) store only the newest
 * frame per row and rebuild the stack at sample time, never across an episode start; 0/1 grids
 * are bit-packed. Optional proportional prioritized sampling (sum tree, importance weights).
 */
import { packParts, unpackParts } from './bytes.js';
import { InvalidConfigError, NpcforgeError, formatError, describe } from '../../errors.js';
import { type Dtype, allocObs } from '../../envs/spaces.js';
import type { ObsArray } from '../../envs/env.js';
import type { Rng } from '../../envs/rng.js';
import { SumTree } from './sum-tree.js';

/** Sampling was asked for before the buffer held enough transitions. */
export class ReplayNotReadyError extends NpcforgeError {}

export interface PrioritizedConfig {
  /** Priority exponent alpha (0 = uniform). */
  alpha: number;
  /** Importance-sampling exponent at the first sample. */
  betaStart: number;
  /** Samples (calls to `sample`) over which beta anneals linearly to 1. */
  betaSteps: number;
  /** Added to |TD error| so no transition gets probability 0. */
  epsilon: number;
}

export interface ReplayBufferConfig {
  /** Total rows over all streams (transitions, plus one row per ended episode). */
  capacity: number;
  /** Number of streams, one per sub-env. */
  numStreams: number;
  /** Observation shape (HWC or flat); with a frame stack the last axis holds `frameStack` frames. */
  obsShape: number[];
  /** Observation dtype. */
  obsDtype: Dtype;
  /** Store 0/1 observations as bits; `auto` = when dtype is uint8 and `obsHigh` <= 1. */
  bitPack: boolean | 'auto';
  /** Upper bound of the observation values (for `bitPack: 'auto'`). */
  obsHigh: number;
  /** Frames per stacked observation (1 = no stacking). */
  frameStack: number;
  /** How a stack is padded at an episode start: repeat the first frame, or zeros. */
  stackPadding: 'repeat' | 'zero';
  /** Transitions folded into each sampled return. */
  nStep: number;
  /** Discount per step. */
  gamma: number;
  /** Proportional prioritized replay; omit for uniform sampling. */
  prioritized?: PrioritizedConfig;
}

export const DEFAULT_REPLAY_CONFIG: Omit<ReplayBufferConfig, 'capacity' | 'obsShape' | 'obsDtype' | 'obsHigh'> = {
  numStreams: 1,
  bitPack: 'auto',
  frameStack: 1,
  stackPadding: 'repeat',
  nStep: 1,
  gamma: 0.99,
};

/** One sampled batch. The arrays are owned by the buffer and overwritten by the next `sample`. */
export interface ReplaySample {
  batchSize: number;
  /** `batchSize * obsSize` observations, original dtype. */
  obs: Uint8Array | Int32Array | Float32Array;
  /** Observation after the folded transitions (bootstrap state). */
  nextObs: Uint8Array | Int32Array | Float32Array;
  actions: Int32Array;
  /** n-step discounted reward sums. */
  returns: Float32Array;
  /** gamma^m, the factor of the bootstrap value. */
  discounts: Float32Array;
  /** 1 where the last folded transition was terminated (no bootstrap). */
  terminated: Uint8Array;
  /** Importance weights (all 1 for uniform sampling). */
  weights: Float32Array;
  /** Row ids, for `updatePriorities`. */
  indices: Int32Array;
}

const F_TERMINATED = 1;
const F_TRUNCATED = 2;
const F_FINAL = 4;
const F_START = 8;

/** Checks a partial config and fills defaults; reports every bad field at once. */
export function resolveReplayConfig(partial: Partial<ReplayBufferConfig> & Pick<ReplayBufferConfig, 'capacity' | 'obsShape' | 'obsDtype'>): ReplayBufferConfig {
  const c: ReplayBufferConfig = { ...DEFAULT_REPLAY_CONFIG, obsHigh: 255, ...partial };
  const errors: string[] = [];
  const posInt = (k: keyof ReplayBufferConfig, v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) < 1) errors.push(`${k} = ${describe(v)} (want a positive integer)`);
  };
  posInt('capacity', c.capacity);
  posInt('numStreams', c.numStreams);
  posInt('frameStack', c.frameStack);
  posInt('nStep', c.nStep);
  if (!(c.gamma >= 0 && c.gamma <= 1)) errors.push(`gamma = ${describe(c.gamma)} (want 0..1)`);
  if (!Array.isArray(c.obsShape) || c.obsShape.some((d) => !Number.isInteger(d) || d < 1)) errors.push(`obsShape = ${describe(c.obsShape)}`);
  else if (c.obsShape[c.obsShape.length - 1]! % c.frameStack !== 0) errors.push(`obsShape last axis ${c.obsShape[c.obsShape.length - 1]} not divisible by frameStack ${c.frameStack}`);
  if (Number.isInteger(c.capacity) && Number.isInteger(c.numStreams) && c.capacity < c.numStreams * (c.nStep + c.frameStack + 2)) errors.push(`capacity = ${c.capacity} too small for ${c.numStreams} streams`);
  if (c.prioritized) {
    const p = c.prioritized;
    if (!(p.alpha >= 0)) errors.push(`prioritized.alpha = ${describe(p.alpha)}`);
    if (!(p.betaStart >= 0 && p.betaStart <= 1)) errors.push(`prioritized.betaStart = ${describe(p.betaStart)}`);
    if (!(p.betaSteps >= 1)) errors.push(`prioritized.betaSteps = ${describe(p.betaSteps)}`);
    if (!(p.epsilon > 0)) errors.push(`prioritized.epsilon = ${describe(p.epsilon)}`);
  }
  if (errors.length) throw new InvalidConfigError(formatError('ReplayBuffer', 'a valid config', errors.join('; '), 'fix the listed fields'));
  return c;
}

/** `n` values of `a` from `offset` (a view where `a` is a typed array). */
function subarrayOf(a: ArrayLike<number>, offset: number, n: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as Float32Array).subarray(offset, offset + n) : Array.prototype.slice.call(a, offset, offset + n);
}

export class ReplayBuffer {
  readonly config: ReplayBufferConfig;
  /** Values per (stacked) observation. */
  readonly obsSize: number;
  /** Values per stored frame (the newest frame of a stack). */
  readonly frameSize: number;
  /** Bytes per stored frame. */
  readonly frameBytes: number;
  readonly packed: boolean;
  readonly rowsPerStream: number;
  readonly totalRows: number;
  private readonly channels: number;
  private readonly pixels: number;
  private readonly frames: ObsArray;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  private readonly flags: Uint8Array;
  /** Per-row write stamp (1-based write count of its stream); 0 = never written. */
  private readonly stamps: Float64Array;
  private readonly heads: Int32Array;
  private readonly writes: Float64Array;
  private readonly needStart: Uint8Array;
  private readonly tree?: SumTree;
  private maxPriority = 1;
  private samples = 0;
  /** Transitions added (not capped). */
  added = 0;
  private readonly out: ReplaySample;
  private readonly scratchFrame: ObsArray;

  constructor(config: Parameters<typeof resolveReplayConfig>[0]) {
    const c = resolveReplayConfig(config);
    this.config = c;
    this.obsSize = c.obsShape.reduce((a, b) => a * b, 1);
    this.frameSize = this.obsSize / c.frameStack;
    const last = c.obsShape[c.obsShape.length - 1]!;
    this.channels = last / c.frameStack;
    this.pixels = this.obsSize / last;
    this.packed = c.bitPack === true || (c.bitPack === 'auto' && c.obsDtype === 'uint8' && c.obsHigh <= 1);
    if (this.packed && c.obsDtype !== 'uint8') throw new InvalidConfigError(formatError('ReplayBuffer', 'bitPack only with uint8 observations', c.obsDtype, "set bitPack: false or 'auto'"));
    this.frameBytes = this.packed ? Math.ceil(this.frameSize / 8) : this.frameSize * (c.obsDtype === 'uint8' ? 1 : 4);
    this.rowsPerStream = Math.floor(c.capacity / c.numStreams);
    this.totalRows = this.rowsPerStream * c.numStreams;
    this.frames = this.packed ? new Uint8Array(this.totalRows * this.frameBytes) : allocObs(c.obsDtype, this.totalRows * this.frameSize);
    this.actions = new Int32Array(this.totalRows);
    this.rewards = new Float32Array(this.totalRows);
    this.flags = new Uint8Array(this.totalRows);
    this.stamps = new Float64Array(this.totalRows);
    this.heads = new Int32Array(c.numStreams);
    this.writes = new Float64Array(c.numStreams);
    this.needStart = new Uint8Array(c.numStreams).fill(1);
    if (c.prioritized) this.tree = new SumTree(this.totalRows);
    this.scratchFrame = allocObs(c.obsDtype, this.frameSize);
    this.out = this.allocSample(0);
  }

  /** Bytes held by the preallocated arrays (what a benchmark reports). */
  get byteLength(): number {
    let n = this.frames.byteLength + this.actions.byteLength + this.rewards.byteLength + this.flags.byteLength + this.stamps.byteLength;
    if (this.tree) n += this.tree.nodes.byteLength;
    return n;
  }

  /** Rows currently holding data. */
  get size(): number {
    let n = 0;
    for (let s = 0; s < this.config.numStreams; s++) n += Math.min(this.writes[s]!, this.rowsPerStream);
    return n;
  }

  private allocSample(batch: number): ReplaySample {
    const d = this.config.obsDtype;
    return {
      batchSize: batch,
      obs: allocObs(d, batch * this.obsSize),
      nextObs: allocObs(d, batch * this.obsSize),
      actions: new Int32Array(batch),
      returns: new Float32Array(batch),
      discounts: new Float32Array(batch),
      terminated: new Uint8Array(batch),
      weights: new Float32Array(batch),
      indices: new Int32Array(batch),
    };
  }

  private writeRow(stream: number, obs: ArrayLike<number>, offset: number, action: number, reward: number, flags: number): number {
    const head = this.heads[stream]!;
    const row = stream * this.rowsPerStream + head;
    this.storeFrame(row, obs, offset);
    this.actions[row] = action;
    this.rewards[row] = reward;
    this.flags[row] = flags;
    this.writes[stream]! += 1;
    this.stamps[row] = this.writes[stream]!;
    this.heads[stream] = head + 1 === this.rowsPerStream ? 0 : head + 1;
    if (this.tree) {
      this.tree.set(row, 0);
      // The previous row of the stream now has its next observation: it becomes sampleable.
      const prev = this.prevRow(stream, row);
      if (this.stamps[prev]! > 0 && this.stamps[prev] === this.stamps[row]! - 1 && !(this.flags[prev]! & F_FINAL)) this.tree.set(prev, this.maxPriority);
    }
    return row;
  }

  private prevRow(stream: number, row: number): number {
    const base = stream * this.rowsPerStream;
    return row === base ? base + this.rowsPerStream - 1 : row - 1;
  }

  private nextRow(stream: number, row: number): number {
    const base = stream * this.rowsPerStream;
    return row + 1 === base + this.rowsPerStream ? base : row + 1;
  }

  /** Stores the newest frame of `obs` (starting at `offset`) in `row`. */
  private storeFrame(row: number, obs: ArrayLike<number>, offset: number): void {
    const k = this.config.frameStack;
    let frame: ArrayLike<number>;
    let fOff: number;
    if (k === 1) {
      frame = obs;
      fOff = offset;
    } else {
      const f = this.scratchFrame;
      const C = this.channels;
      const src = (k - 1) * C;
      for (let p = 0; p < this.pixels; p++) {
        const o = offset + p * C * k + src;
        for (let ch = 0; ch < C; ch++) f[p * C + ch] = obs[o + ch]!;
      }
      frame = f;
      fOff = 0;
    }
    if (this.packed) {
      const bytes = this.frames as Uint8Array;
      const base = row * this.frameBytes;
      bytes.fill(0, base, base + this.frameBytes);
      for (let i = 0; i < this.frameSize; i++) if (frame[fOff + i]) bytes[base + (i >> 3)]! |= 1 << (i & 7);
    } else {
      const base = row * this.frameSize;
      for (let i = 0; i < this.frameSize; i++) this.frames[base + i] = frame[fOff + i]!;
    }
  }

  private loadFrame(row: number, dst: ObsArray, dOff: number, stride: number, slot: number): void {
    // Writes the frame of `row` into stack slot `slot` of the observation at `dOff`.
    const C = this.channels;
    const k = this.config.frameStack;
    if (this.packed) {
      const bytes = this.frames as Uint8Array;
      const base = row * this.frameBytes;
      if (k === 1) {
        for (let i = 0; i < this.frameSize; i++) dst[dOff + i] = (bytes[base + (i >> 3)]! >> (i & 7)) & 1;
      } else {
        for (let p = 0; p < this.pixels; p++) {
          for (let ch = 0; ch < C; ch++) {
            const i = p * C + ch;
            dst[dOff + p * stride + slot * C + ch] = (bytes[base + (i >> 3)]! >> (i & 7)) & 1;
          }
        }
      }
      return;
    }
    const base = row * this.frameSize;
    if (k === 1) {
      for (let i = 0; i < this.frameSize; i++) dst[dOff + i] = this.frames[base + i]!;
    } else {
      for (let p = 0; p < this.pixels; p++) {
        for (let ch = 0; ch < C; ch++) dst[dOff + p * stride + slot * C + ch] = this.frames[base + p * C + ch]!;
      }
    }
  }

  /** Rebuilds the (stacked) observation of `row` into `dst` at `dOff`. */
  private loadObs(row: number, dst: ObsArray, dOff: number): void {
    const k = this.config.frameStack;
    if (k === 1) {
      this.loadFrame(row, dst, dOff, 0, 0);
      return;
    }
    const stream = Math.floor(row / this.rowsPerStream);
    const stride = this.channels * k;
    let r = row;
    let slot = k - 1;
    this.loadFrame(r, dst, dOff, stride, slot);
    // Walk back while the previous row is the same episode and was written just before.
    while (slot > 0 && !(this.flags[r]! & F_START)) {
      const p = this.prevRow(stream, r);
      if (this.stamps[p] === 0 || this.stamps[p] !== this.stamps[r]! - 1) break;
      r = p;
      slot--;
      this.loadFrame(r, dst, dOff, stride, slot);
    }
    // Pad the older slots at an episode start.
    for (let s = slot - 1; s >= 0; s--) {
      if (this.config.stackPadding === 'repeat') this.loadFrame(r, dst, dOff, stride, s);
      else for (let p = 0; p < this.pixels; p++) for (let ch = 0; ch < this.channels; ch++) dst[dOff + p * stride + s * this.channels + ch] = 0;
    }
  }

  /**
   * Adds the transitions of one vector step: row i of `obs` (the observation the action was
   * taken in), `actions[i]`, `rewards[i]`, flags, and `finalObs[i]` for sub-envs whose episode
   * ended. The caller promises that the next `obs` row of a stream that did not end is the
   * next observation (which is how a vector env with same-step autoreset behaves).
   */
  addBatch(obs: ArrayLike<number>, actions: ArrayLike<number>, rewards: ArrayLike<number>, terminated: ArrayLike<number>, truncated: ArrayLike<number>, finalObs: Array<ArrayLike<number> | undefined>): void {
    for (let s = 0; s < this.config.numStreams; s++) {
      this.add(s, obs, s * this.obsSize, actions[s]!, rewards[s]!, terminated[s] === 1, truncated[s] === 1, finalObs[s]);
    }
  }

  /** Adds one transition of stream `stream`; `obs` is read from `offset`. Returns the transition's row (for `updatePriorities`). */
  add(stream: number, obs: ArrayLike<number>, offset: number, action: number, reward: number, terminated: boolean, truncated: boolean, finalObs?: ArrayLike<number>): number {
    let flags = (terminated ? F_TERMINATED : 0) | (truncated ? F_TRUNCATED : 0);
    if (this.needStart[stream]) flags |= F_START;
    this.needStart[stream] = 0;
    const transitionRow = this.writeRow(stream, obs, offset, action, reward, flags);
    this.added++;
    if (terminated || truncated) {
      if (!finalObs) throw new InvalidConfigError(formatError('ReplayBuffer.add', 'the final observation of an ended episode', 'none', 'pass infos[i].finalObs'));
      const row = this.writeRow(stream, finalObs, 0, 0, 0, F_FINAL);
      if (this.tree) this.tree.set(row, 0);
      this.needStart[stream] = 1;
    }
    return transitionRow;
  }

  /**
   * Adds a segment of consecutive transitions of one env collected elsewhere (a distributed
   * actor) to stream `stream`: `obs` holds `steps + 1` observations from `offset` (the last one
   * follows the last step). The segment is closed like a truncated episode, so its last transition
   * bootstraps from that observation and the next segment on the stream starts fresh (n-step
   * returns stop at segment ends). `finalObs(t)` gives the final observation where step t ended an
   * episode. `priorities` (|TD error|, prioritized memory only) replace the maximum-priority default.
   * Frame stacks would be rebuilt across the cut, so it needs `frameStack` 1.
   */
  addSegment(seg: { stream: number; steps: number; obs: ArrayLike<number>; offset: number; actions: ArrayLike<number>; rewards: ArrayLike<number>; terminated: ArrayLike<number>; truncated: ArrayLike<number>; at: number; finalObs: (t: number) => ArrayLike<number>; priorities?: ArrayLike<number> | null }): void {
    if (this.config.frameStack !== 1) throw new InvalidConfigError(formatError('ReplayBuffer.addSegment', 'frameStack 1 (segments are cut where stacks would continue)', `frameStack ${this.config.frameStack}`, 'stack frames in the env (a wrapper) instead of the replay memory'));
    const rows = seg.priorities ? new Int32Array(seg.steps) : null;
    for (let t = 0; t < seg.steps; t++) {
      const i = seg.at + t;
      const ended = seg.terminated[i] === 1 || seg.truncated[i] === 1;
      const last = t === seg.steps - 1;
      const final = ended ? seg.finalObs(t) : last ? subarrayOf(seg.obs, seg.offset + seg.steps * this.obsSize, this.obsSize) : undefined;
      const row = this.add(seg.stream, seg.obs, seg.offset + t * this.obsSize, seg.actions[i]!, seg.rewards[i]!, seg.terminated[i] === 1, seg.truncated[i] === 1 || (last && !ended), final);
      if (rows) rows[t] = row;
    }
    if (rows) this.updatePriorities(rows, Array.prototype.slice.call(seg.priorities, seg.at, seg.at + seg.steps) as number[]);
  }

  /** True when row `row` starts a sampleable transition. */
  private valid(row: number): boolean {
    if (this.stamps[row] === 0 || this.flags[row]! & F_FINAL) return false;
    const stream = Math.floor(row / this.rowsPerStream);
    const nx = this.nextRow(stream, row);
    return this.stamps[nx] === this.stamps[row]! + 1;
  }

  /** Number of sampleable transitions needed before `sample` works: the batch size. */
  canSample(batchSize: number): boolean {
    return this.added >= batchSize && this.size > batchSize + this.config.numStreams;
  }

  /** Current importance-sampling exponent. */
  get beta(): number {
    const p = this.config.prioritized;
    if (!p) return 0;
    return Math.min(1, p.betaStart + ((1 - p.betaStart) * this.samples) / p.betaSteps);
  }

  /** Draws `batchSize` transitions (uniform, or proportional to priority). */
  sample(batchSize: number, rng: Rng): ReplaySample {
    if (!this.canSample(batchSize)) {
      throw new ReplayNotReadyError(formatError('ReplayBuffer.sample', `at least ${batchSize + this.config.numStreams + 1} stored rows`, `${this.size} rows`, 'add more transitions first (raise learningStarts above batchSize)'));
    }
    if (this.out.batchSize !== batchSize) Object.assign(this.out, this.allocSample(batchSize));
    const o = this.out;
    const tree = this.tree;
    let maxW = 0;
    const total = tree ? tree.total() : 0;
    const beta = this.beta;
    const n = this.size;
    for (let b = 0; b < batchSize; b++) {
      let row = -1;
      for (let tries = 0; tries < 10000; tries++) {
        const cand = tree ? tree.find(((b + rng.random()) / batchSize) * total) : this.filledRow(rng.int(0, n));
        if (this.valid(cand) && (!tree || tree.get(cand) > 0)) {
          row = cand;
          break;
        }
      }
      if (row < 0) throw new ReplayNotReadyError(formatError('ReplayBuffer.sample', 'sampleable transitions', 'none found after 10000 draws', 'add more transitions before sampling'));
      o.indices[b] = row;
      if (tree) {
        const w = Math.pow((n * tree.get(row)) / total, -beta);
        o.weights[b] = w;
        if (w > maxW) maxW = w;
      } else {
        o.weights[b] = 1;
      }
      this.fill(b, row);
    }
    if (tree) for (let b = 0; b < batchSize; b++) o.weights[b] = o.weights[b]! / maxW;
    this.samples++;
    return o;
  }

  /**
   * Row of the `k`-th filled row (0 <= k < size), streams in order. Uniform draws go through it so
   * that a large, mostly empty memory is sampled over what it holds, not over its capacity.
   */
  private filledRow(k: number): number {
    const rps = this.rowsPerStream;
    for (let s = 0; s < this.config.numStreams; s++) {
      // A stream fills its rows from its base upwards and only then wraps around.
      const filled = Math.min(this.writes[s]!, rps);
      if (k < filled) return s * rps + k;
      k -= filled;
    }
    return -1;
  }

  private fill(b: number, row: number): void {
    const o = this.out;
    const c = this.config;
    const stream = Math.floor(row / this.rowsPerStream);
    this.loadObs(row, o.obs, b * this.obsSize);
    o.actions[b] = this.actions[row]!;
    let ret = 0;
    let g = 1;
    let r = row;
    let term = 0;
    for (let m = 0; m < c.nStep; m++) {
      ret += g * this.rewards[r]!;
      g *= c.gamma;
      const f = this.flags[r]!;
      const nx = this.nextRow(stream, r);
      if (f & (F_TERMINATED | F_TRUNCATED)) {
        term = f & F_TERMINATED ? 1 : 0;
        r = nx;
        break;
      }
      // Stop at the newest data: the following transition has no next observation yet.
      if (m + 1 === c.nStep || !this.valid(nx)) {
        r = nx;
        break;
      }
      r = nx;
    }
    o.returns[b] = ret;
    o.discounts[b] = g;
    o.terminated[b] = term;
    this.loadObs(r, o.nextObs, b * this.obsSize);
  }

  /** Sets new priorities (|TD error|) for sampled rows. */
  updatePriorities(indices: ArrayLike<number>, tdErrors: ArrayLike<number>): void {
    const p = this.config.prioritized;
    if (!p || !this.tree) return;
    for (let i = 0; i < indices.length; i++) {
      const prio = Math.pow(Math.abs(tdErrors[i]!) + p.epsilon, p.alpha);
      if (prio > this.maxPriority) this.maxPriority = prio;
      if (this.valid(indices[i]!)) this.tree.set(indices[i]!, prio);
    }
  }

  /** Serialises the whole buffer (arrays + counters) into one byte array. */
  toBytes(): Uint8Array {
    const header = {
      format: 'npcforge-replay',
      version: 1,
      totalRows: this.totalRows,
      frameBytes: this.frameBytes,
      packed: this.packed,
      heads: Array.from(this.heads),
      writes: Array.from(this.writes),
      needStart: Array.from(this.needStart),
      maxPriority: this.maxPriority,
      samples: this.samples,
      added: this.added,
    };
    return packParts(header, this.parts());
  }

  private parts(): ArrayBufferView[] {
    const parts: ArrayBufferView[] = [this.frames, this.actions, this.rewards, this.flags, this.stamps];
    if (this.tree) parts.push(this.tree.nodes);
    return parts;
  }

  /** Restores what `toBytes` wrote into a buffer built with the same config. */
  loadBytes(bytes: Uint8Array): void {
    const fail = (what: string): never => {
      throw new InvalidConfigError(formatError('ReplayBuffer.loadBytes', 'a replay file written by a buffer of the same config', what, 'delete replay.bin or train without --save-replay'));
    };
    const h = unpackParts(bytes, this.parts(), (x) => x.format === 'npcforge-replay' && x.version === 1 && x.totalRows === this.totalRows && x.frameBytes === this.frameBytes, fail);
    this.heads.set(h.heads as number[]);
    this.writes.set(h.writes as number[]);
    this.needStart.set(h.needStart as number[]);
    this.maxPriority = h.maxPriority as number;
    this.samples = h.samples as number;
    this.added = h.added as number;
  }
}
