/**
 * The experience batches actors push (encode, decode, checks of untrusted input), the Ape-X
 * initial priorities against hand-computed values, and how a learner stores a segment.
 */
import { describe, expect, it } from 'vitest';
import { expectRefused } from '../helpers/experience-refusal.js';
import { Packr } from 'msgpackr';
import { decodeExperience, encodeExperience, MAX_BATCH_BYTES, type ExperienceBatch, type ExperienceExpect } from '../../src/distributed/experience.js';
import { decodeWeights, encodeWeights, networkHash, parseRunMeta, checkJoin, type RunMeta } from '../../src/distributed/run-meta.js';
import { segmentPriorities } from '../../src/agents/dqn/td.js';
import { ReplayBuffer } from '../../src/replay/buffer/replay-buffer.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { DQN_PRESETS } from '../../src/agents/dqn/config.js';
import { SpaceMismatchError, ConnectionError } from '../../src/errors.js';

const expect1: ExperienceExpect = { game: 'g', runId: 'r', netHash: 'h', obsShape: [2], obsDtype: 'float32', numActions: 3, prioritized: false };

/** 2 envs x 2 steps; env 1's episode ends at step 0. */
function batch(): ExperienceBatch {
  return {
    header: { game: 'g', runId: 'r', netHash: 'h', obsShape: [2], obsDtype: 'float32', numActions: 3, weightsVersion: 4, actorId: 'a1', seq: 0, numEnvs: 2, steps: 2, episodeReturns: [1.5] },
    obs: Float32Array.from([0, 0, 1, 1, 2, 2, 10, 10, 11, 11, 12, 12]),
    actions: Int32Array.from([0, 1, 2, 0]),
    rewards: Float32Array.from([0.5, 1, 1.5, 0]),
    terminated: Uint8Array.from([0, 0, 1, 0]),
    truncated: Uint8Array.from([0, 0, 0, 0]),
    finalObs: Float32Array.from([99, 99]),
    priorities: null,
  };
}

const packr = new Packr({ useRecords: false, moreTypes: false });
/** The batch's wire document, changed by `edit`, encoded again. */
function tampered(edit: (doc: any) => void): Uint8Array {
  const doc = packr.unpack(encodeExperience(batch()));
  edit(doc);
  return packr.pack(doc);
}

