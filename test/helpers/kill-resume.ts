/**
 * What the resume-after-SIGKILL tests share: start `npcforge train` in a child process, kill it
 * with SIGKILL once checkpoint `step` is on disk, resume the run to `total` steps, and compare
 * metrics lines without the figures that depend on the process.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listCheckpoints } from '../../src/train/run-folder.js';

const cli = resolve(__dirname, '..', '..', 'bin', 'npcforge.js');

/**
 * Runs `npcforge <args> --out <outDir>` until the run's checkpoint `step` exists (polled every
 * `pollMs` up to `timeoutMs`), then kills it with SIGKILL. Returns the run folder ('' when the
 * checkpoint never came) and the killed child's pid.
 */
export async function trainUntilCheckpointThenKill(options: { args: string[]; outDir: string; step: number; pollMs: number; timeoutMs: number }): Promise<{ runDir: string; pid: number | undefined }> {
  const { args, outDir, step, pollMs, timeoutMs } = options;
  const child = spawn(process.execPath, [cli, ...args, '--out', outDir], { stdio: 'ignore' });
  const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
  let runDir = '';
  for (let i = 0; i < timeoutMs / pollMs; i++) {
    await new Promise((r) => setTimeout(r, pollMs));
    if (existsSync(outDir)) {
      const sub = readdirSync(outDir)[0];
      if (sub && listCheckpoints(join(outDir, sub)).includes(step)) {
        runDir = join(outDir, sub);
        break;
      }
    }
  }
  child.kill('SIGKILL');
  await exited;
  return { runDir, pid: child.pid };
}

/** `npcforge train --resume <runDir> --steps <total> --no-progress`: its exit code and stderr. */
export async function resumeRun(runDir: string, total: number): Promise<{ code: number | null; stderr: string }> {
  const resumed = spawn(process.execPath, [cli, 'train', '--resume', runDir, '--steps', String(total), '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  resumed.stderr!.on('data', (d) => (stderr += String(d)));
  const code = await new Promise<number | null>((ok) => resumed.on('close', (c) => ok(c)));
  return { code, stderr };
}

/** metrics.jsonl lines without the timings (and the `dropped` keys): what two equal runs share. */
export function deterministicMetrics(metricsText: string, dropped: readonly string[] = []): unknown[] {
  const skip = new Set(['env_steps_per_s', 'updates_per_s', 'wall_time_s', ...dropped]);
  return metricsText
    .trim()
    .split('\n')
    .map((l) => Object.fromEntries(Object.entries(JSON.parse(l) as Record<string, unknown>).filter(([k]) => !skip.has(k))));
}
