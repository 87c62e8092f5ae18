/**
 * The opt-in profile of the training loop (`train({ phases })`, used by the dqn-frame benchmark):
 * every DQN phase gets time, laps add up to the loop's time, and profiling changes no result.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { PHASES, PhaseTimer } from '../../src/train/phases.js';
import { deterministicMetrics } from '../helpers/kill-resume.js';

describe('PhaseTimer', () => {
  it('charges the time since the previous lap to the named phase, and none before mark()', () => {
    const t = new PhaseTimer();
    const spin = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    spin(5);
    t.mark();
    spin(20);
    t.lap('update');
    spin(5);
    t.lap('env');
    expect(t.wallMs.update).toBeGreaterThanOrEqual(20);
    expect(t.wallMs.update).toBeLessThan(20 + 5 + 5);
    expect(t.wallMs.env).toBeGreaterThanOrEqual(5);
    // Busy waiting is CPU time too (a coarse check: the clocks differ in resolution).
    expect(t.cpuMs.update + t.cpuMs.env).toBeGreaterThan(10);
    expect(t.wallMs.act).toBe(0);
  });
});

describe('train({ phases })', () => {
  it('times every DQN phase, covers the whole loop, and leaves metrics and weights as without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-phases-'));
    const config = resolveRunConfig({ game: 'catch', file: { learningStarts: 100, batchSize: 16, bufferSize: 2000, targetUpdateEvery: 40 }, flags: { steps: 400, logEvery: 100, evalEvery: 200, evalEpisodes: 3, checkpointEvery: 200, seed: 2 } });
    const phases = new PhaseTimer();
    const t0 = performance.now();
    await train({ config, runDir: join(dir, 'profiled'), progress: null, phases });
    const wall = performance.now() - t0;
    await train({ config, runDir: join(dir, 'plain'), progress: null });
    for (const p of PHASES.filter((q) => q !== 'other')) expect(phases.wallMs[p], p).toBeGreaterThan(0);
    const sum = PHASES.reduce((a, p) => a + phases.wallMs[p], 0);
    // The laps cover the loop only; setup (backend, envs, run folder) is outside it.
    expect(sum).toBeLessThanOrEqual(wall);
    const metrics = (d: string) => deterministicMetrics(readFileSync(join(dir, d, 'metrics.jsonl'), 'utf8'));
    expect(metrics('profiled')).toEqual(metrics('plain'));
    expect(readFileSync(join(dir, 'profiled', 'checkpoints', '400', 'weights.online.bin')).equals(readFileSync(join(dir, 'plain', 'checkpoints', '400', 'weights.online.bin')))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
