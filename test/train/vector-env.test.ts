/**
 * Training over worker envs (`vectorEnv: 'workers'`): the double-buffered loop gives the run of
 * the in-process loop for the same seed (metrics minus timings, weights, Adam slots), checkpoints
 * and resumes, and closes its workers; and the rule `auto` decides by.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { listCheckpoints } from '../../src/train/run-folder.js';
import { AUTO_WORKERS_MIN_ENVS, chooseVectorEnv, type VectorEnvFacts } from '../../src/train/train-envs.js';
import { InvalidConfigError } from '../../src/errors.js';

function deterministic(text: string): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const { env_steps_per_s: _a, updates_per_s: _b, wall_time_s: _c, tensors: _d, ...rest } = JSON.parse(l);
      return rest;
    });
}

/** Metrics minus timings, and the final checkpoint's weights and Adam slots, of run `dir` at `step`. */
function outcome(dir: string, step: number) {
  const at = (file: string) => readFileSync(join(dir, 'checkpoints', String(step), file));
  return { metrics: deterministic(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')), weights: at('weights.net.bin'), slots: at('slots.adam.bin') };
}

const TOTAL = 320;

describe('PPO over worker envs', () => {
  // cartpole with a 20-step cap: truncations every episode, so the bootstrap of V(finalObs) runs on both halves.
  for (const [game, envOptions, lstmUnits] of [
    ['cartpole', { maxEpisodeSteps: 20 }, 0],
    ['catch', {}, 8],
  ] as Array<[string, Record<string, unknown>, number]>) {
    it(`gives the run of the in-process loop for the same seed (${game}, lstmUnits ${lstmUnits})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'npcforge-vec-'));
      const file = { numSteps: 8, minibatches: 2, epochs: 2, mlpHidden: [16], lstmUnits, encoder: 'mlp', envOptions };
      // Evaluation and checkpoints at 64-step multiples, off the 40-step rollouts: both halves are finished before them.
      const flags = { steps: TOTAL, envs: 5, checkpointEvery: 64, logEvery: 16, evalEvery: 96, evalEpisodes: 2, seed: 4 };
      const runs: Record<string, ReturnType<typeof outcome>> = {};
      for (const vectorEnv of ['sync', 'workers'] as const) {
        const config = resolveRunConfig({ game, agent: 'ppo', file, flags: { ...flags, vectorEnv } });
        const lines: string[] = [];
        const r = await train({ config, runDir: join(dir, vectorEnv), progress: { write: (s: string) => (lines.push(s), true) } });
        expect(r.step).toBe(TOTAL);
        if (vectorEnv === 'workers') expect(lines.join('')).toContain('5 envs in worker threads, double-buffered');
        runs[vectorEnv] = outcome(join(dir, vectorEnv), TOTAL);
      }
      expect(runs.workers!.metrics.length).toBe(TOTAL / 16);
      expect(runs.workers!.metrics).toEqual(runs.sync!.metrics);
      expect(runs.workers!.weights.equals(runs.sync!.weights)).toBe(true);
      expect(runs.workers!.slots.equals(runs.sync!.slots)).toBe(true);
    });
  }

  it('checkpoints on a stop and resumes (in workers or in this process) exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-vec-resume-'));
    const file = { numSteps: 8, minibatches: 2, epochs: 2, mlpHidden: [16], encoder: 'mlp', envOptions: { maxEpisodeSteps: 30 } };
    const flags = { steps: TOTAL, envs: 4, checkpointEvery: 64, logEvery: 32, evalEvery: 64, evalEpisodes: 2, seed: 9 };
    const config = resolveRunConfig({ game: 'cartpole', agent: 'ppo', file, flags: { ...flags, vectorEnv: 'workers' } });
    let polls = 0;
    const stopped = await train({ config, runDir: join(dir, 'a'), progress: null, shouldStop: () => ++polls > 37 });
    expect(stopped.interrupted).toBe(true);
    const at = stopped.step;
    // Stopped between checkpoints, inside a rollout (rollouts are 32 steps).
    expect(at % 64).not.toBe(0);
    expect(at % 32).not.toBe(0);
    expect(listCheckpoints(join(dir, 'a'))).toContain(at);
    // Part of the rest in workers (stopped again), then the rest in this process.
    polls = 0;
    const again = await train({ resume: join(dir, 'a'), progress: null, shouldStop: () => ++polls > 15 });
    expect(again.interrupted).toBe(true);
    expect(again.step).toBeGreaterThan(at);
    expect((await train({ resume: join(dir, 'a'), progress: null, vectorEnv: 'sync' })).step).toBe(TOTAL);
    const straight = resolveRunConfig({ game: 'cartpole', agent: 'ppo', file, flags: { ...flags, vectorEnv: 'sync' } });
    expect((await train({ config: straight, runDir: join(dir, 'b'), progress: null })).step).toBe(TOTAL);
    const a = outcome(join(dir, 'a'), TOTAL);
    const b = outcome(join(dir, 'b'), TOTAL);
    expect(a.metrics).toEqual(b.metrics);
    expect(a.weights.equals(b.weights)).toBe(true);
  });

  it('refuses workers for a game without Discrete actions, naming the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-vec-box-'));
    const config = resolveRunConfig({ game: 'pendulum', agent: 'ppo', flags: { steps: 64, envs: 2, vectorEnv: 'workers' } });
    const err = await train({ config, runDir: join(dir, 'a'), progress: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as Error).message).toMatch(/^\[--vector-env workers\] expected a game with Discrete actions.*received pendulum with Box actions; fix: use --vector-env sync or auto/);
  });

  it('rejects an unknown vectorEnv setting with the others listed', () => {
    expect(() => resolveRunConfig({ game: 'catch', agent: 'ppo', flags: { vectorEnv: 'threads' as never } })).toThrow(/vectorEnv = "threads" \(want sync, workers, auto\)/);
  });
});

describe('chooseVectorEnv', () => {
  const base: VectorEnvFacts = { mode: 'auto', numEnvs: 64, cores: 2, discrete: true, envStepUs: 120, actUsPerEnv: 40 };
  it('auto takes workers when a step costs at least acting per env, with 2+ cores, 16+ envs and Discrete actions', () => {
    expect(chooseVectorEnv(base).kind).toBe('workers');
    expect(chooseVectorEnv({ ...base, envStepUs: 40 }).kind).toBe('workers');
    expect(chooseVectorEnv({ ...base, envStepUs: 39 }).kind).toBe('sync');
    expect(chooseVectorEnv({ ...base, cores: 1 }).kind).toBe('sync');
    expect(chooseVectorEnv({ ...base, numEnvs: AUTO_WORKERS_MIN_ENVS - 1 }).kind).toBe('sync');
    expect(chooseVectorEnv({ ...base, discrete: false }).kind).toBe('sync');
  });
  it('sync and workers are taken as asked', () => {
    expect(chooseVectorEnv({ ...base, mode: 'sync' }).kind).toBe('sync');
    expect(chooseVectorEnv({ ...base, mode: 'workers', envStepUs: 0 }).kind).toBe('workers');
  });
});
