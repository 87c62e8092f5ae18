/**
 * Snapshots of a wrapped env for checkpoints: the innermost env's `getState()` plus the plain
 * fields (numbers, strings, booleans) of each wrapper, or a wrapper's own `getState()` if it has
 * one. Returns null when the innermost env cannot snapshot itself.
 */
import { Wrapper, type Env, type EnvSnapshot } from '../envs/env.js';

export interface EnvChainSnapshot {
  wrappers: Array<Record<string, unknown>>;
  inner: EnvSnapshot;
}

type Stateful = { getState?: () => unknown; setState?: (s: never) => void };

function plainFields(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'env') continue;
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** Snapshot of every layer of `env`, or null if the game has no `getState`. */
export function snapshotEnvChain(env: Env<unknown, unknown>): EnvChainSnapshot | null {
  const wrappers: Array<Record<string, unknown>> = [];
  let e: Env<unknown, unknown> = env;
  while (e instanceof Wrapper) {
    const own = (e as unknown as Stateful).getState;
    wrappers.push(own && Object.prototype.hasOwnProperty.call(Object.getPrototypeOf(e), 'getState') ? { __state: own.call(e) } : plainFields(e));
    e = e.env as Env<unknown, unknown>;
  }
  if (typeof e.getState !== 'function') return null;
  return { wrappers, inner: JSON.parse(JSON.stringify(e.getState())) as EnvSnapshot };
}

/** Restores what `snapshotEnvChain` took, into an env built the same way. */
export function restoreEnvChain(env: Env<unknown, unknown>, snap: EnvChainSnapshot): void {
  let e: Env<unknown, unknown> = env;
  let i = 0;
  while (e instanceof Wrapper) {
    const s = snap.wrappers[i++] ?? {};
    if ('__state' in s) (e as unknown as Stateful).setState!(s.__state as never);
    else Object.assign(e, s);
    e = e.env as Env<unknown, unknown>;
  }
  e.setState!(snap.inner);
}
