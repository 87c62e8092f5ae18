/**
 * Export parity for SAC on mountain-car-continuous with its default preset (colored exploration,
 * whose noise state the checkpoint carries but the bundle must not need): over 200 steps of
 * varied states, the runtime's action equals the training agent's greedy action within 1e-5.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { exportPolicy } from '../../src/export/export-policy.js';
import { loadPolicy } from '../../src/runtime/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { loadRunAgent, train } from '../../src/train/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-sac-mcc-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npcforge export: sac on mountain-car-continuous', () => {
  it('the runtime returns tanh(mean) scaled to [-1, 1] within 1e-5 of the agent over 200 steps', async () => {
    const config = resolveRunConfig({ game: 'mountain-car-continuous', flags: { steps: 200, envs: 2, seed: 1, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 100 }, file: { learningStarts: 64, batchSize: 8 } });
    expect(config.agent).toBe('sac');
    expect(config.agentConfig.exploration).toMatchObject({ kind: 'colored' });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, 'bundle');
    const r = await exportPolicy({ runDir: res.runDir, outDir: out });
    expect(r.policy.output).toBe('squashed-mean');
    expect(r.policy.action).toEqual({ type: 'Box', shape: [1], low: [-1], high: [1] });
    const { agent } = await loadRunAgent(res.runDir);
    const policy = await loadPolicy(out, { game: 'mountain-car-continuous' });
    const env = make('mountain-car-continuous') as Env<ObsArray, unknown>;
    try {
      // Random forces move the car around the valley, so the states (and actions) vary.
      const rng = new SeededRng(3);
      let obs = env.reset({ seed: 500 }).obs;
      let maxDiff = 0;
      const seen = new Set<number>();
      for (let t = 0; t < 200; t++) {
        const a = (await agent.act(obs, { numEnvs: 1, mode: 'eval' })).actions as Float32Array;
        const p = await policy.act(obs);
        expect(p.action).toBeInstanceOf(Float32Array);
        const x = (p.action as Float32Array)[0]!;
        expect(Math.abs(x)).toBeLessThanOrEqual(1);
        maxDiff = Math.max(maxDiff, Math.abs(x - a[0]!));
        seen.add(Math.round(x * 1e4));
        obs = env.step(Float32Array.of(rng.random() < 0.5 ? -1 : 1)).obs;
      }
      expect(maxDiff).toBeLessThan(1e-5);
      expect(seen.size).toBeGreaterThan(10);
    } finally {
      env.close();
      policy.dispose();
      agent.dispose();
    }
  });
});
