/**
 * The experience batch an actor pushes to the run's Redis Stream: msgpackr, one header and named
 * arrays, each with an explicit dtype and shape. Everything read from the stream is untrusted: the
 * learner decodes with `decodeExperience`, which checks the size before decoding, every field and
 * every array's dtype, shape and byte length before copying, and the values that index memory
 * (actions) or feed the loss (rewards, priorities).
 *
 * Layout of a batch of `numEnvs` sub-envs stepped `steps` times:
 * - `obs` [numEnvs, steps + 1, ...obsShape]: row t is the observation action t was taken in; row
 *   `steps` is the observation after the last step (where an episode ended at step t, row t + 1 is
 *   the first observation of the next episode).
 * - `actions`: int32 [numEnvs, steps] (Discrete), int32 [numEnvs, steps, parts] (MultiDiscrete) or
 *   float32 [numEnvs, steps, dims] (Box, the unclipped Gaussian sample); `rewards` float32,
 *   `terminated` / `truncated` uint8: [numEnvs, steps].
 * - `finalObs` [ends, ...obsShape]: the last observation of each ended episode, env-major then step order.
 * - `priorities` float32 [numEnvs, steps]: Ape-X initial |TD error| per transition (prioritized replay only).
 * - `logProbs` float32 [numEnvs, steps]: log mu(a|s) of the behaviour policy that took each action
 *   (PPO runs only: the learner's V-trace weighs by pi/mu).
 */
import { Packr } from 'msgpackr';
import { EpisodeFormatError, describe, formatError } from '../errors.js';
import type { Dtype } from '../envs/spaces.js';

export const EXPERIENCE_FORMAT = 'npcforge-experience';
export const EXPERIENCE_VERSION = 1;
/** Largest encoded batch the learner decodes (a MinAtar batch of 8 envs x 64 steps is ~270 kB). */
export const MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** Most transitions in one batch. */
export const MAX_BATCH_TRANSITIONS = 65_536;

/** What the header of a batch says about its origin and content. */
export interface ExperienceHeader {
  game: string;
  /** The learner's run id the actor joined (its meta key's `runId`). */
  runId: string;
  /** Hash of the network's shape (`networkHash` / `policyNetworkHash`) the actor acted with. */
  netHash: string;
  obsShape: number[];
  obsDtype: Dtype;
  /** Discrete actions, or the policy head width of a PPO run (sum of nvec, Box dims). */
  numActions: number;
  /** Version of the weights the actions came from. */
  weightsVersion: number;
  actorId: string;
  /** The actor's batch counter (0, 1, ...). */
  seq: number;
  numEnvs: number;
  steps: number;
  /** Returns of the episodes that ended in this batch (the learner's mean_return_100). */
  episodeReturns: number[];
}

/** A decoded, checked batch; the arrays are fresh (owned by the caller). */
export interface ExperienceBatch {
  header: ExperienceHeader;
  obs: Uint8Array | Int32Array | Float32Array;
  /** Int32 indices (Discrete, MultiDiscrete: `parts` per transition) or float32 values (Box: `dims` per transition). */
  actions: Int32Array | Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  finalObs: Uint8Array | Int32Array | Float32Array;
  priorities: Float32Array | null;
  /** Behaviour log-probabilities of the actions (PPO runs); absent or null otherwise. */
  logProbs?: Float32Array | null;
}

/** The action space a batch's actions must fit (absent in `ExperienceExpect`: Discrete of `numActions`). */
export type ExperienceActions = { kind: 'discrete'; n: number } | { kind: 'multi-discrete'; nvec: number[] } | { kind: 'box'; dims: number };

/** What a batch must match to be taken: the run's meta (`run-meta.ts`). */
export interface ExperienceExpect {
  game: string;
  runId: string;
  netHash: string;
  obsShape: number[];
  obsDtype: Dtype;
  numActions: number;
  /** True when the run's replay is prioritized (batches then carry priorities). */
  prioritized: boolean;
  /** The actions' space; default Discrete of `numActions` (DQN). */
  actions?: ExperienceActions;
  /** True when batches must carry the behaviour policy's log-probabilities (PPO). */
  logProbs?: boolean;
  /** The one segment length a run takes (PPO: its numSteps); any when absent. */
  steps?: number;
}

/** Trailing dims of the actions array: none for Discrete, [parts] or [dims] otherwise. */
function actionDims(a: ExperienceActions): number[] {
  return a.kind === 'discrete' ? [] : a.kind === 'multi-discrete' ? [a.nvec.length] : [a.dims];
}

/** Shape of the actions of a batch of `E` envs x `T` steps (what `encodeExperience` writes for `a`). */
export function actionShape(a: ExperienceActions, E: number, T: number): number[] {
  return [E, T, ...actionDims(a)];
}

