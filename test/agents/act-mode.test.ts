/**
 * `ActOptions.mode`: evaluation is asked for with `mode: 'eval'` (greedy; DQN's optional
 * evaluation epsilon), never inferred from the presence of `epsilon`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import { DQN_PRESETS, resolveDqnConfig } from '../../src/agents/dqn/config.js';
import { DqnAgent } from '../../src/agents/dqn/dqn-agent.js';
import { DrqnAgent } from '../../src/agents/dqn/drqn-agent.js';
import { SAC_PRESETS, resolveSacConfig } from '../../src/agents/sac/config.js';
import { SacAgent } from '../../src/agents/sac/sac-agent.js';
import { PolicyGradientAgent } from '../../src/agents/pg/learner.js';
import type { ActOptions, Agent } from '../../src/agents/agent.js';
import { initBackend } from '../../src/networks/backend.js';
import { InvalidConfigError } from '../../src/errors.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

async function agents(): Promise<Array<{ name: string; agent: Agent; obs: Float32Array | Uint8Array; n: number; argmax?: () => Promise<number[]> }>> {
  const out: Array<{ name: string; agent: Agent; obs: Float32Array | Uint8Array; n: number; argmax?: () => Promise<number[]> }> = [];
  const cat = new SyncVectorEnv(() => make('catch'), 4);
  const { obs } = await cat.reset({ seed: 2 });
  const spaces = { observationSpace: cat.singleObservationSpace, actionSpace: cat.singleActionSpace };
  // A fresh DQN explores with epsilon 1 (its schedule's start): training acts are random.
  const dqn = new DqnAgent({ config: resolveDqnConfig(DQN_PRESETS.classic!, { network: { kind: 'mlp', hidden: [16] } }), ...spaces, numEnvs: 4, seed: 1 });
  out.push({
    name: 'dqn',
    agent: dqn,
    obs: obs as Uint8Array,
    n: 4,
    argmax: async () => {
      const q = (await dqn.act(obs, { numEnvs: 4, mode: 'eval', withValues: true })).info.values!;
      return [0, 1, 2, 3].map((e) => { const row = Array.from(q.subarray(e * 3, e * 3 + 3)); return row.indexOf(Math.max(...row)); });
    },
  });
  const drqn = new DrqnAgent({ config: resolveDqnConfig(DQN_PRESETS.classic!, { network: { kind: 'mlp', hidden: [16] }, lstmUnits: 8 }), ...spaces, numEnvs: 4, seed: 1 });
  out.push({ name: 'drqn', agent: drqn, obs: obs as Uint8Array, n: 4 });
  out.push({ name: 'ppo', agent: new PolicyGradientAgent({ config: { encoder: 'mlp', mlpHidden: [16] }, ...spaces, numEnvs: 4, seed: 1 }), obs: obs as Uint8Array, n: 4 });
  const pend = new SyncVectorEnv(() => make('pendulum') as never, 2);
  const p = await pend.reset({ seed: 2 });
  // Before learningStarts SAC's training acts are uniform random; evaluation uses the policy mean.
  const sac = new SacAgent({ config: resolveSacConfig(SAC_PRESETS.default!, { hidden: [16], learningStarts: 1000 }), observationSpace: pend.singleObservationSpace, actionSpace: pend.singleActionSpace, seed: 1 });
  out.push({ name: 'sac', agent: sac, obs: p.obs as Float32Array, n: 2 });
  return out;
}

describe("act mode: 'eval' means greedy, whatever epsilon", () => {
  it("mode 'eval' without epsilon is greedy and repeatable; mode 'train' explores", async () => {
    for (const { name, agent, obs, n, argmax } of await agents()) {
      const evalActs = async () => Array.from((await agent.act(obs, { numEnvs: n, mode: 'eval' })).actions);
      const first = await evalActs();
      for (let i = 0; i < 5; i++) expect(await evalActs(), name).toEqual(first);
      if (argmax) expect(first, name).toEqual(await argmax());
      const trained = new Set<string>();
      for (let i = 0; i < 12; i++) trained.add(JSON.stringify(Array.from((await agent.act(obs, { numEnvs: n, mode: 'train' })).actions)));
      expect(trained.size, name).toBeGreaterThan(1);
      // No mode (a JavaScript caller of the old API) is refused, naming the agent.
      await expect(agent.act(obs, { numEnvs: n } as unknown as ActOptions), name).rejects.toThrow(/expected act mode 'train' or 'eval', received undefined; fix: pass \{ mode: 'eval' \}/);
      agent.dispose();
    }
  });

  it("DQN takes an evaluation epsilon in mode 'eval' only; an epsilon in training or an unknown mode is refused by name", async () => {
    const cat = new SyncVectorEnv(() => make('catch'), 2);
    const { obs } = await cat.reset({ seed: 2 });
    const dqn = new DqnAgent({ config: resolveDqnConfig(DQN_PRESETS.classic!, { network: { kind: 'mlp', hidden: [16] } }), observationSpace: cat.singleObservationSpace, actionSpace: cat.singleActionSpace, numEnvs: 2, seed: 1 });
    expect((await dqn.act(obs, { numEnvs: 2, mode: 'eval', epsilon: 0.3 })).info.epsilon).toBe(0.3);
    expect((await dqn.act(obs, { numEnvs: 2, mode: 'eval' })).info.epsilon).toBe(0);
    expect((await dqn.act(obs, { numEnvs: 2, mode: 'train' })).info.epsilon).toBe(dqn.schedule().epsilon);
    await expect(dqn.act(obs, { numEnvs: 2, mode: 'train', epsilon: 0 })).rejects.toThrow(InvalidConfigError);
    await expect(dqn.act(obs, { numEnvs: 2, mode: 'train', epsilon: 0 })).rejects.toThrow(/\[dqn\.act\] expected no epsilon in mode 'train' \(the schedule decides\), received epsilon 0; fix: pass \{ mode: 'eval', epsilon \}/);
    await expect(dqn.act(obs, { numEnvs: 2, mode: 'greedy' } as unknown as ActOptions)).rejects.toThrow(/\[dqn\.act\] expected act mode 'train' or 'eval', received "greedy"/);
    dqn.dispose();
  });
});
