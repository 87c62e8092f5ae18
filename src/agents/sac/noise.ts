/**
 * Temporally correlated exploration noise for SAC's training samples: power-law ("colored")
 * Gaussian sequences, 1/f^beta in power (beta 0 = white, 1 = pink, 2 = red/Brownian).
 *
 * Source: Eberhard, Hollenstein, Pinneri, Martius, "Pink Noise Is All You Need: Colored Noise
 * Exploration in Deep Reinforcement Learning" (ICLR 2023): replacing the white N(0, 1) draw of
 * SAC's policy sample with pink noise, one sequence per episode and action dimension, explores
 * tasks such as MountainCarContinuous where white noise never reaches the goal. The sequences are
 * drawn with the method of Timmer & Koenig (1995), "On generating power law noise": Gaussian
 * Fourier coefficients scaled by f^(-beta/2), lowest frequency 1/length, then an inverse real DFT
 * and a division by the standard deviation of the result. That deviation counts the DC and Nyquist
 * terms too (the `colorednoise` package leaves the DC term out), so every value is exactly
 * N(0, 1) marginally.
 */
import { CheckpointError, formatError, describe } from '../../errors.js';
import type { SeededRng } from '../../envs/rng.js';

/** What the sequences draw from: standard normal values (`SeededRng` has it). */
export interface NormalSource {
  normal(): number;
}

/** cos/sin of 2 pi j / length for j in [0, length), per length (sequences are drawn once per episode, the table once per run). */
const tables = new Map<number, { cos: Float64Array; sin: Float64Array }>();

function twiddles(length: number): { cos: Float64Array; sin: Float64Array } {
  let t = tables.get(length);
  if (!t) {
    const cos = new Float64Array(length);
    const sin = new Float64Array(length);
    for (let j = 0; j < length; j++) {
      cos[j] = Math.cos((2 * Math.PI * j) / length);
      sin[j] = Math.sin((2 * Math.PI * j) / length);
    }
    t = { cos, sin };
    tables.set(length, t);
  }
  return t;
}

/**
 * One power-law Gaussian sequence of `length` values into `out` (offset `offset`, stride
 * `stride`), unit variance in expectation. Draws 2 * (floor(length / 2) + 1) normals from `rng`.
 * A direct inverse DFT: O(length^2 / 2), about a millisecond for 1000 values.
 */
export function powerLawSequence(o: { beta: number; length: number; rng: NormalSource; out: Float32Array; offset?: number; stride?: number }): void {
  const { beta, length: T, rng, out } = o;
  const offset = o.offset ?? 0;
  const stride = o.stride ?? 1;
  const nf = Math.floor(T / 2) + 1;
  const even = T % 2 === 0;
  // Amplitude per frequency k / T; frequencies below 1 / T (the DC term) get the value at 1 / T.
  const scale = new Float64Array(nf);
  for (let k = 0; k < nf; k++) scale[k] = Math.pow(Math.max(k, 1) / T, -beta / 2);
  // Var(x[n]) = (2 s_0^2 + 4 sum_{0<k<T/2} s_k^2 + 2 s_{T/2}^2 [even T]) / T^2 for the coefficients below.
  let variance = 2 * scale[0]! ** 2;
  for (let k = 1; k < nf; k++) variance += (k === nf - 1 && even ? 2 : 4) * scale[k]! ** 2;
  const sigma = Math.sqrt(variance) / T;
  const re = new Float64Array(nf);
  const im = new Float64Array(nf);
  for (let k = 0; k < nf; k++) {
    re[k] = rng.normal() * scale[k]!;
    im[k] = rng.normal() * scale[k]!;
  }
  // The DC term (and the Nyquist term of an even length) is real; sqrt(2) keeps its power.
  im[0] = 0;
  re[0]! *= Math.SQRT2;
  if (even) {
    im[nf - 1] = 0;
    re[nf - 1]! *= Math.SQRT2;
  }
  const { cos, sin } = twiddles(T);
  for (let n = 0; n < T; n++) {
    let acc = re[0]!;
    for (let k = 1; k < nf; k++) {
      const j = (k * n) % T;
      // Conjugate-symmetric bins count twice; the Nyquist bin of an even length once.
      const w = k === nf - 1 && even ? 1 : 2;
      acc += w * (re[k]! * cos[j]! - im[k]! * sin[j]!);
    }
    out[offset + n * stride] = acc / T / sigma;
  }
}

