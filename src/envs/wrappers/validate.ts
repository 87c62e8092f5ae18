/** Option and saved-state checks shared by the wrappers: every bad field is reported at once. */
import { CheckpointError, InvalidConfigError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import type { RngState } from '../rng.js';
import { Box, type Space } from '../spaces.js';

/** One field rule: returns a problem description, or null when the value is fine. */
export type FieldRule = (value: unknown) => string | null;

export const integerAtLeast = (min: number): FieldRule => (v) => (Number.isInteger(v) && (v as number) >= min ? null : `an integer >= ${min}`);
export const probability: FieldRule = (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : 'a probability in [0, 1]');
export const finiteNumber: FieldRule = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'a finite number');
export const booleanField: FieldRule = (v) => (typeof v === 'boolean' ? null : 'a boolean');

/**
 * Validates an options object against per-field rules (undefined fields are skipped: the caller
 * applies defaults). Unknown keys and every bad field are listed in one InvalidConfigError.
 */
export function checkOptions(component: string, options: unknown, rules: Record<string, FieldRule>, example: string, required: string[] = []): void {
  if (options === undefined && required.length === 0) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidConfigError(formatError(component, 'an options object', describe(options), `pass e.g. ${example}`));
  }
  const problems: string[] = [];
  for (const key of required) {
    if ((options as Record<string, unknown>)[key] === undefined) problems.push(`missing ${key}`);
  }
  for (const [key, value] of Object.entries(options)) {
    const rule = rules[key];
    if (!rule) {
      problems.push(`unknown option '${key}' (known: ${Object.keys(rules).join(', ')})`);
      continue;
    }
    if (value === undefined) continue;
    const want = rule(value);
    if (want) problems.push(`${key} = ${describe(value)} (want ${want})`);
  }
  if (problems.length) {
    throw new InvalidConfigError(formatError(component, 'valid options', problems.join('; '), `pass e.g. ${example}`));
  }
}

/** Returns the space as a Box or throws a SpaceMismatchError naming the wrapper. */
export function requireBox(component: string, space: Space, want = 'a Box observation space'): Box {
  if (!(space instanceof Box)) throw new SpaceMismatchError(formatError(component, want, space.type, 'apply this wrapper to an env with array observations'));
  return space;
}

export { allocObs } from '../spaces.js';

/** Smallest and largest bound of a Box (scalar bounds for derived spaces). */
export function boundRange(box: Box): { low: number; high: number } {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < box.size; i++) {
    if (box.low[i]! < low) low = box.low[i]!;
    if (box.high[i]! > high) high = box.high[i]!;
  }
  return { low, high };
}

/** The error a wrapper's `setWrapperState` throws on a state it did not produce. */
export function stateError(component: string, expected: string, state: unknown): CheckpointError {
  return new CheckpointError(formatError(`${component}.setWrapperState`, expected, describe(state), `restore a state taken by ${component}.getWrapperState() of a wrapper built the same way`));
}

/** Reads a saved RNG state of a SeededRng (kind 'alea') or throws `stateError`. */
export function savedRng(component: string, rng: unknown): RngState {
  const r = rng as { kind?: unknown; state?: Record<string, unknown> } | null;
  const ok = !!r && r.kind === 'alea' && !!r.state && ['c', 's0', 's1', 's2'].every((k) => typeof r.state![k] === 'number' && Number.isFinite(r.state![k]));
  if (!ok) throw stateError(component, 'a state with its RNG ({kind: "alea", state: {c, s0, s1, s2}})', rng);
  return r as RngState;
}
