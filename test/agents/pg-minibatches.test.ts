import { describe, expect, it } from 'vitest';
import { ppo } from '../../src/agents/pg/ppo.js';
import { resolvePgConfig } from '../../src/agents/pg/config.js';
import { gae, normalizeAdvantages } from '../../src/agents/pg/math.js';
import { gatherRows, newRollout, type RolloutLayout, type TrainBatch } from '../../src/agents/pg/rollout.js';
import { SeededRng } from '../../src/envs/rng.js';

const layout: RolloutLayout = { obsSize: 3, action: { kind: 'discrete', n: 4 }, actionWidth: 1, stateUnits: 0 };

/** A rollout of `T x N` rows filled with distinct values from a seeded RNG. */
function filledRollout(T: number, N: number) {
  const rng = new SeededRng(5);
  const r = newRollout(layout, T, N);
  r.obs = Uint8Array.from({ length: r.obs.length }, () => rng.int(0, 256));
  for (let i = 0; i < T * N; i++) {
    r.actions[i] = rng.int(0, 4);
    r.logProbs[i] = -rng.random();
    r.values[i] = rng.random();
    r.rewards[i] = rng.random() < 0.1 ? 1 : 0;
    r.terminated[i] = rng.random() < 0.05 ? 1 : 0;
  }
  r.lastValues.set([0.5, 0.25, 0.125].slice(0, N));
  return r;
}

/** The permutations a learner with RNG seed `seed` would hand out (same Fisher-Yates as the learner). */
function permutations(seed: number) {
  const rng = new SeededRng(seed);
  return (n: number): number[] => {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  };
}

const copy = (b: TrainBatch) => ({ obs: Array.from(b.obs), actions: Array.from(b.actions), advantages: Array.from(b.advantages!), returns: Array.from(b.returns), oldLogProbs: Array.from(b.oldLogProbs!), oldValues: Array.from(b.oldValues!) });

describe('PPO minibatches', () => {
  // 7 x 3 = 21 rows in 4 minibatches: sizes 6, 5, 5, 5 (the uneven case).
  const config = resolvePgConfig({ algorithm: 'ppo', numSteps: 7, epochs: 2, minibatches: 4 });

  it('hold the rows of each epoch permutation, strided, with per-minibatch normalised advantages', () => {
    const r = filledRollout(7, 3);
    // Copied as they come: the next minibatch overwrites the buffers.
    const got: ReturnType<typeof copy>[] = [];
    for (const b of ppo.batches(r, { config, layout, recurrent: false, permutation: permutations(9) })!) got.push(copy(b));
    // Reference: every epoch's permutation drawn in order, minibatch m = entries m, m + 4, ...
    const { advantages, returns } = gae({ ...r, gamma: config.gamma, lambda: config.gaeLambda });
    const perm = permutations(9);
    const want: ReturnType<typeof copy>[] = [];
    for (let e = 0; e < 2; e++) {
      const p = perm(21);
      for (let m = 0; m < 4; m++) {
        const rows = p.filter((_, i) => i % 4 === m);
        want.push({
          obs: rows.flatMap((row) => Array.from(r.obs.subarray(row * 3, row * 3 + 3))),
          actions: rows.map((row) => r.actions[row]!),
          advantages: Array.from(normalizeAdvantages(rows.map((row) => advantages[row]!))),
          returns: Array.from(Float32Array.from(rows, (row) => returns[row]!)),
          oldLogProbs: Array.from(Float32Array.from(rows, (row) => r.logProbs[row]!)),
          oldValues: Array.from(Float32Array.from(rows, (row) => r.values[row]!)),
        });
      }
    }
    expect(got).toEqual(want);
    expect(got.map((b) => b.returns.length)).toEqual([6, 5, 5, 5, 6, 5, 5, 5]);
  });

  it('reuse one buffer per minibatch size instead of allocating each minibatch', () => {
    const r = filledRollout(8, 2);
    const seen = new Set<Float32Array>();
    const obs = new Set<unknown>();
    for (const b of ppo.batches(r, { config: { ...config, numSteps: 8 }, layout, recurrent: false, permutation: permutations(1) })!) {
      seen.add(b.advantages!);
      obs.add(b.obs);
    }
    // 16 rows in 4 minibatches of 4 over 2 epochs: 8 minibatches, one set of arrays.
    expect(seen.size).toBe(1);
    expect(obs.size).toBe(1);
  });

  it('gatherRows into a batch of another size or observation type makes a new one', () => {
    const r = filledRollout(4, 2);
    const adv = new Float32Array(8).fill(1);
    const small = gatherRows(layout, r, [0, 1], adv, adv);
    expect(gatherRows(layout, r, [2, 3], adv, adv, small)).toBe(small);
    expect(gatherRows(layout, r, [2, 3, 4], adv, adv, small)).not.toBe(small);
    expect(Array.from(small.obs)).toEqual(Array.from(r.obs.subarray(6, 12)));
  });
});
