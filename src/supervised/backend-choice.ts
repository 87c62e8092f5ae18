/**
 * The one place where the supervised pipelines pick their tfjs backend. Until the project's
 * `initBackend()` (src/networks/backend.ts) is merged this selects tfjs' built-in `cpu` backend;
 * the merge swaps the body for a call to `initBackend()`.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendError, formatError } from '../errors.js';

let ready: Promise<string> | undefined;

/** Initialises the backend once per process and returns its name. */
export function chooseSupervisedBackend(): Promise<string> {
  ready ??= (async () => {
    const ok = await tf.setBackend('cpu');
    if (!ok) throw new BackendError(formatError('supervised backend', "tfjs backend 'cpu' to initialise", 'a failed setBackend', 'check the @tensorflow/tfjs install'));
    await tf.ready();
    return tf.getBackend();
  })();
  return ready;
}
