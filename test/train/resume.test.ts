/**
 * Resume exactness: a child process trains catch and is SIGKILLed after its first checkpoint;
 * `--resume` continues it. Metrics (minus timings) and weights must equal an uninterrupted run.
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
const settings = { learningStarts: 100, batchSize: 16, bufferSize: 2000, targetUpdateEvery: 40, epsilonDecaySteps: 300, checkpointEvery: N, logEvery: 50, evalEvery: 150, evalEpisodes: 5, seed: 3, saveReplay: true };


describe('resume after SIGKILL', () => {
  it('continues exactly like an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-resume-'));
    // The built CLI (test/global-setup.ts rebuilds dist/ when the sources are newer).
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(settings));

    const { runDir, pid } = await trainUntilCheckpointThenKill({ args: ['train', 'catch', '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress'], outDir: join(dir, 'killed'), step: N, pollMs: 10, timeoutMs: 60_000 });
    expect(runDir).not.toBe('');
    expect(listCheckpoints(runDir)).toEqual([N]);

    const { code, stderr } = await resumeRun(runDir, TOTAL);
    // Only the lock left by the killed process (taken over), the one-line backend choice and the
    // final line (kept by --no-progress) may be printed.
    expect(stderr).toContain(`npcforge: took over the lock of ${runDir} left by pid ${pid}, which is no longer running\n`);
    expect(stderr).toMatch(new RegExp(`npcforge: done at step ${TOTAL}; .*; run .*\\n$`));
    expect(stderr.replace(/^npcforge: took over the lock .*\n/m, '').replace(/^npcforge: compute backend .*\n/m, '').replace(/^npcforge: done at step .*\n/m, '')).toBe('');
    expect(code).toBe(0);

    const { checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, saveReplay, ...agent } = settings;
    const config = resolveRunConfig({ game: 'catch', file: agent, flags: { steps: TOTAL, checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, saveReplay } });
    const straight = await train({ config, runDir: join(dir, 'straight'), progress: null });
    expect(straight.step).toBe(TOTAL);

    const a = deterministicMetrics(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
    const b = deterministicMetrics(readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8'));
    expect(a.length).toBe(TOTAL / 50);
    expect(a).toEqual(b);
    for (const blob of ['weights.online.bin', 'weights.target.bin', 'slots.optimizer.bin']) {
      const wa = readFileSync(join(runDir, 'checkpoints', String(TOTAL), blob));
      const wb = readFileSync(join(dir, 'straight', 'checkpoints', String(TOTAL), blob));
      expect(wa.equals(wb), blob).toBe(true);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
