/**
 * PPO on Box (pendulum, with observation/reward normalisation) and MultiDiscrete (tank, LSTM)
 * actions through the CLI: a child process is SIGKILLed after its first checkpoint, taken in the
 * middle of a rollout, and `--resume` continues it. Metrics (minus timings) and the final
 * checkpoint (every blob, the JSON minus wall time and process-wide layer names) must equal an
 * uninterrupted run: counts exactly, floats within FLOAT_TOLERANCE.
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
/** 12 steps x 4 envs = 48 env steps per rollout: checkpoints every 240 steps fall inside rollouts. */
const N = 240;
const TOTAL = 720;
/**
 * Relative tolerance of floats. Not 0 yet: PG trains with tfjs' Adam, whose setWeights restores
 * the beta powers as pow(beta, t + 1) where the running optimizer multiplies them step by step,
 * so a resumed run drifts by float32 rounding (~1e-7) from the second update on. Set it to 0 once
 * PG steps through the project's SlotOptimizer (issue #15, one optimizer path); lost state
 * (RNG, normalisers, rollout) shows as differences far above it.
 */
const FLOAT_TOLERANCE = 1e-4;

/** Deep equality with numbers compared to FLOAT_TOLERANCE (relative, absolute near 0). */
function expectClose(a: unknown, b: unknown, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) expect(Number.isNaN(a) && Number.isNaN(b), path).toBe(true);
    else if (Number.isInteger(a) && Number.isInteger(b) && Math.abs(a) > 1) expect(a, path).toBe(b);
    else expect(Math.abs(a - b), path).toBeLessThanOrEqual(FLOAT_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b)));
  } else if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length, path).toBe(b.length);
    a.forEach((x, i) => expectClose(x, b[i], `${path}[${i}]`));
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) expectClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  } else {
    expect(a, path).toEqual(b);
  }
}

/** Base64 tensor data in checkpoint.json, decoded to numbers so they compare with the tolerance. */
function decodeBase64Floats(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeBase64Floats);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'data' && typeof x === 'string' ? Array.from(new Float32Array(Uint8Array.from(Buffer.from(x, 'base64')).buffer)) : decodeBase64Floats(x)]));
  return v;
}

const RUN = { envs: 4, checkpointEvery: N, logEvery: 48, evalEvery: 240, evalEpisodes: 2, seed: 3, saveReplay: true };

function deterministic(text: string): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      // Timings and the process-wide tensor count depend on the process, not on the run.
      const { env_steps_per_s: _a, updates_per_s: _b, wall_time_s: _c, tensors: _d, ...rest } = JSON.parse(l);
      return rest;
    });
}

/** checkpoint.json without what depends on the process: wall time and tfjs layer/slot names (global counters). */
function comparableJson(file: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'name' && k !== 'wallTime').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return decodeBase64Floats(strip(JSON.parse(readFileSync(file, 'utf8'))));
}

/** A blob as float32 values (rollout and weight blobs are float32; byte-for-byte equality implies it). */
function floats(file: string): number[] {
  const b = readFileSync(file);
  return Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength - (b.byteLength % 4))));
}

describe('ppo on Box and MultiDiscrete actions: resume after SIGKILL', () => {
  // annealLr off: the killed run's horizon (--steps 1000000) would set another learning-rate schedule.
  it.each([
    { game: 'pendulum', agent: { numSteps: 12, minibatches: 2, epochs: 2, mlpHidden: [16], encoder: 'mlp', annealLr: false, normObs: true, normReward: true, separateCritic: true } },
    { game: 'tank', agent: { numSteps: 12, minibatches: 2, epochs: 2, mlpHidden: [16], encoder: 'mlp', annealLr: false, lstmUnits: 8 } },
  ])('continues like an uninterrupted run ($game; counts exact, floats within FLOAT_TOLERANCE)', async ({ game, agent }) => {
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-pg-kill-'));
    const cli = join(root, 'bin', 'npcforge.js');
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...agent, ...RUN }));

    const killedRun = join(dir, 'killed');
    const child = spawn(process.execPath, [cli, 'train', game, '--agent', 'ppo', '--config', join(dir, 'cfg.json'), '--steps', '1000000', '--no-progress', '--out', killedRun], { stdio: 'ignore' });
    const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
    let runDir = '';
    for (let i = 0; i < 90_000 / 5; i++) {
      await new Promise((r) => setTimeout(r, 5));
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
    // Killed after its first checkpoint and before the end (a loaded machine may let it write a second).
    expect(listCheckpoints(runDir)[0]).toBe(N);
    expect(Math.max(...listCheckpoints(runDir))).toBeLessThan(TOTAL);

    const resumed = spawn(process.execPath, [cli, 'train', '--resume', runDir, '--steps', String(TOTAL), '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    resumed.stderr!.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((ok) => resumed.on('close', (c) => ok(c)));
    expect(stderr).toMatch(new RegExp(`npcforge: done at step ${TOTAL}; .*; run .*\\n$`));
    expect(code).toBe(0);

    const { checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay } = RUN;
    const config = resolveRunConfig({ game, agent: 'ppo', file: agent, flags: { steps: TOTAL, checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, envs, saveReplay } });
    const straight = await train({ config, runDir: join(dir, 'straight'), progress: null });
    expect(straight.step).toBe(TOTAL);

    const a = deterministic(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
    const b = deterministic(readFileSync(join(dir, 'straight', 'metrics.jsonl'), 'utf8'));
    expect(a.length).toBe(TOTAL / 48);
    expectClose(a, b, 'metrics');
    const ca = join(runDir, 'checkpoints', String(TOTAL));
    const cb = join(dir, 'straight', 'checkpoints', String(TOTAL));
    const files = readdirSync(ca).sort();
    expect(readdirSync(cb).sort()).toEqual(files);
    for (const f of files) {
      if (f === 'checkpoint.json') expectClose(comparableJson(join(ca, f)), comparableJson(join(cb, f)), f);
      else expectClose(floats(join(ca, f)), floats(join(cb, f)), f);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
