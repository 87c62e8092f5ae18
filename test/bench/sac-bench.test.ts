import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAC_PRESETS } from '../../src/agents/sac/config.js';
import { InvalidConfigError } from '../../src/errors.js';
import { parseBenchArgs } from '../../bench/harness.js';
import { TORCH_INSTALL_HINT, runTorchReference, sacBenchOptions, sacSizes, summarizeSacBench, type SacSizes, type TorchOutcome, type TorchRun } from '../../bench/sac.js';

// The bench itself is never run here (timing has no place in tests): its parts are.

const dir = mkdtempSync(join(tmpdir(), 'npcforge-sac-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake interpreter: a shell script that ignores its arguments. */
function fakePython(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const sizes = (): SacSizes => sacSizes('pendulum').sizes;

describe('bench sac sizes', () => {
  it("are the pendulum preset's and the pendulum env's: batch 256, hidden [256, 256], obs 3, action 1 in [-2, 2]", () => {
    const s = sizes();
    expect(s).toMatchObject({ game: 'pendulum', preset: 'pendulum', obs: 3, action: 1, low: [-2], high: [2], hidden: [256, 256], batch: 256, tau: 0.005, gamma: 0.99 });
    expect(s.batch).toBe(SAC_PRESETS.pendulum!.batchSize);
    expect(s.hidden).toEqual(SAC_PRESETS.pendulum!.hidden);
    expect([s.criticLr, s.actorLr, s.alphaLr]).toEqual([1e-3, 1e-3, 1e-3]);
    // One step before learning starts: the bench's next observe() is exactly one update.
    expect(s.replay).toBe(SAC_PRESETS.pendulum!.learningStarts - 1);
  });
});

describe('bench sac options', () => {
  const opts = (argv: string[]) => sacBenchOptions(parseBenchArgs(argv));

  it('defaults to 2 rounds x 3 periods of 2 s and PyTorch on 1 thread and on every core', () => {
    const o = opts([]);
    expect(o).toMatchObject({ rounds: 2, repeats: 3, seconds: 2, threads: undefined, actCalls: 200 });
    expect(o.torchThreads[0]).toBe(1);
    expect(new Set(o.torchThreads).size).toBe(o.torchThreads.length);
  });

  it('reads every flag', () => {
    const o = opts(['--rounds', '1', '--repeats', '4', '--seconds', '0.5', '--threads', '1', '--torch-threads', '2,1,2', '--python', '/opt/py', '--act-calls', '50']);
    expect(o).toEqual({ rounds: 1, repeats: 4, seconds: 0.5, threads: 1, torchThreads: [2, 1], python: '/opt/py', actCalls: 50 });
    expect(opts(['--no-torch']).torchThreads).toEqual([]);
    expect(opts(['--profile']).profile).toEqual({ detailed: false, steps: 20 });
    expect(opts(['--profile-detail', '--profile-steps', '5']).profile).toEqual({ detailed: true, steps: 5 });
  });

  it('rejects unknown flags and bad values, naming them', () => {
    expect(() => opts(['--round', '2'])).toThrow(InvalidConfigError);
    expect(() => opts(['--round', '2'])).toThrow(/\[bench sac\] expected flags among .*received "--round"/);
    expect(() => opts(['--torch-threads', '0,2'])).toThrow(/--torch-threads .*received "0,2"/);
    expect(() => opts(['--rounds', '1.5'])).toThrow(/--rounds to be a positive integer/);
    expect(() => opts(['--seconds', '-1'])).toThrow(InvalidConfigError);
  });
});

describe('bench sac PyTorch reference', () => {
  const call = (python: string, script?: string): TorchOutcome => runTorchReference({ python, script, sizes: sizes(), threads: 1, seconds: 0.1, repeats: 1, actCalls: 1 });

  it('reports a missing interpreter as missing (the bench then prints the install hint and goes on)', () => {
    expect(call(join(dir, 'no-such-python'))).toEqual({ missing: `${join(dir, 'no-such-python')} not found` });
  });

  it("reports the script's status 3 (torch not importable) as missing, with its message", () => {
    const py = fakePython('no-torch', "echo 'torch not importable: No module named torch' >&2; exit 3");
    expect(call(py)).toEqual({ missing: 'torch not importable: No module named torch' });
  });

  it('reports other failures and unexpected output as errors', () => {
    expect(call(fakePython('crash', "echo 'Traceback' >&2; echo 'RuntimeError: boom' >&2; exit 1"))).toEqual({ error: 'RuntimeError: boom' });
    expect('error' in call(fakePython('garbage', 'echo not-json'))).toBe(true);
    expect('error' in call(fakePython('partial', `echo '{"torch": "1.13", "updatesPerSec": []}'`))).toBe(true);
    expect(call(process.execPath, join(dir, 'missing-script.py'))).toMatchObject({ error: expect.stringContaining('not found') });
  });

  it("parses the script's JSON line", () => {
    const line = JSON.stringify({ torch: '1.13.1', threads: 1, blas: 'openblas', ompWaitPolicy: 'PASSIVE', updatesPerSec: [100, 120], cpuMsPerUpdate: [9, 8], actMs: 0.07 });
    const py = fakePython('ok', `echo 'loading'; echo '${line}'`);
    expect(call(py)).toEqual({ run: { version: '1.13.1', threads: 1, blas: 'openblas', ompWaitPolicy: 'PASSIVE', updatesPerSec: [100, 120], cpuMsPerUpdate: [9, 8], actMs: 0.07 } });
  });
});

describe('bench sac summary (the --json result)', () => {
  const base = () => ({
    sizes: sizes(),
    backend: 'wasm',
    threads: 2,
    protocol: { rounds: 2, repeats: 3, seconds: 2 },
    loadAverage: { before: [1, 1, 1], after: [2, 2, 2] },
    ours: { periods: [30, 10, 20, 25, 15, 5], cpuMs: [40, 50, 60, 45, 55, 65], actMs: [0.2, 0.1] },
  });
  const run = (threads: number, updatesPerSec: number[], actMs: number): { run: TorchRun } => ({
    run: { version: '1.13.1', threads, blas: 'openblas', ompWaitPolicy: 'PASSIVE', updatesPerSec, cpuMsPerUpdate: updatesPerSec.map(() => (threads === 1 ? 8 : 6)), actMs },
  });

  it('takes medians over all periods, picks the faster PyTorch thread count and gives our time over its time', () => {
    const r = summarizeSacBench({ ...base(), torch: [run(1, [100, 110, 120], 0.05), run(2, [50, 60, 70], 0.06), run(1, [90, 130, 105], 0.07), run(2, [80, 40, 55], 0.08)] });
    expect(r.ours).toMatchObject({ updatesPerSec: 17.5, msPerUpdate: 1000 / 17.5, cpuMsPerUpdate: 52.5, periods: [30, 10, 20, 25, 15, 5] });
    expect(r.ours.actMs).toBeCloseTo(0.15, 12);
    expect(r.torch).toMatchObject({ version: '1.13.1', blas: 'openblas', best: 1 });
    const configs = (r.torch as { configs: Array<{ threads: number; updatesPerSec: number; actMs: number }> }).configs;
    expect(configs.map((c) => [c.threads, c.updatesPerSec])).toEqual([[1, 107.5], [2, 57.5]]);
    expect(configs[0]!.actMs).toBeCloseTo(0.06, 12);
    expect(configs[1]!.actMs).toBeCloseTo(0.07, 12);
    expect(r.ratio).toBeCloseTo(107.5 / 17.5, 12);
    // CPU time: PyTorch's lowest (2 threads here), not the fastest wall-clock one's.
    expect(r.cpuRatio).toBeCloseTo(52.5 / 6, 12);
    // The JSON written by --json carries all of it.
    expect(Object.keys(JSON.parse(JSON.stringify(r))).sort()).toEqual(['backend', 'cpuRatio', 'loadAverage', 'ours', 'protocol', 'ratio', 'sizes', 'threads', 'torch']);
  });

  it('without torch: our figures, the reason and the apt command, no ratio', () => {
    const r = summarizeSacBench({ ...base(), torch: [{ missing: 'torch not importable' }] });
    expect(r.torch).toEqual({ missing: 'torch not importable', install: TORCH_INSTALL_HINT });
    expect(TORCH_INSTALL_HINT).toContain('apt-get install -y python3-torch');
    expect(r.ratio).toBeUndefined();
    expect(r.cpuRatio).toBeUndefined();
    expect(r.ours.updatesPerSec).toBe(17.5);
    expect(summarizeSacBench({ ...base(), torch: [] }).torch).toEqual({ error: 'not run (--no-torch)' });
    expect(summarizeSacBench({ ...base(), torch: [{ error: 'RuntimeError: boom' }] }).torch).toEqual({ error: 'RuntimeError: boom' });
  });
});
