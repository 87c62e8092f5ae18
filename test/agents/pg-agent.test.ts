import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { PolicyGradientAgent } from '../../src/agents/pg/learner.js';
import { resolvePgConfig, type PgConfig } from '../../src/agents/pg/config.js';
import { CheckpointError, InvalidConfigError, NpcforgeError, SpaceMismatchError, UnsupportedVersionError } from '../../src/errors.js';

async function drive(agent: PolicyGradientAgent, venv: SyncVectorEnv, steps: number, obs0: ObsArray): Promise<{ obs: ObsArray; updates: number }> {
  let obs = obs0;
  let updates = 0;
  for (let i = 0; i < steps; i++) {
    const { actions } = await agent.act(obs, { numEnvs: venv.numEnvs, mode: 'train' });
    const r = venv.stepSync(actions);
    const m = await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
    if (m) updates++;
    obs = r.obs;
  }
  return { obs, updates };
}

function setup(config: Partial<PgConfig>, game = 'catch', envOptions: Record<string, unknown> = {}) {
  const venv = new SyncVectorEnv(() => make(game, envOptions) as Env<ObsArray, number>, 4);
  const agent = new PolicyGradientAgent({ config: { encoder: 'mlp', mlpHidden: [16], numSteps: 8, minibatches: 2, epochs: 2, ...config, annealSteps: 10_000 }, observationSpace: venv.singleObservationSpace, actionSpace: venv.singleActionSpace, numEnvs: 4, seed: 1 });
  return { venv, agent };
}

describe('policy-gradient agents: leaks', () => {
  for (const [name, cfg] of [
    ['ppo', { algorithm: 'ppo' }],
    ['ppo + lstm', { algorithm: 'ppo', lstmUnits: 8 }],
    ['a2c + lstm', { algorithm: 'a2c', lstmUnits: 8 }],
    ['reinforce + lstm', { algorithm: 'reinforce', lstmUnits: 8, reinforceEpisodes: 4 }],
  ] as Array<[string, Partial<PgConfig>]>) {
    it(`${name}: tensor count is flat over acting, updates, save/load and evaluation acting`, async () => {
      // cartpole's 500-step TimeLimit is cut to 20 so truncation bootstraps run too.
      const { venv, agent } = setup(cfg, 'cartpole', { maxEpisodeSteps: 20 });
      let { obs } = await venv.reset({ seed: 2 });
      ({ obs } = await drive(agent, venv, 40, obs));
      await agent.load(await agent.save());
      const ev = await agent.act(obs, { numEnvs: 4, mode: 'eval' });
      await agent.act(obs, { numEnvs: 4, mode: 'eval', episodeStarts: [0, 1, 0, 0] }, ev.state);
      const before = tf.memory().numTensors;
      const r = await drive(agent, venv, 80, obs);
      await agent.load(await agent.save());
      const ev2 = await agent.act(r.obs, { numEnvs: 4, mode: 'eval' });
      await agent.act(r.obs, { numEnvs: 4, mode: 'eval' }, ev2.state);
      expect(r.updates).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
      agent.dispose();
    });
  }
});

describe('policy-gradient agents: acting info and config', () => {
  it('act() exposes action probabilities summing to 1 and a value per env', async () => {
    const { venv, agent } = setup({ algorithm: 'ppo', lstmUnits: 8 });
    const { obs } = await venv.reset({ seed: 0 });
    const r = await agent.act(obs, { numEnvs: 4, mode: 'train' });
    expect(r.info.probs!.length).toBe(4 * 3);
    for (let e = 0; e < 4; e++) expect(r.info.probs![e * 3]! + r.info.probs![e * 3 + 1]! + r.info.probs![e * 3 + 2]!).toBeCloseTo(1, 5);
    expect(r.info.value!.length).toBe(4);
    agent.dispose();
  });

  it('resolvePgConfig reports every bad field at once', () => {
    let msg = '';
    try {
      resolvePgConfig({ lr: -1, gamma: 2, clip: 0, bogus: 1 } as Partial<PgConfig> & Record<string, unknown>);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidConfigError);
      msg = (err as Error).message;
    }
    for (const k of ['unknown key bogus', 'lr=-1', 'gamma=2', 'clip=0']) expect(msg).toContain(k);
    expect(msg).toMatch(/^\[pg config\] expected .*; fix: /);
  });
});

