/**
 * Export parity for a Dict-observation policy (PPO on beacon, feed-forward and LSTM): the bundle
 * holds stock layers only (the per-key split is Reshape + Cropping2D), policy.json carries the
 * layout, and the runtime's probabilities equal the training agent's within 1e-5, whether the game
 * passes the flat array or the Dict object itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { BeaconEnv } from '../../games/beacon/index.js';
import { flattenDictObs, type DictLayout } from '../../src/envs/dict-obs.js';
import { SeededRng } from '../../src/envs/rng.js';
import { exportPolicy } from '../../src/export/export-policy.js';
import { loadPolicy } from '../../src/runtime/index.js';
import { parsePolicyFile } from '../../src/runtime/policy-file.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { loadRunAgent, train } from '../../src/train/runner.js';
import { CheckpointError, SpaceMismatchError } from '../../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-dict-export-'));

describe('npcforge export: Dict observations', () => {
  for (const lstmUnits of [0, 16]) {
    it(`parity for ppo on beacon${lstmUnits ? ' with an LSTM' : ''}: flat array or Dict object, probabilities within 1e-5 of the agent`, async () => {
      // Glorot init: CleanRL's orthogonal one starts the policy head near uniform (gain 0.01), and
      // after 256 steps greedy acting would pick one action everywhere, which compares little.
      const config = resolveRunConfig({ game: 'beacon', agent: 'ppo', file: { numSteps: 32, lstmUnits, init: 'glorot' }, flags: { steps: 256, envs: 2, seed: 2, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 128 } });
      const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
      const out = join(tmp, `beacon-${lstmUnits}`);
      const r = await exportPolicy({ runDir: res.runDir, outDir: out });
      expect(r.policy.version).toBe(2);
      expect(r.policy.observation.shape).toEqual([130]);
      expect(r.policy.observation.dict!.map((e) => [e.key, e.offset, e.size, e.scale])).toEqual([['grid', 0, 128, 1], ['offset', 128, 2, 1]]);
      const { agent } = await loadRunAgent(res.runDir);
      const policy = await loadPolicy(out, { game: 'beacon' });
      const layout: DictLayout = { entries: r.policy.observation.dict!, size: 130 };
      try {
        const env = new BeaconEnv();
        const rng = new SeededRng(5);
        let maxDiff = 0;
        let compared = 0;
        const actions = new Set<number>();
        for (let ep = 0; ep < 4; ep++) {
          let obs = env.reset({ seed: 300 + ep }).obs;
          policy.reset();
          let state: unknown = undefined;
          for (let t = 0; t < 30; t++) {
            const flat = flattenDictObs(layout, obs as Record<string, ArrayLike<number>>);
            const a = await agent.act(flat, { numEnvs: 1, mode: 'eval' }, state);
            state = a.state;
            // Alternate the two input forms; both must equal the agent.
            const p = await policy.act(t % 2 ? flat : (obs as Record<string, ArrayLike<number>>));
            expect(p.action).toBe(a.actions[0]);
            for (let i = 0; i < 4; i++) maxDiff = Math.max(maxDiff, Math.abs(p.probs![i]! - a.info.probs![i]!));
            compared++;
            actions.add(a.actions[0] as number);
            const step = env.step(rng.random() < 0.3 ? rng.int(0, 4) : (a.actions[0] as number));
            if (step.terminated || step.truncated) break;
            obs = step.obs;
          }
        }
        expect(compared).toBeGreaterThan(20);
        // The comparison is only worth something if the states gave different actions.
        expect(actions.size).toBeGreaterThan(1);
        expect(maxDiff).toBeLessThan(1e-5);
        await expect(policy.act({ grid: new Uint8Array(128) })).rejects.toThrow(SpaceMismatchError);
        await expect(policy.act({ grid: new Uint8Array(128) })).rejects.toThrow(/2 values at Dict key 2 of 2/);
      } finally {
        policy.dispose();
        agent.dispose();
      }
    }, 120_000);
  }

  it('policy.json: a malformed observation.dict is refused without quoting its keys', () => {
    const base = { format: 'npcforge-policy', version: 2, game: { id: 'beacon', options: {} }, agent: 'ppo', output: 'logits', frame: { shape: [5], dtype: 'float32' }, preprocess: [], inputScale: 1, actions: ['a', 'b'], action: { type: 'Discrete', n: 2 }, recurrentState: null, model: { topology: 'model.json' }, training: {}, evalReturn: null, createdAt: '' };
    const entry = (key: string, offset: number, size: number) => ({ key, shape: [size], dtype: 'float32', offset, size, scale: 1 });
    const file = (dict: unknown) => JSON.stringify({ ...base, observation: { shape: [5], dtype: 'float32', low: 0, high: 1, dict } });
    expect(parsePolicyFile(file([entry('a', 0, 2), entry('b', 2, 3)])).observation.dict).toHaveLength(2);
    expect(() => parsePolicyFile(file([entry('secret-key', 0, 2), entry('b', 3, 2)]))).toThrow(CheckpointError);
    expect(() => parsePolicyFile(file([entry('secret-key', 0, 2), entry('b', 3, 2)]))).toThrow(/entry 2 of 2/);
    expect(() => parsePolicyFile(file([entry('secret-key', 0, 2), entry('b', 3, 2)]))).not.toThrow(/secret-key/);
    expect(() => parsePolicyFile(file([entry('a', 0, 2), entry('b', 2, 2)]))).toThrow(/entries total 4 values, observation.shape \[5\]/);
  });
});
