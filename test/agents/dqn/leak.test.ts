import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { make } from '../../../src/envs/registry.js';
import { SyncVectorEnv } from '../../../src/envs/vector/sync-vector-env.js';
import { DQN_PRESETS, resolveDqnConfig } from '../../../src/agents/dqn/config.js';
import { DqnAgent } from '../../../src/agents/dqn/dqn-agent.js';
import { initBackend } from '../../../src/networks/backend.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

async function runSteps(agent: DqnAgent, vec: SyncVectorEnv, obs: Uint8Array, n: number): Promise<Uint8Array> {
  for (let i = 0; i < n; i++) {
    const { actions } = await agent.act(obs, { numEnvs: vec.numEnvs, mode: 'train' });
    const r = vec.stepSync(actions);
    await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as Uint8Array | undefined) });
    obs = r.obs as Uint8Array;
  }
  return obs;
}

describe('DQN tensor leaks', () => {
  // rainbow-lite's dueling head goes through the Layers model and the tape; the minatar preset's plain q head through the chain fast path (networks/chain.ts).
  it.each([
    { name: 'rainbow-lite features on', preset: 'rainbow-lite', chain: false },
    { name: 'minatar preset, chain fast path', preset: 'minatar', chain: true },
  ])('numTensors stays flat over 2,000 train steps, acting and save/load ($name)', async ({ preset, chain }) => {
    const config = resolveDqnConfig(DQN_PRESETS[preset]!, { network: { kind: 'mlp', hidden: [16] }, batchSize: 8, learningStarts: 16, bufferSize: 500, targetUpdateEvery: 50 });
    const vec = new SyncVectorEnv(() => make('catch'), 2);
    const agent = new DqnAgent({ config, observationSpace: vec.singleObservationSpace, actionSpace: vec.singleActionSpace, numEnvs: 2, seed: 1 });
    expect((agent as unknown as { onlineChain: unknown }).onlineChain !== null).toBe(chain);
    let obs = (await vec.reset({ seed: 1 })).obs as Uint8Array;
    obs = await runSteps(agent, vec, obs, 50);
    const before = tf.memory().numTensors;
    obs = await runSteps(agent, vec, obs, 1000); // 2,000 env steps, 2,000 updates
    expect(agent.updates).toBeGreaterThan(1900);
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 200; i++) await agent.act(obs, { numEnvs: 2, mode: 'eval', withValues: true });
    expect(tf.memory().numTensors).toBe(before);
    const snap = await agent.save({ includeReplay: true });
    await agent.load(snap);
    await agent.load(snap);
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    await vec.close();
  });
});
