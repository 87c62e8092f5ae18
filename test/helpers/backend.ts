/** Tests that switch between backends (wasm, cpu) to compare them: start the project's backend, restore it afterwards. */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import { initBackend } from '../../src/networks/backend.js';

/** Registers hooks that start the backend before the file's tests and switch back to it after them. */
export function restoreBackendAfterAll(): void {
  let start = '';
  beforeAll(async () => {
    await initBackend({ quiet: true });
    start = tf.getBackend();
  });
  afterAll(async () => {
    await tf.setBackend(start);
  });
}