describe('policy-gradient agents: the shared optimizer path and snapshot format', () => {
  it('anneals the Adam learning rate linearly over annealSteps (metrics lr and schedule)', async () => {
    // annealSteps 10,000 env steps; one update per 8 steps x 4 envs = 32 env steps.
    const { venv, agent } = setup({ algorithm: 'a2c', annealLr: true, lr: 1e-3 });
    const { obs } = await venv.reset({ seed: 0 });
    const lrs: number[] = [];
    let o = obs;
    for (let i = 0; i < 16; i++) {
      const { actions } = await agent.act(o, { numEnvs: 4, mode: 'train' });
      const r = venv.stepSync(actions);
      const m = await agent.observe({ obs: o, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
      if (m) lrs.push(m.lr!);
      o = r.obs;
    }
    expect(lrs.length).toBe(2);
    expect(lrs[0]).toBeCloseTo(1e-3 * (1 - 32 / 10_000), 10);
    expect(lrs[1]).toBeCloseTo(1e-3 * (1 - 64 / 10_000), 10);
    expect(agent.schedule().lr).toBeCloseTo(1e-3 * (1 - 64 / 10_000), 10);
    agent.dispose();
  });

  it('snapshots are binary blobs in the shared format; another agent kind, game or a truncated blob is refused by name', async () => {
    const { venv, agent } = setup({ algorithm: 'ppo', lstmUnits: 8 });
    const { obs } = await venv.reset({ seed: 0 });
    await drive(agent, venv, 12, obs);
    const snap = await agent.save();
    expect(Object.keys(snap.blobs)).toEqual(expect.arrayContaining(['weights.net.bin', 'slots.adam.bin', 'rollout.obs', 'state.h']));
    // No weights in the JSON header: it stays small.
    expect(JSON.stringify(snap.json).length).toBeLessThan(2000);
    const before = Array.from((await agent.net.getWeights())[0]!.data);
    // A DQN checkpoint: the format is named.
    const dqnLike = { json: { ...snap.json, format: 'npcforge-dqn' }, blobs: snap.blobs };
    await expect(agent.load(dqnLike)).rejects.toThrow(CheckpointError);
    await expect(agent.load(dqnLike)).rejects.toThrow(/\[PolicyGradientAgent\.load\] expected a snapshot of format npcforge-pg/);
    // Another game (memory-maze: other observation shape) or another algorithm: both spaces named.
    const other = setup({ algorithm: 'ppo', lstmUnits: 8 }, 'memory-maze');
    await expect(other.agent.load(snap)).rejects.toThrow(SpaceMismatchError);
    await expect(other.agent.load(snap)).rejects.toThrow(/expected a ppo run with obs \[6,3,4\] and actions Discrete\(3\), received ppo with obs \[10,5,1\] and actions Discrete\(3\); fix: load a checkpoint of the same algorithm and game/);
    const a2c = setup({ algorithm: 'a2c', lstmUnits: 8 });
    await expect(a2c.agent.load(snap)).rejects.toThrow(/expected a a2c run .* received ppo /);
    // A truncated weights blob.
    const cut = { json: snap.json, blobs: { ...snap.blobs, 'weights.net.bin': snap.blobs['weights.net.bin']!.subarray(0, 40) } };
    await expect(agent.load(cut)).rejects.toThrow(CheckpointError);
    expect(Array.from((await agent.net.getWeights())[0]!.data)).toEqual(before);
    // An old (version 1) PG checkpoint is refused, not half-read.
    await expect(agent.load({ json: { format: 'npcforge-pg', version: 1 }, blobs: {} })).rejects.toThrow(UnsupportedVersionError);
    for (const a of [agent, other.agent, a2c.agent]) a.dispose();
  });
});

describe('policy-gradient agents: hostile snapshots', () => {
  it('any header field or blob replaced by junk is refused with a named error, never a TypeError', async () => {
    const { venv, agent } = setup({ algorithm: 'reinforce', lstmUnits: 8 });
    const { obs } = await venv.reset({ seed: 0 });
    await drive(agent, venv, 12, obs);
    const snap = await agent.save();
    const header = snap.json as Record<string, unknown>;
    const state = header.state as Record<string, unknown>;
    const junk: unknown[] = [null, 7, 'x', [], {}, -1, 1e300];
    const cases: Array<{ json: Record<string, unknown>; blobs: Record<string, Uint8Array> }> = [];
    for (const k of Object.keys(header)) for (const j of junk) cases.push({ json: { ...header, [k]: j }, blobs: snap.blobs });
    for (const k of ['t', 'envSteps', 'updates', 'numEnvs', 'obsDtype', 'norm', 'algorithmState', 'clippedSinceUpdate']) for (const j of junk) cases.push({ json: { ...header, state: { ...state, [k]: j } }, blobs: snap.blobs });
    for (const k of Object.keys(snap.blobs)) cases.push({ json: header, blobs: { ...snap.blobs, [k]: new Uint8Array(3) } });
    let refused = 0;
    for (const c of cases) {
      try {
        await agent.load(c);
      } catch (err) {
        expect(err, JSON.stringify(c.json).slice(0, 200)).toBeInstanceOf(NpcforgeError);
        expect((err as Error).message).toMatch(/^\[[^\]]+\] expected .*; fix: /);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(cases.length / 2);
    // The agent still loads its own snapshot and acts.
    await agent.load(snap);
    await agent.act(obs, { numEnvs: 4, mode: 'train' });
    agent.dispose();
  });
});


describe('REINFORCE snapshots', () => {
  it('episodes still being collected are blobs and resume exactly (weights, actions and metrics as an uninterrupted run)', async () => {
    // 4-step rollouts on catch (episodes of about 9 steps): a checkpoint holds unfinished and finished-but-unlearned episodes.
    const cfg = { algorithm: 'reinforce' as const, numSteps: 4, reinforceEpisodes: 6, lstmUnits: 8 };
    const run = async (agent: PolicyGradientAgent, venv: SyncVectorEnv, obs: ObsArray, steps: number) => {
      const actions: number[] = [];
      const metrics: unknown[] = [];
      for (let i = 0; i < steps; i++) {
        const a = await agent.act(obs, { numEnvs: 4, mode: 'train' });
        actions.push(...a.actions);
        const r = venv.stepSync(a.actions);
        const m = await agent.observe({ obs, actions: a.actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
        if (m) metrics.push(m);
        obs = r.obs;
      }
      return { obs, actions, metrics };
    };
    const a = setup(cfg);
    const straight = await run(a.agent, a.venv, (await a.venv.reset({ seed: 5 })).obs, 60);
    const b = setup(cfg);
    const first = await run(b.agent, b.venv, (await b.venv.reset({ seed: 5 })).obs, 30);
    const snap = await b.agent.save();
    expect(snap.blobs['reinforce.obs']!.byteLength).toBeGreaterThan(0);
    const episodes = ((snap.json as { state: { algorithmState: { episodes: Array<{ env: number }> } } }).state.algorithmState.episodes);
    expect(episodes.some((e) => e.env >= 0)).toBe(true);
    b.agent.dispose();
    const c = setup({ ...cfg });
    await c.agent.load({ json: JSON.parse(JSON.stringify(snap.json)), blobs: snap.blobs });
    const rest = await run(c.agent, b.venv, first.obs, 30);
    expect([...first.actions, ...rest.actions]).toEqual(straight.actions);
    expect([...first.metrics, ...rest.metrics]).toEqual(straight.metrics);
    expect(straight.metrics.length).toBeGreaterThan(2);
    const wa = await a.agent.net.getWeights();
    const wc = await c.agent.net.getWeights();
    expect(wc.map((w) => Array.from(w.data))).toEqual(wa.map((w) => Array.from(w.data)));
    a.agent.dispose();
    c.agent.dispose();
  });
});
