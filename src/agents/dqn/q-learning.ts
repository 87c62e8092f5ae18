/**
 * What DQN and recurrent DQN share beyond the TD math: the gradient step (optional global-norm
 * clip, then the optimizer), the Huber loss as tensors, and the checkpoint snapshot (weights of
 * both nets, optimizer slots, counters, RNG states, optional replay bytes).
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import { Box, Discrete, type Space } from '../../envs/spaces.js';
import type { QNetworkSpec } from '../../networks/specs.js';
import { autoEncoder } from '../../networks/encoders.js';
import { boxInputScale, dictLayoutOf } from '../../envs/dict-obs.js';
import type { DqnConfig } from './config.js';
import type { RngState, SeededRng } from '../../envs/rng.js';
import { clipByGlobalNorm, type SlotOptimizer } from '../../networks/optimizers.js';
import { packTensors, unpackTensors, type TensorPackEntry } from '../../networks/weights.js';
import type { AgentSnapshot, UpdateMetrics } from '../agent.js';

/**
 * Checks the spaces of a DQN-family agent (named `component` in errors) and derives what it
 * builds from them: action count, observation shape and size, the input scale (1/255 for byte
 * pixels) and the Q-network spec.
 */
export function qNetworkShapes(component: string, config: DqnConfig, observationSpace: Space, actionSpace: Space, seed: number): { numActions: number; obsShape: number[]; obsSize: number; obsScale: number; netSpec: QNetworkSpec } {
  if (!(observationSpace instanceof Box)) throw new SpaceMismatchError(formatError(component, 'a Box or Dict observation space', observationSpace.type, 'use an env with array (or Dict of array) observations'));
  if (!(actionSpace instanceof Discrete)) throw new SpaceMismatchError(formatError(component, 'a Discrete action space', `${actionSpace.type} actions`, 'DQN needs discrete actions; use --agent sac for Box actions'));
  const obsShape = [...observationSpace.shape];
  const obsScale = boxInputScale(observationSpace);
  const encoder = config.network === 'auto' ? autoEncoder(observationSpace) : config.network;
  const layout = dictLayoutOf(observationSpace);
  if (layout && (encoder.kind === 'minatar-cnn' || encoder.kind === 'nature-cnn')) {
    // Presets name a CNN over the whole frame (minatar); a Dict observation arrives flat and needs its per-key encoders.
    throw new SpaceMismatchError(formatError(component, "network 'auto' (one encoder per key), an mlp or a {kind: 'dict'} spec for a Dict observation", `network ${encoder.kind}`, 'pass --config with {"network": "auto"}'));
  }
  const netSpec: QNetworkSpec = { inputShape: obsShape, numActions: actionSpace.n, encoder, head: { kind: config.dueling ? 'dueling' : 'q' }, seed, ...(layout ? { layout } : {}) };
  return { numActions: actionSpace.n, obsShape, obsSize: observationSpace.size, obsScale, netSpec };
}

/** Float32 tensor [n, ...shape] of `n` observations times `scale`. The caller owns it. */
export function scaledObsTensor(obs: ArrayLike<number>, n: number, shape: readonly number[], scale: number): tf.Tensor {
  const size = n * shape.reduce((a, b) => a * b, 1);
  // A fresh array per call: the cpu backend keeps a reference to the array a tensor was made from.
  const buf = new Float32Array(size);
  if (scale === 1) for (let i = 0; i < size; i++) buf[i] = obs[i]!;
  else for (let i = 0; i < size; i++) buf[i] = obs[i]! * scale;
  return tf.tensor(buf, [n, ...shape], 'float32');
}

/**
 * Runs `update` once per whole unit of `debt` (updates owed by the env steps so far); returns
 * the debt left and the mean loss and gradient norm, or null metrics when none was due.
 */
export async function runDueUpdates(debt: number, update: () => Promise<UpdateMetrics>): Promise<{ debt: number; metrics: UpdateMetrics | null }> {
  let loss = 0;
  let gradNorm = 0;
  let count = 0;
  while (debt >= 1) {
    debt -= 1;
    const m = await update();
    loss += m.loss!;
    gradNorm += m.gradNorm!;
    count++;
  }
  return { debt, metrics: count ? { loss: loss / count, gradNorm: gradNorm / count, updates: count } : null };
}

/** Elementwise Huber loss (delta 1). Call inside tidy. */
export function huberTensor(x: tf.Tensor): tf.Tensor {
  const a = tf.abs(x);
  const quad = tf.minimum(a, 1);
  return tf.add(tf.mul(0.5, tf.square(quad)), tf.sub(a, quad));
}

