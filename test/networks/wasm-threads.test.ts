import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { backendInfo, initBackend, maxRelError } from '../../src/networks/backend.js';
import { gemmStats, setGemmThreads } from '../../src/networks/kernels/gemm-pool.js';
import { registerCpuKernels, unregisterCpuKernels } from '../../src/networks/kernels/index.js';
import { type OptimizerConfig, SlotOptimizer } from '../../src/networks/optimizers.js';

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

  it('products and convolutions split over 2 threads match the 1-thread results and cpu', async () => {
    const pattern = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
    const compute = () =>
      tf.tidy(() => {
        const out: Float32Array[] = [];
        // Nature conv2 at batch 8 (21 M multiply-adds per product): forward, filter and input gradient.
        const x = tf.tensor4d(pattern(8 * 20 * 20 * 32, 1), [8, 20, 20, 32]);
        const w = tf.tensor4d(pattern(4 * 4 * 32 * 64, 2), [4, 4, 32, 64]);
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid');
        const y = conv(x, w);
        const dy = tf.tensor(pattern(y.size, 3), y.shape);
        out.push(y.dataSync() as Float32Array, ...tf.grads(conv)([x, w], dy).map((g) => g.dataSync() as Float32Array));
        // A 64x512x256 product in each transpose form, with gradients.
        for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
          const a = tf.tensor(pattern(64 * 512, 4), ta ? [512, 64] : [64, 512]);
          const b = tf.tensor(pattern(512 * 256, 5), tb ? [256, 512] : [512, 256]);
          const f = (p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, ta, tb);
          const z = f(a, b);
          const dz = tf.tensor(pattern(z.size, 6), z.shape);
          out.push(z.dataSync() as Float32Array, ...tf.grads(f)([a, b], dz).map((g) => g.dataSync() as Float32Array));
        }
        return out.map((o) => Float32Array.from(o));
      });
    const before = gemmStats.split;
    const two = compute();
    expect(gemmStats.split - before).toBeGreaterThanOrEqual(3 + 4 * 3);
    setGemmThreads(1);
    let one: Float32Array[];
    try {
      one = compute();
    } finally {
      setGemmThreads(2);
    }
    // Our cpu filter-gradient fix (checked against stock cpu in kernels.test.ts) keeps this fast.
    await tf.setBackend('cpu');
    registerCpuKernels();
    let onCpu: Float32Array[];
    try {
      onCpu = compute();
    } finally {
      unregisterCpuKernels();
      await tf.setBackend('wasm');
    }
    for (let i = 0; i < two.length; i++) {
      expect(maxRelError(two[i]!, one[i]!)).toBeLessThanOrEqual(1e-5);
      expect(maxRelError(two[i]!, onCpu[i]!)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('a fused optimizer step split over 2 threads equals the 1-thread step bit for bit (Adam and centred RMSProp)', () => {
    const configs: OptimizerConfig[] = [
      { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      { kind: 'rmsprop-centered', learningRate: 2.5e-4, decay: 0.95, momentum: 0.9, epsilon: 0.01 },
    ];
    for (const config of configs) {
      const step = () => {
        // 300,003 weights: split into two ranges, plus a scalar tail of 3.
        const v = tf.variable(tf.tensor1d(Float32Array.from({ length: 300_003 }, (_, i) => Math.sin(i))));
        const g = tf.tensor1d(Float32Array.from({ length: 300_003 }, (_, i) => Math.cos(i * 1.3)));
        const opt = new SlotOptimizer(config, [v]);
        opt.apply([g]);
        opt.apply([g]);
        const out = [v, ...opt.slotTensors()].map((t) => Float32Array.from(t.dataSync()));
        opt.dispose();
        tf.dispose([v, g]);
        return out;
      };
      const before = gemmStats.split;
      const two = step();
      expect(gemmStats.split - before).toBe(2);
      setGemmThreads(1);
      let one: Float32Array[];
      try {
        one = step();
      } finally {
        setGemmThreads(2);
      }
      expect(two.length).toBe(one.length);
      // Bytes compared directly: deep equality over 300 K floats takes seconds.
      for (let i = 0; i < one.length; i++) expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(one[i]!.buffer))).toBe(true);
    }
  });
});
