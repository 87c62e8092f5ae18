/** The `--checkpoint <step>` flag shared by the commands that load a trained run (eval, export, record). */
import { InvalidConfigError, describe, formatError } from '../../errors.js';

/** Which weights a command loads from a run; the same rule as `loadRunAgent` and docs/training.md. */
export const CHECKPOINT_HELP = 'checkpoint step to load (default: the best-evaluated weights in <run>/best/ when present, else the latest checkpoint)';

/** Parses `--checkpoint <step>`: a non-negative integer. */
export function parseCheckpointStep(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidConfigError(formatError('--checkpoint', 'a non-negative integer', describe(value), 'pass a step listed under <run>/checkpoints'));
  }
  return n;
}
