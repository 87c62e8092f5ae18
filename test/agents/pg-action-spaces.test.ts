/**
 * Policy-gradient agents on MultiDiscrete and Box actions, driven through the runner's Agent API
 * on two tiny tasks defined here (one-step, so a seeded run learns in seconds):
 * - "reach": observation [t], t ~ U(-1, 1); Box([-1], [1]) action a; reward -(a - t)^2.
 *   A fresh policy (mean ~0, std 1, clipped) scores about -0.67; the best is 0.
 * - "match": observation one-hot(t0 of 3) ++ one-hot(t1 of 2); MultiDiscrete([3, 2]) action;
 *   reward 1 per part that matches. Uniform play scores 1/3 + 1/2; the best is 2.
 * Plus leaks, save/load, an exact resume from a mid-rollout snapshot, clipping counts and errors.
 */
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Box, Dict, Discrete, MultiDiscrete, type Space } from '../../src/envs/spaces.js';
import { SeededRng } from '../../src/envs/rng.js';
import { PolicyGradientAgent } from '../../src/agents/pg/learner.js';
import type { PgConfig } from '../../src/agents/pg/config.js';
import { SpaceMismatchError } from '../../src/errors.js';

interface Task {
  observationSpace: Space;
  actionSpace: Space;
  obsSize: number;
  /** Fills the observation of env e from the task RNG and remembers its target. */
  draw(rng: SeededRng): { obs: number[]; target: number[] };
  reward(action: ArrayLike<number>, target: number[]): number;
  width: number;
}

const reach: Task = {
  observationSpace: new Box({ low: -1, high: 1, shape: [1], dtype: 'float32' }),
  actionSpace: new Box({ low: -1, high: 1, shape: [1], dtype: 'float32' }),
  obsSize: 1,
  width: 1,
  draw(rng) {
    const t = rng.random() * 2 - 1;
    return { obs: [t], target: [t] };
  },
  reward(a, target) {
    return -((a[0]! - target[0]!) ** 2);
  },
};

const match: Task = {
  observationSpace: new Box({ low: 0, high: 1, shape: [5], dtype: 'float32' }),
  actionSpace: new MultiDiscrete([3, 2]),
  obsSize: 5,
  width: 2,
  draw(rng) {
    const t0 = rng.int(0, 3);
    const t1 = rng.int(0, 2);
    const obs = [0, 0, 0, 0, 0];
    obs[t0] = 1;
    obs[3 + t1] = 1;
    return { obs, target: [t0, t1] };
  },
  reward(a, target) {
    return (a[0] === target[0] ? 1 : 0) + (a[1] === target[1] ? 1 : 0);
  },
};

const N = 8;

/** K envs of a one-step task: every step ends its episode (terminated) and a new target is drawn. */
class Batch {
  private targets: number[][] = [];
  obs: Float32Array;
  constructor(private readonly task: Task, private readonly rng: SeededRng) {
    this.obs = this.next();
  }
  private next(): Float32Array {
    const out = new Float32Array(N * this.task.obsSize);
    this.targets = [];
    for (let e = 0; e < N; e++) {
      const d = this.task.draw(this.rng);
      out.set(d.obs, e * this.task.obsSize);
      this.targets.push(d.target);
    }
    return out;
  }
  step(actions: ArrayLike<number>): { rewards: Float32Array; obs: Float32Array; prev: Float32Array } {
    const w = this.task.width;
    const rewards = new Float32Array(N);
    for (let e = 0; e < N; e++) rewards[e] = this.task.reward(Array.from(actions).slice(e * w, (e + 1) * w), this.targets[e]!);
    const prev = this.obs;
    this.obs = this.next();
    return { rewards, obs: this.obs, prev };
  }
}

function makeAgent(task: Task, config: Partial<PgConfig> = {}, seed = 1): PolicyGradientAgent {
  return new PolicyGradientAgent({
    config: { encoder: 'mlp', mlpHidden: [32], numSteps: 16, minibatches: 4, epochs: 4, lr: 3e-3, entCoef: 0, annealLr: false, ...config },
    observationSpace: task.observationSpace,
    actionSpace: task.actionSpace,
    numEnvs: N,
    seed,
  });
}

