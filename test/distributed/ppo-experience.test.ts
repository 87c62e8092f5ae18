/**
 * The PPO side of distributed experience: segments with behaviour log-probabilities and Discrete,
 * MultiDiscrete or Box actions (encode, decode, checks of untrusted input, a fuzz run under a
 * memory cap), the learner's segment storage (env-major segments to one time-major rollout), the
 * policy's shape hash, and the agent's off-policy update (V-trace weights, leak tests).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRefused } from '../helpers/experience-refusal.js';
import { Packr } from 'msgpackr';
import * as tf from '@tensorflow/tfjs';
import { decodeExperience, encodeExperience, type ExperienceBatch, type ExperienceExpect } from '../../src/distributed/experience.js';
import { SegmentRollout } from '../../src/distributed/ppo-segments.js';
import { decodeWeights, encodeWeights, policyNetworkHash } from '../../src/distributed/run-meta.js';
import { PolicyGradientAgent } from '../../src/agents/pg/learner.js';
import { Box, Discrete, MultiDiscrete } from '../../src/envs/spaces.js';
import { InvalidConfigError } from '../../src/errors.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** 2 envs x 3 steps of a PPO run, obs of 2 floats; env 0 truncated at step 1 (final obs 77), env 1 terminated at step 0 (final 99). */
function segment(actions: Int32Array | Float32Array, numActions: number, base = 0): ExperienceBatch {
  const obs = new Float32Array(2 * 4 * 2);
  for (let e = 0; e < 2; e++) for (let t = 0; t < 4; t++) obs.fill(base + e * 10 + t, (e * 4 + t) * 2, (e * 4 + t + 1) * 2);
  return {
    header: { game: 'g', runId: 'r', netHash: 'h', obsShape: [2], obsDtype: 'float32', numActions, weightsVersion: 3, actorId: 'a1', seq: 0, numEnvs: 2, steps: 3, episodeReturns: [] },
    obs,
    actions,
    rewards: Float32Array.from([0, 1, 2, 3, 4, 5]),
    terminated: Uint8Array.from([0, 0, 0, 1, 0, 0]),
    truncated: Uint8Array.from([0, 1, 0, 0, 0, 0]),
    // Env-major then step order: env 0's truncation, then env 1's termination.
    finalObs: Float32Array.from([77, 77, 99, 99]),
    priorities: null,
    logProbs: Float32Array.from([-0.1, -0.2, -0.3, -0.4, -0.5, -0.6]),
  };
}

const base: ExperienceExpect = { game: 'g', runId: 'r', netHash: 'h', obsShape: [2], obsDtype: 'float32', numActions: 3, prioritized: false, logProbs: true, steps: 3 };
const discrete = { ...base, actions: { kind: 'discrete', n: 3 } } as ExperienceExpect;
const multi = { ...base, numActions: 5, actions: { kind: 'multi-discrete', nvec: [3, 2] } } as ExperienceExpect;
const box = { ...base, numActions: 2, actions: { kind: 'box', dims: 2 } } as ExperienceExpect;
const discreteSeg = () => segment(Int32Array.from([0, 1, 2, 2, 1, 0]), 3);
const multiSeg = () => segment(Int32Array.from([0, 1, 2, 0, 1, 1, 2, 1, 0, 0, 1, 0]), 5);
const boxSeg = () => segment(Float32Array.from([0.5, -1.5, 2, 0, 0, 0, 1, 1, -3, 0.25, 0, 9]), 2);

function tampered(b: ExperienceBatch, edit: (doc: any) => void): Uint8Array {
  const doc = packr.unpack(encodeExperience(b));
  edit(doc);
  return packr.pack(doc);
}

