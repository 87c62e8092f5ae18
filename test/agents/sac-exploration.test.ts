/**
 * SAC's colored (pink) exploration noise: the power-law sequences against hand-computed values and
 * their statistics, one sequence per env and episode, temporally correlated training actions,
 * exact save/load with the noise state, flat tensors, the config, and the seeded learning test of
 * the plain `npcforge train mountain-car-continuous` (white noise never reaches its goal).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import type { ObsArray } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { initBackend } from '../../src/networks/backend.js';
import { CheckpointError, InvalidConfigError } from '../../src/errors.js';
import { SAC_PRESETS, resolveSacConfig, type SacConfig } from '../../src/agents/sac/config.js';
import { ColoredNoise, powerLawSequence } from '../../src/agents/sac/noise.js';
import { SacAgent, squashLogStd } from '../../src/agents/sac/sac-agent.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

/** A fixed list of "normal" draws, for hand-computed sequences. */
function scripted(values: number[]): { normal(): number } {
  let i = 0;
  return { normal: () => values[i++]! };
}

function lag1(x: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]! / x.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    den += (x[i]! - mean) ** 2;
    if (i > 0) num += (x[i]! - mean) * (x[i - 1]! - mean);
  }
  return num / den;
}

describe('powerLawSequence', () => {
  it('white, length 4: the inverse real DFT of the scaled coefficients over their exact deviation (hand-computed)', () => {
    // Draws per frequency k = 0, 1, 2: (re, im) = (1, unused), (0.5, -0.25), (2, unused); beta 0: every scale 1.
    // re0 = sqrt2 (DC, real), re2 = 2 sqrt2 (Nyquist, real); variance (2 + 4 + 2) / 16 -> sigma = 1/sqrt2.
    // x[n] = (re0 + 2 (re1 cos(pi n/2) - im1 sin(pi n/2)) + re2 (-1)^n) / 4 * sqrt2.
    const out = new Float32Array(4);
    powerLawSequence({ beta: 0, length: 4, rng: scripted([1, 9, 0.5, -0.25, 2, 9]), out });
    const want = [(6 + Math.SQRT2) / 4, (-2 + Math.SQRT1_2) / 4, (6 - Math.SQRT2) / 4, (-2 - Math.SQRT1_2) / 4];
    want.forEach((w, i) => expect(out[i]).toBeCloseTo(w, 6));
  });

  it('writes with an offset and a stride, and a given seed gives the same sequence', () => {
    const a = new Float32Array(10);
    const b = new Float32Array(20);
    powerLawSequence({ beta: 1, length: 10, rng: new SeededRng(3), out: a });
    powerLawSequence({ beta: 1, length: 10, rng: new SeededRng(3), out: b, offset: 1, stride: 2 });
    for (let i = 0; i < 10; i++) {
      expect(b[1 + 2 * i]).toBe(a[i]);
      expect(b[2 * i]).toBe(0);
    }
  });

  it('unit variance for every beta; white is uncorrelated in time, pink strongly correlated (200 sequences of 1000)', () => {
    const rng = new SeededRng(11);
    const stats = (beta: number): { variance: number; lag1: number } => {
      let sq = 0;
      let corr = 0;
      const seq = new Float32Array(1000);
      for (let s = 0; s < 200; s++) {
        powerLawSequence({ beta, length: 1000, rng, out: seq });
        for (const v of seq) sq += v * v;
        corr += lag1(seq) / 200;
      }
      return { variance: sq / 200_000, lag1: corr };
    };
    const white = stats(0);
    const pink = stats(1);
    const red = stats(2);
    // Per-value variance is 1 exactly in expectation; pink/red sequences wander, so their sample variance scatters more.
    expect(Math.abs(white.variance - 1)).toBeLessThan(0.02);
    expect(Math.abs(pink.variance - 1)).toBeLessThan(0.1);
    expect(Math.abs(red.variance - 1)).toBeLessThan(0.25);
    expect(Math.abs(white.lag1)).toBeLessThan(0.02);
    expect(pink.lag1).toBeGreaterThan(0.5);
    expect(red.lag1).toBeGreaterThan(pink.lag1);
  });
});