/** Trains for `steps` vector steps; returns every env action the agent handed out and the metrics. */
async function drive(agent: PolicyGradientAgent, env: Batch, steps: number): Promise<{ envActions: number[]; metrics: Array<Record<string, number>> }> {
  const envActions: number[] = [];
  const metrics: Array<Record<string, number>> = [];
  for (let i = 0; i < steps; i++) {
    const obs = env.obs;
    const { actions } = await agent.act(obs, { numEnvs: N, mode: 'train' });
    envActions.push(...actions);
    const r = env.step(actions);
    const m = await agent.observe({ obs, actions, rewards: r.rewards, terminated: new Uint8Array(N).fill(1), truncated: new Uint8Array(N), nextObs: r.obs, finalObs: new Array(N).fill(undefined) });
    if (m) metrics.push(m);
  }
  return { envActions, metrics };
}

/** Mean greedy reward over `rounds` batches of fresh targets. */
async function greedyScore(agent: PolicyGradientAgent, task: Task, rounds = 20): Promise<number> {
  const env = new Batch(task, new SeededRng(999));
  let sum = 0;
  for (let i = 0; i < rounds; i++) {
    const { actions } = await agent.act(env.obs, { numEnvs: N, mode: 'eval' });
    const r = env.step(actions);
    sum += r.rewards.reduce((a, b) => a + b, 0);
  }
  return sum / (rounds * N);
}

describe('policy-gradient agents on Box and MultiDiscrete actions: learning', () => {
  it('PPO learns the Box task "reach" (greedy mean reward from about -0.3 to > -0.02)', async () => {
    const agent = makeAgent(reach);
    const before = await greedyScore(agent, reach);
    await drive(agent, new Batch(reach, new SeededRng(3)), 16 * 40);
    const after = await greedyScore(agent, reach);
    expect(before).toBeLessThan(-0.2);
    expect(after).toBeGreaterThan(-0.02);
    agent.dispose();
  }, 60_000);

  it('PPO learns the MultiDiscrete task "match" (greedy mean reward >= 1.95 of 2)', async () => {
    const agent = makeAgent(match, { entCoef: 0.01 });
    await drive(agent, new Batch(match, new SeededRng(3)), 16 * 25);
    expect(await greedyScore(agent, match)).toBeGreaterThanOrEqual(1.95);
    agent.dispose();
  }, 60_000);

  it('A2C and REINFORCE also learn "match" (greedy mean reward >= 1.9)', async () => {
    for (const algorithm of ['a2c', 'reinforce'] as const) {
      const agent = makeAgent(match, { algorithm, lr: 1e-2, numSteps: 8, reinforceEpisodes: 32, entCoef: 0.01 });
      await drive(agent, new Batch(match, new SeededRng(3)), 8 * 60);
      expect(await greedyScore(agent, match), algorithm).toBeGreaterThanOrEqual(1.9);
      agent.dispose();
    }
  }, 60_000);
});

