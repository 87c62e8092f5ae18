/**
 * SIGTERM and SIGHUP during `npcforge train` act like Ctrl-C: a real child process is signalled
 * (repeatedly, to hit the checkpoint write), writes a final checkpoint, prints how to continue,
 * exits with 128 + the signal number, and `--resume` continues the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { LOCK_FILE, listCheckpoints } from '../../src/train/run-folder.js';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'bin', 'npcforge.js');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-signals-'));
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ learningStarts: 50, batchSize: 8, checkpointEvery: 100, logEvery: 50, evalEvery: 500, evalEpisodes: 2, saveReplay: true }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<Done>; stderr: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += String(d)));
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const done = new Promise<Done>((ok) => child.on('close', (code, signal) => ok({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/** Waits until the run folder under `out` has a checkpoint; returns the run folder. */
async function firstCheckpoint(out: string): Promise<string> {
  // Generous: start-up (tfjs, wasm) is slow on a loaded 2-core machine.
  const deadline = Date.now() + 200_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    const sub = existsSync(out) ? readdirSync(out)[0] : undefined;
    if (sub && listCheckpoints(join(out, sub)).length) return join(out, sub);
  }
  throw new Error('no checkpoint within 200 s');
}

describe('train stopped by a signal', () => {
  it('SIGTERM (sent again while the checkpoint is written) checkpoints, exits 143, and --resume continues', async () => {
    const out = join(dir, 'term');
    const { child, done, stderr } = run(['train', 'catch', '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress', '--json', '--out', out]);
    const runDir = await firstCheckpoint(out);
    child.kill('SIGTERM');
    // More signals while the final step and checkpoint are under way must not kill or corrupt anything.
    // (Not after the final line: a signal that lands during Node's own teardown still ends the process.)
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 5));
      if (stderr().includes('interrupted at step')) break;
      // Same signal: signals pending together are delivered in signal-number order, not sending order.
      child.kill('SIGTERM');
    }
    const r = await done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(143);
    const result = JSON.parse(r.stdout) as { runDir: string; step: number; interrupted: boolean; signal: string; checkpoint: string };
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(result).toMatchObject({ runDir, interrupted: true, signal: 'SIGTERM', checkpoint: join(runDir, 'checkpoints', String(result.step)) });
    expect(r.stderr).toContain(`npcforge: interrupted at step ${result.step}; checkpoint ${result.checkpoint}; continue with --resume ${runDir}\n`);
    expect(listCheckpoints(runDir).at(-1)).toBe(result.step);
    expect(readCheckpoint(result.checkpoint).runner.step).toBe(result.step);
    expect(readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(existsSync(join(runDir, LOCK_FILE))).toBe(false);

    const total = Math.ceil((result.step + 1) / 50) * 50 + 50;
    const resumed = run(['train', '--resume', runDir, '--steps', String(total), '--no-progress']);
    const rr = await resumed.done;
    expect(rr.code).toBe(0);
    // --no-progress keeps the final line (with the run folder) on stderr and nothing on stdout.
    expect(rr.stdout).toBe('');
    expect(rr.stderr).toMatch(new RegExp(`npcforge: done at step ${total}; .*; run ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual(Array.from({ length: total / 50 }, (_, i) => (i + 1) * 50));
  }, 400_000);

  it('SIGTERM during double-buffered PPO over worker envs: checkpoint, exit 143 (workers closed), --resume continues', async () => {
    const out = join(dir, 'workers');
    writeFileSync(join(dir, 'ppo.json'), JSON.stringify({ numSteps: 4, mlpHidden: [16], encoder: 'mlp', checkpointEvery: 256, logEvery: 128, evalEvery: 1_000_000, evalEpisodes: 1 }));
    const { child, done } = run(['train', 'cartpole', '--agent', 'ppo', '--envs', '32', '--vector-env', 'workers', '--config', join(dir, 'ppo.json'), '--steps', '1000000', '--json', '--out', out]);
    const runDir = await firstCheckpoint(out);
    child.kill('SIGTERM');
    // The process ends only once its worker threads are gone.
    const r = await done;
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('32 envs in worker threads, double-buffered');
    const result = JSON.parse(r.stdout) as { step: number; checkpoint: string };
    expect(readCheckpoint(result.checkpoint).runner.step).toBe(result.step);
    expect(result.step % 32).toBe(0);
    const total = Math.ceil((result.step + 1) / 128) * 128 + 128;
    const rr = await run(['train', '--resume', runDir, '--vector-env', 'workers', '--steps', String(total), '--no-progress']).done;
    expect(rr.code).toBe(0);
    expect(rr.stderr).toContain(`done at step ${total}`);
  }, 300_000);

  it('SIGHUP exits 129 after a final checkpoint', async () => {
    const out = join(dir, 'hup');
    const { child, done } = run(['train', 'catch', '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress', '--out', out]);
    const runDir = await firstCheckpoint(out);
    child.kill('SIGHUP');
    const r = await done;
    expect(r.code).toBe(129);
    const m = /interrupted at step (\d+); checkpoint (\S+); continue with --resume (\S+)\n/.exec(r.stderr);
    expect(m?.[3]).toBe(runDir);
    expect(readCheckpoint(m![2]!).runner.step).toBe(Number(m![1]));
  }, 300_000);
});
