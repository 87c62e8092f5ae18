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

describe('PPO over worker envs', () => {
  // cartpole with a 20-step cap: truncations every episode, so the bootstrap of V(finalObs) runs on both halves.
  // 32 envs: two halves of 16 (double-buffered); 5 envs: halves too small, the workers step all at once.
  for (const [game, envOptions, lstmUnits, envs, hidden] of [
    ['cartpole', { maxEpisodeSteps: 20 }, 0, 32, [64, 64]],
    ['catch', {}, 8, 32, [16]],
    ['cartpole', { maxEpisodeSteps: 20 }, 0, 5, [16]],
  ] as Array<[string, Record<string, unknown>, number, number, number[]]>) {
    it(`gives the run of the in-process loop for the same seed (${game}, lstmUnits ${lstmUnits}, ${envs} envs)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'npcforge-vec-'));
      const file = { numSteps: 4, minibatches: 2, epochs: 2, mlpHidden: hidden, lstmUnits, encoder: 'mlp', envOptions };
      // 3 rollouts; evaluations and checkpoints fall inside rollouts, where both halves are finished first.
      const total = envs * 4 * 3;
      const flags = { steps: total, envs, checkpointEvery: envs * 3, logEvery: envs, evalEvery: envs * 5, evalEpisodes: 2, seed: 4 };
      const runs: Record<string, ReturnType<typeof outcome>> = {};
      for (const vectorEnv of ['sync', 'workers'] as const) {
        const config = resolveRunConfig({ game, agent: 'ppo', file, flags: { ...flags, vectorEnv } });
        const lines: string[] = [];
        const r = await train({ config, runDir: join(dir, vectorEnv), progress: { write: (s: string) => (lines.push(s), true) } });
        expect(r.step).toBe(total);
        if (vectorEnv === 'workers') expect(lines.join('')).toContain(envs >= 32 ? `${envs} envs in worker threads, double-buffered` : `${envs} envs in worker threads (vectorEnv workers)`);
        runs[vectorEnv] = outcome(join(dir, vectorEnv), total);
      }
      expect(runs.workers!.metrics.length).toBe(12);
      expect(runs.workers!.metrics).toEqual(runs.sync!.metrics);
      expect(runs.workers!.weights.equals(runs.sync!.weights)).toBe(true);
      expect(runs.workers!.slots.equals(runs.sync!.slots)).toBe(true);
      // Tensors stay flat once the first update has run (line 4 of 12: one rollout is 4 lines).
      const tensors = readFileSync(join(dir, 'workers', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { tensors: number }).tensors);
      expect(new Set(tensors.slice(4)).size, tensors.join(' ')).toBe(1);
    });
  }

  it('checkpoints on a stop and resumes (in workers or in this process) exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-vec-resume-'));
    const file = { numSteps: 4, minibatches: 2, epochs: 2, mlpHidden: [16], encoder: 'mlp', envOptions: { maxEpisodeSteps: 30 } };
    // 32 envs x 4 steps: 128-step rollouts; 12 iterations in all.
    const total = 384;
    const flags = { steps: total, envs: 32, checkpointEvery: 64, logEvery: 32, evalEvery: 96, evalEpisodes: 2, seed: 9 };
    const config = resolveRunConfig({ game: 'cartpole', agent: 'ppo', file, flags: { ...flags, vectorEnv: 'workers' } });
    let polls = 0;
    const stopped = await train({ config, runDir: join(dir, 'a'), progress: null, shouldStop: () => ++polls > 5 });
    expect(stopped.interrupted).toBe(true);
    const at = stopped.step;
    // Stopped between checkpoints, inside a rollout.
    expect(at % 64).not.toBe(0);
    expect(at % 128).not.toBe(0);
    expect(listCheckpoints(join(dir, 'a'))).toContain(at);
    // Part of the rest in workers (stopped again), then the rest in this process.
    polls = 0;
    const again = await train({ resume: join(dir, 'a'), progress: null, shouldStop: () => ++polls > 3 });
    expect(again.interrupted).toBe(true);
    expect(again.step).toBeGreaterThan(at);
    expect(again.step).toBeLessThan(total);
    expect((await train({ resume: join(dir, 'a'), progress: null, vectorEnv: 'sync' })).step).toBe(total);
    const straight = resolveRunConfig({ game: 'cartpole', agent: 'ppo', file, flags: { ...flags, vectorEnv: 'sync' } });
    expect((await train({ config: straight, runDir: join(dir, 'b'), progress: null })).step).toBe(total);
    const a = outcome(join(dir, 'a'), total);
    const b = outcome(join(dir, 'b'), total);
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
