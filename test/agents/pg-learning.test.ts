/**
 * Seeded learning tests: A2C and REINFORCE (each with its catch preset, through the runner) solve
 * catch: greedy evaluation mean return >= 0.9 over 100 episodes. PPO on cartpole is a benchmark
 * (docs/policy-gradient.md) because it does not fit the suite's time on 2 shared cores.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';

describe('policy-gradient learning on catch', () => {
  for (const [agent, steps] of [['a2c', 48_000], ['reinforce', 48_000]] as const) {
    it(`${agent} solves catch (eval mean >= 0.9 over 100 episodes)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `npcforge-${agent}-`));
      const config = resolveRunConfig({ game: 'catch', agent, flags: { steps, seed: 1, evalEvery: 0, evalEpisodes: 100, checkpointEvery: 0, logEvery: steps } });
      const r = await train({ config, runDir: join(dir, 'run'), progress: null });
      expect(r.step).toBeGreaterThanOrEqual(steps);
      expect(r.lastEval!.episodes).toBe(100);
      expect(r.lastEval!.mean_return).toBeGreaterThanOrEqual(0.9);
    }, 180_000);
  }
});