describe('policy-gradient agents on Box and MultiDiscrete actions: contract', () => {
  it('Box: the envs get actions clipped to the bounds, the rollout keeps the unclipped sample, clipped values are counted', async () => {
    const agent = makeAgent(reach, { numSteps: 8 });
    const { envActions, metrics } = await drive(agent, new Batch(reach, new SeededRng(4)), 8);
    // std 1 at the start: about a third of the samples fall outside [-1, 1].
    expect(envActions.every((a) => a >= -1 && a <= 1)).toBe(true);
    const stored = Array.from((agent as unknown as { rollout: { actions: Float32Array } }).rollout.actions);
    const outside = stored.filter((a) => a < -1 || a > 1).length;
    expect(outside).toBeGreaterThan(5);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.clipped_actions).toBe(outside);
    agent.dispose();
  });

  it('act returns flat rows: Float32Array of K x dims (Box), Int32Array of K x parts (MultiDiscrete); greedy Box = mean', async () => {
    const box = makeAgent(reach);
    const b = await box.act(new Float32Array(N).fill(0.5), { numEnvs: N, mode: 'train' });
    expect(b.actions).toBeInstanceOf(Float32Array);
    expect(b.actions).toHaveLength(N);
    const g1 = await box.act(new Float32Array(N).fill(0.5), { numEnvs: N, mode: 'eval' });
    const g2 = await box.act(new Float32Array(N).fill(0.5), { numEnvs: N, mode: 'eval' });
    expect(Array.from(g1.actions)).toEqual(Array.from(g2.actions));
    expect(new Set(Array.from(g1.actions)).size).toBe(1);
    box.dispose();
    const md = makeAgent(match);
    const m = await md.act(new Float32Array(N * 5).fill(0), { numEnvs: N, mode: 'train' });
    expect(m.actions).toBeInstanceOf(Int32Array);
    expect(m.actions).toHaveLength(N * 2);
    for (let e = 0; e < N; e++) expect(match.actionSpace.contains(m.actions.slice(e * 2, e * 2 + 2))).toBe(true);
    // Per-part probabilities, each part summing to 1.
    expect(m.info.probs).toHaveLength(N * 5);
    expect(m.info.probs![0]! + m.info.probs![1]! + m.info.probs![2]!).toBeCloseTo(1, 5);
    expect(m.info.probs![3]! + m.info.probs![4]!).toBeCloseTo(1, 5);
    md.dispose();
  });

  it('an action space the agents cannot take is named, with the spaces they take', () => {
    const bad: Space[] = [new Box({ low: 0, high: 1, shape: [2, 2], dtype: 'float32' }), new Dict({ a: new Discrete(2) })];
    for (const actionSpace of bad) {
      let err: unknown;
      try {
        new PolicyGradientAgent({ config: {}, observationSpace: reach.observationSpace, actionSpace, numEnvs: 1, seed: 0 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SpaceMismatchError);
      expect((err as Error).message).toMatch(/^\[PolicyGradientAgent\] expected a Discrete, MultiDiscrete or float32 vector Box action space \(ppo, a2c, reinforce\), received (Box of shape \[2,2\]|Dict)/);
    }
  });

  for (const [name, task, cfg] of [
    ['ppo Box + obs/reward normalisation + separate critic', reach, { normObs: true, normReward: true, separateCritic: true }],
    ['ppo Box + lstm', reach, { lstmUnits: 8 }],
    ['a2c Box', reach, { algorithm: 'a2c' }],
    ['reinforce Box', reach, { algorithm: 'reinforce', reinforceEpisodes: 8 }],
    ['ppo MultiDiscrete + lstm', match, { lstmUnits: 8 }],
    ['reinforce MultiDiscrete', match, { algorithm: 'reinforce', reinforceEpisodes: 8 }],
  ] as Array<[string, Task, Partial<PgConfig>]>) {
    it(`${name}: tensor count is flat over acting, updates, save/load and evaluation`, async () => {
      const agent = makeAgent(task, { numSteps: 4, ...cfg });
      const env = new Batch(task, new SeededRng(5));
      await drive(agent, env, 12);
      await agent.load(await agent.save());
      const ev = await agent.act(env.obs, { numEnvs: N, mode: 'eval' });
      await agent.act(env.obs, { numEnvs: N, mode: 'eval' }, ev.state);
      const before = tf.memory().numTensors;
      const { metrics } = await drive(agent, env, 40);
      await agent.load(await agent.save());
      const ev2 = await agent.act(env.obs, { numEnvs: N, mode: 'eval' });
      await agent.act(env.obs, { numEnvs: N, mode: 'eval' }, ev2.state);
      expect(metrics.length).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
      agent.dispose();
    });
  }

  for (const [name, task, cfg] of [
    ['Box with normalisation', reach, { normObs: true, normReward: true, separateCritic: true }],
    ['MultiDiscrete with lstm', match, { lstmUnits: 8 }],
  ] as Array<[string, Task, Partial<PgConfig>]>) {
    it(`${name}: a snapshot taken mid-rollout resumes exactly like an uninterrupted run`, async () => {
      const straight = makeAgent(task, cfg, 7);
      const envA = new Batch(task, new SeededRng(8));
      const a = await drive(straight, envA, 16 * 3);
      const first = makeAgent(task, cfg, 7);
      const envB = new Batch(task, new SeededRng(8));
      const b1 = await drive(first, envB, 16 + 5);
      const snap = await first.save();
      first.dispose();
      // A fresh agent built with another seed: everything that matters must come from the snapshot.
      const resumed = makeAgent(task, cfg, 99);
      // Through JSON, as a checkpoint file stores it.
      await resumed.load({ json: JSON.parse(JSON.stringify(snap.json)), blobs: snap.blobs });
      const b2 = await drive(resumed, envB, 16 * 3 - 21);
      expect([...b1.envActions, ...b2.envActions]).toEqual(a.envActions);
      expect([...b1.metrics, ...b2.metrics]).toEqual(a.metrics);
      const wa = await straight.net.getWeights();
      const wb = await resumed.net.getWeights();
      expect(wb.map((w) => Array.from(w.data))).toEqual(wa.map((w) => Array.from(w.data)));
      straight.dispose();
      resumed.dispose();
    });
  }
});
