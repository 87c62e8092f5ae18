/**
 * The pieces every agent's config resolver repeats: overrides laid over a preset with unknown keys
 * named, and range checks that add one readable problem per bad field (never throw), so a user
 * sees every mistake of a `--config` at once.
 */
import { describe } from '../errors.js';

/**
 * Copies `overrides` over `config` (a fresh copy of the preset); keys outside `keys` are reported
 * in `errs`. `merge(key, value)` may return the value to store for keys that merge into the preset
 * (e.g. an optimizer given only a learning rate); `undefined` means "store the value as given".
 */
export function applyOverrides<C extends Record<string, unknown>>(config: C, overrides: Record<string, unknown>, keys: readonly string[], errs: string[], merge?: (key: string, value: unknown) => unknown): void {
  for (const [k, v] of Object.entries(overrides)) {
    if (!keys.includes(k)) {
      errs.push(`unknown key ${describe(k)}`);
      continue;
    }
    (config as Record<string, unknown>)[k] = merge?.(k, v) ?? v;
  }
}

/** Range checks over the fields of `config` that push `key = value (want ...)` into `errs`. */
export function fieldChecks<C>(config: C, errs: string[]): { int(k: keyof C & string, min: number, max?: number): void; num(k: keyof C & string, lo: number, hi: number): void; bool(k: keyof C & string): void } {
  const c = config as Record<string, unknown>;
  return {
    int(k, min, max = Number.MAX_SAFE_INTEGER) {
      if (!Number.isSafeInteger(c[k]) || (c[k] as number) < min || (c[k] as number) > max) errs.push(`${k} = ${describe(c[k])} (want an integer in [${min}, ${max}])`);
    },
    num(k, lo, hi) {
      if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || !((c[k] as number) >= lo && (c[k] as number) <= hi)) errs.push(`${k} = ${describe(c[k])} (want a number in [${lo}, ${hi}])`);
    },
    bool(k) {
      if (typeof c[k] !== 'boolean') errs.push(`${k} = ${describe(c[k])} (want true or false)`);
    },
  };
}
