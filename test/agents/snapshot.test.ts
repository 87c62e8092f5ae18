/**
 * The shared snapshot format (src/agents/policy/snapshot.ts): exact round trips of variable sets,
 * optimizer slots and RNG states; wrong-kind, old and mismatched snapshots refused by name
 * without touching the agent; no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/envs/rng.js';
import { SlotOptimizer, applyGradients } from '../../src/networks/optimizers.js';
import { SNAPSHOT_VERSION, badCounters, readSnapshot, writeSnapshot, type SnapshotParts } from '../../src/agents/policy/snapshot.js';
import { CheckpointError, UnsupportedVersionError } from '../../src/errors.js';

function learner(seed: number, shape: number[] = [3, 2]): SnapshotParts & { dispose(): void } {
  const rng = new SeededRng(seed);
  const w = tf.variable(tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.random()), shape));
  const b = tf.variable(tf.tensor1d([seed, -seed]));
  const opt = new SlotOptimizer({ kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-5 }, [w, b]);
  return { weights: { net: [w, b] }, optimizers: { adam: opt }, rngs: { explore: rng }, dispose: () => {
      tf.dispose([w, b]);
      opt.dispose();
    } };
}

function train(l: SnapshotParts, steps: number): void {
  const vars = l.weights.net!;
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.add(tf.sum(vars[0]!), vars[1]!))) as tf.Scalar, vars);
      applyGradients(l.optimizers.adam!, vars, grads, 0.5);
    });
  }
}

const values = (l: SnapshotParts) => [...l.weights.net!, ...l.optimizers.adam!.slotTensors()].map((v) => Array.from(v.dataSync()));

describe('agent snapshots (one format for every agent)', () => {
  it('round-trips weights, optimizer slots and step, RNG state and the agent state exactly, through JSON', () => {
    const a = learner(1);
    train(a, 3);
    const snap = writeSnapshot('npcforge-test', a, { updates: 3 }, { 'extra.bin': new Uint8Array([7, 8]) });
    expect(Object.keys(snap.blobs).sort()).toEqual(['extra.bin', 'slots.adam.bin', 'weights.net.bin']);
    expect(snap.json.version).toBe(SNAPSHOT_VERSION);
    const b = learner(2);
    const { state, blobs } = readSnapshot({ json: JSON.parse(JSON.stringify(snap.json)), blobs: snap.blobs }, { component: 'test.load', format: 'npcforge-test', parts: b, hint: 'x' });
    expect(state).toEqual({ updates: 3 });
    expect(Array.from(blobs['extra.bin']!)).toEqual([7, 8]);
    expect(values(b)).toEqual(values(a));
    expect(b.optimizers.adam!.step).toBe(3);
    expect(b.rngs.explore!.getState()).toEqual(a.rngs.explore!.getState());
    // Same state: both continue identically.
    train(a, 2);
    train(b, 2);
    expect(values(b)).toEqual(values(a));
    a.dispose();
    b.dispose();
  });

  it('refuses another format, an old version, mismatched shapes, a missing blob and bad counters, leaving the agent as it was', () => {
    const a = learner(1);
    train(a, 1);
    const snap = writeSnapshot('npcforge-test', a, { updates: 1 });
    const b = learner(2);
    const before = values(b);
    const read = (s: typeof snap, o: { parts?: SnapshotParts; checkState?: (s: Record<string, unknown>) => string | null } = {}) => () => readSnapshot(s, { component: 'test.load', format: 'npcforge-test', parts: o.parts ?? b, hint: 'load a test checkpoint', checkState: o.checkState });
    expect(read({ ...snap, json: { ...snap.json, format: 'npcforge-dqn' } })).toThrow(CheckpointError);
    expect(read({ ...snap, json: { ...snap.json, format: 'npcforge-dqn' } })).toThrow(/\[test\.load\] expected a snapshot of format npcforge-test.*fix: load a test checkpoint/);
    // An old per-agent layout (version 1, e.g. PG's base64 JSON) is named, not half-read.
    expect(read({ ...snap, json: { format: 'npcforge-test', version: 1, weights: [] } })).toThrow(UnsupportedVersionError);
    const other = learner(3, [2, 2]);
    expect(read(snap, { parts: other })).toThrow(/test\.load net.*shape \[2,2\].*\[3,2\]/);
    const { ['slots.adam.bin']: _gone, ...rest } = snap.blobs;
    expect(read({ ...snap, blobs: rest })).toThrow(/blob slots\.adam\.bin/);
    expect(read(snap, { checkState: (s) => badCounters(s, ['updates', 'envSteps']) })).toThrow(/envSteps=undefined/);
    expect(values(b)).toEqual(before);
    expect(b.optimizers.adam!.step).toBe(0);
    for (const l of [a, b, other]) l.dispose();
  });

  it('write and read leave no tensor behind', () => {
    const a = learner(1);
    train(a, 1);
    const snap = writeSnapshot('npcforge-test', a, {});
    readSnapshot(snap, { component: 't', format: 'npcforge-test', parts: a, hint: 'x' });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) readSnapshot(writeSnapshot('npcforge-test', a, {}), { component: 't', format: 'npcforge-test', parts: a, hint: 'x' });
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
