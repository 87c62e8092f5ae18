/**
 * Orthogonal weight initialisation (Saxe et al. 2014) computed in plain JS from a seeded RNG, as
 * CleanRL's `layer_init` (`torch.nn.init.orthogonal_`) does for every PPO layer: a Gaussian matrix,
 * its QR factorisation, Q with the signs of diag(R) folded in, times a gain.
 *
 * Why not `tf.initializers.orthogonal`: it runs its QR as tfjs ops (seconds for the 3136x512 Nature
 * dense layer on wasm) and warns on every matrix above 2,000 values; this one takes ~1 s for that
 * layer and stays silent. Kernels of any rank are flattened as PyTorch and Keras do: all leading
 * dimensions are rows, the last (output units) are the columns.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { SeededRng } from '../envs/rng.js';

/**
 * A `rows x cols` row-major matrix with orthonormal columns (rows >= cols) or rows (rows < cols),
 * times `gain`. Same seed, same matrix.
 */
export function orthogonalMatrix(rows: number, cols: number, options: { gain: number; seed: number }): Float32Array {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1 || !Number.isFinite(options.gain)) {
    throw new InvalidConfigError(formatError('orthogonalMatrix', 'positive integer rows and cols and a finite gain', `rows ${describe(rows)}, cols ${describe(cols)}, gain ${describe(options.gain)}`, 'pass the kernel shape and e.g. gain Math.SQRT2'));
  }
  const rng = new SeededRng(options.seed);
  // Work on the tall orientation m x n (m >= n), column-major, then transpose back if needed.
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const q = new Float64Array(m * n);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  // Modified Gram-Schmidt twice ("twice is enough", Giraud et al. 2005) for float64 orthogonality;
  // the first pass's norms are diag(R), positive by construction, so Q is the unique QR factor with
  // a positive diagonal, which is what the sign fix of numpy/PyTorch produces.
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < n; j++) {
      const cj = j * m;
      for (let k = 0; k < j; k++) {
        const ck = k * m;
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[ck + i]! * q[cj + i]!;
        for (let i = 0; i < m; i++) q[cj + i]! -= dot * q[ck + i]!;
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += q[cj + i]! ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < m; i++) q[cj + i]! /= norm;
    }
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // Tall (rows >= cols): out[r, c] = Q[r, c]. Wide: out = Q^T, out[r, c] = Q[c, r].
      out[r * cols + c] = options.gain * (rows >= cols ? q[c * m + r]! : q[r * m + c]!);
    }
  }
  return out;
}

/**
 * Re-initialises every Dense and Conv2D layer of `model` in place: orthogonal kernels times
 * `gain`, zero biases (CleanRL `layer_init(layer, std=gain, bias_const=0)`). Layers are taken in
 * model order, each with the next seed of `nextSeed`.
 */
export function orthogonalizeLayers(model: tf.LayersModel, options: { gain: number; nextSeed: () => number }): void {
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Dense' && cls !== 'Conv2D') continue;
    const [kernel, bias] = layer.getWeights();
    if (!kernel) continue;
    const shape = kernel.shape;
    const cols = shape[shape.length - 1]!;
    const rows = kernel.size / cols;
    const w = tf.tensor(orthogonalMatrix(rows, cols, { gain: options.gain, seed: options.nextSeed() }), shape);
    const weights = bias ? [w, tf.zerosLike(bias)] : [w];
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}
