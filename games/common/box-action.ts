/** Reading the action of a continuous-control game (a one-element `Box`). */
import { InvalidActionError, formatError, describe } from '../../src/errors.js';

/** A one-element action as the game saw it: `raw` as given, `clipped` to the Box bounds. */
export interface ScalarAction {
  raw: number;
  clipped: number;
}

/**
 * Reads a one-element Box action. Out-of-bounds values are clipped (as Gymnasium does) rather than
 * rejected, because Gaussian policies sample past the bounds by design; non-finite values and
 * wrong shapes are bugs in the caller and throw `InvalidActionError`.
 */
export function readScalarAction(component: string, action: unknown, low: number, high: number): ScalarAction {
  const arr = ArrayBuffer.isView(action) || Array.isArray(action) ? (action as ArrayLike<unknown>) : null;
  if (!arr || arr.length !== 1 || typeof arr[0] !== 'number') {
    throw new InvalidActionError(formatError(component, 'an action of 1 number (a Float32Array of length 1)', describe(action), `pass e.g. Float32Array.of(${high})`));
  }
  const raw = arr[0];
  if (!Number.isFinite(raw)) {
    throw new InvalidActionError(formatError(component, `a finite action in [${low}, ${high}]`, describe(raw), 'check the policy output for NaN or Infinity'));
  }
  return { raw, clipped: raw < low ? low : raw > high ? high : raw };
}
