/**
 * The backend bench's fair-reference parts (issue 17): each side's best and median round, and the
 * PyTorch reference at its best (denormals flushed unless asked otherwise). No timing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeRounds } from '../../bench/backend.js';

describe('bench backend summarizeRounds', () => {
  it('gives the median of the rounds and the best (fastest) round, leaving failed rounds out', () => {
    const s = summarizeRounds([
      { trainMs: 30, actMs: 1, trainCpuMs: 25 },
      { error: 'boom' },
      { trainMs: 20, actMs: 3, trainCpuMs: 19 },
      { trainMs: 50, actMs: 2, trainCpuMs: 40 },
    ]);
    expect(s).toEqual({ trainMs: 30, trainBestMs: 20, actMs: 2, trainCpuMs: 25 });
  });

  it('keeps the first error when every round failed', () => {
    expect(summarizeRounds([{ error: 'first' }, { error: 'second' }])).toEqual({ error: 'first' });
  });
});

const torchProbe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
const noTorch = torchProbe.status === 0 ? undefined : `/usr/bin/python3 cannot import torch; install: apt-get install -y python3-torch libopenblas0-pthread`;
if (noTorch !== undefined) console.warn(`backend-bench: PyTorch reference checks skipped: ${noTorch}`);

describe.skipIf(noTorch !== undefined)('bench/torch_reference.py', () => {
  const script = resolve(__dirname, '..', '..', 'bench', 'torch_reference.py');
  const run = (extra: string[]) => {
    const r = spawnSync('/usr/bin/python3', [script, '--nets', 'minatar', '--steps', '2', '--warmup', '1', '--threads', '1', ...extra], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { threads: number; flushDenormal: boolean; ompWaitPolicy: string; blas: string; nets: Record<string, { trainMs: number }> };
  };

  it('flushes denormals, keeps OpenMP workers passive, and uses the threads asked for', () => {
    const r = run([]);
    expect(r.flushDenormal).toBe(true);
    // Unless the caller's environment says otherwise (OMP_WAIT_POLICY=ACTIVE restores spinning).
    if (process.env.OMP_WAIT_POLICY === undefined) expect(r.ompWaitPolicy).toBe('PASSIVE');
    expect(r.threads).toBe(1);
    expect(r.nets.minatar!.trainMs).toBeGreaterThan(0);
    expect(typeof r.blas).toBe('string');
  });

  it('keeps denormals only when asked (--keep-denormals)', () => {
    expect(run(['--keep-denormals']).flushDenormal).toBe(false);
  });
});
