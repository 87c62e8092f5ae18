/** Best-evaluated weights (best/) and stopAtEval. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { loadRunAgent, train } from '../../src/train/runner.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-best-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const small = { learningStarts: 40, batchSize: 8 };

describe('best weights and stopAtEval', () => {
  it('stops at the first evaluation reaching stopAtEval and keeps its weights in best/', async () => {
    // Catch returns are -1 or +1, so every evaluation reaches -1.
    const config = resolveRunConfig({ game: 'catch', file: { ...small, steps: 400, evalEvery: 100, evalEpisodes: 2, logEvery: 50, checkpointEvery: 0, stopAtEval: -1 } });
    const res = await train({ config, runDir: join(dir, 'run'), progress: null });
    expect(res.stoppedEarly).toBe(true);
    expect(res.step).toBe(100);
    expect(res.bestEval).toBe(res.lastEval!.mean_return);
    expect(readdirSync(join(dir, 'run', 'checkpoints'))).toEqual(['100']);
    expect(readCheckpoint(join(dir, 'run', 'best')).runner.step).toBe(100);
    expect(readdirSync(join(dir, 'run')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('best/ holds the highest evaluation; eval loads it unless a checkpoint is named', async () => {
    const config = resolveRunConfig({ game: 'catch', file: { ...small, steps: 300, evalEvery: 100, evalEpisodes: 4, logEvery: 100, checkpointEvery: 100 } });
    const res = await train({ config, runDir: join(dir, 'run'), progress: null });
    expect(res.stoppedEarly).toBe(false);
    expect(res.step).toBe(300);
    const best = readCheckpoint(join(dir, 'run', 'best')).runner;
    expect(best.bestEval).toBe(res.bestEval);
    expect(res.bestEval).toBeGreaterThanOrEqual(res.lastEval!.mean_return);
    const loaded = await loadRunAgent(join(dir, 'run'));
    expect(loaded.best).toBe(true);
    expect(loaded.step).toBe(best.step);
    loaded.agent.dispose();
    const named = await loadRunAgent(join(dir, 'run'), 200);
    expect(named.best).toBe(false);
    expect(named.step).toBe(200);
    named.agent.dispose();
    expect(existsSync(join(dir, 'run', 'checkpoints', '300'))).toBe(true);
  });

  it('a run without evaluations has no best/ and eval falls back to the latest checkpoint', async () => {
    const config = resolveRunConfig({ game: 'catch', file: { ...small, steps: 100, evalEpisodes: 0, logEvery: 50, checkpointEvery: 0 } });
    const res = await train({ config, runDir: join(dir, 'run'), progress: null });
    expect(res.bestEval).toBeNull();
    expect(existsSync(join(dir, 'run', 'best'))).toBe(false);
    const loaded = await loadRunAgent(join(dir, 'run'));
    expect(loaded.best).toBe(false);
    expect(loaded.step).toBe(100);
    loaded.agent.dispose();
  });
});
