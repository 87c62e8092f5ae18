/**
 * Every agent accepts Dict observations (flattened by `make`, split per key by the network): PPO
 * learns the Dict game `beacon` (seeded, target greedy mean >= 0.9 over 100 episodes; random play
 * scores about -0.08); A2C, REINFORCE, PPO+LSTM, DQN and DRQN train on it through the runner; SAC
 * learns from a Dict observation with Box actions through the agent API.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { FlatDictBox } from '../../src/envs/dict-obs.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Dict } from '../../src/envs/spaces.js';
import { getAgentFactory } from '../../src/agents/registry.js';
import { PolicyGradientAgent } from '../../src/agents/pg/learner.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { SacAgent } from '../../src/agents/sac/sac-agent.js';
import { SAC_ACTION_KEY, SAC_PRESETS, resolveSacConfig } from '../../src/agents/sac/config.js';
import { resolveRunConfig, type RunSettings } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { initBackend } from '../../src/networks/backend.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const layerKinds = (m: tf.LayersModel): string[] => m.layers.map((l) => l.getClassName());

async function run(agent: string, flags: Partial<RunSettings>, file: Record<string, unknown> = {}, recurrent = false) {
  const dir = mkdtempSync(join(tmpdir(), `npcforge-dict-${agent}-`));
  const config = resolveRunConfig({ game: 'beacon', agent, file, recurrent, flags: { seed: 1, evalEvery: 0, checkpointEvery: 0, ...flags } });
  return train({ config, runDir: join(dir, 'run'), progress: null });
}

describe('Dict observations through every agent', () => {
  it('PPO learns beacon with its defaults in 12k steps (greedy mean >= 0.9 over 100 episodes)', async () => {
    const r = await run('ppo', { steps: 12_000, evalEpisodes: 100, logEvery: 12_000 });
    expect(r.lastEval!.episodes).toBe(100);
    expect(r.lastEval!.mean_return).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('the PG network splits the flat observation per key: a CNN for the grid, a tanh MLP for the offset', () => {
    const env = make('beacon');
    const agent = new PolicyGradientAgent({ config: {}, observationSpace: env.observationSpace, actionSpace: env.actionSpace, numEnvs: 1, seed: 0 });
    const kinds = layerKinds(agent.net.encoder);
    expect(kinds.filter((k) => k === 'Cropping2D')).toHaveLength(2);
    expect(kinds).toContain('Conv2D');
    expect(kinds).toContain('Concatenate');
    expect(agent.net.encoder.outputs[0]!.shape).toEqual([null, 128 + 64]);
    agent.dispose();
  });

  for (const [agent, file, recurrent] of [
    ['a2c', {}, false],
    ['reinforce', { reinforceEpisodes: 4 }, false],
    ['ppo', { numSteps: 16 }, true],
    ['dqn', { network: 'auto', learningStarts: 100, batchSize: 16 }, false],
    ['dqn', { network: 'auto', learningStarts: 100, batchSize: 4, seqLength: 4, burnIn: 1 }, true],
  ] as const) {
    it(`${agent}${recurrent ? ' (recurrent)' : ''} trains on beacon through the runner`, async () => {
      const r = await run(agent, { steps: 400, envs: 2, evalEpisodes: 2, logEvery: 200 }, file, recurrent);
      expect(r.step).toBeGreaterThanOrEqual(400);
      expect(Number.isFinite(r.lastEval!.mean_return)).toBe(true);
    }, 120_000);
  }

  it('SAC acts and learns on a Dict observation (pixels + vector) with Box actions', async () => {
    const dict = new Dict({ pixels: new Box({ shape: [6, 6, 1], dtype: 'uint8', low: 0, high: 255 }), vec: new Box({ shape: [3], dtype: 'float32', low: -1, high: 1 }) });
    const observationSpace = new FlatDictBox(dict);
    const actionSpace = new Box({ shape: [2], dtype: 'float32', low: -2, high: 2 });
    const config = resolveSacConfig(SAC_PRESETS.default!, { hidden: [16], batchSize: 8, learningStarts: 16, bufferSize: 100 });
    const agent = new SacAgent({ config, observationSpace, actionSpace, seed: 3 });
    // Actor: the per-key split; critics: the same plus the action as one more key.
    expect(layerKinds(agent.actor).filter((k) => k === 'Cropping2D')).toHaveLength(2);
    expect(layerKinds(agent.q1).filter((k) => k === 'Cropping2D')).toHaveLength(3);
    expect(SAC_ACTION_KEY < 'a').toBe(true);
    const n = 2;
    const rng = new SeededRng(1);
    const obsBatch = () => Float32Array.from({ length: n * observationSpace.size }, () => rng.random());
    let obs = obsBatch();
    let updates = 0;
    for (let t = 0; t < 20; t++) {
      const { actions } = await agent.act(obs, { numEnvs: n, mode: 'train' });
      const a = actions as Float32Array;
      expect(a.length).toBe(n * 2);
      for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(2);
      const nextObs = obsBatch();
      const m = await agent.observe({ obs, actions: a, rewards: Float32Array.of(a[0]!, a[2]!), terminated: new Uint8Array(n), truncated: new Uint8Array(n), nextObs, finalObs: [undefined, undefined] });
      if (m) updates += m.updates ?? 1;
      obs = nextObs;
    }
    expect(updates).toBeGreaterThan(0);
    const greedy = await agent.act(obs, { numEnvs: n, mode: 'eval' } as never);
    expect((greedy.actions as Float32Array).every((v) => Number.isFinite(v))).toBe(true);
    agent.dispose();
  });

  it('dqn with a CNN preset on a Dict game: one line naming the network and the fix', async () => {
    await expect(run('dqn', { steps: 100 }, { network: { kind: 'minatar-cnn' } })).rejects.toThrow(/\[dqn\] expected network 'auto' \(one encoder per key\).*received network minatar-cnn; fix: pass --config with \{"network": "auto"\}/);
  });

  it('an agent factory builds from the flattened space (the space a worker vector env rebuilds from JSON too)', () => {
    const env = make('beacon');
    const agent = getAgentFactory('dqn').create({ config: getAgentFactory('dqn').resolve(getAgentFactory('dqn').presets.classic!, { network: 'auto' }), observationSpace: env.observationSpace, actionSpace: env.actionSpace, numEnvs: 1, seed: 0 });
    const online = (agent as unknown as { online: tf.LayersModel }).online;
    expect(layerKinds(online)).toContain('Cropping2D');
    agent.dispose();
  });

  it('ppo + lstm on a Dict observation: tensor count is flat over acting, updates and save/load', async () => {
    const venv = new SyncVectorEnv(() => make('beacon') as Env<ObsArray, number>, 4);
    const agent = new PolicyGradientAgent({ config: { algorithm: 'ppo', lstmUnits: 8, mlpHidden: [16], numSteps: 8, minibatches: 2, epochs: 2, annealSteps: 10_000 }, observationSpace: venv.singleObservationSpace, actionSpace: venv.singleActionSpace, numEnvs: 4, seed: 1 });
    const drive = async (obs: ObsArray, steps: number) => {
      let updates = 0;
      let state: unknown = undefined;
      for (let t = 0; t < steps; t++) {
        const a = await agent.act(obs, { numEnvs: 4, mode: 'train' }, state);
        state = a.state;
        const r = venv.stepSync(a.actions);
        if (await agent.observe({ obs, actions: a.actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) })) updates++;
        obs = r.obs;
      }
      return { obs, updates };
    };
    try {
      let { obs } = await venv.reset({ seed: 2 });
      ({ obs } = await drive(obs, 24));
      await agent.load(await agent.save());
      const before = tf.memory().numTensors;
      const r = await drive(obs, 48);
      await agent.load(await agent.save());
      expect(r.updates).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      agent.dispose();
      await venv.close();
    }
  });
});
