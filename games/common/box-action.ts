/** Reading the action of a continuous-control game (a one-element `Box`). */
import { InvalidActionError, formatError, describe } from '../../src/errors.js';

/**
 * Reads a one-element Box action and returns its value as given. Out-of-bounds values are not an
 * error (games clip them, as Gymnasium does, because Gaussian policies sample past the bounds by
 * design); non-finite values and wrong shapes are bugs in the caller and throw `InvalidActionError`.
 * `low`/`high` only appear in the error message.
 */
export function readScalarAction(component: string, action: unknown, low: number, high: number): number {
  const arr = ArrayBuffer.isView(action) || Array.isArray(action) ? (action as ArrayLike<unknown>) : null;
  if (!arr || arr.length !== 1 || typeof arr[0] !== 'number') {
    throw new InvalidActionError(formatError(component, 'an action of 1 number (a Float32Array of length 1)', describe(action), `pass e.g. Float32Array.of(${high})`));
  }
  const raw = arr[0];
  if (!Number.isFinite(raw)) {
    throw new InvalidActionError(formatError(component, `a finite action in [${low}, ${high}]`, describe(raw), 'check the policy output for NaN or Infinity'));
  }
  return raw;
}

/** `x` clipped to [low, high]. */
export function clip(x: number, low: number, high: number): number {
  return x < low ? low : x > high ? high : x;
}
