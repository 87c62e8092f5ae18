import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-box-metrics-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lines = (runDir: string): Array<Record<string, unknown>> =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('metrics.jsonl counts clipped actions of Box-action games', () => {
  it('ppo on pendulum: every line has clipped_actions, and the Gaussian (std 1, bounds +-2) is clipped now and then', async () => {
    const config = resolveRunConfig({ game: 'pendulum', agent: 'ppo', file: { numSteps: 64 }, flags: { steps: 512, envs: 1, seed: 3, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 128 } });
    const res = await train({ config, outDir: tmp, progress: null });
    const ls = lines(res.runDir);
    expect(ls.length).toBe(4);
    for (const l of ls) expect(Number.isInteger(l.clipped_actions) && (l.clipped_actions as number) >= 0).toBe(true);
    // The policy starts as N(mean ~ 0, 1): about 5% of 512 samples fall outside [-2, 2].
    const total = ls.reduce((a, l) => a + (l.clipped_actions as number), 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(128);
  });

  it('a Discrete game has no clipped_actions field', async () => {
    const config = resolveRunConfig({ game: 'catch', agent: 'ppo', flags: { steps: 256, envs: 1, seed: 3, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 128 } });
    const res = await train({ config, outDir: tmp, progress: null });
    for (const l of lines(res.runDir)) expect('clipped_actions' in l).toBe(false);
  });
});

describe('metrics.jsonl eval_return', () => {
  it('is a number only on the lines of the steps an evaluation ran (never carried forward); an evaluation off the log interval gets its own line', async () => {
    const config = resolveRunConfig({ game: 'catch', agent: 'ppo', file: { numSteps: 16 }, flags: { steps: 384, envs: 1, seed: 3, evalEvery: 96, evalEpisodes: 1, checkpointEvery: 0, logEvery: 64 } });
    const res = await train({ config, outDir: tmp, progress: null });
    const ls = lines(res.runDir);
    // Log steps 64, 128, ..., 384 and evaluation steps 96, 192, 288, 384.
    expect(ls.map((l) => l.step)).toEqual([64, 96, 128, 192, 256, 288, 320, 384]);
    const evaluated = ls.filter((l) => typeof l.eval_return === 'number').map((l) => l.step);
    expect(evaluated).toEqual([96, 192, 288, 384]);
    for (const l of ls) if (!evaluated.includes(l.step as number)) expect(l.eval_return).toBeNull();
  });
});
