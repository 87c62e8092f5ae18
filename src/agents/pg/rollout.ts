/**
 * What the on-policy algorithms share about data: the action spec of a space, the rollout
 * storage (time-major, row t * numEnvs + e), the training batch, and the gathers that cut a
 * rollout into batches (whole rollout, shuffled rows, whole per-env sequences for LSTMs).
 *
 * Actions are stored flat, `actionWidth` values per row: one index (Discrete), one index per part
 * (MultiDiscrete) or one float per dimension (Box, the unclipped sample, so its log-probability is
 * the one the update reuses).
 */
import { CheckpointError, SpaceMismatchError, formatError } from '../../errors.js';
import { blobBuffer, blobOf } from '../policy/snapshot.js';
import { Box, Discrete, MultiDiscrete, type Space } from '../../envs/spaces.js';
import type { ObsArray } from '../../envs/env.js';

/** The action space as the agent sees it. */
export type PgActionSpec =
  | { kind: 'discrete'; n: number }
  | { kind: 'multi-discrete'; nvec: number[] }
  | { kind: 'box'; dims: number; low: Float32Array; high: Float32Array };

/** Flat action storage: int32 indices (Discrete, MultiDiscrete) or float32 values (Box). */
export type PgActions = Int32Array | Float32Array;

/** The action spec of a space, or a SpaceMismatchError naming the space and what the agents take. */
export function pgActionSpec(space: Space): PgActionSpec {
  if (space instanceof Discrete) return { kind: 'discrete', n: space.n };
  if (space instanceof MultiDiscrete) return { kind: 'multi-discrete', nvec: [...space.nvec] };
  if (space instanceof Box && space.shape.length === 1 && space.dtype === 'float32') {
    return { kind: 'box', dims: space.shape[0]!, low: Float32Array.from(space.low as ArrayLike<number>), high: Float32Array.from(space.high as ArrayLike<number>) };
  }
  const shown = space instanceof Box ? `Box of shape [${space.shape}] and dtype ${space.dtype}` : space.type;
  throw new SpaceMismatchError(formatError('PolicyGradientAgent', 'a Discrete, MultiDiscrete or float32 vector Box action space (ppo, a2c, reinforce)', shown, 'use an env with one of those action spaces, or an agent that takes this one'));
}

/** Width of the policy head: n, sum(nvec) or dims. */
export function headWidth(a: PgActionSpec): number {
  return a.kind === 'discrete' ? a.n : a.kind === 'multi-discrete' ? a.nvec.reduce((x, y) => x + y, 0) : a.dims;
}

/** A name of the action space for snapshot checks, e.g. `MultiDiscrete(5,3,2)`. */
export function actionKey(a: PgActionSpec): string {
  return a.kind === 'discrete' ? `Discrete(${a.n})` : a.kind === 'multi-discrete' ? `MultiDiscrete(${a.nvec})` : `Box(${a.dims})`;
}

/** A zeroed action array of `rows` rows. */
export function newActions(a: PgActionSpec, rows: number): PgActions {
  return a.kind === 'box' ? new Float32Array(rows * a.dims) : new Int32Array(rows * (a.kind === 'discrete' ? 1 : a.nvec.length));
}

/** A zeroed observation array of the same type as `like`. */
export function newObsLike(like: ObsArray, size: number): ObsArray {
  return like instanceof Uint8Array ? new Uint8Array(size) : like instanceof Int32Array ? new Int32Array(size) : new Float32Array(size);
}

/** Per-env LSTM state: h and c, each `numEnvs * units` values. */
export interface RecurrentState {
  h: Float32Array;
  c: Float32Array;
}

/** One on-policy rollout, time-major (row t * numEnvs + e). */
export interface Rollout {
  numSteps: number;
  numEnvs: number;
  /** Observations seen at each step, `numSteps * numEnvs * obsSize`. */
  obs: ObsArray;
  /** `numSteps * numEnvs * actionWidth` actions. */
  actions: PgActions;
  logProbs: Float32Array;
  values: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** V(finalObs) where truncated. */
  truncValues: Float32Array;
  /** 1 where the observation is the first of an episode. */
  starts: Float32Array;
  /** V(obs after the last step) per env. */
  lastValues: Float32Array;
  /** Recurrent state entering step 0 (before the starts mask), or null. */
  initialState: RecurrentState | null;
}