describe('ColoredNoise', () => {
  it('hands out one sequence per env in env order, and a new one after an episode ends', () => {
    const noise = new ColoredNoise(1, 5, 2, new SeededRng(4));
    noise.ensureEnvs(2);
    // The same draws by hand: env 0's two dimensions, then env 1's, then env 1's next sequence.
    const rng = new SeededRng(4);
    const seqs = [0, 1, 2].map(() => {
      const s = new Float32Array(10);
      for (let d = 0; d < 2; d++) powerLawSequence({ beta: 1, length: 5, rng, out: s, offset: d, stride: 2 });
      return s;
    });
    const out = new Float32Array(2);
    for (let t = 0; t < 3; t++) {
      noise.next(0, out, 0);
      expect(Array.from(out)).toEqual(Array.from(seqs[0]!.subarray(2 * t, 2 * t + 2)));
      noise.next(1, out, 0);
      expect(Array.from(out)).toEqual(Array.from(seqs[1]!.subarray(2 * t, 2 * t + 2)));
    }
    noise.episodeEnded(1);
    noise.next(1, out, 0);
    expect(Array.from(out)).toEqual(Array.from(seqs[2]!.subarray(0, 2)));
    // Env 0 continues its sequence.
    noise.next(0, out, 0);
    expect(Array.from(out)).toEqual(Array.from(seqs[0]!.subarray(6, 8)));
  });

  it('state round-trips exactly; bad positions or a blob of the wrong size are refused, naming them', () => {
    const a = new ColoredNoise(1, 8, 1, new SeededRng(1));
    a.ensureEnvs(3);
    const out = new Float32Array(1);
    for (let i = 0; i < 5; i++) a.next(i % 3, out, 0);
    const { json, bytes } = a.getState();
    const b = new ColoredNoise(1, 8, 1, new SeededRng(99));
    b.setState(JSON.parse(JSON.stringify(json)), bytes.slice());
    const outB = new Float32Array(1);
    for (let i = 0; i < 6; i++) {
      a.next(i % 3, out, 0);
      b.next(i % 3, outB, 0);
      expect(outB[0]).toBe(out[0]);
    }
    expect(() => b.setState({ numEnvs: 3, positions: [0, 9, 0] }, bytes)).toThrow(CheckpointError);
    expect(() => b.setState(undefined, bytes)).toThrow(/\[sac\.load noise\] expected the saved noise of a colored-exploration run, received noise none \(want numEnvs and one position in \[0, 8\] per env\); fix: /);
    expect(() => b.setState(json, bytes.subarray(0, 8))).toThrow(/received blob noise\.bin of 8 bytes \(want 96 bytes: 3 envs x 8 steps x 1 dims\)/);
    expect(b.problem(json, bytes)).toBeNull();
  });
});

const tiny: Partial<SacConfig> = { hidden: [16, 16], batchSize: 8, learningStarts: 20, bufferSize: 1000, exploration: { kind: 'colored', beta: 1, length: 200 } };

function config(over: Partial<SacConfig> = {}): SacConfig {
  return resolveSacConfig(SAC_PRESETS.default!, { ...tiny, ...over } as Record<string, unknown>);
}

function setup(numEnvs: number, over: Partial<SacConfig> = {}, seed = 3) {
  const vec = new SyncVectorEnv(() => make('pendulum') as never, numEnvs);
  const agent = new SacAgent({ config: config(over), observationSpace: vec.singleObservationSpace, actionSpace: vec.singleActionSpace, seed });
  return { vec, agent };
}

/** Steps the agent; returns the last observations, the actions and the observations they were taken on. */
async function drive(agent: SacAgent, vec: SyncVectorEnv, obs: ObsArray, steps: number, onAct?: (obs: ObsArray, actions: Float32Array) => void): Promise<{ obs: ObsArray; actions: number[] }> {
  const taken: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { actions } = await agent.act(obs, { numEnvs: vec.numEnvs, mode: 'train' });
    onAct?.(obs, actions as Float32Array);
    taken.push(...actions);
    const r = vec.stepSync(actions);
    await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
    obs = r.obs;
  }
  return { obs, actions: taken };
}

async function weights(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.weights.map(async (w) => (await w.read().data()) as Float32Array));
}

