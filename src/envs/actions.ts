/**
 * Actions of K sub-envs travel as ONE flat typed array, row i for sub-env i: `Int32Array(K)` for
 * `Discrete` (one index each), `Int32Array(K x parts)` for `MultiDiscrete`, `Float32Array(K x size)`
 * for `Box`. Agents return this from `act`, vector envs and evaluation hand each env its row.
 */
import { InvalidActionError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { Box, Discrete, MultiDiscrete, type Space } from './spaces.js';

/** One flat array of actions for a batch of envs. */
export type ActionBatch = Int32Array | Float32Array;

/** Numbers per env in an action batch of `space` (1 for Discrete). */
export function actionWidth(space: Space<unknown>): number {
  if (space instanceof Discrete) return 1;
  if (space instanceof MultiDiscrete) return space.nvec.length;
  if (space instanceof Box) return space.size;
  throw new SpaceMismatchError(formatError('actions', 'a Discrete, MultiDiscrete or Box action space', describe(space.toJSON?.() ?? space), 'give the game one of those action spaces'));
}

/**
 * The action of env `i` in `actions`: a number for Discrete, a fresh typed array (the env may keep
 * it) for MultiDiscrete and Box.
 */
export function actionAt(actions: ArrayLike<number> & { slice?: unknown }, i: number, width: number, space: Space<unknown>): unknown {
  if (space instanceof Discrete) return actions[i]!;
  const row = (actions as Int32Array | Float32Array).slice(i * width, (i + 1) * width);
  return space instanceof Box && !(row instanceof Float32Array) ? Float32Array.from(row) : row;
}

/** Checks that `actions` holds `numEnvs` rows of `width` numbers (one line naming the caller). */
export function checkActionBatch(component: string, actions: ArrayLike<number>, numEnvs: number, width: number): void {
  if (actions.length !== numEnvs * width) {
    throw new InvalidActionError(formatError(component, width === 1 ? `${numEnvs} actions` : `${numEnvs} x ${width} action values (one row per sub-env)`, `${actions.length}`, 'pass one action per sub-env'));
  }
}

/**
 * The action names of each part of a MultiDiscrete space. Env specs name MultiDiscrete actions
 * flat, part after part (tank: `move:*`, then `turret:*`, then `fire:*`); a missing name is
 * `<part>:<index>`.
 */
export function actionNamesByPart(nvec: readonly number[], names: readonly string[]): string[][] {
  let off = 0;
  return nvec.map((k, part) => {
    const partNames = Array.from({ length: k }, (_, i) => names[off + i] ?? `${part}:${i}`);
    off += k;
    return partNames;
  });
}
