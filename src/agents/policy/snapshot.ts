/**
 * The one snapshot format of every agent (DQN, DRQN, SAC, PPO/A2C/REINFORCE): named variable
 * sets, optimizer slots and RNG states, with the numbers as binary blobs and a small JSON header.
 *
 * Blobs: `weights.<set>.bin` (float32, the set's variables packed in order) and
 * `slots.<optimizer>.bin` (the optimizer's slot variables packed in order), plus whatever the
 * agent adds (replay memory, a partial rollout). Header (the snapshot's `json`):
 *   { format, version, weights: {set: manifest}, optimizers: {name: {step, manifest}},
 *     rngs: {name: state}, state: {agent counters ...} }
 *
 * `readSnapshot` checks the whole snapshot (format, version, every manifest against the agent's
 * own shapes, every blob's size, counters, RNG states) before it assigns anything, so a wrong-kind
 * or mismatched snapshot leaves the agent as it was and throws a `CheckpointError` naming the part.
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, UnsupportedVersionError, formatError, describe } from '../../errors.js';
import type { Rng, RngState } from '../../envs/rng.js';
import type { SlotOptimizer } from '../../networks/optimizers.js';
import { packTensors, unpackTensors, type TensorPackEntry } from '../../networks/weights.js';
import type { AgentSnapshot } from '../agent.js';

/** Description of bad counters (each a safe integer >= 0), or null; for `checkState`. */
export function badCounters(state: Record<string, unknown>, keys: readonly string[]): string | null {
  const bad = keys.filter((k) => !(Number.isSafeInteger(state[k]) && (state[k] as number) >= 0));
  return bad.length ? `counters ${bad.map((k) => `${k}=${describe(state[k])}`).join(', ')} (want integers >= 0)` : null;
}

/** `badCounters` for the off-policy agents: envSteps and updates integers, updateDebt (updates owed) in [0, 1e9). */
export function badUpdateCounters(state: Record<string, unknown>): string | null {
  const d = state.updateDebt;
  return badCounters(state, ['envSteps', 'updates']) ?? (typeof d === 'number' && d >= 0 && d < 1e9 ? null : `updateDebt=${describe(d)} (want 0 <= x < 1e9)`);
}

/** Version of the snapshot envelope (1 = the per-agent layouts before the shared format). */
export const SNAPSHOT_VERSION = 2;

/** What an agent's snapshot holds besides its own JSON state and extra blobs. */
export interface SnapshotParts {
  /** Variable sets by name (e.g. `online`, `target`, `actor`), each in a fixed order. */
  weights: Record<string, tf.Variable[]>;
  /** Optimizers by name: their slots and step count. */
  optimizers: Record<string, SlotOptimizer>;
  /** Serialisable RNGs by name. */
  rngs: Record<string, Pick<Rng, 'getState' | 'setState'>>;
}

interface SnapshotHeader {
  format: string;
  version: number;
  weights: Record<string, TensorPackEntry[]>;
  optimizers: Record<string, { step: number; manifest: TensorPackEntry[] }>;
  rngs: Record<string, RngState>;
  state: Record<string, unknown>;
}

/** A copy of a typed array's bytes as a blob (the snapshot stays as it was when the agent goes on). */
export function blobOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/**
 * A copy of the bytes of blob `name`: exactly `bytes` long when given, else any whole number of
 * float32 values; otherwise a CheckpointError naming `component`, the blob and its size.
 */
