/**
 * Self-play training through the CLI: a child process is SIGKILLed after its first checkpoint and
 * `--resume` continues it. Metrics (Elo, opponent and pool size included; timings excluded) and the
 * final checkpoint's pool state must equal an uninterrupted run; the tensor count stays flat.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { train } from '../../../src/train/runner.js';
import { listCheckpoints } from '../../../src/train/run-folder.js';
import { readCheckpoint } from '../../../src/train/checkpoint.js';
import { resolveSelfPlayRunConfig } from '../../../src/cli/commands/selfplay-flags.js';
import { deterministicMetrics, resumeRun, trainUntilCheckpointThenKill } from '../../helpers/kill-resume.js';

/** 16 steps x 4 envs = 64 env steps per rollout; one-point games so episodes (and ratings) come often. */
const N = 320;
const TOTAL = 960;
const FILE = {
  numSteps: 16,
  minibatches: 2,
  epochs: 1,
  annealLr: false,
  envs: 4,
  checkpointEvery: N,
  logEvery: 64,
  evalEvery: 480,
  evalEpisodes: 1,
  seed: 5,
  envOptions: { pointsToWin: 1 },
  selfplay: { saveEvery: 128, swapEvery: 64, playLatestProb: 0.3, window: 3 },
};

describe('train pong --selfplay: resume after SIGKILL', () => {
  it('continues exactly like an uninterrupted run, pool and ratings included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-selfplay-kill-'));
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(FILE));
    const { runDir } = await trainUntilCheckpointThenKill({ args: ['train', 'pong', '--selfplay', '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress'], outDir: join(dir, 'killed'), step: N, pollMs: 5, timeoutMs: 90_000 });
    expect(runDir).not.toBe('');
    expect(listCheckpoints(runDir)[0]).toBe(N);
    expect(Math.max(...listCheckpoints(runDir))).toBeLessThan(TOTAL);

    const { code, stderr } = await resumeRun(runDir, TOTAL);
    expect(stderr).toMatch(new RegExp(`npcforge: done at step ${TOTAL}; .*; run .*\\n$`));
    expect(code).toBe(0);

    const { selfplay: _s, ...file } = FILE;
    const config = resolveSelfPlayRunConfig({ game: 'pong', file: { ...file, selfplay: FILE.selfplay }, flags: { steps: TOTAL } }, { selfplay: true });
    const straight = await train({ config, runDir: join(dir, 'straight'), progress: null });
    expect(straight.step).toBe(TOTAL);

    const metricsA = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
    const a = deterministicMetrics(metricsA, ['tensors']);
    const b = deterministicMetrics(readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8'), ['tensors']);
    // A line every 64 steps, and one of its own for the evaluation at step 480 (off the log interval).
    expect(a.length).toBe(TOTAL / 64 + 1);
    expect(a).toEqual(b);
    // Rated games happened, against more than one opponent.
    const lines = a as Array<{ elo?: number; opponent: string; pool_size: number }>;
    expect(lines.at(-1)!.elo).toBeTypeOf('number');
    expect(lines.at(-1)!.elo).not.toBe(1200);
    expect(new Set(lines.map((l) => l.opponent)).size).toBeGreaterThan(2);
    expect(lines.at(-1)!.pool_size).toBe(Math.floor(TOTAL / 128) + 1);
    const sa = readCheckpoint(join(runDir, 'checkpoints', String(TOTAL))).runner.selfplay;
    const sb = readCheckpoint(join(dir, 'straight', 'checkpoints', String(TOTAL))).runner.selfplay;
    expect(sa).toEqual(sb);
    expect(sa!.pool.ratedGames).toBeGreaterThan(0);
    expect(readdirSync(join(runDir, 'pool')).sort()).toEqual(readdirSync(join(dir, 'straight', 'pool')).sort());
    // Tensors flat: every metrics line of the uninterrupted run counts the same number.
    const tensors = readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { tensors: number }).tensors);
    expect(new Set(tensors.slice(1)).size).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  }, 240_000);
});
