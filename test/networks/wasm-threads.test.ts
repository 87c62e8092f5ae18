import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { backendInfo, initBackend, maxRelError } from '../../src/networks/backend.js';

// Own file: the wasm backend initialises once per process, and this one must start with a pool.
describe('wasm thread pool in Node', () => {
  it('initBackend({threads: 2}) starts 2 threads and gradients still match cpu', async () => {
    expect(await initBackend({ quiet: true, threads: 2 })).toBe('wasm');
    expect(backendInfo()!.threads).toBe(2);
    const grads = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from({ length: 4 * 20 * 20 * 8 }, (_, i) => Math.sin(i)), [4, 20, 20, 8]);
        const w = tf.tensor4d(Float32Array.from({ length: 4 * 4 * 8 * 16 }, (_, i) => Math.cos(i)), [4, 4, 8, 16]);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid'))))([x, w]).map((g) => Float32Array.from(g.dataSync()));
      });
    const onWasm = grads();
    await tf.setBackend('cpu');
    const onCpu = grads();
    await tf.setBackend('wasm');
    for (let i = 0; i < onCpu.length; i++) expect(maxRelError(onWasm[i]!, onCpu[i]!)).toBeLessThanOrEqual(1e-4);
  });
});
