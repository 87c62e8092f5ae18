/**
 * PPO on Box (pendulum, with observation/reward normalisation) and MultiDiscrete (tank, LSTM)
 * actions through the CLI: a child process is SIGKILLed after its first checkpoint, taken in the
 * middle of a rollout, and `--resume` continues it. Metrics (minus timings) and the final
 * checkpoint (every blob byte for byte, the JSON minus wall time and process-wide layer names)
 * must equal an uninterrupted run.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { listCheckpoints } from '../../src/train/run-folder.js';
import { deterministicMetrics, resumeRun, trainUntilCheckpointThenKill } from '../helpers/kill-resume.js';

/** 12 steps x 4 envs = 48 env steps per rollout: checkpoints every 240 steps fall inside rollouts. */
const N = 240;
const TOTAL = 720;
const RUN = { envs: 4, checkpointEvery: N, logEvery: 48, evalEvery: 240, evalEpisodes: 2, seed: 3, saveReplay: true };


/** checkpoint.json without what depends on the process: wall time and tfjs layer/slot names (global counters). */
function comparableJson(file: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'name' && k !== 'wallTime').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return strip(JSON.parse(readFileSync(file, 'utf8')));
}

describe('ppo on Box and MultiDiscrete actions: resume after SIGKILL', () => {
  // annealLr off: the killed run's horizon (--steps 1000000) would set another learning-rate schedule.
  it.each([
    { game: 'pendulum', agent: { numSteps: 12, minibatches: 2, epochs: 2, mlpHidden: [16], encoder: 'mlp', annealLr: false, normObs: true, normReward: true, separateCritic: true } },
    { game: 'tank', agent: { numSteps: 12, minibatches: 2, epochs: 2, mlpHidden: [16], encoder: 'mlp', annealLr: false, lstmUnits: 8 } },
  ])('continues exactly like an uninterrupted run ($game)', async ({ game, agent }) => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-pg-kill-'));
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...agent, ...RUN }));

    const { runDir } = await trainUntilCheckpointThenKill({ args: ['train', game, '--agent', 'ppo', '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress'], outDir: join(dir, 'killed'), step: N, pollMs: 5, timeoutMs: 90_000 });
    expect(runDir).not.toBe('');
    // Killed after its first checkpoint and before the end (a loaded machine may let it write a second).
    expect(listCheckpoints(runDir)[0]).toBe(N);
    expect(Math.max(...listCheckpoints(runDir))).toBeLessThan(TOTAL);

    const { code, stderr } = await resumeRun(runDir, TOTAL);
    expect(stderr).toMatch(new RegExp(`npcforge: done at step ${TOTAL}; .*; run .*\\n$`));
    expect(code).toBe(0);

    const { checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay } = RUN;
    const config = resolveRunConfig({ game, agent: 'ppo', file: agent, flags: { steps: TOTAL, checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay } });
    const straight = await train({ config, runDir: join(dir, 'straight'), progress: null });
    expect(straight.step).toBe(TOTAL);

    const a = deterministicMetrics(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), ['tensors']);
    const b = deterministicMetrics(readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8'), ['tensors']);
    expect(a.length).toBe(TOTAL / 48);
    expect(a).toEqual(b);
    const ca = join(runDir, 'checkpoints', String(TOTAL));
    const cb = join(dir, 'straight', 'checkpoints', String(TOTAL));
    const files = readdirSync(ca).sort();
    expect(readdirSync(cb).sort()).toEqual(files);
    for (const f of files) {
      if (f === 'checkpoint.json') expect(comparableJson(join(ca, f))).toEqual(comparableJson(join(cb, f)));
      else expect(readFileSync(join(ca, f)).equals(readFileSync(join(cb, f))), f).toBe(true);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
