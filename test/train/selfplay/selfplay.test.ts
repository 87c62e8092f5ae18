import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../../games/index.js';
import type { Agent, ActOptions } from '../../../src/agents/agent.js';
import type { ObsArray } from '../../../src/envs/env.js';
import { DEFAULT_SELFPLAY } from '../../../src/train/selfplay/config.js';
import { SelfPlay, learnerSeat } from '../../../src/train/selfplay/selfplay.js';
import { DEFAULT_RUN_SETTINGS, type ResolvedRunConfig } from '../../../src/train/run-config.js';
import type { SingleAgentEnv } from '../../../src/envs/multi/single-agent.js';

/** An agent that only acts: probabilities one-hot on `action`, and a log of the batches it saw. */
function stubAgent(action: number, numActions: number): Agent & { calls: Array<{ rows: number; obs: ObsArray }> } {
  const calls: Array<{ rows: number; obs: ObsArray }> = [];
  return {
    kind: 'stub',
    calls,
    async act(obs: ObsArray, o: ActOptions) {
      calls.push({ rows: o.numEnvs, obs: obs.slice() as ObsArray });
      const probs = new Float32Array(o.numEnvs * numActions);
      for (let i = 0; i < o.numEnvs; i++) probs[i * numActions + action] = 1;
      return { actions: new Int32Array(o.numEnvs).fill(action), info: { probs } };
    },
    async observe() {
      return null;
    },
    schedule: () => ({}),
    save: async () => ({ json: {}, blobs: {} }),
    load: async () => {},
    dispose: () => {},
  };
}

function config(agent: string | null): ResolvedRunConfig & { selfplay: typeof DEFAULT_SELFPLAY } {
  return { game: 'tag', agent: 'ppo', preset: 'default', run: { ...DEFAULT_RUN_SETTINGS, envs: 3 }, agentConfig: {}, selfplay: { ...DEFAULT_SELFPLAY, agent } };
}

describe('SelfPlay seats', () => {
  it('gives sub-env i seat i mod n by default, or the fixed seat', () => {
    const seats = ['chaser_0', 'chaser_1', 'evader'];
    expect([0, 1, 2, 3].map((i) => learnerSeat(seats, { agent: null }, i))).toEqual(['chaser_0', 'chaser_1', 'evader', 'chaser_0']);
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-selfplay-seats-'));
    for (const [agent, want] of [[null, seats], ['evader', ['evader', 'evader', 'evader']]] as const) {
      const sp = new SelfPlay({ cfg: config(agent), runDir: dir, numEnvs: 3 });
      const vec = sp.createEnvs();
      expect(vec.envs.map((e) => (e as SingleAgentEnv<ObsArray, number>).agent)).toEqual(want);
      vec.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('plays every other seat of every sub-env in one batch of their own observations (the latest policy before any swap)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-selfplay-act-'));
    const sp = new SelfPlay({ cfg: config(null), runDir: dir, numEnvs: 3 });
    const vec = sp.createEnvs();
    await vec.reset({ seed: 1 });
    const learner = stubAgent(2, 5);
    for (let t = 0; t < 3; t++) {
      const expected = vec.envs.flatMap((e) => Object.values((e as SingleAgentEnv<ObsArray, number>).otherObservations()));
      await sp.actOthers(learner);
      const call = learner.calls.at(-1)!;
      // Two other seats per tag env: 6 rows, each the seat's own view.
      expect(call.rows).toBe(6);
      const size = expected[0]!.length;
      expected.forEach((o, j) => expect(Array.from(call.obs.subarray(j * size, (j + 1) * size))).toEqual(Array.from(o)));
      // Without the other seats' actions the step would throw (they are external seats).
      await vec.step(new Int32Array(3));
    }
    expect(sp.metrics()).toEqual({ opponent: 'latest', pool_size: 0 });
    await vec.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('randomSeats: the learner takes the other seats in turn; random moves play those seats, the pool only the rest', async () => {
    const seats = ['chaser_0', 'chaser_1', 'evader'];
    expect([0, 1, 2, 3].map((i) => learnerSeat(seats, { agent: null, randomSeats: ['evader'] }, i))).toEqual(['chaser_0', 'chaser_1', 'chaser_0', 'chaser_1']);
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-selfplay-random-'));
    const cfg = config(null);
    const sp = new SelfPlay({ cfg: { ...cfg, selfplay: { ...cfg.selfplay, randomSeats: ['evader'] } }, runDir: dir, numEnvs: 3 });
    const vec = sp.createEnvs();
    expect(vec.envs.map((e) => (e as SingleAgentEnv<ObsArray, number>).agent)).toEqual(['chaser_0', 'chaser_1', 'chaser_0']);
    await vec.reset({ seed: 1 });
    const learner = stubAgent(2, 5);
    for (let t = 0; t < 3; t++) {
      await sp.actOthers(learner);
      // One teammate chaser per env acts through the pool; the evader moves at random inside the env.
      expect(learner.calls.at(-1)!.rows).toBe(3);
      await vec.step(new Int32Array(3));
    }
    await vec.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