describe('PPO segments on the wire', () => {
  it('carry actions of each space and the behaviour log-probabilities with explicit dtypes and shapes', () => {
    for (const [seg, exp, dtype, shape] of [
      [discreteSeg(), discrete, 'int32', [2, 3]],
      [multiSeg(), multi, 'int32', [2, 3, 2]],
      [boxSeg(), box, 'float32', [2, 3, 2]],
    ] as const) {
      const raw = encodeExperience(seg);
      const doc = packr.unpack(raw);
      expect(doc.arrays.actions.dtype).toBe(dtype);
      expect(doc.arrays.actions.shape).toEqual(shape);
      expect(doc.arrays.logProbs).toMatchObject({ dtype: 'float32', shape: [2, 3] });
      const b = decodeExperience(raw, exp, 'e');
      expect(Array.from(b.actions)).toEqual(Array.from(seg.actions));
      expect(b.actions.constructor).toBe(seg.actions.constructor);
      expect(Array.from(b.logProbs!)).toEqual(Array.from(seg.logProbs!));
    }
  });

  const bad: Array<[string, Uint8Array, ExperienceExpect, RegExp]> = [
    ['no log-probabilities', tampered(discreteSeg(), (d) => delete d.arrays.logProbs), discrete, /behaviour log-probabilities \(a ppo run/],
    ['a NaN log-probability', tampered(discreteSeg(), (d) => (d.arrays.logProbs.data = new Uint8Array(Float32Array.from([0, NaN, 0, 0, 0, 0]).buffer))), discrete, /finite behaviour log-probabilities/],
    ['log-probabilities of another shape', tampered(discreteSeg(), (d) => (d.arrays.logProbs.shape = [3, 2])), discrete, /array logProbs of shape \[2,3\]/],
    ['log-probabilities of another dtype', tampered(discreteSeg(), (d) => (d.arrays.logProbs.dtype = 'uint8')), discrete, /array logProbs of dtype float32/],
    ['log-probability bytes short of the shape', tampered(discreteSeg(), (d) => (d.arrays.logProbs.data = d.arrays.logProbs.data.subarray(0, 8))), discrete, /array logProbs of 24 bytes, received 8 bytes/],
    ['a huge declared log-probability shape', tampered(discreteSeg(), (d) => (d.arrays.logProbs.shape = [2 ** 40, 2 ** 40])), discrete, /array logProbs of shape/],
    ['a segment of another length', encodeExperience({ ...discreteSeg(), header: { ...discreteSeg().header, steps: 2 }, obs: new Float32Array(12), actions: new Int32Array(4), rewards: new Float32Array(4), terminated: new Uint8Array(4), truncated: new Uint8Array(4), finalObs: new Float32Array(0), logProbs: new Float32Array(4) }), discrete, /segments of 3 steps \(the run's numSteps\), received 2 steps/],
    ['a MultiDiscrete part out of range', tampered(multiSeg(), (d) => (d.arrays.actions.data = new Uint8Array(Int32Array.from([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).buffer))), multi, /action part 1 in \[0, 2\), received 2 at 0/],
    ['MultiDiscrete actions of one index per step', encodeExperience(segment(Int32Array.from([0, 1, 2, 2, 1, 0]), 5)), multi, /array actions of shape \[2,3,2\]/],
    ['Box actions as integers', encodeExperience({ ...boxSeg(), actions: new Int32Array(12) }), box, /array actions of dtype float32/],
    ['a NaN Box action', encodeExperience({ ...boxSeg(), actions: Float32Array.from([0, 0, 0, NaN, 0, 0, 0, 0, 0, 0, 0, 0]) }), box, /finite Box actions, received another value at 1/],
  ];
  for (const [what, raw, exp, message] of bad) {
    it(`refuse ${what} in one line`, () => {
      expectRefused(raw, exp, message);
    });
  }

  it('fuzz: hostile segments under a 96 MB heap cap end in ExperienceError, never out of memory', () => {
    const child = resolve(__dirname, 'experience-fuzz-child.mjs');
    const r = spawnSync(process.execPath, ['--max-old-space-size=96', child], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const done = JSON.parse(/FUZZ-DONE (.*)/.exec(r.stdout)![1]!) as { inputs: number; refused: number; accepted: number; other: string[] };
    expect(done.other).toEqual([]);
    expect(done.inputs).toBeGreaterThanOrEqual(2000);
    // Flips inside observation bytes decode (any byte is a valid cell); every truncation (200 per case) and most declared shapes do not.
    expect(done.refused).toBeGreaterThan(400);
    expect(done.refused + done.accepted).toBe(done.inputs);
  }, 150_000);
});

describe('the learner\'s segment storage', () => {
  it('lays env-major segments out time-major, bootstraps truncations from their final observation and keeps what is left over', () => {
    const store = new SegmentRollout({ numSteps: 3, numEnvs: 3, obsSize: 2, actionWidth: 2 });
    const a = decodeExperience(encodeExperience(multiSeg()), multi, 'a');
    const b = decodeExperience(encodeExperience(segment(Int32Array.from([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]), 5, 100)), multi, 'b');
    const c = decodeExperience(encodeExperience(segment(new Int32Array(12), 5, 200)), multi, 'c');
    store.add(a);
    expect(store.ready()).toBe(false);
    store.add(b);
    store.add(c);
    expect(store.ready()).toBe(true);
    // 3 columns wanted: segments a and b make 4, the nearest whole number of segments above it.
    const r = store.take();
    expect(store.size).toEqual({ segments: 1, columns: 2 });
    expect(store.ready()).toBe(false);
    expect([r.numSteps, r.numEnvs]).toEqual([3, 4]);
    // Row t * 4 + c: columns a0, a1, b0, b1; observation values name env and step (base + 10 e + t).
    expect(Array.from(r.obs.filter((_, i) => i % 2 === 0))).toEqual([0, 10, 100, 110, 1, 11, 101, 111, 2, 12, 102, 112]);
    expect(Array.from(r.lastObs.filter((_, i) => i % 2 === 0))).toEqual([3, 13, 103, 113]);
    // a's actions per (e, t) pairs: e0 [0,1] [2,0] [1,1]; e1 [2,1] [0,0] [1,0].
    expect(Array.from(r.actions.subarray(0, 8))).toEqual([0, 1, 2, 1, 1, 0, 1, 0]);
    expect(Array.from(r.behaviourLogProbs.subarray(0, 4))).toEqual([-0.1, -0.4, -0.1, -0.4].map(Math.fround));
    expect(Array.from(r.rewards.subarray(0, 4))).toEqual([0, 3, 0, 3]);
    expect(Array.from(r.terminated)).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Only truncations bootstrap: env 0's step 1 in both segments, with final observation 77.
    expect(Array.from(r.truncRows)).toEqual([4, 6]);
    expect(Array.from(r.truncObs)).toEqual([77, 77, 77, 77]);
  });
});

describe('the PPO policy across processes', () => {
  const obsSpace = new Box({ low: -1, high: 1, shape: [4], dtype: 'float32' });
  const make = (seed: number, config: Record<string, unknown> = {}, action = new Discrete(3) as Discrete | MultiDiscrete) => new PolicyGradientAgent({ config: { algorithm: 'ppo', encoder: 'mlp', mlpHidden: [16], numSteps: 4, epochs: 2, minibatches: 2, ...config }, observationSpace: obsSpace, actionSpace: action, numEnvs: 2, seed });

  it('hashes the network shape, not its seed or learning settings', () => {
    const [a, b, c, d] = [make(1), make(2, { lr: 0.1 }), make(1, { mlpHidden: [8] }), make(1, {}, new MultiDiscrete([3]))];
    try {
      expect(policyNetworkHash(a)).toBe(policyNetworkHash(b));
      expect(policyNetworkHash(c)).not.toBe(policyNetworkHash(a));
      expect(policyNetworkHash(d)).not.toBe(policyNetworkHash(a));
    } finally {
      for (const x of [a, b, c, d]) x.dispose();
    }
  });

  it('an actor with the learner\'s weights acts on-policy: V-trace weights are all 1, and acting and learning leave no tensor behind', async () => {
    const learner = make(1);
    const actor = make(2);
    try {
      const weights = await learner.net.getWeights();
      const shapes = weights.map((w) => w.shape);
      actor.net.setWeights(decodeWeights(encodeWeights(weights), shapes, 'k').map((data, i) => ({ shape: shapes[i]!, data })));
      const obsAt = (t: number) => Float32Array.from({ length: 8 }, (_, i) => Math.sin(t * 8 + i));
      const collect = async () => {
        const T = 4;
        const N = 2;
        const obs = new Float32Array(T * N * 4);
        const actions = new Int32Array(T * N);
        const logProbs = new Float32Array(T * N);
        for (let t = 0; t < T; t++) {
          const o = obsAt(t);
          const s = await actor.behaviourStep(o, N);
          obs.set(o, t * N * 4);
          actions.set(s.actions, t * N);
          logProbs.set(s.logProbs, t * N);
        }
        return { numSteps: T, numEnvs: N, obs, lastObs: obsAt(T), actions, behaviourLogProbs: logProbs, rewards: Float32Array.from([0, 1, 0, 0, 1, 0, 0, 1]), terminated: Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 0]), truncated: Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 0]), truncRows: Int32Array.from([2]), truncObs: obsAt(9).subarray(0, 4) };
      };
      const first = await learner.learnOffPolicy(await collect(), { rhoBar: 1, cBar: 1 });
      expect(first!.vtrace_rho_mean).toBeCloseTo(1, 5);
      expect(first!.vtrace_rho_truncated).toBe(0);
      // The learner moved on; the actor's old weights now make the data off-policy.
      const second = await learner.learnOffPolicy(await collect(), { rhoBar: 1, cBar: 1 });
      expect(second!.vtrace_rho_mean).toBeLessThan(1);
      const before = tf.memory().numTensors;
      await actor.behaviourStep(obsAt(0), 2);
      await learner.learnOffPolicy(await collect(), { rhoBar: 1, cBar: 1 });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      learner.dispose();
      actor.dispose();
    }
  });

  it('refuses what cannot be distributed in one line', async () => {
    const lstm = make(1, { lstmUnits: 8 });
    try {
      await expect(lstm.behaviourStep(new Float32Array(8), 2)).rejects.toThrow(InvalidConfigError);
      await expect(lstm.behaviourStep(new Float32Array(8), 2)).rejects.toThrow(/^\[PolicyGradientAgent\.behaviourStep\] expected a feed-forward ppo policy .*, received a recurrent policy \(lstmUnits > 0\); fix: /);
    } finally {
      lstm.dispose();
    }
  });
});
