/**
 * The DQN frame's hot path (issue 17): acting and the target forward skip LayersModel.predict, and
 * a uniform-replay update builds no weight tensor and no tf.oneHot; all with the numbers of the
 * reference formulation (predict; tf.oneHot + cast; loss times weights of 1).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DQN_PRESETS, resolveDqnConfig } from '../../../src/agents/dqn/config.js';
import { DqnAgent, oneHotRows } from '../../../src/agents/dqn/dqn-agent.js';
import { huberTensor, scaledObsTensor } from '../../../src/agents/dqn/q-learning.js';
import { tdTargets } from '../../../src/agents/dqn/td.js';
import { SeededRng } from '../../../src/envs/rng.js';
import { Box, Discrete } from '../../../src/envs/spaces.js';
import type { ReplaySample } from '../../../src/replay/buffer/replay-buffer.js';
import { initBackend } from '../../../src/networks/backend.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const B = 32;
const A = 6;
const space = new Box({ shape: [10, 10, 4], dtype: 'uint8', low: 0, high: 1 });

function minatarAgent(): DqnAgent {
  const config = resolveDqnConfig(DQN_PRESETS.minatar!, { bufferSize: 1000, learningStarts: 64 });
  return new DqnAgent({ config, observationSpace: space, actionSpace: new Discrete(A), numEnvs: 1, seed: 3 });
}

function randomBatch(seed: number): ReplaySample {
  const rng = new SeededRng(seed);
  const grid = (): Uint8Array => Uint8Array.from({ length: B * space.size }, () => (rng.random() < 0.1 ? 1 : 0));
  return {
    batchSize: B,
    obs: grid(),
    nextObs: grid(),
    actions: Int32Array.from({ length: B }, () => rng.int(0, A)),
    returns: Float32Array.from({ length: B }, () => (rng.random() < 0.2 ? 1 : 0)),
    discounts: new Float32Array(B).fill(0.99),
    terminated: Uint8Array.from({ length: B }, () => (rng.random() < 0.1 ? 1 : 0)),
    weights: new Float32Array(B).fill(1),
    indices: new Int32Array(B),
  };
}

/** The loss of the reference formulation (predict, tf.oneHot, weights multiplied in) with the agent's current weights. */
async function referenceLoss(agent: DqnAgent, batch: ReplaySample): Promise<number> {
  const nextX = scaledObsTensor(batch.nextObs, B, space.shape, 1);
  const x = scaledObsTensor(batch.obs, B, space.shape, 1);
  const nextQ = (await tf.tidy(() => agent.target.predict(nextX) as tf.Tensor).data()) as Float32Array;
  const targets = new Float32Array(B);
  tdTargets({ returns: batch.returns, discounts: batch.discounts, terminated: batch.terminated, nextQTarget: nextQ, numActions: A }, targets);
  const vars = agent.online.trainableWeights.map((w) => w.read() as tf.Variable);
  // Inside variableGrads like the update, which records the forward pass for the backward one.
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const q = agent.online.apply(x, { training: true }) as tf.Tensor;
      const qa = tf.sum(tf.mul(q, tf.oneHot(tf.tensor1d(batch.actions, 'int32'), A).toFloat()), 1);
      return tf.mean(tf.mul(huberTensor(tf.sub(tf.tensor1d(targets), qa)), tf.tensor1d(batch.weights))) as tf.Scalar;
    }, vars);
    Object.values(grads).forEach((g) => g.dispose());
    return value;
  });
  const value = (await loss.data())[0]!;
  for (const t of [nextX, x, loss]) t.dispose();
  return value;
}