/** Sizes the gathers need. */
export interface RolloutLayout {
  obsSize: number;
  action: PgActionSpec;
  /** Values per stored action row. */
  actionWidth: number;
  /** LSTM units (0 = feed-forward). */
  stateUnits: number;
}

/** An empty rollout of `numSteps x numEnvs` rows. */
export function newRollout(l: RolloutLayout, numSteps: number, numEnvs: number): Rollout {
  const rows = numSteps * numEnvs;
  const f = () => new Float32Array(rows);
  return { numSteps, numEnvs, obs: new Float32Array(rows * l.obsSize), actions: newActions(l.action, rows), logProbs: f(), values: f(), rewards: f(), terminated: new Uint8Array(rows), truncated: new Uint8Array(rows), truncValues: f(), starts: f(), lastValues: new Float32Array(numEnvs), initialState: null };
}

/** A training batch of `steps x batch` rows, time-major; masked rows are padding. */
export interface TrainBatch {
  steps: number;
  batch: number;
  obs: ObsArray;
  actions: PgActions;
  starts: Float32Array;
  mask: Float32Array;
  /** Advantages; null = G - V(s) with the current critic, computed by the learner (REINFORCE's learned baseline). */
  advantages: Float32Array | null;
  returns: Float32Array;
  oldLogProbs: Float32Array | null;
  oldValues: Float32Array | null;
  h0: Float32Array | null;
  c0: Float32Array | null;
}

/** The whole rollout as one batch (A2C), its stored start state included. */
export function wholeRollout(r: Rollout, advantages: Float32Array, returns: Float32Array): TrainBatch {
  return {
    steps: r.numSteps,
    batch: r.numEnvs,
    obs: r.obs,
    actions: r.actions,
    starts: r.starts,
    mask: new Float32Array(r.numSteps * r.numEnvs).fill(1),
    advantages,
    returns,
    oldLogProbs: r.logProbs,
    oldValues: r.values,
    h0: r.initialState?.h ?? null,
    c0: r.initialState?.c ?? null,
  };
}

/** An empty feed-forward batch of `rows` rows (obs of the type of `like`) for `gatherRows` to fill again and again. */
export function newRowBatch(l: RolloutLayout, like: ObsArray, rows: number): TrainBatch {
  const f = () => new Float32Array(rows);
  return { steps: 1, batch: rows, obs: newObsLike(like, rows * l.obsSize), actions: newActions(l.action, rows), starts: f().fill(1), mask: f().fill(1), advantages: f(), returns: f(), oldLogProbs: f(), oldValues: f(), h0: null, c0: null };
}

/**
 * Rows `rows` of the rollout as a batch of single steps (feed-forward minibatches). With `into`
 * (a `newRowBatch` of as many rows, observations of the rollout's type) the rows are written into
 * its arrays, which the caller reuses minibatch after minibatch; otherwise a new batch is made.
 */
export function gatherRows(l: RolloutLayout, r: Rollout, rows: ArrayLike<number>, adv: Float32Array, ret: Float32Array, into?: TrainBatch): TrainBatch {
  const B = rows.length;
  const S = l.obsSize;
  const Wa = l.actionWidth;
  const b = into && into.batch === B && into.obs.constructor === r.obs.constructor ? into : newRowBatch(l, r.obs, B);
  const { obs, actions } = b;
  const advantages = b.advantages!;
  const oldLogProbs = b.oldLogProbs!;
  const oldValues = b.oldValues!;
  for (let i = 0; i < B; i++) {
    const row = rows[i]!;
    obs.set(r.obs.subarray(row * S, (row + 1) * S), i * S);
    if (Wa === 1) actions[i] = r.actions[row]!;
    else actions.set(r.actions.subarray(row * Wa, (row + 1) * Wa), i * Wa);
    advantages[i] = adv[row]!;
    b.returns[i] = ret[row]!;
    oldLogProbs[i] = r.logProbs[row]!;
    oldValues[i] = r.values[row]!;
  }
  return b;
}