interface WireArray {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

// Plain maps and byte strings only: no records or structure sharing, so another msgpack reader can decode a batch.
const packr = new Packr({ useRecords: false, moreTypes: false });

function wire(dtype: Dtype | 'int32' | 'float32' | 'uint8', shape: number[], a: ArrayBufferView): WireArray {
  return { dtype, shape, data: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) };
}

/** Encodes a batch for XADD. */
export function encodeExperience(b: ExperienceBatch): Uint8Array {
  const { header: h } = b;
  const E = h.numEnvs;
  const T = h.steps;
  // Whatever is not one index per transition carries its trailing dim (parts or Box dims).
  const width = b.actions.length / (E * T);
  const arrays: Record<string, WireArray> = {
    obs: wire(h.obsDtype, [E, T + 1, ...h.obsShape], b.obs),
    actions: wire(b.actions instanceof Float32Array ? 'float32' : 'int32', width === 1 && b.actions instanceof Int32Array ? [E, T] : [E, T, width], b.actions),
    rewards: wire('float32', [E, T], b.rewards),
    terminated: wire('uint8', [E, T], b.terminated),
    truncated: wire('uint8', [E, T], b.truncated),
    finalObs: wire(h.obsDtype, [b.finalObs.length / h.obsShape.reduce((x, y) => x * y, 1), ...h.obsShape], b.finalObs),
  };
  if (b.priorities) arrays.priorities = wire('float32', [E, T], b.priorities);
  if (b.logProbs) arrays.logProbs = wire('float32', [E, T], b.logProbs);
  return packr.pack({ format: EXPERIENCE_FORMAT, version: EXPERIENCE_VERSION, header: h, arrays });
}

/** A batch the learner refuses; the message names the field, never quotes the data. */
export class ExperienceError extends EpisodeFormatError {}

const BYTES: Record<string, number> = { uint8: 1, int32: 4, float32: 4 };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Copies wire bytes into a fresh typed array of `dtype` (the bytes may be unaligned). */
function typed(dtype: string, bytes: Uint8Array): Uint8Array | Int32Array | Float32Array {
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return dtype === 'uint8' ? new Uint8Array(buf) : dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
}

/**
 * Decodes and checks one stream entry against the run's `expect`; throws ExperienceError naming
 * what is wrong (`source` names the entry in the message).
 */