describe('SacAgent with colored exploration', () => {
  it('the noise of the training samples is correlated in time (pink) where white noise is not, before and after learningStarts', async () => {
    // eps = (atanh(a / 2) - mean) / std from the actor's heads at the moment of acting.
    const noiseOf = async (exploration: SacConfig['exploration']): Promise<{ warmup: number[]; policy: number[] }> => {
      const { vec, agent } = setup(1, { exploration, learningStarts: 150 }, 5);
      const warmup: number[] = [];
      const policy: number[] = [];
      await drive(agent, vec, (await vec.reset({ seed: 1 })).obs, 300, (obs, actions) => {
        if (agent.envSteps < 150) {
          // Before learningStarts: white = uniform actions, colored = tanh(eps) scaled (std 1).
          warmup.push(Math.atanh(Math.min(0.999999, Math.max(-0.999999, actions[0]! / 2))));
          return;
        }
        const [mean, std] = tf.tidy(() => {
          const out = agent.actor.predict(tf.tensor2d(Array.from(obs), [1, 3])) as tf.Tensor2D;
          return [out.slice([0, 0], [1, 1]).dataSync()[0]!, Math.exp(squashLogStd(out.slice([0, 1], [1, 1])).dataSync()[0]!)];
        });
        policy.push((Math.atanh(Math.min(0.999999, Math.max(-0.999999, actions[0]! / 2))) - mean) / std);
      });
      agent.dispose();
      return { warmup, policy };
    };
    const pink = await noiseOf({ kind: 'colored', beta: 1, length: 200 });
    const white = await noiseOf({ kind: 'white' });
    expect(lag1(pink.warmup)).toBeGreaterThan(0.5);
    expect(lag1(pink.policy)).toBeGreaterThan(0.5);
    expect(Math.abs(lag1(white.warmup))).toBeLessThan(0.25);
    expect(Math.abs(lag1(white.policy))).toBeLessThan(0.25);
  });

  it('greedy actions ignore the noise: tanh(mean) scaled, the same twice', async () => {
    const { vec, agent } = setup(2);
    const { obs } = await drive(agent, vec, (await vec.reset({ seed: 2 })).obs, 30);
    const g1 = await agent.act(obs, { numEnvs: 2, mode: 'eval' });
    const g2 = await agent.act(obs, { numEnvs: 2, mode: 'eval' });
    expect(Array.from(g1.actions)).toEqual(Array.from(g2.actions));
    const mean = tf.tidy(() => Array.from((agent.actor.predict(tf.tensor2d(Array.from(obs), [2, 3])) as tf.Tensor).slice([0, 0], [2, 1]).dataSync()));
    mean.forEach((m, i) => expect(g1.actions[i]).toBeCloseTo(2 * Math.tanh(m), 5));
    agent.dispose();
  });

  it('keeps tf.memory().numTensors flat over 2,000 updates, acting and save/load', async () => {
    const { vec, agent } = setup(2);
    let { obs } = await drive(agent, vec, (await vec.reset({ seed: 4 })).obs, 20);
    const count = tf.memory().numTensors;
    ({ obs } = await drive(agent, vec, obs, 1000));
    for (let i = 0; i < 100; i++) await agent.act(obs, { numEnvs: 2, mode: 'eval' });
    expect(agent.updates).toBeGreaterThanOrEqual(2000);
    await agent.load(await agent.save({ includeReplay: true }));
    expect(tf.memory().numTensors).toBe(count);
    agent.dispose();
  }, 120_000);

  it('save/load carries the noise (noise.bin + positions): a resumed agent continues exactly, across episode ends', async () => {
    const a = setup(2, {}, 5);
    const b = setup(2, {}, 5);
    let obsA = (await a.vec.reset({ seed: 7 })).obs;
    let obsB = (await b.vec.reset({ seed: 7 })).obs;
    // 150 steps: past learningStarts, inside the first 200-step episode (the resumed part crosses its end).
    for (let i = 0; i < 150; i++) {
      const { actions } = await a.agent.act(obsA, { numEnvs: 2, mode: 'train' });
      const rA = a.vec.stepSync(actions);
      await a.agent.observe({ obs: obsA, actions, rewards: rA.rewards, terminated: rA.terminated, truncated: rA.truncated, nextObs: rA.obs, finalObs: rA.infos.map((x) => x.finalObs as ObsArray | undefined) });
      obsB = b.vec.stepSync(actions).obs;
      obsA = rA.obs;
    }
    const snap = await a.agent.save({ includeReplay: true });
    expect(snap.blobs['noise.bin']!.byteLength).toBe(2 * 200 * 4);
    expect((snap.json as { state: { noise?: { positions: number[] } } }).state.noise?.positions).toEqual([150, 150]);
    const copy = { json: JSON.parse(JSON.stringify(snap.json)) as Record<string, unknown>, blobs: Object.fromEntries(Object.entries(snap.blobs).map(([k, v]) => [k, new Uint8Array(v)])) };
    b.agent.dispose();
    const resumed = new SacAgent({ config: config(), observationSpace: b.vec.singleObservationSpace, actionSpace: b.vec.singleActionSpace, seed: 99 });
    await resumed.load(copy);
    // 100 more steps: the 200-step episodes end at step 200 and both agents start new sequences.
    const contA = await drive(a.agent, a.vec, obsA, 100);
    const contB = await drive(resumed, b.vec, obsB, 100);
    expect(contB.actions).toEqual(contA.actions);
    expect(await weights(resumed.actor)).toEqual(await weights(a.agent.actor));
    const { ['noise.bin']: _gone, ...rest } = copy.blobs;
    // Checked with the counters, before any weight is assigned.
    await expect(resumed.load({ json: copy.json, blobs: rest })).rejects.toThrow(/\[sac\.load\] expected the agent state of a matching checkpoint, received blob noise\.bin of none \(want 1600 bytes: 2 envs x 200 steps x 1 dims\)/);
    a.agent.dispose();
    resumed.dispose();
  });
});

