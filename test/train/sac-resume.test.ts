/**
 * SAC through the runner on Box actions: a child process is SIGKILLed after its first checkpoint
 * and `--resume` continues it; metrics (minus timings) and every weight, optimizer and log-alpha
 * blob must equal an uninterrupted run. Pendulum with white noise, and mountain-car-continuous with
 * its preset's colored noise (whose sequences and positions the checkpoint must carry).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { listCheckpoints } from '../../src/train/run-folder.js';

const root = resolve(__dirname, '..', '..');
const N = 300;
const TOTAL = 500;
const settings = { hidden: [32, 32], learningStarts: 100, batchSize: 16, bufferSize: 2000, checkpointEvery: N, logEvery: 50, evalEvery: 250, evalEpisodes: 2, seed: 4, envs: 2, saveReplay: true };

function deterministic(metricsText: string): unknown[] {
  return metricsText
    .trim()
    .split('\n')
    .map((l) => {
      const { env_steps_per_s: _a, updates_per_s: _b, wall_time_s: _c, ...rest } = JSON.parse(l);
      return rest;
    });
}

const CASES = [
  { game: 'pendulum', preset: 'default', blobs: [] as string[] },
  { game: 'mountain-car-continuous', preset: 'mountain-car-continuous', blobs: ['noise.bin'] },
];

describe('sac: resume after SIGKILL', () => {
  it.each(CASES)('continues exactly like an uninterrupted run ($game, preset $preset)', async ({ game, preset, blobs }) => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-sac-resume-'));
    const cli = join(root, 'bin', 'npcforge.js');
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(settings));

    const killedRun = join(dir, 'killed');
    const child = spawn(process.execPath, [cli, 'train', game, '--agent', 'sac', '--preset', preset, '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress', '--out', killedRun], { stdio: 'ignore' });
    const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
    let runDir = '';
    for (let i = 0; i < 90_000 / 10; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (existsSync(killedRun)) {
        const sub = readdirSync(killedRun)[0];
        if (sub && listCheckpoints(join(killedRun, sub)).includes(N)) {
          runDir = join(killedRun, sub);
          break;
        }
      }
    }
    child.kill('SIGKILL');
    await exited;
    expect(runDir).not.toBe('');
    expect(listCheckpoints(runDir)).toEqual([N]);

    const resumed = spawn(process.execPath, [cli, 'train', '--resume', runDir, '--steps', String(TOTAL), '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    resumed.stderr!.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((ok) => resumed.on('close', (c) => ok(c)));
    expect(stderr).toMatch(new RegExp(`npcforge: done at step ${TOTAL}; .*; run .*\\n$`));
    expect(code).toBe(0);

    const { checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay, ...agent } = settings;
    const config = resolveRunConfig({ game, agent: 'sac', preset, file: agent, flags: { steps: TOTAL, checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay } });
    const straight = await train({ config, runDir: join(dir, 'straight'), progress: null });
    expect(straight.step).toBe(TOTAL);

    const a = deterministic(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
    const b = deterministic(readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8'));
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