describe('DQN update and acting path', () => {
  it('scaledObsTensor copies typed arrays (also longer ones, by their first n rows) and plain arrays, and scales', async () => {
    const shape = [2, 2];
    const cases: Array<[ArrayLike<number>, number, number[]]> = [
      [Uint8Array.of(1, 0, 255, 3, 9, 9, 9, 9), 1, [1, 0, 255, 3]],
      [Float32Array.of(0.5, -2, 3.25, 1e-30), 1, [0.5, -2, 3.25, 1e-30]],
      [Int32Array.of(7, 8, 9, 10), 1, [7, 8, 9, 10]],
      [[1, 2, 3, 4, 5], 1, [1, 2, 3, 4]],
      [Uint8Array.of(255, 0, 51, 102), 1 / 255, [1, 0, 51 / 255, 102 / 255]],
    ];
    for (const [obs, scale, expected] of cases) {
      const t = scaledObsTensor(obs, 1, shape, scale);
      expect(t.shape).toEqual([1, 2, 2]);
      expect(Array.from(await t.data())).toEqual(Array.from(Float32Array.from(expected)));
      t.dispose();
    }
  });

  it('oneHotRows puts a 1 at each action', () => {
    expect(Array.from(oneHotRows([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('acts with the Q-values predict gives, without calling predict', async () => {
    const agent = minatarAgent();
    const obs = randomBatch(1).obs.subarray(0, 4 * space.size);
    const x = scaledObsTensor(obs, 4, space.shape, 1);
    const expected = await (agent.online.predict(x) as tf.Tensor).data();
    x.dispose();
    const online = vi.spyOn(agent.online, 'predict');
    const target = vi.spyOn(agent.target, 'predict');
    const res = await agent.act(obs, { numEnvs: 4, mode: 'eval', withValues: true });
    expect(Array.from(res.info.values!)).toEqual(Array.from(expected));
    await agent.update(randomBatch(2));
    expect(online).not.toHaveBeenCalled();
    expect(target).not.toHaveBeenCalled();
    agent.dispose();
  });

  it('a uniform-replay update runs no OneHot kernel and gives the reference loss exactly', async () => {
    const agent = minatarAgent();
    for (let i = 0; i < 3; i++) {
      const batch = randomBatch(10 + i);
      const expected = await referenceLoss(agent, batch);
      let loss = NaN;
      const profile = await tf.profile(async () => {
        loss = (await agent.update(batch)).loss!;
      });
      expect(profile.kernelNames).not.toContain('OneHot');
      expect(loss).toBe(expected);
    }
    agent.dispose();
  });

  it('the MinAtar net acts and trains through the chain fast path: no Layers call, the same weights as the Layers path', async () => {
    const fast = minatarAgent();
    const slow = minatarAgent();
    // Without its chains an agent takes the Layers model and the tape (the path of nets that do not chain).
    Object.assign(slow as unknown as Record<string, unknown>, { onlineChain: null, targetChain: null });
    const onlineApply = vi.spyOn(fast.online, 'apply');
    const targetApply = vi.spyOn(fast.target, 'apply');
    const obs = randomBatch(1).obs.subarray(0, 4 * space.size);
    for (let i = 0; i < 5; i++) {
      const batch = randomBatch(20 + i);
      const a = await fast.update(batch);
      const b = await slow.update(batch);
      expect(a).toEqual(b);
      const qa = await fast.act(obs, { numEnvs: 4, mode: 'eval', withValues: true });
      const qb = await slow.act(obs, { numEnvs: 4, mode: 'eval', withValues: true });
      expect(Array.from(qa.info.values!)).toEqual(Array.from(qb.info.values!));
    }
    expect(onlineApply).not.toHaveBeenCalled();
    expect(targetApply).not.toHaveBeenCalled();
    const wa = fast.online.getWeights();
    const wb = slow.online.getWeights();
    for (let i = 0; i < wa.length; i++) expect(Array.from(await wa[i]!.data())).toEqual(Array.from(await wb[i]!.data()));
    fast.dispose();
    slow.dispose();
  });

  it('acting runs no forward pass when every env explores, and draws the RNG in the same order as when it does', async () => {
    const agent = minatarAgent();
    const forward = vi.spyOn(agent, 'qValues');
    const obs = randomBatch(1).obs.subarray(0, 4 * space.size);
    const explore = await agent.act(obs, { numEnvs: 4, mode: 'eval', epsilon: 1, rng: new SeededRng(9) });
    expect(forward).not.toHaveBeenCalled();
    // Per env: one draw against epsilon, then the random action when it explores.
    const ref = new SeededRng(9);
    const expected = Array.from({ length: 4 }, () => (ref.random(), ref.int(0, A)));
    expect(Array.from(explore.actions)).toEqual(expected);
    // epsilon 0.5 mixes both branches: the same RNG stream, the forward pass once for the whole batch.
    const mixed = new SeededRng(10);
    await agent.act(obs, { numEnvs: 4, mode: 'eval', epsilon: 0.5, rng: mixed });
    expect(forward).toHaveBeenCalledTimes(1);
    const ref2 = new SeededRng(10);
    for (let i = 0; i < 4; i++) if (ref2.random() < 0.5) ref2.int(0, A);
    expect(mixed.random()).toBe(ref2.random());
    agent.dispose();
  });
});
