/**
 * Smoke: PPO trains through `asSingleAgent` on both multi-agent games without error, as it trains
 * on any Env (a tiny budget; not a learning target), and its tensor count stays flat.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '../../../games/index.js';
import type { Env, ObsArray } from '../../../src/envs/env.js';
import { SyncVectorEnv } from '../../../src/envs/vector/sync-vector-env.js';
import { makeMultiAgent } from '../../../src/envs/multi/registry.js';
import type { MultiAgentEnv } from '../../../src/envs/multi/multi-agent-env.js';
import { asSingleAgent, randomPolicy, type FixedPolicy } from '../../../src/envs/multi/single-agent.js';
import { PolicyGradientAgent } from '../../../src/agents/pg/learner.js';
import type { PgConfig } from '../../../src/agents/pg/config.js';

/** One seat of `id`, every other seat played by `policy(seat)`. */
function seat(id: string, agent: string, options: Record<string, unknown>, policy: (other: string, env: MultiAgentEnv) => FixedPolicy): Env<ObsArray, number> {
  const multi = makeMultiAgent<ObsArray, number>(id, options);
  const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== agent).map((a) => [a, policy(a, multi)]));
  return asSingleAgent(multi, { agent, others });
}

async function trainBriefly(makeEnv: () => Env<ObsArray, number>, config: Partial<PgConfig>, steps: number): Promise<{ updates: number; episodes: number; tensorsBefore: number; tensorsAfter: number }> {
  const numEnvs = 2;
  const venv = new SyncVectorEnv(makeEnv, numEnvs);
  const agent = new PolicyGradientAgent({ config: { algorithm: 'ppo', numSteps: 8, minibatches: 2, epochs: 1, annealSteps: 10_000, ...config }, observationSpace: venv.singleObservationSpace, actionSpace: venv.singleActionSpace, numEnvs, seed: 0 });
  let { obs } = await venv.reset({ seed: 0 });
  let updates = 0;
  let episodes = 0;
  let tensorsBefore = 0;
  for (let i = 0; i < steps; i++) {
    if (i === 16) tensorsBefore = tf.memory().numTensors;
    const { actions } = await agent.act(obs, { numEnvs, mode: 'train' });
    const r = venv.stepSync(actions);
    const m = await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
    if (m) {
      updates++;
      for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
    }
    for (let e = 0; e < numEnvs; e++) if (r.terminated[e] || r.truncated[e]) episodes++;
    obs = r.obs;
  }
  const tensorsAfter = tf.memory().numTensors;
  agent.dispose();
  venv.close();
  return { updates, episodes, tensorsBefore, tensorsAfter };
}

describe('PPO through asSingleAgent', () => {
  it('tag: a chaser (MinAtar CNN on the channel grid) against a random evader and a random teammate', async () => {
    const r = await trainBriefly(() => seat('tag', 'chaser_0', { maxSteps: 12 }, (a, m) => randomPolicy(m.actionSpace(a))), { encoder: 'auto' }, 48);
    expect(r.updates).toBe(6);
    expect(r.episodes).toBeGreaterThan(0);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
  });

  it('pong: the left paddle (state observations, MLP) against a scripted right paddle that tracks the ball', async () => {
    // A fixed policy reads its own state vector: ball top at index 1, own paddle top at 4 (over the
    // 40 px height; ball 2 px, paddle 6 px): up when the ball centre is above the paddle centre.
    const tracker: FixedPolicy = (obs) => {
      const diff = obs[1]! + 1 / 40 - (obs[4]! + 3 / 40);
      return diff < -1 / 40 ? 1 : diff > 1 / 40 ? 2 : 0;
    };
    const r = await trainBriefly(() => seat('pong', 'left', { obsType: 'state', maxSteps: 20 }, () => tracker), { encoder: 'mlp', mlpHidden: [16] }, 48);
    expect(r.updates).toBe(6);
    expect(r.episodes).toBeGreaterThan(0);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
  });
});
