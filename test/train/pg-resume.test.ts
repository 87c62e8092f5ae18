/**
 * Resume exactness for PPO (feed-forward and LSTM; Discrete, Box and MultiDiscrete actions; a Dict observation): a run stopped mid-rollout writes a checkpoint,
 * `resume` continues it, and metrics (minus timings) and weights equal an uninterrupted run.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { listCheckpoints } from '../../src/train/run-folder.js';

const TOTAL = 256;

function deterministic(text: string): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      // Timings and the process-wide tensor count depend on the process, not on the run.
      const { env_steps_per_s: _a, updates_per_s: _b, wall_time_s: _c, tensors: _d, ...rest } = JSON.parse(l);
      return rest;
    });
}

describe('PPO resume', () => {
  for (const [game, lstmUnits, extra] of [
    ['catch', 0, {}],
    ['catch', 8, {}],
    // Box actions with the pendulum preset's normalisation and separate critic (their state is in the snapshot).
    ['pendulum', 0, { normObs: true, normReward: true, separateCritic: true }],
    ['tank', 8, {}],
    // Dict observations: one encoder per key (a CNN for the grid) instead of the flat MLP.
    ['beacon', 0, { encoder: 'auto' }],
  ] as Array<[string, number, Record<string, unknown>]>) {
    it(`continues exactly like an uninterrupted run (${game}, lstmUnits ${lstmUnits})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'npcforge-pg-resume-'));
      const file = { numSteps: 8, minibatches: 2, epochs: 2, mlpHidden: [16], lstmUnits, encoder: 'mlp', ...extra };
      const flags = { steps: TOTAL, envs: 4, checkpointEvery: 64, logEvery: 32, evalEvery: 64, evalEpisodes: 4, seed: 3 };
      const config = resolveRunConfig({ game, agent: 'ppo', file, flags });
      let polls = 0;
      // 30 iterations x 4 envs = step 120: inside the fourth rollout of 32 steps.
      const stopped = await train({ config, runDir: join(dir, 'a'), progress: null, shouldStop: () => ++polls > 30 });
      expect(stopped.interrupted).toBe(true);
      expect(stopped.step).toBe(120);
      expect(listCheckpoints(join(dir, 'a'))).toContain(120);
      const resumed = await train({ resume: join(dir, 'a'), progress: null });
      expect(resumed.step).toBe(TOTAL);
      const straight = await train({ config, runDir: join(dir, 'b'), progress: null });
      expect(straight.step).toBe(TOTAL);
      const ma = deterministic(readFileSync(join(dir, 'a', 'metrics.jsonl'), 'utf8'));
      const mb = deterministic(readFileSync(join(dir, 'b', 'metrics.jsonl'), 'utf8'));
      expect(ma.length).toBe(TOTAL / 32);
      expect(ma).toEqual(mb);
      // Weights and Adam slots are blobs of the shared snapshot format; they and the counters must match.
      const at = (run: string, file: string) => readFileSync(join(dir, run, 'checkpoints', String(TOTAL), file));
      for (const blob of ['weights.net.bin', 'slots.adam.bin']) expect(at('a', blob).equals(at('b', blob))).toBe(true);
      const sa = JSON.parse(at('a', 'checkpoint.json').toString('utf8')).agent;
      const sb = JSON.parse(at('b', 'checkpoint.json').toString('utf8')).agent;
      expect(sa.optimizers.adam.step).toBe(sb.optimizers.adam.step);
      expect(sa.state.updates).toBe(TOTAL / 32);
    });
  }
});