describe('experience batches', () => {
  it('round-trip with explicit dtypes and shapes', () => {
    const raw = encodeExperience(batch());
    const doc = packr.unpack(raw);
    expect(doc.arrays.obs.dtype).toBe('float32');
    expect(doc.arrays.obs.shape).toEqual([2, 3, 2]);
    expect(doc.arrays.finalObs.shape).toEqual([1, 2]);
    const b = decodeExperience(raw, expect1, 'entry 1-0');
    expect(Array.from(b.obs)).toEqual(Array.from(batch().obs));
    expect(Array.from(b.actions)).toEqual([0, 1, 2, 0]);
    expect(Array.from(b.finalObs)).toEqual([99, 99]);
    expect(b.header.episodeReturns).toEqual([1.5]);
    expect(b.header.actorId).toBe('a1');
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['not msgpack', Uint8Array.from([0xc1, 0xc1]), /a msgpack document/],
    ['another format', packr.pack({ format: 'x' }), /format npcforge-experience/],
    ['another version', tampered((d) => (d.version = 2)), /version 1/],
    ['another game', tampered((d) => (d.header.game = 'other')), /game g, received game "other"/],
    ['another network shape', tampered((d) => (d.header.netHash = 'zz')), /network shape h/],
    ['another run', tampered((d) => (d.header.runId = 'r2')), /run r,/],
    ['an array of another dtype', tampered((d) => (d.arrays.actions.dtype = 'float32')), /array actions of dtype int32/],
    ['a shape that disagrees with the header', tampered((d) => (d.arrays.obs.shape = [2, 2, 2])), /array obs of shape/],
    ['bytes that disagree with the shape', tampered((d) => (d.arrays.rewards.data = d.arrays.rewards.data.subarray(0, 12))), /array rewards of 16 bytes, received 12 bytes/],
    ['a huge declared size', tampered((d) => ((d.header.numEnvs = 1e6), (d.header.steps = 1e6))), /header numEnvs|at most 65536 transitions/],
    ['an action out of range', tampered((d) => (d.arrays.actions.data = new Uint8Array(Int32Array.from([0, 1, 3, 0]).buffer))), /actions in \[0, 3\), received action 3/],
    ['a NaN reward', tampered((d) => (d.arrays.rewards.data = new Uint8Array(Float32Array.from([0, NaN, 0, 0]).buffer))), /finite rewards/],
    ['a missing final observation', tampered((d) => (d.arrays.finalObs = { dtype: 'float32', shape: [0, 2], data: new Uint8Array(0) })), /array finalObs of shape/],
    ['more returns than ended episodes', tampered((d) => (d.header.episodeReturns = [1, 2])), /at most 1 episode returns/],
    ['a bad actor id', tampered((d) => (d.header.actorId = '../x')), /actor id/],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuse ${what} with one line naming the entry`, () => {
      expectRefused(raw, expect1, message);
    });
  }

  it('refuse an oversized entry before decoding it', () => {
    const big = { byteLength: MAX_BATCH_BYTES + 1 } as Uint8Array;
    expect(() => decodeExperience(big, expect1, 'entry 1-0')).toThrow(/at most 67108864 bytes/);
  });

  it('need priorities when the run replays by priority', () => {
    expect(() => decodeExperience(encodeExperience(batch()), { ...expect1, prioritized: true }, 'e')).toThrow(/initial priorities/);
    const withP = { ...batch(), priorities: Float32Array.from([1, 2, 3, 4]) };
    expect(Array.from(decodeExperience(encodeExperience(withP), { ...expect1, prioritized: true }, 'e').priorities!)).toEqual([1, 2, 3, 4]);
    const negative = { ...batch(), priorities: Float32Array.from([1, -2, 3, 4]) };
    expect(() => decodeExperience(encodeExperience(negative), { ...expect1, prioritized: true }, 'e')).toThrow(/non-negative priorities/);
  });
});

describe('Ape-X initial priorities', () => {
  it('fold n steps inside the segment and bootstrap as the replay memory does', () => {
    // 1 env, 3 steps, 2 actions, gamma 0.5, nStep 2. Q rows of obs 0..3, then the final obs of the
    // episode truncated at step 1.
    const q = [1, 2, 3, 4, 5, 6, 7, 8];
    const p = segmentPriorities({ numEnvs: 1, steps: 3, numActions: 2, q, qFinal: [10, 20], actions: [0, 1, 1], rewards: [1, 2, 3], terminated: [0, 0, 0], truncated: [0, 1, 0], gamma: 0.5, nStep: 2 });
    // t=0: 1 + 0.5*2 + 0.25*max(final)=20 -> 7; |7 - Q(s0,a0)=1| = 6
    // t=1: 2 + 0.5*20 = 12; |12 - Q(s1,a1)=4| = 8
    // t=2: segment end: 3 + 0.5*max(Q(s3))=8 -> 7; |7 - Q(s2,a1)=6| = 1
    expect(Array.from(p)).toEqual([6, 8, 1]);
    const term = segmentPriorities({ numEnvs: 1, steps: 1, numActions: 2, q: [1, 2, 3, 4], qFinal: [9, 9], actions: [1], rewards: [1], terminated: [1], truncated: [0], gamma: 0.5, nStep: 3 });
    expect(Array.from(term)).toEqual([1]);
  });
});

describe('a collected segment in the replay memory', () => {
  it('bootstraps its last transition from the observation after it and never samples across the cut', () => {
    const buf = new ReplayBuffer({ capacity: 64, numStreams: 1, obsShape: [1], obsDtype: 'float32', obsHigh: 100, bitPack: false, nStep: 3, gamma: 0.5 });
    const seg = (base: number) => ({ stream: 0, steps: 2, obs: Float32Array.from([base, base + 1, base + 2]), offset: 0, actions: [0, 1], rewards: [1, 1], terminated: [0, 0], truncated: [0, 0], at: 0, finalObs: () => [] as number[] });
    buf.addSegment(seg(10));
    buf.addSegment(seg(20));
    const seen = new Map<number, { next: number; ret: number; disc: number }>();
    const rng = new SeededRng(1);
    for (let i = 0; i < 50; i++) {
      const s = buf.sample(2, rng);
      for (let b = 0; b < 2; b++) seen.set(s.obs[b]!, { next: s.nextObs[b]!, ret: s.returns[b]!, disc: s.discounts[b]! });
    }
    // 10 -> folds 2 steps to 12 (the segment's bootstrap observation), 11 -> 12; 20, 21 -> 22.
    expect(seen.get(10)).toEqual({ next: 12, ret: 1.5, disc: 0.25 });
    expect(seen.get(11)).toEqual({ next: 12, ret: 1, disc: 0.5 });
    expect(seen.get(21)).toEqual({ next: 22, ret: 1, disc: 0.5 });
    expect([...seen.keys()].sort()).toEqual([10, 11, 20, 21]);
  });

  it('takes the actor priorities instead of the maximum', () => {
    const buf = new ReplayBuffer({ capacity: 64, numStreams: 1, obsShape: [1], obsDtype: 'float32', obsHigh: 100, bitPack: false, prioritized: { alpha: 1, betaStart: 1, betaSteps: 1, epsilon: 1e-6 } });
    buf.addSegment({ stream: 0, steps: 3, obs: Float32Array.from([0, 1, 2, 3]), offset: 0, actions: [0, 0, 0], rewards: [0, 0, 0], terminated: [0, 0, 0], truncated: [0, 0, 0], at: 0, finalObs: () => [], priorities: [0, 0, 10] });
    const rng = new SeededRng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 40; i++) counts[buf.sample(1, rng).obs[0]!]!++;
    // Priorities 1e-6, 1e-6, 10: almost every draw is the third transition.
    expect(counts[2]).toBeGreaterThanOrEqual(39);
  });
});

describe('run meta and weights', () => {
  const obs = new Box({ low: 0, high: 1, shape: [10, 10, 4], dtype: 'uint8' });
  const meta = (over: Partial<RunMeta>): RunMeta => ({ format: 'npcforge-distributed-run', version: 1, runId: 'r', game: 'minatar/breakout', agent: 'dqn', envOptions: {}, observationSpace: obs.toJSON(), actionSpace: new Discrete(3).toJSON(), agentConfig: {}, netHash: networkHash(DQN_PRESETS.minatar!, obs, new Discrete(3)), seed: 0, state: 'running', ...over });

  it('hash the network shape, not its seed', () => {
    const h = networkHash(DQN_PRESETS.minatar!, obs, new Discrete(3));
    expect(networkHash({ ...DQN_PRESETS.minatar!, dueling: true }, obs, new Discrete(3))).not.toBe(h);
    expect(networkHash(DQN_PRESETS.minatar!, obs, new Discrete(4))).not.toBe(h);
  });

  it('refuse to join another game or network shape in one line', () => {
    const mine = { game: 'minatar/breakout', netHash: meta({}).netHash, observationSpace: obs.toJSON(), actionSpace: new Discrete(3).toJSON() };
    expect(() => checkJoin(meta({}), mine, 'actor', 'redis://h:1/x')).not.toThrow();
    expect(() => checkJoin(meta({ game: 'catch' }), mine, 'actor', 'redis://h:1/x')).toThrow(SpaceMismatchError);
    expect(() => checkJoin(meta({ netHash: 'other' }), mine, 'actor', 'redis://h:1/x')).toThrow(/\[actor\] expected network shape .*, received network shape other at redis:\/\/h:1\/x/);
    expect(() => parseRunMeta('{"format":"x"}', 'k')).toThrow(ConnectionError);
    expect(parseRunMeta(JSON.stringify(meta({})), 'k')!.runId).toBe('r');
  });

  it('weights round-trip and are checked against the reader\'s shapes', () => {
    const raw = encodeWeights([{ shape: [2, 1], data: Float32Array.from([1, 2]) }, { shape: [1], data: Float32Array.from([3]) }]);
    expect(decodeWeights(raw, [[2, 1], [1]], 'k').map((a) => Array.from(a))).toEqual([[1, 2], [3]]);
    expect(() => decodeWeights(raw, [[1, 2], [1]], 'k')).toThrow(/tensor 0 of another dtype or shape at k/);
    expect(() => decodeWeights(raw, [[2, 1]], 'k')).toThrow(SpaceMismatchError);
  });
});

describe('a checked batch in the learner\'s replay memory', () => {
  it('keeps each env\'s final observation with its ended episode and the next episode apart', async () => {
    const { DqnAgent } = await import('../../src/agents/dqn/dqn-agent.js');
    const { addBatch } = await import('../../src/distributed/learner.js');
    const obsSpace = new Box({ low: 0, high: 100, shape: [2], dtype: 'float32' });
    const agent = new DqnAgent({ config: { ...DQN_PRESETS.classic!, bufferSize: 64, batchSize: 2 }, observationSpace: obsSpace, actionSpace: new Discrete(3), numEnvs: 1, seed: 0 });
    try {
      // Env 0: 0 -> 1 -> 2 (continues). Env 1: 10 ends (final 99), then 11 -> 12.
      expect(addBatch(agent, decodeExperience(encodeExperience(batch()), expect1, 'e'))).toBe(4);
      const seen = new Map<number, { next: number; terminated: number; action: number }>();
      const rng = new SeededRng(2);
      for (let i = 0; i < 60; i++) {
        const s = agent.replay.sample(2, rng);
        for (let b = 0; b < 2; b++) seen.set(s.obs[2 * b]!, { next: s.nextObs[2 * b]!, terminated: s.terminated[b]!, action: s.actions[b]! });
      }
      expect(Object.fromEntries(seen)).toEqual({
        0: { next: 1, terminated: 0, action: 0 },
        1: { next: 2, terminated: 0, action: 1 },
        10: { next: 99, terminated: 1, action: 2 },
        11: { next: 12, terminated: 0, action: 0 },
      });
    } finally {
      agent.dispose();
    }
  });
});

describe('weights an actor loads', () => {
  it('arrive as the learner sent them and leave no tensor behind (leak test)', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { DqnAgent } = await import('../../src/agents/dqn/dqn-agent.js');
    const { setModelWeights } = await import('../../src/distributed/actor.js');
    const obsSpace = new Box({ low: 0, high: 1, shape: [4], dtype: 'float32' });
    const make = (seed: number) => new DqnAgent({ config: { ...DQN_PRESETS.classic!, bufferSize: 64 }, observationSpace: obsSpace, actionSpace: new Discrete(2), numEnvs: 1, seed });
    const learner = make(1);
    const actor = make(2);
    try {
      const tensors = await Promise.all(learner.online.weights.map(async (w) => ({ shape: [...w.shape] as number[], data: (await w.read().data()) as Float32Array })));
      const shapes = tensors.map((t) => t.shape);
      const load = () => setModelWeights(actor.online, decodeWeights(encodeWeights(tensors), shapes, 'k'));
      load();
      const before = tf.memory().numTensors;
      load();
      load();
      expect(tf.memory().numTensors).toBe(before);
      const obs = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
      expect(Array.from(await actor.qValues(obs, 1))).toEqual(Array.from(await learner.qValues(obs, 1)));
    } finally {
      learner.dispose();
      actor.dispose();
    }
  });
});