describe('SAC exploration config', () => {
  it('a config without exploration (a run folder from before the field) builds a white-noise agent', async () => {
    const { exploration: _gone, ...old } = config({ exploration: { kind: 'white' } });
    const vec = new SyncVectorEnv(() => make('pendulum') as never, 1);
    const agent = new SacAgent({ config: old as SacConfig, observationSpace: vec.singleObservationSpace, actionSpace: vec.singleActionSpace, seed: 1 });
    await drive(agent, vec, (await vec.reset({ seed: 1 })).obs, 25);
    const snap = await agent.save({ includeReplay: false });
    expect(snap.blobs['noise.bin']).toBeUndefined();
    expect('noise' in (snap.json as { state: object }).state).toBe(false);
    agent.dispose();
  });


  it('{kind: colored} alone means pink noise over 1000 steps; bad fields are named all at once', () => {
    expect(resolveSacConfig(SAC_PRESETS.default!, { exploration: { kind: 'colored' } }).exploration).toEqual({ kind: 'colored', beta: 1, length: 1000 });
    expect(resolveSacConfig(SAC_PRESETS.default!, { exploration: { kind: 'colored', beta: 2 } }).exploration).toEqual({ kind: 'colored', beta: 2, length: 1000 });
    expect(SAC_PRESETS.default!.exploration).toEqual({ kind: 'white' });
    expect(SAC_PRESETS.pendulum!.exploration).toEqual({ kind: 'white' });
    try {
      resolveSacConfig(SAC_PRESETS.default!, { exploration: { kind: 'colored', beta: -1, length: 100_000, sigma: 1 } });
      throw new Error('no error');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidConfigError);
      const problems = (err as InvalidConfigError).problems.join('\n');
      for (const p of ['exploration.sigma: unknown key for kind "colored"', 'exploration.beta = -1', 'exploration.length = 100000 (want an integer in [2, 4096])']) expect(problems).toContain(p);
    }
    expect(() => resolveSacConfig(SAC_PRESETS.default!, { exploration: { kind: 'ou' } })).toThrow(/exploration = .*want \{kind: 'white'\} or \{kind: 'colored', beta, length\}/);
  });

  it('npcforge train mountain-car-continuous picks sac with pink noise, 50k steps, 50 evaluation episodes, no early stop', () => {
    const c = resolveRunConfig({ game: 'mountain-car-continuous' });
    expect(c.agent).toBe('sac');
    expect(c.preset).toBe('mountain-car-continuous');
    expect(c.agentConfig.exploration).toEqual({ kind: 'colored', beta: 1, length: 1000 });
    expect(c.run.steps).toBe(50_000);
    expect(c.run.evalEpisodes).toBe(50);
    expect(c.run.stopAtEval).toBeNull();
    expect(resolveRunConfig({ game: 'mountain-car-continuous', agent: 'sac' })).toEqual(c);
  });
});

describe('SAC learns mountain-car-continuous', () => {
  it('the plain command on seed 0 reaches a 50-episode greedy mean >= 90 within 10k steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-mcc-'));
    const config = resolveRunConfig({ game: 'mountain-car-continuous', flags: { seed: 0, steps: 10_000 } });
    const res = await train({ config, runDir: join(dir, 'run'), progress: null });
    expect(res.lastEval!.episodes).toBe(50);
    expect(res.lastEval!.mean_return).toBeGreaterThanOrEqual(90);
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);
});
