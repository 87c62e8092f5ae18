/**
 * SAC through the runner on Box actions: a child process is SIGKILLed after its first checkpoint
 * and `--resume` continues it; metrics (minus timings) and every weight, optimizer and log-alpha
 * blob must equal an uninterrupted run. Pendulum with white noise, and mountain-car-continuous with
 * its preset's colored noise (whose sequences and positions the checkpoint must carry).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { listCheckpoints } from '../../src/train/run-folder.js';
import { deterministicMetrics, resumeRun, trainUntilCheckpointThenKill } from '../helpers/kill-resume.js';

const N = 300;
const TOTAL = 500;
const settings = { hidden: [32, 32], learningStarts: 100, batchSize: 16, bufferSize: 2000, checkpointEvery: N, logEvery: 50, evalEvery: 250, evalEpisodes: 2, seed: 4, envs: 2, saveReplay: true };


const CASES = [
  { game: 'pendulum', preset: 'default', blobs: [] as string[] },
  { game: 'mountain-car-continuous', preset: 'mountain-car-continuous', blobs: ['noise.bin'] },
];

describe('sac: resume after SIGKILL', () => {
  it.each(CASES)('continues exactly like an uninterrupted run ($game, preset $preset)', async ({ game, preset, blobs }) => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-sac-resume-'));
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(settings));

    const { runDir } = await trainUntilCheckpointThenKill({ args: ['train', game, '--agent', 'sac', '--preset', preset, '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress'], outDir: join(dir, 'killed'), step: N, pollMs: 10, timeoutMs: 90_000 });
    expect(runDir).not.toBe('');
    expect(listCheckpoints(runDir)).toEqual([N]);

    const { code, stderr } = await resumeRun(runDir, TOTAL);
    expect(stderr).toMatch(new RegExp(`npcforge: done at step ${TOTAL}; .*; run .*\\n$`));
    expect(code).toBe(0);

    const { checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay, ...agent } = settings;
    const config = resolveRunConfig({ game, agent: 'sac', preset, file: agent, flags: { steps: TOTAL, checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay } });
    const straight = await train({ config, runDir: join(dir, 'straight'), progress: null });
    expect(straight.step).toBe(TOTAL);

    const a = deterministicMetrics(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
    const b = deterministicMetrics(readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8'));
    expect(a.length).toBe(TOTAL / 50);
    expect(a).toEqual(b);
    for (const blob of ['weights.actor.bin', 'weights.critics.bin', 'weights.targets.bin', 'weights.logAlpha.bin', 'slots.actor.bin', 'slots.critic.bin', 'slots.alpha.bin', 'replay.bin', ...blobs]) {
      const wa = readFileSync(join(runDir, 'checkpoints', String(TOTAL), blob));
      const wb = readFileSync(join(dir, 'straight', 'checkpoints', String(TOTAL), blob));
      expect(wa.equals(wb), blob).toBe(true);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
