/**
 * Q(s, a) selection that is safe on every backend. `tf.gather(q, actions, 1, 1)` (batchDims > 0)
 * returns wrong values on `wasm` in tfjs 4.22 (tfjs issue 8658); a one-hot mask multiplied in and
 * summed over actions is correct everywhere, differentiable, and costs B x A multiplies.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Returns q[i, actions[i]] for each row i, shape [B]. `q` is [B, A] float32, `actions` is [B] int32
 * (or a plain array of action indices). The caller owns the result; call inside `tf.tidy`.
 */
export function selectActionValues(q: tf.Tensor2D, actions: tf.Tensor1D | ArrayLike<number>): tf.Tensor1D {
  return tf.tidy(() => {
    const numActions = q.shape[1];
    const a = actions instanceof tf.Tensor ? actions : tf.tensor1d(Array.from(actions), 'int32');
    const mask = tf.oneHot(a.dtype === 'int32' ? a : tf.cast(a, 'int32'), numActions);
    return tf.sum(tf.mul(q, mask), 1) as tf.Tensor1D;
  });
}
