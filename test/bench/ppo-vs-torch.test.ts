/**
 * The ppo-vs-torch bench's parts (issue 17): both sides get npcforge's resolved PPO settings, frames
 * are whole rollouts, the PyTorch output is read strictly, and the ratio is ours over theirs. The
 * bench itself is never timed here; one tiny PyTorch run checks that the script takes every flag
 * the bench passes (skipped with the reason when torch is missing).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { parseBenchArgs } from '../../bench/harness.js';
import { parseTorchOutput, ppoVsTorchOptions, resolvePpo, runTorch, summarize, torchFlags, type SideRun } from '../../bench/ppo-vs-torch.js';
import { DEFAULT_PG_CONFIG, type PgConfig } from '../../src/agents/pg/config.js';
import { InvalidConfigError } from '../../src/errors.js';

const opts = (argv: string[]) => ppoVsTorchOptions(parseBenchArgs(argv));
const flagMap = (argv: string[]): Record<string, string> => Object.fromEntries(argv.flatMap((a, i) => (a.startsWith('--') ? [[a.slice(2), argv[i + 1]!]] : [])));

describe('bench ppo-vs-torch options', () => {
  it("default to the game's PPO preset (64 envs x 128 steps), 200k frames rounded up to whole rollouts (25 x 8192), 1 round", () => {
    const o = opts([]);
    expect(o).toMatchObject({ frames: 204_800, rounds: 1, seed: 0, envs: 64, torch: true });
    expect(o.preset).toBeUndefined();
  });

  it("--preset default --envs 8 compares the issue's 8 x 128 CleanRL settings on both sides", () => {
    const o = opts(['--preset', 'default', '--envs', '8']);
    expect(o).toMatchObject({ frames: 200_704, envs: 8, preset: 'default' });
    const { agent } = resolvePpo(undefined, {}, 'default');
    expect(agent).toMatchObject({ numSteps: 128, minibatches: 4, lr: 2.5e-4, annealLr: true, gamma: 0.99 });
    expect(resolvePpo(undefined, {}).agent).toMatchObject({ minibatches: 8, lr: 1e-3, annealLr: false, gamma: 0.999 });
  });

  it('follow --envs and --num-steps, rounding the frames to their rollout', () => {
    const o = opts(['--envs', '16', '--num-steps', '64', '--frames', '5000']);
    expect(o.envs).toBe(16);
    expect(o.overrides).toEqual({ numSteps: 64 });
    expect(o.frames).toBe(5120);
  });

  it('report every bad flag at once', () => {
    expect(() => opts(['--frames', '0', '--rounds', '1.5', '--bogus', 'x'])).toThrow(InvalidConfigError);
    try {
      opts(['--frames', '0', '--rounds', '1.5', '--bogus', 'x']);
    } catch (err) {
      expect((err as Error).message).toMatch(/^\[bench ppo-vs-torch\] expected valid flags, received unknown flag --bogus; --frames "0" \(an integer >= 1\); --rounds "1.5"/);
    }
  });
});

describe('bench ppo-vs-torch settings', () => {
  it("hand PyTorch npcforge's resolved PPO settings for minatar/breakout, value for value", () => {
    const { envs, agent } = resolvePpo(undefined, {});
    const f = flagMap(torchFlags(agent, { frames: 2048, seed: 3, envs }));
    expect(f).toEqual({
      frames: '2048', seed: '3', envs: String(envs),
      'num-steps': String(agent.numSteps), epochs: String(agent.epochs), minibatches: String(agent.minibatches),
      lr: String(agent.lr), 'anneal-lr': agent.annealLr ? '1' : '0', 'adam-eps': String(agent.adamEps),
      gamma: String(agent.gamma), 'gae-lambda': String(agent.gaeLambda), clip: String(agent.clip),
      'value-clip': String(agent.valueClip ?? 0), 'ent-coef': String(agent.entCoef), 'vf-coef': String(agent.vfCoef),
      'max-grad-norm': String(agent.maxGradNorm), 'norm-adv': agent.normAdv ? '1' : '0',
    });
    // A changed preset value reaches PyTorch (no constant hides in the bench).
    expect(flagMap(torchFlags({ ...agent, lr: 1e-3, annealLr: false, valueClip: null }, { frames: 1, seed: 0, envs: 1 }))).toMatchObject({ lr: '0.001', 'anneal-lr': '0', 'value-clip': '0' });
  });

  it('refuse settings the PyTorch script does not implement', () => {
    const base = { ...DEFAULT_PG_CONFIG } as PgConfig;
    expect(() => torchFlags({ ...base, lstmUnits: 64 }, { frames: 1, seed: 0, envs: 1 })).toThrow(/lstmUnits=64/);
    expect(() => torchFlags({ ...base, normObs: true, encoder: 'mlp' }, { frames: 1, seed: 0, envs: 1 })).toThrow(/encoder=mlp, normObs=true/);
  });
});

describe('bench ppo-vs-torch results', () => {
  const run = (side: SideRun['side'], trainFps: number): SideRun => ({ side, round: 0, seed: 0, frames: 1024, processWallS: 2, trainWallS: 1024 / trainFps, trainFps, processCpuS: 1024 / (trainFps / 2), framesPerCpuS: trainFps / 2, meanReturn100: 1, episodes: 10 });

  it('read the "done" line of the PyTorch output and reject output without one', () => {
    const out = '{"kind": "progress", "frames": 512}\n{"kind": "done", "frames": 1024, "trainWallS": 2, "trainFps": 512, "episodes": 9, "meanReturn100": null, "processCpuS": 4}\n';
    expect(parseTorchOutput(out, 1, 4, 3)).toEqual({ side: 'pytorch', round: 1, seed: 4, frames: 1024, processWallS: 3, trainWallS: 2, trainFps: 512, processCpuS: 4, framesPerCpuS: 256, meanReturn100: null, episodes: 9 });
    expect(() => parseTorchOutput('{"kind": "progress", "frames": 512}', 0, 0, 1)).toThrow('no "done" line');
    expect(() => parseTorchOutput('{"kind": "done", "frames": 1024, "meanReturn100": null}', 0, 0, 1)).toThrow('without a number');
    expect(() => parseTorchOutput('{"kind": "done", "frames": 1024, "trainWallS": 2, "trainFps": 512, "episodes": 9, "processCpuS": 4}', 0, 0, 1)).toThrow('meanReturn100');
  });

  it('give the ratio as npcforge over PyTorch of the median train frames/s', () => {
    const r = summarize({ frames: 1024, envs: 8, agentConfig: { ...DEFAULT_PG_CONFIG }, loadAverage: { before: [1], after: [1] } }, [run('npcforge', 300), run('pytorch', 1000), run('npcforge', 600), run('pytorch', 400), run('npcforge', 500), run('pytorch', 500)]);
    expect(r.medianTrainFps).toEqual({ npcforge: 500, pytorch: 500 });
    expect(r.ratio).toBe(1);
    expect(r.medianFramesPerCpuS).toEqual({ npcforge: 250, pytorch: 250 });
    expect(r.cpuRatio).toBe(1);
    const noTorch = summarize({ frames: 1024, envs: 8, agentConfig: { ...DEFAULT_PG_CONFIG }, loadAverage: { before: [1], after: [1] } }, [run('npcforge', 300)], { missing: 'torch not importable' });
    expect(noTorch.ratio).toBeUndefined();
    expect(noTorch.torch).toEqual({ missing: 'torch not importable', install: 'apt-get install -y python3-torch python3-numpy libopenblas0-pthread' });
  });
});

describe('bench ppo-vs-torch without PyTorch', () => {
  it('reports torch or python3 as missing (the bench then prints the apt command) and a crash as an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-ppo-vs-torch-'));
    try {
      const fake = (name: string, body: string): string => {
        const path = join(dir, name);
        writeFileSync(path, `#!/bin/sh\n${body}\n`);
        chmodSync(path, 0o755);
        return path;
      };
      const { agent } = resolvePpo(undefined, {});
      const base = { frames: 1024, envs: 8 };
      expect(await runTorch({ ...base, python: fake('no-torch', "echo \"torch not importable: No module named 'torch'\" >&2; exit 3") }, 0, 0, agent)).toEqual({ missing: "torch not importable: No module named 'torch'" });
      expect(await runTorch({ ...base, python: join(dir, 'absent') }, 0, 0, agent)).toEqual({ missing: `${join(dir, 'absent')} not found` });
      expect(await runTorch({ ...base, python: fake('crash', 'echo boom >&2; exit 1') }, 0, 0, agent)).toEqual({ error: 'ppo_torch.py exited with 1: boom' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench/cpu-at-exit (preloaded into the npcforge child)', () => {
  it("writes the process's CPU seconds at exit, only when NPCFORGE_BENCH_CPU_FILE names a file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-cpu-at-exit-'));
    try {
      const file = join(dir, 'cpu.json');
      const preload = pathToFileURL(resolve(__dirname, '..', '..', 'dist', 'bench', 'cpu-at-exit.js')).href;
      // About 0.2 s of CPU, then an explicit exit code (process.exit still fires 'exit').
      const busy = 'const t = Date.now(); while (Date.now() - t < 200); process.exit(7)';
      const r = spawnSync(process.execPath, ['--import', preload, '-e', busy], { env: { ...process.env, NPCFORGE_BENCH_CPU_FILE: file }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(7);
      const { cpuS } = JSON.parse(readFileSync(file, 'utf8')) as { cpuS: number };
      expect(cpuS).toBeGreaterThan(0.1);
      expect(cpuS).toBeLessThan(10);
      const none = spawnSync(process.execPath, ['--import', preload, '-e', '0'], { env: { ...process.env, NPCFORGE_BENCH_CPU_FILE: '' }, encoding: 'utf8' });
      expect(none.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const noTorch = probe.status === 0 ? undefined : '/usr/bin/python3 cannot import torch and numpy; install: apt-get install -y python3-torch python3-numpy';
if (noTorch !== undefined) console.warn(`ppo-vs-torch: PyTorch run skipped: ${noTorch}`);

describe.skipIf(noTorch !== undefined)('bench/py/ppo_torch.py', () => {
  it('takes every flag the bench passes and trains the frames asked for on one thread', () => {
    const { agent } = resolvePpo(undefined, {});
    const argv = torchFlags({ ...agent, numSteps: 16, minibatches: 2 }, { frames: 64, seed: 0, envs: 2 });
    const r = spawnSync('/usr/bin/python3', [resolve(__dirname, '..', '..', 'bench', 'py', 'ppo_torch.py'), ...argv], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const done = parseTorchOutput(r.stdout, 0, 0, 1);
    expect(done.frames).toBe(64);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as { updates: number; threads: number; config: Record<string, unknown> };
    expect(last.updates).toBe(2);
    expect(last.threads).toBe(1);
    expect(done.processCpuS).toBeGreaterThan(0);
    expect(last.config).toMatchObject({ num_steps: 16, minibatches: 2, envs: 2, lr: agent.lr, value_clip: agent.valueClip ?? 0 });
  });
});