export function decodeExperience(raw: Uint8Array, expect: ExperienceExpect, source: string): ExperienceBatch {
  const fail = (expected: string, received: string): never => {
    throw new ExperienceError(formatError('experience', expected, `${received} in ${source}`, 'actors must run the same npcforge version and game as the learner; the batch was dropped'));
  };
  if (raw.byteLength > MAX_BATCH_BYTES) fail(`a batch of at most ${MAX_BATCH_BYTES} bytes`, `${raw.byteLength} bytes`);
  let doc: unknown;
  try {
    doc = packr.unpack(raw);
  } catch {
    return fail('a msgpack document', 'bytes that do not decode');
  }
  if (!isObject(doc) || doc.format !== EXPERIENCE_FORMAT) return fail(`format ${EXPERIENCE_FORMAT}`, 'another format');
  if (doc.version !== EXPERIENCE_VERSION) return fail(`version ${EXPERIENCE_VERSION}`, `version ${describe(doc.version)}`);
  const h = doc.header;
  const arrays = doc.arrays;
  if (!isObject(h) || !isObject(arrays)) return fail('a header and arrays', 'neither or one');
  if (h.game !== expect.game) fail(`game ${expect.game}`, `game ${describe(h.game)}`);
  if (h.runId !== expect.runId) fail(`run ${expect.runId}`, `run ${describe(h.runId)}`);
  if (h.netHash !== expect.netHash) fail(`network shape ${expect.netHash}`, `network shape ${describe(h.netHash)}`);
  if (!Array.isArray(h.obsShape) || !sameShape(h.obsShape as number[], expect.obsShape)) fail(`observation shape [${expect.obsShape}]`, `shape ${describe(h.obsShape)}`);
  if (h.obsDtype !== expect.obsDtype) fail(`observation dtype ${expect.obsDtype}`, `dtype ${describe(h.obsDtype)}`);
  if (h.numActions !== expect.numActions) fail(`${expect.numActions} actions`, `${describe(h.numActions)}`);
  const int = (k: string, min: number, max: number): number => {
    const v = h[k];
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) fail(`header ${k} an integer in [${min}, ${max}]`, describe(v));
    return v as number;
  };
  const E = int('numEnvs', 1, MAX_BATCH_TRANSITIONS);
  const T = int('steps', 1, MAX_BATCH_TRANSITIONS);
  if (E * T > MAX_BATCH_TRANSITIONS) fail(`at most ${MAX_BATCH_TRANSITIONS} transitions`, `${E} x ${T}`);
  if (expect.steps !== undefined && T !== expect.steps) fail(`segments of ${expect.steps} steps (the run's numSteps)`, `${T} steps`);
  int('seq', 0, Number.MAX_SAFE_INTEGER);
  int('weightsVersion', -1, Number.MAX_SAFE_INTEGER);
  if (typeof h.actorId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(h.actorId)) fail('an actor id of letters, digits, ., _, -', describe(h.actorId));
  const returns = h.episodeReturns;
  if (!Array.isArray(returns) || returns.length > E * T || returns.some((r) => typeof r !== 'number' || !Number.isFinite(r))) return fail(`at most ${E * T} finite episode returns`, 'another list');
  const obsSize = expect.obsShape.reduce((a, b) => a * b, 1);
  const take = (name: string, dtype: string, shape: number[] | ((s: number[]) => boolean), optional = false): Uint8Array | Int32Array | Float32Array | null => {
    const a = arrays[name];
    if (a === undefined && optional) return null;
    if (!isObject(a) || a.dtype !== dtype || !Array.isArray(a.shape) || !(a.data instanceof Uint8Array)) return fail(`array ${name} of dtype ${dtype} with a shape and bytes`, 'another value');
    const s = a.shape as number[];
    if (s.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`array ${name} of non-negative integer dims`, describe(s));
    if (typeof shape === 'function' ? !shape(s) : !sameShape(s, shape)) fail(`array ${name} of shape [${typeof shape === 'function' ? '...' : shape}]`, `[${s}]`);
    const bytes = s.reduce((x, y) => x * y, 1) * BYTES[dtype]!;
    if (a.data.byteLength !== bytes) fail(`array ${name} of ${bytes} bytes`, `${a.data.byteLength} bytes`);
    return typed(dtype, a.data);
  };
  const obs = take('obs', expect.obsDtype, [E, T + 1, ...expect.obsShape])!;
  const space: ExperienceActions = expect.actions ?? { kind: 'discrete', n: expect.numActions };
  const actions = take('actions', space.kind === 'box' ? 'float32' : 'int32', actionShape(space, E, T)) as Int32Array | Float32Array;
  const rewards = take('rewards', 'float32', [E, T]) as Float32Array;
  const terminated = take('terminated', 'uint8', [E, T]) as Uint8Array;
  const truncated = take('truncated', 'uint8', [E, T]) as Uint8Array;
  if (space.kind === 'multi-discrete') {
    const k = space.nvec.length;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      if (!(a >= 0 && a < space.nvec[i % k]!)) fail(`action part ${i % k} in [0, ${space.nvec[i % k]})`, `${a} at ${Math.floor(i / k)}`);
    }
  } else if (space.kind === 'box') {
    for (let i = 0; i < actions.length; i++) if (!Number.isFinite(actions[i]!)) fail('finite Box actions', `another value at ${Math.floor(i / space.dims)}`);
  }
  let ends = 0;
  for (let i = 0; i < E * T; i++) {
    const a = actions[i]!;
    if (space.kind === 'discrete' && !(a >= 0 && a < space.n)) fail(`actions in [0, ${space.n})`, `action ${a} at ${i}`);
    if (!Number.isFinite(rewards[i]!)) fail('finite rewards', `${rewards[i]} at ${i}`);
    if (terminated[i]! > 1 || truncated[i]! > 1) fail('0/1 terminated and truncated flags', `another value at ${i}`);
    if (terminated[i] || truncated[i]) ends++;
  }
  if (returns.length > ends) fail(`at most ${ends} episode returns (one per ended episode)`, `${returns.length}`);
  const finalObs = take('finalObs', expect.obsDtype, [ends, ...expect.obsShape])!;
  if (finalObs.length !== ends * obsSize) fail(`${ends} final observations`, `${finalObs.length / obsSize}`);
  const priorities = take('priorities', 'float32', [E, T], true) as Float32Array | null;
  if (expect.prioritized && !priorities) fail('initial priorities (the run uses prioritized replay)', 'none');
  if (priorities && priorities.some((p) => !(p >= 0) || !Number.isFinite(p))) fail('finite non-negative priorities', 'another value');
  const logProbs = take('logProbs', 'float32', [E, T], true) as Float32Array | null;
  if (expect.logProbs && !logProbs) fail('behaviour log-probabilities (a ppo run: V-trace needs them)', 'none');
  if (logProbs && logProbs.some((p) => !Number.isFinite(p))) fail('finite behaviour log-probabilities', 'another value');
  const header: ExperienceHeader = {
    game: h.game as string,
    runId: h.runId as string,
    netHash: h.netHash as string,
    obsShape: [...expect.obsShape],
    obsDtype: expect.obsDtype,
    numActions: expect.numActions,
    weightsVersion: h.weightsVersion as number,
    actorId: h.actorId as string,
    seq: h.seq as number,
    numEnvs: E,
    steps: T,
    episodeReturns: returns as number[],
  };
  return { header, obs, actions, rewards, terminated, truncated, finalObs, priorities: expect.prioritized ? priorities : null, logProbs: expect.logProbs ? logProbs : null };
}
