import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ActorCritic } from '../../src/agents/pg/actor-critic.js';
import { SeededRng } from '../../src/envs/rng.js';

function net(seed = 3) {
  return new ActorCritic({ obsShape: [3], numActions: 4, obsScale: 1, encoder: 'mlp', mlpHidden: [8], lstmUnits: 6, seed });
}

function data(T: number, B: number) {
  const rng = new SeededRng(9);
  const obs = Float32Array.from({ length: T * B * 3 }, () => rng.random() * 2 - 1);
  // Env 0 starts a new episode at t = 3 (an autoreset inside the vector env); env 1 at t = 0 only.
  const starts = new Float32Array(T * B);
  starts[0] = 1;
  starts[1] = 1;
  starts[3 * B + 0] = 1;
  return { obs, starts };
}

describe('recurrent actor-critic', () => {
  it('stepwise acting and sequence training give the same outputs across episode starts', () => {
    const ac = net();
    const T = 6;
    const B = 2;
    const { obs, starts } = data(T, B);
    const stepwise = tf.tidy(() => {
      let state = ac.initialState(B)!;
      // Junk state before the first start: it must be wiped by the start flags.
      state = { h: tf.onesLike(state.h), c: tf.onesLike(state.c) };
      const logits: tf.Tensor[] = [];
      const values: tf.Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const out = ac.step(ac.obsTensor(obs.subarray(t * B * 3, (t + 1) * B * 3), B), state, tf.tensor1d(starts.subarray(t * B, (t + 1) * B)));
        state = out.state!;
        logits.push(out.logits);
        values.push(out.values);
      }
      return { logits: tf.concat(logits, 0).arraySync() as number[][], values: tf.concat(values, 0).arraySync() as number[] };
    });
    const seq = tf.tidy(() => {
      const s0 = ac.initialState(B)!;
      const out = ac.sequence(ac.obsTensor(obs, T * B), s0, tf.tensor1d(starts), T);
      return { logits: out.logits.arraySync() as number[][], values: out.values.arraySync() as number[] };
    });
    for (let i = 0; i < T * B; i++) {
      expect(seq.values[i]).toBeCloseTo(stepwise.values[i]!, 5);
      for (let a = 0; a < 4; a++) expect(seq.logits[i]![a]).toBeCloseTo(stepwise.logits[i]![a]!, 5);
    }
    ac.dispose();
  });

  it('a start flag makes the rest of the sequence independent of what came before', () => {
    const ac = net();
    const T = 6;
    const B = 2;
    const { obs, starts } = data(T, B);
    const [full, suffix, unmasked] = tf.tidy(() => {
      const full = ac.sequence(ac.obsTensor(obs, T * B), ac.initialState(B), tf.tensor1d(starts), T).values.arraySync() as number[];
      // The suffix of env 0 from t = 3 run alone from a zero state.
      const sub = new Float32Array(3 * 3);
      for (let t = 3; t < T; t++) sub.set(obs.subarray((t * B) * 3, (t * B) * 3 + 3), (t - 3) * 3);
      const suffix = ac.sequence(ac.obsTensor(sub, 3), ac.initialState(1), tf.tensor1d([1, 0, 0]), 3).values.arraySync() as number[];
      const noStarts = new Float32Array(T * B);
      const unmasked = ac.sequence(ac.obsTensor(obs, T * B), ac.initialState(B), tf.tensor1d(noStarts), T).values.arraySync() as number[];
      return [full, suffix, unmasked];
    });
    for (let t = 3; t < T; t++) expect(full![t * B]).toBeCloseTo(suffix![t - 3]!, 5);
    // Without the flag the state leaks across the boundary, so the values differ.
    expect(Math.abs(full![3 * B]! - unmasked![3 * B]!)).toBeGreaterThan(1e-6);
    ac.dispose();
  });

  it('two builds with the same seed have identical weights; another seed differs', async () => {
    const a = net(5);
    const b = net(5);
    const c = net(6);
    const wa = await a.getWeights();
    const wb = await b.getWeights();
    const wc = await c.getWeights();
    expect(wa.length).toBe(wb.length);
    wa.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(wb[i]!.data)));
    expect(Array.from(wa[0]!.data)).not.toEqual(Array.from(wc[0]!.data));
    a.dispose();
    b.dispose();
    c.dispose();
  });
});