/** Serialised state of `ColoredNoise` (positions in JSON; the sequences go in a blob). */
export interface ColoredNoiseState {
  numEnvs: number;
  /** Next index into each env's sequence; `length` = draw a new sequence at the next step. */
  positions: number[];
}

/**
 * One colored-noise sequence per env and action dimension. `next(env)` hands out the next
 * standard-normal vector of that env; `episodeEnded(env)` makes the next call start a new
 * sequence (a fresh sequence per episode, as the paper). Sequences are drawn from `rng` lazily,
 * in env order at the step that needs them, so a seeded run is reproducible.
 */
export class ColoredNoise {
  private sequences: Float32Array[] = [];
  private positions: number[] = [];

  constructor(
    readonly beta: number,
    readonly length: number,
    readonly dims: number,
    private readonly rng: SeededRng,
  ) {}

  get numEnvs(): number {
    return this.positions.length;
  }

  /** Sizes the state for `n` envs; a change of n starts every env on a new sequence. */
  ensureEnvs(n: number): void {
    if (n === this.positions.length) return;
    this.sequences = Array.from({ length: n }, () => new Float32Array(this.length * this.dims));
    this.positions = new Array<number>(n).fill(this.length);
  }

  /** Writes env `env`'s next noise vector (`dims` values) into `out` at `offset`. */
  next(env: number, out: Float32Array, offset: number): void {
    const seq = this.sequences[env]!;
    if (this.positions[env]! >= this.length) {
      // Time-major [length, dims], so one step's vector is contiguous.
      for (let d = 0; d < this.dims; d++) powerLawSequence({ beta: this.beta, length: this.length, rng: this.rng, out: seq, offset: d, stride: this.dims });
      this.positions[env] = 0;
    }
    const p = this.positions[env]!;
    for (let d = 0; d < this.dims; d++) out[offset + d] = seq[p * this.dims + d]!;
    this.positions[env] = p + 1;
  }

  /** The env's episode ended: its next step starts a new sequence. */
  episodeEnded(env: number): void {
    if (env < this.positions.length) this.positions[env] = this.length;
  }

  getState(): { json: ColoredNoiseState; bytes: Uint8Array } {
    const all = new Float32Array(this.positions.length * this.length * this.dims);
    this.sequences.forEach((s, i) => all.set(s, i * this.length * this.dims));
    return { json: { numEnvs: this.positions.length, positions: [...this.positions] }, bytes: new Uint8Array(all.buffer) };
  }

  /** What is wrong with a saved state for this noise (counts and sizes), or null; `setState` throws it. */
  problem(json: unknown, bytes: Uint8Array | undefined): string | null {
    const j = json as Partial<ColoredNoiseState> | undefined;
    const n = j?.numEnvs;
    const positions = j?.positions;
    if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > 1_000_000 || !Array.isArray(positions) || positions.length !== n || positions.some((p) => !Number.isSafeInteger(p) || p < 0 || p > this.length)) {
      const got = j === undefined ? 'none' : `numEnvs ${describe(n)} and ${Array.isArray(positions) ? `${positions.length} positions` : describe(typeof positions)}`;
      return `noise ${got} (want numEnvs and one position in [0, ${this.length}] per env)`;
    }
    const want = (n as number) * this.length * this.dims * 4;
    if (!(bytes instanceof Uint8Array) || bytes.byteLength !== want) return `blob noise.bin of ${bytes instanceof Uint8Array ? `${bytes.byteLength} bytes` : 'none'} (want ${want} bytes: ${n} envs x ${this.length} steps x ${this.dims} dims)`;
    return null;
  }

  /** Restores `getState`'s output; checks every count and size (`problem`) before assigning anything. */
  setState(json: ColoredNoiseState | undefined, bytes: Uint8Array | undefined): void {
    const bad = this.problem(json, bytes);
    if (bad !== null) throw new CheckpointError(formatError('sac.load noise', 'the saved noise of a colored-exploration run', bad, 'the checkpoint is incomplete, corrupt or from another exploration config; pick another with --checkpoint'));
    const per = this.length * this.dims;
    const all = new Float32Array(bytes!.buffer.slice(bytes!.byteOffset, bytes!.byteOffset + bytes!.byteLength));
    this.sequences = Array.from({ length: json!.numEnvs }, (_, i) => all.slice(i * per, (i + 1) * per));
    this.positions = [...json!.positions];
  }
}
