/**
 * Policy-gradient agents on Box (pendulum) and MultiDiscrete (tank) actions keep
 * tf.memory().numTensors flat over 2,000 gradient updates, evaluation acts and save/load. Built
 * through the agent registry (as the runner builds them) with tiny networks and one minibatch
 * step per rollout, so 2,000 updates take seconds.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import type { ObsArray } from '../../src/envs/env.js';
import { initBackend } from '../../src/networks/backend.js';
import { getAgentFactory } from '../../src/agents/registry.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import type { Agent } from '../../src/agents/agent.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const ENVS = 2;
const UPDATES = 2000;

/** Steps `agent` on `vec` until it has made `updates` gradient updates (counted from observe's metrics). */
async function driveUpdates(agent: Agent, vec: SyncVectorEnv, obs: ObsArray, updates: number): Promise<ObsArray> {
  let done = 0;
  while (done < updates) {
    const { actions } = await agent.act(obs, { numEnvs: ENVS, mode: 'train' });
    const r = vec.stepSync(actions);
    const m = await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
    done += m?.updates ?? 0;
    obs = r.obs;
  }
  return obs;
}

describe('policy-gradient agents on Box and MultiDiscrete actions: tensors flat over 2,000 updates', () => {
  it.each([
    { name: 'ppo on pendulum (Box, normalisation, separate critic)', game: 'pendulum', agent: 'ppo', file: { normObs: true, normReward: true, separateCritic: true } },
    { name: 'ppo on tank (MultiDiscrete, LSTM)', game: 'tank', agent: 'ppo', file: { lstmUnits: 4 } },
    { name: 'a2c on pendulum (Box)', game: 'pendulum', agent: 'a2c', file: {} },
  ])('$name', async ({ game, agent: name, file }) => {
    // One epoch of one minibatch: one gradient update per 2-step rollout.
    const config = resolveRunConfig({ game, agent: name, file: { mlpHidden: [8], encoder: 'mlp', numSteps: 2, ...(name === 'ppo' ? { epochs: 1, minibatches: 1 } : {}), ...file }, flags: { envs: ENVS, steps: 10_000 } });
    const vec = new SyncVectorEnv(() => make(game) as never, ENVS);
    const agent = getAgentFactory(name).create({ config: config.agentConfig, observationSpace: vec.singleObservationSpace, actionSpace: vec.singleActionSpace, numEnvs: ENVS, seed: 1 });
    let obs = await driveUpdates(agent, vec, (await vec.reset({ seed: 2 })).obs, 5);
    const evaluate = async (): Promise<void> => {
      let ev = await agent.act(obs, { numEnvs: ENVS, mode: 'eval' });
      for (let i = 0; i < 5; i++) ev = await agent.act(obs, { numEnvs: ENVS, mode: 'eval' }, ev.state);
    };
    await evaluate();
    await agent.load(await agent.save({ includeReplay: false }));
    const before = tf.memory().numTensors;
    obs = await driveUpdates(agent, vec, obs, UPDATES);
    await evaluate();
    await agent.load(await agent.save({ includeReplay: false }));
    expect(agent.schedule().updates).toBeGreaterThanOrEqual(UPDATES);
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
    await vec.close();
  }, 120_000);
});
