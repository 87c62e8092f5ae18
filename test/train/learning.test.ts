/** Seeded learning test: the default DQN settings for catch solve it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';

describe('DQN learning', () => {
  it('solves catch: greedy eval mean return >= 0.9 over 100 episodes', async () => {
    const config = resolveRunConfig({ game: 'catch', flags: { steps: 3000, seed: 1, evalEvery: 0, evalEpisodes: 100, checkpointEvery: 0 } });
    const res = await train({ config, outDir: mkdtempSync(join(tmpdir(), 'npcforge-learn-')), progress: null });
    expect(res.lastEval!.episodes).toBe(100);
    expect(res.lastEval!.mean_return).toBeGreaterThanOrEqual(0.9);
  });
});
