/**
 * SAC's replay memory: float observations and float action vectors in preallocated typed arrays.
 * Not `replay/buffer`: that memory stores one integer action per transition and rebuilds the next
 * observation from the following row (frames stored once, n-step folds), which fits discrete
 * actions over frames; here each row keeps its own next observation (the episode's final one where
 * it ended), so a row is a complete (s, a, r, s', terminated) and sampling needs no stream logic.
 */
import { CheckpointError, formatError } from '../../errors.js';
import type { Rng } from '../../envs/rng.js';

/** A sampled batch, row-major. The arrays are reused by the next `sample` call. */
export interface ContinuousSample {
  batchSize: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  /** 1 where the episode ended in a terminal state (no bootstrap); truncation stays 0. */
  terminated: Float32Array;
  nextObs: Float32Array;
}

export interface ContinuousReplayOptions {
  capacity: number;
  obsSize: number;
  actionSize: number;
  /** Largest batch `sample` is asked for (its arrays are allocated once). */
  batchSize: number;
}

const HEADER_VALUES = 4;

/** Ring buffer of transitions; the oldest are overwritten once `capacity` is reached. */
export class ContinuousReplay {
  readonly capacity: number;
  readonly obsSize: number;
  readonly actionSize: number;
  private readonly obs: Float32Array;
  private readonly nextObs: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly terminated: Float32Array;
  private readonly out: ContinuousSample;
  /** Next row to write. */
  private pos = 0;
  /** Rows holding data. */
  size = 0;

  constructor(o: ContinuousReplayOptions) {
    this.capacity = o.capacity;
    this.obsSize = o.obsSize;
    this.actionSize = o.actionSize;
    this.obs = new Float32Array(o.capacity * o.obsSize);
    this.nextObs = new Float32Array(o.capacity * o.obsSize);
    this.actions = new Float32Array(o.capacity * o.actionSize);
    this.rewards = new Float32Array(o.capacity);
    this.terminated = new Float32Array(o.capacity);
    const b = o.batchSize;
    this.out = { batchSize: b, obs: new Float32Array(b * o.obsSize), actions: new Float32Array(b * o.actionSize), rewards: new Float32Array(b), terminated: new Float32Array(b), nextObs: new Float32Array(b * o.obsSize) };
  }

  /**
   * Adds one vector step of `n` envs: row i of each array is env i. Where an episode ended,
   * `finalObs[i]` is its last observation (the next observation of that transition) and `nextObs`
   * already holds the first of the new episode.
   */
  addBatch(n: number, obs: ArrayLike<number>, actions: ArrayLike<number>, rewards: ArrayLike<number>, terminated: ArrayLike<number>, nextObs: ArrayLike<number>, finalObs: Array<ArrayLike<number> | undefined>): void {
    const O = this.obsSize;
    const A = this.actionSize;
    for (let i = 0; i < n; i++) {
      const row = this.pos;
      for (let j = 0; j < O; j++) this.obs[row * O + j] = obs[i * O + j]!;
      const fin = finalObs[i];
      if (fin) for (let j = 0; j < O; j++) this.nextObs[row * O + j] = fin[j]!;
      else for (let j = 0; j < O; j++) this.nextObs[row * O + j] = nextObs[i * O + j]!;
      for (let j = 0; j < A; j++) this.actions[row * A + j] = actions[i * A + j]!;
      this.rewards[row] = rewards[i]!;
      this.terminated[row] = terminated[i] ? 1 : 0;
      this.pos = (row + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
  }

  /** `batchSize` rows drawn uniformly with replacement (as SB3 and CleanRL). */
  sample(batchSize: number, rng: Rng): ContinuousSample {
    const O = this.obsSize;
    const A = this.actionSize;
    const s = this.out.batchSize === batchSize ? this.out : { batchSize, obs: new Float32Array(batchSize * O), actions: new Float32Array(batchSize * A), rewards: new Float32Array(batchSize), terminated: new Float32Array(batchSize), nextObs: new Float32Array(batchSize * O) };
    for (let b = 0; b < batchSize; b++) {
      const row = rng.int(0, this.size);
      s.obs.set(this.obs.subarray(row * O, row * O + O), b * O);
      s.nextObs.set(this.nextObs.subarray(row * O, row * O + O), b * O);
      s.actions.set(this.actions.subarray(row * A, row * A + A), b * A);
      s.rewards[b] = this.rewards[row]!;
      s.terminated[b] = this.terminated[row]!;
    }
    return s;
  }

  /** The write position and counts (uint32) then the filled rows (float32), in one byte array. */
  toBytes(): Uint8Array {
    const n = this.size;
    const O = this.obsSize;
    const A = this.actionSize;
    const data = new Float32Array(HEADER_VALUES + n * (2 * O + A + 2));
    // The header as uint32: float32 counts stop being exact above 2^24 rows.
    new Uint32Array(data.buffer, 0, HEADER_VALUES).set([this.pos, n, O, A]);
    let off = HEADER_VALUES;
    for (const [arr, width] of [[this.obs, O], [this.nextObs, O], [this.actions, A], [this.rewards, 1], [this.terminated, 1]] as const) {
      data.set(arr.subarray(0, n * width), off);
      off += n * width;
    }
    return new Uint8Array(data.buffer);
  }

  /** Restores what `toBytes` wrote; the byte count is checked against the header before anything is copied. */
  loadBytes(bytes: Uint8Array): void {
    const bad = (received: string): CheckpointError => new CheckpointError(formatError('sac.load replay.bin', `a replay memory of at most ${this.capacity} rows of ${this.obsSize}-value observations and ${this.actionSize}-value actions`, received, 'the checkpoint is incomplete or corrupt; pick another with --checkpoint'));
    if (bytes.byteLength % 4 !== 0 || bytes.byteLength < HEADER_VALUES * 4) throw bad(`${bytes.byteLength} bytes`);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const header = new Uint32Array(data.buffer, 0, HEADER_VALUES);
    const [pos, n, O, A] = [header[0]!, header[1]!, header[2]!, header[3]!];
    const O2 = this.obsSize;
    const A2 = this.actionSize;
    if (O !== O2 || A !== A2 || n > this.capacity || pos >= this.capacity || (n < this.capacity && pos !== n % this.capacity)) throw bad(`a header of ${n} rows at ${pos}, ${O} and ${A} values`);
    if (data.length !== HEADER_VALUES + n * (2 * O + A + 2)) throw bad(`${bytes.byteLength} bytes for ${n} rows`);
    let off = HEADER_VALUES;
    for (const [arr, width] of [[this.obs, O], [this.nextObs, O], [this.actions, A], [this.rewards, 1], [this.terminated, 1]] as const) {
      arr.set(data.subarray(off, off + n * width));
      off += n * width;
    }
    this.pos = pos;
    this.size = n;
  }
}
