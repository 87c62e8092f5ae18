/**
 * The one place the training code picks a tfjs backend. `NPCFORGE_BACKEND` forces one; otherwise
 * the pure-JS `cpu` backend (deterministic, always present). When the project's fast backends are
 * merged, this function calls `initBackend()` from `src/networks/backend.ts` instead.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendError, formatError, describe } from '../errors.js';

/** Selects and initialises the backend; returns its name. */
export async function chooseBackend(): Promise<string> {
  const wanted = process.env.NPCFORGE_BACKEND?.trim() || 'cpu';
  if (wanted === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  let ok = false;
  try {
    ok = await tf.setBackend(wanted);
  } catch (err) {
    throw new BackendError(formatError('backend', 'a backend that initialises', `${describe(wanted)} failing: ${(err as Error).message}`, 'unset NPCFORGE_BACKEND or pick cpu'));
  }
  if (!ok) throw new BackendError(formatError('backend', 'a registered backend (cpu, wasm)', describe(wanted), 'unset NPCFORGE_BACKEND or pick cpu'));
  await tf.ready();
  // The cpu backend prints an install hint on first use; the project picks backends itself.
  if (tf.getBackend() === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return tf.getBackend();
}
