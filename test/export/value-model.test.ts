/**
 * Actor-critic bundles carry their critic (policy.json `valueModel`: value.json +
 * value.weights.bin) for the viewer's value saliency: a small PPO run on minatar/breakout (CNN) is
 * exported and the loaded critic's value equals the training agent's within 1e-5; acting is
 * unchanged; DQN bundles have none.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { exportPolicy } from '../../src/export/export-policy.js';
import { CheckpointError } from '../../src/errors.js';
import { loadPolicy, loadValueModel } from '../../src/runtime/load-policy.js';
import { computeSaliency } from '../../src/runtime/saliency.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { loadRunAgent, train } from '../../src/train/runner.js';
import * as tf from '@tensorflow/tfjs';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-value-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const GAME = 'minatar/breakout';

describe('export: the critic of actor-critic runs', () => {
  it('writes value.json whose value equals the PPO agent\'s within 1e-5, and a value saliency map from it', async () => {
    const config = resolveRunConfig({ game: GAME, agent: 'ppo', file: { numSteps: 32, minibatches: 2, epochs: 1 }, flags: { steps: 128, seed: 5, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 64 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, 'ppo-bundle');
    const r = await exportPolicy({ runDir: res.runDir, outDir: out });
    expect(r.policy.valueModel).toEqual({ topology: 'value.json' });
    expect(existsSync(join(out, 'value.weights.bin'))).toBe(true);
    const policy = await loadPolicy(out);
    const critic = (await loadValueModel(out, policy.file))!;
    const { agent } = await loadRunAgent(res.runDir);
    try {
      const env = make(GAME) as Env<ObsArray, number>;
      const rng = new SeededRng(2);
      let obs = env.reset({ seed: 9 }).obs;
      let maxDiff = 0;
      for (let t = 0; t < 20; t++) {
        const a = await agent.act(obs, { numEnvs: 1, mode: 'eval', withValues: true });
        const x = tf.tensor(Float32Array.from(obs as ArrayLike<number>, (v) => v * policy.file.inputScale), [1, ...policy.file.observation.shape]);
        const v = critic.predict(x) as tf.Tensor;
        maxDiff = Math.max(maxDiff, Math.abs((await v.data())[0]! - a.info.value![0]!));
        tf.dispose([x, v]);
        const p = await policy.act(obs);
        expect(p.action).toBe(a.actions[0]);
        const step = env.step(rng.int(0, policy.file.actions.length));
        if (step.terminated || step.truncated) obs = env.reset({ seed: 10 + t }).obs;
        else obs = step.obs;
      }
      env.close();
      expect(maxDiff).toBeLessThan(1e-5);
      const map = await computeSaliency({ file: policy.file, model: policy.model, valueModel: critic }, obs as ArrayLike<number>, { kind: 'value' }, { method: 'gradient' });
      expect(map.peak).toBeGreaterThan(0);
    } finally {
      agent.dispose();
      critic.dispose();
      policy.dispose();
    }
    // A critic file of the wrong size fails as the policy's would: one named line.
    writeFileSync(join(out, 'value.weights.bin'), readFileSync(join(out, 'value.weights.bin')).subarray(4));
    const file = (await loadPolicy(out)).file;
    await expect(loadValueModel(out, file)).rejects.toThrow(CheckpointError);
    await expect(loadValueModel(out, file)).rejects.toThrow(/^\[loadPolicy\] expected \d+ bytes of float32 weights, received \d+ bytes in value.weights.bin/);
  }, 120_000);

  it('a DQN bundle has no value model (its value is max Q)', async () => {
    const config = resolveRunConfig({ game: 'catch', agent: 'dqn', flags: { steps: 64, seed: 1, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 32 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const r = await exportPolicy({ runDir: res.runDir, outDir: join(tmp, 'dqn-bundle') });
    expect(r.policy.valueModel).toBeUndefined();
    const policy = await loadPolicy(join(tmp, 'dqn-bundle'));
    expect(await loadValueModel(join(tmp, 'dqn-bundle'), policy.file)).toBeNull();
    policy.dispose();
  }, 120_000);
});
