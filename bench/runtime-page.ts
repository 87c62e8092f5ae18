/** Browser side of bench/runtime.ts: times `policy.act` in Chromium on a chosen tfjs backend. */
import * as tf from '@tensorflow/tfjs';
import { loadPolicy } from '../src/runtime/index.js';

async function benchAct(url: string, backend: string, calls: number, warmup: number): Promise<{ backend: string; times: number[] }> {
  await tf.setBackend(backend);
  await tf.ready();
  const policy = await loadPolicy(url);
  const size = policy.file.observation.shape.reduce((a, b) => a * b, 1);
  const obs = new Uint8Array(size);
  for (let i = 0; i < size; i++) obs[i] = (i * 7919) % 2;
  for (let i = 0; i < warmup; i++) await policy.act(obs);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    obs[i % size] = obs[i % size]! ^ 1;
    const t0 = performance.now();
    await policy.act(obs);
    times.push(performance.now() - t0);
  }
  policy.dispose();
  return { backend: tf.getBackend(), times };
}

(globalThis as unknown as { benchAct: typeof benchAct }).benchAct = benchAct;
