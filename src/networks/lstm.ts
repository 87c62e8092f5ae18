/**
 * An LSTM core with an explicit state, written with tf ops so that acting step by step and
 * training over sequences run the very same cell (and therefore give the same outputs).
 *
 * Episode boundaries: every step carries a 0/1 `starts` flag (1 = this input is the first
 * observation of a new episode). The state entering such a step is multiplied by (1 - start), so
 * it is zero there whether the step is taken alone while acting (a vector env that autoreset an
 * env) or inside an unrolled training sequence that spans two episodes.
 *
 * Weights are stored gate-major: `kernel` [4, in, H], `recurrentKernel` [4, H, H], `bias`
 * [4, 1, H], gate order input, forget, cell, output (Keras' order). The cell multiplies by their
 * [in, 4H] / [H, 4H] flattening (see `matrices`). Keras layout
 * for an exporter: `kernel.transpose([1, 0, 2]).reshape([in, 4H])` (same for the recurrent
 * kernel; bias reshaped to [4H]). The masking at episode starts is the one part a plain Keras
 * layer does not do.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { orthogonalMatrix } from './orthogonal.js';

/** Recurrent state of a batch: hidden and cell, each [batch, units]. */
export interface LstmState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

export interface LstmCoreSpec {
  /** Size of each input vector. */
  inputSize: number;
  /** Hidden units. */
  units: number;
  /** Seed of the initialisers (same seed, same weights). */
  seed: number;
  /**
   * 'keras' (default): glorot-uniform input kernel, orthogonal recurrent kernel, forget-gate bias 1.
   * 'orthogonal': CleanRL `ppo_atari_lstm.py` (PyTorch's LSTM re-initialised): both kernels
   * orthogonal with gain 1, all biases 0.
   */
  init?: 'keras' | 'orthogonal';
}