/**
 * Clips the gradients (`vars` order) to a global norm of `clipNorm` when it is > 0, applies them
 * and returns the norm before clipping. Call inside tidy.
 */
export function applyGradients(optimizer: SlotOptimizer, vars: tf.Variable[], grads: tf.NamedTensorMap, clipNorm: number): tf.Scalar {
  const list = vars.map((v) => grads[v.name]!);
  if (clipNorm > 0) {
    const clipped = clipByGlobalNorm(list, clipNorm);
    optimizer.apply(clipped.grads);
    return clipped.norm;
  }
  optimizer.apply(list);
  return tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
}

/** The learner state a snapshot carries. */
export interface QLearnerState {
  online: tf.Variable[];
  target: tf.Variable[];
  optimizer: SlotOptimizer;
  exploreRng: SeededRng;
  replayRng: SeededRng;
  replay: { toBytes(): Uint8Array; loadBytes(bytes: Uint8Array): void };
}

/** Counters restored by `readQSnapshot`. */
export interface QCounters {
  envSteps: number;
  updates: number;
  updateDebt: number;
}

interface QSnapshotJson extends QCounters {
  format: string;
  version: 1;
  optimizerStep: number;
  exploreRng: RngState;
  replayRng: RngState;
  manifests: { online: TensorPackEntry[]; target: TensorPackEntry[]; optimizer: TensorPackEntry[] };
  hasReplay: boolean;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes the snapshot of format `format`; `extra` blobs are added as they are. */
export function writeQSnapshot(format: string, s: QLearnerState, counters: QCounters, includeReplay: boolean, extra: Record<string, Float32Array> = {}): AgentSnapshot {
  const online = packTensors(s.online);
  const target = packTensors(s.target);
  const slots = packTensors(s.optimizer.slotTensors());
  const blobs: Record<string, Uint8Array> = { 'online.bin': bytesOf(online.data), 'target.bin': bytesOf(target.data), 'optimizer.bin': bytesOf(slots.data) };
  for (const [name, data] of Object.entries(extra)) blobs[name] = bytesOf(data);
  if (includeReplay) blobs['replay.bin'] = s.replay.toBytes();
  const json: QSnapshotJson = {
    format,
    version: 1,
    ...counters,
    optimizerStep: s.optimizer.step,
    exploreRng: s.exploreRng.getState(),
    replayRng: s.replayRng.getState(),
    manifests: { online: online.manifest, target: target.manifest, optimizer: slots.manifest },
    hasReplay: includeReplay,
  };
  return { json: json as unknown as Record<string, unknown>, blobs };
}

/**
 * Restores what `writeQSnapshot` wrote into `s` and returns the counters and a reader of the
 * extra blobs. `hint` says how to get a matching checkpoint when the format differs.
 */
export function readQSnapshot(snapshot: AgentSnapshot, format: string, s: QLearnerState, hint: string): QCounters & { blob(name: string): Float32Array } {
  const j = snapshot.json as unknown as QSnapshotJson;
  if (j?.format !== format || j.version !== 1) throw new CheckpointError(formatError('dqn.load', `a snapshot of format ${format} version 1`, describe(j?.format ?? j), hint));
  const blob = (name: string): Float32Array => {
    const b = snapshot.blobs[name];
    if (!b || b.byteLength % 4 !== 0) throw new CheckpointError(formatError('dqn.load', `blob ${name}`, b ? `${b.byteLength} bytes` : 'missing', 'the checkpoint is incomplete or corrupt; pick another with --checkpoint'));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const assign = (vars: tf.Variable[], manifest: TensorPackEntry[], data: Float32Array, what: string): void => {
    const values = unpackTensors(manifest, data, vars.map((v) => v.shape as number[]), what);
    tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape))));
  };
  assign(s.online, j.manifests.online, blob('online.bin'), 'dqn.load online');
  assign(s.target, j.manifests.target, blob('target.bin'), 'dqn.load target');
  s.optimizer.setSlots(unpackTensors(j.manifests.optimizer, blob('optimizer.bin'), s.optimizer.slotTensors().map((v) => v.shape), 'dqn.load optimizer'), j.optimizerStep);
  s.exploreRng.setState(j.exploreRng);
  s.replayRng.setState(j.replayRng);
  if (snapshot.blobs['replay.bin']) s.replay.loadBytes(snapshot.blobs['replay.bin']);
  return { envSteps: j.envSteps, updates: j.updates, updateDebt: j.updateDebt, blob };
}