/** The whole sequences of envs `envs`, each with its stored start state (recurrent minibatches). */
export function gatherSequences(l: RolloutLayout, r: Rollout, envs: number[], adv: Float32Array, ret: Float32Array): TrainBatch {
  const { numSteps: T, numEnvs: N } = r;
  const B = envs.length;
  const S = l.obsSize;
  const H = l.stateUnits;
  const Wa = l.actionWidth;
  const obs = newObsLike(r.obs, T * B * S);
  const f = () => new Float32Array(T * B);
  const b = { steps: T, batch: B, obs, actions: newActions(l.action, T * B), starts: f(), mask: f().fill(1), advantages: f(), returns: f(), oldLogProbs: f(), oldValues: f(), h0: new Float32Array(B * H), c0: new Float32Array(B * H) };
  for (let t = 0; t < T; t++) {
    envs.forEach((e, j) => {
      const src = t * N + e;
      const dst = t * B + j;
      obs.set(r.obs.subarray(src * S, (src + 1) * S), dst * S);
      b.actions.set(r.actions.subarray(src * Wa, (src + 1) * Wa), dst * Wa);
      b.starts[dst] = r.starts[src]!;
      b.advantages[dst] = adv[src]!;
      b.returns[dst] = ret[src]!;
      b.oldLogProbs[dst] = r.logProbs[src]!;
      b.oldValues[dst] = r.values[src]!;
    });
  }
  envs.forEach((e, j) => {
    b.h0.set(r.initialState!.h.subarray(e * H, (e + 1) * H), j * H);
    b.c0.set(r.initialState!.c.subarray(e * H, (e + 1) * H), j * H);
  });
  return b;
}

const ROLLOUT_FIELDS = ['obs', 'actions', 'logProbs', 'values', 'rewards', 'terminated', 'truncated', 'truncValues', 'starts'] as const;

/** A partial rollout as blobs (`rollout.<field>`), so a checkpoint inside a rollout resumes exactly. */
export function rolloutBlobs(r: Rollout): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const k of ROLLOUT_FIELDS) out[`rollout.${k}`] = blobOf(r[k]);
  if (r.initialState) {
    out['rollout.h0'] = blobOf(r.initialState.h);
    out['rollout.c0'] = blobOf(r.initialState.c);
  }
  return out;
}

/**
 * Restores `rolloutBlobs` into `r` (same sizes), observations as `obsDtype`; every blob's size is
 * checked against the rollout before anything is replaced.
 */
export function loadRolloutBlobs(component: string, r: Rollout, blobs: Record<string, Uint8Array>, obsDtype: unknown, stateUnits: number): void {
  const rows = r.numSteps * r.numEnvs;
  const obsType = obsDtype === 'Uint8Array' ? Uint8Array : obsDtype === 'Int32Array' ? Int32Array : obsDtype === 'Float32Array' ? Float32Array : null;
  if (!obsType) throw new CheckpointError(formatError(component, 'a rollout observation type Uint8Array, Int32Array or Float32Array', typeof obsDtype === 'string' ? `a name of ${obsDtype.length} characters` : typeof obsDtype, 'the checkpoint is corrupt; pick another with --checkpoint'));
  const obsBytes = r.obs.length * obsType.BYTES_PER_ELEMENT;
  const want: Record<string, number> = { obs: obsBytes, actions: r.actions.byteLength, logProbs: rows * 4, values: rows * 4, rewards: rows * 4, terminated: rows, truncated: rows, truncValues: rows * 4, starts: rows * 4 };
  const copy = (name: string, bytes: number): ArrayBuffer => blobBuffer(blobs, name, component, bytes);
  const buffers = Object.fromEntries(ROLLOUT_FIELDS.map((k) => [k, copy(`rollout.${k}`, want[k]!)])) as Record<(typeof ROLLOUT_FIELDS)[number], ArrayBuffer>;
  const h0 = stateUnits > 0 && blobs['rollout.h0'] ? new Float32Array(copy('rollout.h0', r.numEnvs * stateUnits * 4)) : null;
  const c0 = h0 ? new Float32Array(copy('rollout.c0', r.numEnvs * stateUnits * 4)) : null;
  r.obs = new obsType(buffers.obs);
  r.actions = r.actions instanceof Float32Array ? new Float32Array(buffers.actions) : new Int32Array(buffers.actions);
  r.logProbs = new Float32Array(buffers.logProbs);
  r.values = new Float32Array(buffers.values);
  r.rewards = new Float32Array(buffers.rewards);
  r.terminated = new Uint8Array(buffers.terminated);
  r.truncated = new Uint8Array(buffers.truncated);
  r.truncValues = new Float32Array(buffers.truncValues);
  r.starts = new Float32Array(buffers.starts);
  r.initialState = h0 && c0 ? { h: h0, c: c0 } : null;
}