/** An LSTM cell owning its three weight variables. */
export class LstmCore {
  readonly units: number;
  readonly inputSize: number;
  readonly kernel: tf.Variable;
  readonly recurrentKernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(spec: LstmCoreSpec) {
    const bad: string[] = [];
    if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) bad.push(`inputSize=${describe(spec.inputSize)}`);
    if (!Number.isInteger(spec.units) || spec.units < 1) bad.push(`units=${describe(spec.units)}`);
    if (bad.length) throw new InvalidConfigError(formatError('LstmCore', 'positive integer inputSize and units', bad.join(', '), 'pass e.g. { inputSize: 64, units: 128 }'));
    this.units = spec.units;
    this.inputSize = spec.inputSize;
    const H = spec.units;
    const I = spec.inputSize;
    // Initialise in Keras' [in, 4H] layout (fan-in/out as Keras sees them), then go gate-major.
    const gateMajor = (w: tf.Tensor, rows: number) => tf.transpose(tf.reshape(w, [rows, 4, H]), [1, 0, 2]);
    const b = new Float32Array(4 * H);
    if (spec.init === 'orthogonal') {
      // PyTorch's weight_ih [4H, in] is our [in, 4H] transposed: orthogonal either way.
      this.kernel = tf.variable(tf.tidy(() => gateMajor(tf.tensor2d(orthogonalMatrix(I, 4 * H, { gain: 1, seed: spec.seed }), [I, 4 * H]), I)));
      this.recurrentKernel = tf.variable(tf.tidy(() => gateMajor(tf.tensor2d(orthogonalMatrix(H, 4 * H, { gain: 1, seed: spec.seed + 1 }), [H, 4 * H]), H)));
    } else {
      this.kernel = tf.variable(tf.tidy(() => gateMajor(tf.initializers.glorotUniform({ seed: spec.seed }).apply([I, 4 * H]) as tf.Tensor, I)));
      this.recurrentKernel = tf.variable(tf.tidy(() => gateMajor(tf.initializers.orthogonal({ gain: 1, seed: spec.seed + 1 }).apply([H, 4 * H]) as tf.Tensor, H)));
      // Forget-gate bias 1 (Jozefowicz et al. 2015): the state is kept by default early in training.
      b.fill(1, H, 2 * H);
    }
    this.bias = tf.variable(tf.tensor3d(b, [4, 1, H]));
  }

  /** The trainable variables, in save order. */
  get variables(): tf.Variable[] {
    return [this.kernel, this.recurrentKernel, this.bias];
  }

  /** A zero state for `batch` rows. Caller owns it. */
  zeroState(batch: number): LstmState {
    return { h: tf.zeros([batch, this.units]), c: tf.zeros([batch, this.units]) };
  }

  /**
   * The gate-major variables as 2-D matrices [in, 4H] and [H, 4H] (columns gate by gate), so each
   * step is two plain matMuls: on wasm those take XNNPACK's fast path, while the batched
   * [4, B, in] x [4, in, H] product of the stored layout runs a naive loop (~10x slower, measured).
   * Made once per unroll; gradients flow back to the variables through the transposes.
   */
  private matrices(): { wx: tf.Tensor2D; wh: tf.Tensor2D; b: tf.Tensor2D } {
    const H = this.units;
    const flat = (w: tf.Tensor, rows: number) => tf.reshape(tf.transpose(w, [1, 0, 2]), [rows, 4 * H]) as tf.Tensor2D;
    return { wx: flat(this.kernel, this.inputSize), wh: flat(this.recurrentKernel, H), b: tf.reshape(this.bias, [1, 4 * H]) as tf.Tensor2D };
  }

  /** One step: x [B, in] and a (masked) state. Call inside tidy. */
  private cell(x: tf.Tensor2D, state: LstmState, w: { wx: tf.Tensor2D; wh: tf.Tensor2D; b: tf.Tensor2D }): LstmState {
    const B = x.shape[0];
    const H = this.units;
    const z = tf.add(tf.add(tf.matMul(x, w.wx), tf.matMul(state.h, w.wh)), w.b);
    // [B, 4H] -> [4, B, H]: one transpose, then the gates are contiguous blocks.
    const [zi, zf, zg, zo] = tf.unstack(tf.transpose(tf.reshape(z, [B, 4, H]), [1, 0, 2])) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const c = tf.add(tf.mul(tf.sigmoid(zf), state.c), tf.mul(tf.sigmoid(zi), tf.tanh(zg))) as tf.Tensor2D;
    const h = tf.mul(tf.sigmoid(zo), tf.tanh(c)) as tf.Tensor2D;
    return { h, c };
  }

  private static mask(state: LstmState, starts: tf.Tensor1D): LstmState {
    const keep = tf.expandDims(tf.sub(1, starts), 1);
    return { h: tf.mul(state.h, keep) as tf.Tensor2D, c: tf.mul(state.c, keep) as tf.Tensor2D };
  }

  /** One step for a batch: x [B, in], starts [B] (1 = reset before this step). Call inside tidy. */
  step(x: tf.Tensor2D, state: LstmState, starts: tf.Tensor1D): LstmState {
    return this.cell(x, LstmCore.mask(state, starts), this.matrices());
  }

  /**
   * Unrolls over a time-major sequence: xs [T * B, in] (row t * B + b), starts [T * B].
   * Returns the hidden outputs [T * B, H] and the final state. Call inside tidy.
   */
  sequence(xs: tf.Tensor2D, starts: tf.Tensor1D, state0: LstmState, steps: number): { outputs: tf.Tensor2D; state: LstmState } {
    const B = state0.h.shape[0];
    if (xs.shape[0] !== steps * B) {
      throw new InvalidConfigError(formatError('LstmCore.sequence', `${steps} x ${B} input rows`, String(xs.shape[0]), 'pass time-major rows t * batch + b'));
    }
    // Per-step input rows are contiguous (time-major), and each step runs exactly the acting cell.
    const xk = tf.split(xs, steps, 0) as tf.Tensor2D[];
    const st = tf.split(starts, steps, 0) as tf.Tensor1D[];
    const w = this.matrices();
    let state = state0;
    const outs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      state = this.cell(xk[t]!, LstmCore.mask(state, st[t]!), w);
      outs.push(state.h);
    }
    return { outputs: tf.concat(outs, 0) as tf.Tensor2D, state };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
