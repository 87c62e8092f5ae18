/** Browser side of bench/act-batch.ts: times one `actBatch` for N NPCs vs N `act()` calls in Chromium on a chosen tfjs backend. */
import * as tf from '@tensorflow/tfjs';
import { loadPolicy } from '../src/runtime/index.js';
import { batchTimes, type BatchTimes } from './act-batch-timing.js';

async function benchActBatch(url: string, backend: string, npcs: number, calls: number, warmup: number, observations?: number[][]): Promise<BatchTimes & { backend: string }> {
  await tf.setBackend(backend);
  await tf.ready();
  const policy = await loadPolicy(url);
  try {
    return { ...(await batchTimes(policy, { npcs, calls, warmup, observations })), backend: tf.getBackend() };
  } finally {
    policy.dispose();
  }
}

(globalThis as unknown as { benchActBatch: typeof benchActBatch }).benchActBatch = benchActBatch;
