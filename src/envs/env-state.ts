/**
 * Snapshots of a wrapped env for checkpoints: the innermost env's `getState()` plus each wrapper's
 * own declared state (`getWrapperState()`, or nothing for a wrapper class declared `stateless`).
 * Nothing is found by reflection, so nothing is dropped silently: a wrapper that declares neither
 * makes the snapshot fail with EnvStateError. Returns null when the innermost env cannot snapshot
 * itself (the runner then restarts those episodes and says so).
 */
import { CheckpointError, EnvStateError, formatError, describe } from '../errors.js';
import { Wrapper, type Env, type EnvSnapshot, type WrapperState } from './env.js';

/** Version of the snapshot layout: 2 = explicit wrapper states (1, unversioned, held reflected fields). */
export const ENV_CHAIN_SNAPSHOT_VERSION = 2;

export interface EnvChainSnapshot {
  version: typeof ENV_CHAIN_SNAPSHOT_VERSION;
  /** One entry per wrapper, outermost first: its class name and own state (null when stateless). */
  wrappers: Array<{ wrapper: string; state: WrapperState | null }>;
  inner: EnvSnapshot;
}

/** Wrapper classes that keep state: their state is restored from the unversioned layout's reflected fields. */
const LEGACY_PLAIN = new Set(['TimeLimit', 'OrderEnforcing', 'RecordEpisodeStatistics']);

function wrapperName(w: Wrapper<unknown, unknown>): string {
  return w.constructor.name || 'anonymous wrapper';
}

/** 'stateful' / 'stateless' as the wrapper's class declares it, or null when it declares neither. */
function declaration(w: Wrapper<unknown, unknown>): 'stateful' | 'stateless' | null {
  if (typeof w.getWrapperState === 'function' && typeof w.setWrapperState === 'function') return 'stateful';
  const ctor = w.constructor as typeof Wrapper;
  // Own property only: a subclass of a stateless wrapper may add state, so it declares again.
  if (Object.prototype.hasOwnProperty.call(ctor, 'stateless') && ctor.stateless === true) return 'stateless';
  return null;
}

function undeclared(w: Wrapper<unknown, unknown>): EnvStateError {
  const name = wrapperName(w);
  return new EnvStateError(formatError('env state', `every wrapper to declare its state (getWrapperState/setWrapperState, or static stateless = true)`, `${name}, which declares neither`, `add getWrapperState()/setWrapperState() to ${name}, or 'static override readonly stateless = true' if it keeps nothing between steps`));
}

/**
 * Throws EnvStateError when a wrapper of `env` declares neither its state nor `stateless`. The
 * run config calls it on a probe env, so such a game fails before training, not at its first checkpoint.
 */
export function checkEnvChainDeclared(env: Env<unknown, unknown>): void {
  for (let e: Env<unknown, unknown> = env; e instanceof Wrapper; e = e.env as Env<unknown, unknown>) if (declaration(e) === null) throw undeclared(e);
}

/** Snapshot of every layer of `env` (JSON-safe), or null if the game has no `getState`. Throws EnvStateError on an undeclared wrapper. */
export function snapshotEnvChain(env: Env<unknown, unknown>): EnvChainSnapshot | null {
  const wrappers: EnvChainSnapshot['wrappers'] = [];
  let e: Env<unknown, unknown> = env;
  while (e instanceof Wrapper) {
    const kind = declaration(e);
    if (kind === null) throw undeclared(e);
    wrappers.push({ wrapper: wrapperName(e), state: kind === 'stateful' ? e.getWrapperState!() : null });
    e = e.env as Env<unknown, unknown>;
  }
  if (typeof e.getState !== 'function') return null;
  // A JSON round trip detaches the snapshot from the live env (checkpoints store JSON anyway).
  return JSON.parse(JSON.stringify({ version: ENV_CHAIN_SNAPSHOT_VERSION, wrappers, inner: e.getState() })) as EnvChainSnapshot;
}

function mismatch(expected: string, received: string): CheckpointError {
  return new CheckpointError(formatError('env state', expected, received, 'resume with the same game and env options the run was made with'));
}

/** Restores what `snapshotEnvChain` took, into an env built the same way. Throws CheckpointError when the layers differ. */
export function restoreEnvChain(env: Env<unknown, unknown>, snap: EnvChainSnapshot): void {
  if (!snap || typeof snap !== 'object' || !Array.isArray(snap.wrappers) || !snap.inner) throw mismatch('an env snapshot {version, wrappers, inner}', describe(snap));
  const legacy = (snap as { version?: unknown }).version === undefined;
  if (!legacy && snap.version !== ENV_CHAIN_SNAPSHOT_VERSION) throw mismatch(`env snapshot version ${ENV_CHAIN_SNAPSHOT_VERSION}`, describe((snap as { version?: unknown }).version));
  let e: Env<unknown, unknown> = env;
  let i = 0;
  while (e instanceof Wrapper) {
    const name = wrapperName(e);
    const kind = declaration(e);
    if (kind === null) throw undeclared(e);
    const entry = snap.wrappers[i++] as unknown;
    if (entry === undefined) throw mismatch(`${snap.wrappers.length} wrappers`, `an env with more (${name} at layer ${i})`);
    if (legacy) {
      // Before version 2 each entry held the wrapper's plain fields; only wrappers without other state restore from them.
      if (kind === 'stateful') {
        if (!LEGACY_PLAIN.has(name)) throw new CheckpointError(formatError('env state', `a saved state of ${name} with its RNG or buffers`, 'a checkpoint from an older npcforge that did not save them', 'start a new run (this checkpoint cannot resume exactly)'));
        e.setWrapperState!(entry as WrapperState);
      }
    } else {
      const { wrapper, state } = (entry ?? {}) as { wrapper?: unknown; state?: unknown };
      if (wrapper !== name) throw mismatch(`wrapper ${name} at layer ${i}`, describe(wrapper));
      if (kind === 'stateful') e.setWrapperState!(state as WrapperState);
    }
    e = e.env as Env<unknown, unknown>;
  }
  if (i !== snap.wrappers.length) throw mismatch(`${i} wrappers`, `a snapshot of ${snap.wrappers.length}`);
  if (typeof e.setState !== 'function') throw mismatch('an env with setState', 'a game that cannot restore its state');
  e.setState(snap.inner);
}
