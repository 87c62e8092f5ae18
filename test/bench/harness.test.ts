import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { measureRate, measureRateAndCpu } from '../../bench/harness.js';
import { profileKernelsAsync } from '../../bench/kernel-profile.js';

describe('bench harness measureRateAndCpu', () => {
  it('gives one rate and one CPU ms per unit for each repeat, after one uncounted warm-up', async () => {
    let calls = 0;
    const units = 3;
    const r = await measureRateAndCpu(() => {
      calls++;
      // Burn some CPU so the process time per unit is above zero.
      let x = 0;
      for (let i = 0; i < 200_000; i++) x += Math.sqrt(i);
      return x > 0 ? units : 0;
    }, { seconds: 0.005, repeats: 4 });
    expect(r.rates).toHaveLength(4);
    expect(r.cpuMsPerUnit).toHaveLength(4);
    for (const v of [...r.rates, ...r.cpuMsPerUnit]) expect(v).toBeGreaterThan(0);
    // Warm-up plus four periods, each at least one call.
    expect(calls).toBeGreaterThanOrEqual(5);
  });

  it('measureRate still returns the rates alone', async () => {
    const rates = await measureRate(() => 1, { seconds: 0.001, repeats: 2 });
    expect(rates).toHaveLength(2);
  });
});

describe('bench kernel-profile profileKernelsAsync', () => {
  it('counts the kernels of an awaited step and puts the original kernels back', async () => {
    await tf.setBackend('cpu');
    const backend = tf.getBackend();
    const original = tf.getKernel('Add', backend)!.kernelFunc;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4, 5, 6]);
    const p = await profileKernelsAsync(
      backend,
      async () => {
        const sum = tf.add(a, b);
        // The step reads back, as an agent's observe() does: the profile must wait for it.
        await sum.data();
        sum.dispose();
        const prod = tf.mul(a, b);
        prod.dispose();
      },
      { steps: 4, warmup: 1 },
    );
    expect(p.kernels.find((k) => k.key === 'Add')?.calls).toBe(1);
    expect(p.kernels.find((k) => k.key === 'Multiply')?.calls).toBe(1);
    expect(p.stepMs).toBeGreaterThanOrEqual(p.kernelMs);
    expect(tf.getKernel('Add', backend)!.kernelFunc).toBe(original);
    a.dispose();
    b.dispose();
  });
});