export function blobBuffer(blobs: Record<string, Uint8Array>, name: string, component: string, bytes?: number): ArrayBuffer {
  const b = blobs[name];
  const ok = b instanceof Uint8Array && (bytes === undefined ? b.byteLength % 4 === 0 : b.byteLength === bytes);
  if (!ok) throw new CheckpointError(formatError(component, bytes === undefined ? `blob ${name} of whole float32 values` : `blob ${name} of ${bytes} bytes`, b instanceof Uint8Array ? `${b.byteLength} bytes` : 'missing', 'the checkpoint is incomplete, corrupt or of another config; pick another with --checkpoint'));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** The float32 values of blob `name` (exactly `length` of them when given); see `blobBuffer`. */
export function floatBlob(blobs: Record<string, Uint8Array>, name: string, component: string, length?: number): Float32Array {
  return new Float32Array(blobBuffer(blobs, name, component, length === undefined ? undefined : length * 4));
}

/**
 * Writes a snapshot of format `format` (e.g. `npcforge-dqn`): `parts` as blobs, `state` (JSON-safe
 * counters) in the header, `blobs` added as they are (their names must not start with `weights.`
 * or `slots.`).
 */
export function writeSnapshot(format: string, parts: SnapshotParts, state: Record<string, unknown>, blobs: Record<string, Uint8Array> = {}): AgentSnapshot {
  const out: Record<string, Uint8Array> = { ...blobs };
  const header: SnapshotHeader = { format, version: SNAPSHOT_VERSION, weights: {}, optimizers: {}, rngs: {}, state };
  for (const [name, vars] of Object.entries(parts.weights)) {
    const packed = packTensors(vars);
    header.weights[name] = packed.manifest;
    out[`weights.${name}.bin`] = blobOf(packed.data);
  }
  for (const [name, opt] of Object.entries(parts.optimizers)) {
    const packed = packTensors(opt.slotTensors());
    header.optimizers[name] = { step: opt.step, manifest: packed.manifest };
    out[`slots.${name}.bin`] = blobOf(packed.data);
  }
  for (const [name, rng] of Object.entries(parts.rngs)) header.rngs[name] = rng.getState();
  return { json: header as unknown as Record<string, unknown>, blobs: out };
}

/**
 * Checks a snapshot against `parts` (the agent's own variables, optimizers and RNGs) and restores
 * it into them; returns the agent's JSON state and all blobs for the agent to restore the rest.
 * `component` names the agent in errors (e.g. `dqn.load`); `hint` says how to get a matching
 * checkpoint when the format differs.
 */
export function readSnapshot(
  snapshot: AgentSnapshot,
  o: {
    component: string;
    format: string;
    parts: SnapshotParts;
    hint: string;
    /** Checks the agent's JSON state before anything is assigned: a description of what is wrong, or null. */
    checkState?: (state: Record<string, unknown>) => string | null;
  },
): { state: Record<string, unknown>; blobs: Record<string, Uint8Array> } {
  const { component, format, parts } = o;
  const h = snapshot?.json as unknown as SnapshotHeader | undefined;
  const corrupt = (what: string, got: string): CheckpointError => new CheckpointError(formatError(component, what, got, 'the checkpoint is incomplete or corrupt; pick another with --checkpoint'));
  if (!h || typeof h !== 'object' || h.format !== format) throw new CheckpointError(formatError(component, `a snapshot of format ${format}`, describe(h?.format ?? h), o.hint));
  if (h.version !== SNAPSHOT_VERSION) {
    throw new UnsupportedVersionError(formatError(component, `snapshot version ${SNAPSHOT_VERSION}`, describe(h.version), 'resume with the npcforge version that wrote the checkpoint, or start a new run'));
  }
  for (const key of ['weights', 'optimizers', 'rngs', 'state'] as const) {
    if (!h[key] || typeof h[key] !== 'object' || Array.isArray(h[key])) throw corrupt(`a header field ${key} (object)`, describe(h[key]));
  }
  const bad = o.checkState?.(h.state) ?? null;
  if (bad !== null) throw corrupt('the agent state of a matching checkpoint', bad);
  const blobs = snapshot.blobs ?? {};
  const floats = (name: string): Float32Array => floatBlob(blobs, name, component);
  // Everything is decoded and checked first; only then assigned.
  const weights = Object.entries(parts.weights).map(([name, vars]) => {
    const manifest = h.weights[name];
    if (!manifest) throw corrupt(`weights of ${name}`, 'none in the header');
    return { vars, values: unpackTensors(manifest, floats(`weights.${name}.bin`), vars.map((v) => v.shape as number[]), `${component} ${name}`) };
  });
  const optimizers = Object.entries(parts.optimizers).map(([name, opt]) => {
    const entry = h.optimizers[name];
    if (!entry || !Number.isSafeInteger(entry.step) || entry.step < 0) throw corrupt(`optimizer ${name} with a step count (integer >= 0)`, describe(entry?.step));
    return { opt, step: entry.step, values: unpackTensors(entry.manifest, floats(`slots.${name}.bin`), opt.slotTensors().map((v) => v.shape as number[]), `${component} optimizer ${name}`) };
  });
  for (const name of Object.keys(parts.rngs)) {
    const s = h.rngs[name];
    if (!s || typeof s !== 'object') throw corrupt(`the state of RNG ${name}`, describe(s));
  }
  tf.tidy(() => weights.forEach(({ vars, values }) => vars.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape)))));
  for (const { opt, step, values } of optimizers) opt.setSlots(values, step);
  for (const [name, rng] of Object.entries(parts.rngs)) {
    try {
      rng.setState(h.rngs[name]!);
    } catch (err) {
      throw new CheckpointError(formatError(component, `a valid state of RNG ${name}`, (err as Error).message, 'the checkpoint is corrupt; pick another with --checkpoint'), { cause: err });
    }
  }
  return { state: h.state, blobs };
}
