/**
 * The on-policy runner for the policy-gradient agents: collects fixed-length rollouts from a
 * vector env, hands them to the agent, evaluates, logs `metrics.jsonl`, writes atomic checkpoints
 * at rollout boundaries and resumes from them. Run folder as in DESIGN.md:
 * `runs/<game>__<agent>__s<seed>__<yyyymmdd-hhmmss>/{config.json, metrics.jsonl, checkpoints/<step>/}`.
 */
import { initBackend } from '../networks/backend.js';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, InvalidConfigError, UnsupportedVersionError, formatError, describe } from '../errors.js';
import { make } from '../envs/registry.js';
import { Wrapper, type Env, type EnvSnapshot, type ObsArray } from '../envs/env.js';
import { TimeLimit } from '../envs/wrappers/time-limit.js';
import { SyncVectorEnv } from '../envs/vector/sync-vector-env.js';
import { PolicyGradientAgent, base64ToF32, type PgAgentSnapshot, type RecurrentState, type Rollout, type PgUpdateMetrics } from '../agents/pg/agent.js';
import { pgPresetFor, type PgAlgorithm, type PgConfig } from '../agents/pg/config.js';

export interface OnPolicyRunOptions {
  /** Registered game id. */
  game: string;
  /** Options passed to `make` for every env. */
  envOptions?: Record<string, unknown>;
  /** Builds env `index` instead of `make(game, envOptions)` (custom wrappers such as Flicker). */
  makeEnv?: (index: number) => Env<ObsArray, number>;
  /** Agent config (the `algorithm` field picks REINFORCE / A2C / PPO); merged over the game preset. */
  agentConfig?: Partial<PgConfig>;
  /** Total env steps (summed over envs); default from the game preset. */
  steps?: number;
  /** Parallel envs; default from the game preset. */
  numEnvs?: number;
  /** Seed of envs, network and sampling. */
  seed?: number;
  /** Run folder; null writes nothing. Default `runs/<game>__<agent>__s<seed>__<stamp>`. */
  outDir?: string | null;
  /** Continue the run in this folder from its latest checkpoint. */
  resume?: string;
  /** Evaluate every this many env steps (0: only at the end). */
  evalEvery?: number;
  /** Greedy episodes per evaluation. */
  evalEpisodes?: number;
  /** Checkpoint every this many env steps (0: only at the end). */
  checkpointEvery?: number;
  /** Log a metrics line every this many env steps. */
  logEvery?: number;
  /** Receives human-readable progress lines. */
  log?: (line: string) => void;
  /** Abort (Ctrl-C): a final checkpoint is written and the run returns early. */
  signal?: AbortSignal;
}

/** One evaluation's summary. */
export interface EvalSummary {
  episodes: number;
  mean_return: number;
  std_return: number;
  min_return: number;
  max_return: number;
  mean_length: number;
  /** Fraction of episodes with a positive return (a catch or a correct maze turn). */
  success_rate: number;
}

export interface OnPolicyRunResult {
  runDir: string | null;
  steps: number;
  episodes: number;
  /** Mean return of the last 100 training episodes. */
  meanReturn: number | null;
  /** The final evaluation. */
  finalEval: EvalSummary;
  aborted: boolean;
}

const RUNNER_FORMAT = 'npcforge-on-policy-runner';
const RUNNER_VERSION = 1;

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function obsToBase64(o: ObsArray): { dtype: string; data: string } {
  const dtype = o instanceof Uint8Array ? 'uint8' : o instanceof Int32Array ? 'int32' : 'float32';
  return { dtype, data: Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('base64') };
}

function obsFromBase64(x: { dtype: string; data: string }): ObsArray {
  const b = Buffer.from(x.data, 'base64');
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return x.dtype === 'uint8' ? copy : x.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** Env state for checkpoints: the game's snapshot plus the TimeLimit step counter, if any. */
function snapshotEnv(env: Env<ObsArray, number>): { game: EnvSnapshot | null; elapsed: number | null } {
  let e: Env<unknown, unknown> = env as Env<unknown, unknown>;
  let elapsed: number | null = null;
  while (e instanceof Wrapper) {
    // TimeLimit has no snapshot API yet; its counter decides when the episode truncates.
    if (e instanceof TimeLimit) elapsed = (e as unknown as { elapsed: number }).elapsed;
    e = e.env as Env<unknown, unknown>;
  }
  return { game: e.getState ? e.getState() : null, elapsed };
}

function restoreEnv(env: Env<ObsArray, number>, s: { game: EnvSnapshot | null; elapsed: number | null }): void {
  let e: Env<unknown, unknown> = env as Env<unknown, unknown>;
  while (e instanceof Wrapper) {
    if (e instanceof TimeLimit && s.elapsed !== null) (e as unknown as { elapsed: number }).elapsed = s.elapsed;
    e = e.env as Env<unknown, unknown>;
  }
  if (s.game) {
    if (!e.setState) throw new CheckpointError(formatError('on-policy runner', 'an env with setState to resume', 'an env without it', 'resume only games that support getState/setState'));
    e.setState(s.game);
  }
}

interface RunnerSnapshot {
  format: string;
  version: number;
  step: number;
  episodes: number;
  obs: { dtype: string; data: string };
  starts: number[];
  state: { h: string; c: string } | null;
  envs: Array<{ game: EnvSnapshot | null; elapsed: number | null }>;
  epReturn: number[];
  epLength: number[];
  recentReturns: number[];
  lastEval: EvalSummary | null;
}

/** Evaluates greedily on fresh envs seeded from `seed`; recurrent state threaded and reset per episode. */
export async function evaluatePolicy(agent: PolicyGradientAgent, makeEnv: (index: number) => Env<ObsArray, number>, options: { episodes: number; seed: number; greedy?: boolean }): Promise<EvalSummary> {
  const k = Math.min(options.episodes, 16);
  const venv = new SyncVectorEnv((i) => makeEnv(10_000 + i), k);
  let { obs } = await venv.reset({ seed: options.seed });
  let state = agent.initialState(k);
  let starts = new Float32Array(k).fill(1);
  const ret = new Float64Array(k);
  const len = new Int32Array(k);
  const returns: number[] = [];
  const lengths: number[] = [];
  // Each env slot contributes episodes only until the quota is filled, so results do not depend on timing.
  const quota = Array.from({ length: k }, (_, i) => Math.floor(options.episodes / k) + (i < options.episodes % k ? 1 : 0));
  while (returns.length < options.episodes) {
    const a = await agent.act(obs, k, state, starts, { greedy: options.greedy ?? true });
    const r = await venv.step(a.actions);
    state = a.state;
    starts = new Float32Array(k);
    for (let i = 0; i < k; i++) {
      ret[i] = ret[i]! + r.rewards[i]!;
      len[i]!++;
      if (r.terminated[i] || r.truncated[i]) {
        if (quota[i]! > 0) {
          returns.push(ret[i]!);
          lengths.push(len[i]!);
          quota[i]!--;
        }
        ret[i] = 0;
        len[i] = 0;
        starts[i] = 1;
      }
    }
    obs = r.obs;
  }
  await venv.close();
  const n = returns.length;
  const mean = returns.reduce((s, x) => s + x, 0) / n;
  const std = Math.sqrt(returns.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
  return {
    episodes: n,
    mean_return: mean,
    std_return: std,
    min_return: Math.min(...returns),
    max_return: Math.max(...returns),
    mean_length: lengths.reduce((s, x) => s + x, 0) / n,
    success_rate: returns.filter((x) => x > 0).length / n,
  };
}

function latestCheckpoint(runDir: string): string | null {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return null;
  const steps = readdirSync(dir).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b);
  return steps.length ? join(dir, String(steps[steps.length - 1])) : null;
}

/** Reads a checkpoint folder written by this runner; throws CheckpointError when it is not one. */
export function readPgCheckpoint(dir: string): { agent: PgAgentSnapshot; runner: RunnerSnapshot } {
  try {
    const agent = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as PgAgentSnapshot;
    const runner = JSON.parse(readFileSync(join(dir, 'runner.json'), 'utf8')) as RunnerSnapshot;
    if (runner.format !== RUNNER_FORMAT) throw new CheckpointError(formatError('on-policy runner', `a ${RUNNER_FORMAT} checkpoint`, describe(runner.format), 'resume a policy-gradient run'));
    if (runner.version !== RUNNER_VERSION) throw new UnsupportedVersionError(formatError('on-policy runner', `checkpoint version ${RUNNER_VERSION}`, describe(runner.version), 'use the npcforge version that wrote it'));
    return { agent, runner };
  } catch (err) {
    if (err instanceof CheckpointError || err instanceof UnsupportedVersionError) throw err;
    throw new CheckpointError(formatError('on-policy runner', `a readable checkpoint in ${dir}`, err instanceof Error ? err.message : String(err), 'resume from an intact run folder'), { cause: err });
  }
}

/** Trains a REINFORCE / A2C / PPO agent on a game; see OnPolicyRunOptions. */
export async function runOnPolicy(options: OnPolicyRunOptions): Promise<OnPolicyRunResult & { agent: PolicyGradientAgent }> {
  await initBackend({ quiet: true });
  const log = options.log ?? (() => {});
  let resumeDir: string | null = null;
  let saved: { agent: PgAgentSnapshot; runner: RunnerSnapshot } | null = null;
  let opts = options;
  if (options.resume) {
    const dir = resolve(options.resume);
    if (!existsSync(join(dir, 'config.json'))) throw new CheckpointError(formatError('train --resume', 'a run folder with config.json', describe(options.resume), 'pass a folder written by npcforge train'));
    const cp = latestCheckpoint(dir);
    if (!cp) throw new CheckpointError(formatError('train --resume', 'a run folder with a checkpoint', `${options.resume} without checkpoints/`, 'resume a run that wrote at least one checkpoint'));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { run: Omit<OnPolicyRunOptions, 'log' | 'signal' | 'makeEnv' | 'resume'> };
    // The saved config wins; only the step budget may be extended on resume.
    opts = { ...options, ...cfg.run, steps: options.steps ?? cfg.run.steps, outDir: dir };
    saved = readPgCheckpoint(cp);
    resumeDir = dir;
  }
  const algorithm = (opts.agentConfig?.algorithm ?? 'ppo') as PgAlgorithm;
  const preset = pgPresetFor(opts.game, algorithm);
  const agentConfig: Partial<PgConfig> = { ...preset.config, ...(opts.agentConfig ?? {}), algorithm };
  const steps = opts.steps ?? preset.steps;
  const numEnvs = opts.numEnvs ?? preset.numEnvs;
  const seed = opts.seed ?? 0;
  const evalEvery = opts.evalEvery ?? 0;
  const evalEpisodes = opts.evalEpisodes ?? 100;
  const checkpointEvery = opts.checkpointEvery ?? 0;
  const logEvery = opts.logEvery ?? Math.max(1, Math.floor(steps / 20));
  const bad: string[] = [];
  for (const [k, v, min] of [['steps', steps, 1], ['numEnvs', numEnvs, 1], ['seed', seed, 0], ['evalEvery', evalEvery, 0], ['evalEpisodes', evalEpisodes, 1], ['checkpointEvery', checkpointEvery, 0], ['logEvery', logEvery, 1]] as const) {
    if (!Number.isInteger(v) || v < min) bad.push(`${k}=${describe(v)} (integer >= ${min})`);
  }
  if (bad.length) throw new InvalidConfigError(formatError('train', 'valid run options', bad.join('; '), 'fix the listed options'));
  const makeEnv = options.makeEnv ?? (() => make<ObsArray, number>(opts.game, opts.envOptions ?? {}));
  const venv = new SyncVectorEnv(makeEnv, numEnvs);
  const agent = new PolicyGradientAgent({ config: agentConfig, observationSpace: venv.singleObservationSpace, actionSpace: venv.singleActionSpace, seed });
  const cfg = agent.config;
  const T = cfg.numSteps;

  let runDir: string | null = null;
  if (resumeDir) runDir = resumeDir;
  else if (opts.outDir !== null) {
    runDir = resolve(opts.outDir ?? join('runs', `${opts.game.replace(/\//g, '-')}__${algorithm}${cfg.lstmUnits ? '-lstm' : ''}__s${seed}__${stamp()}`));
    if (existsSync(join(runDir, 'config.json'))) throw new InvalidConfigError(formatError('train', 'an empty or new --out folder', runDir, 'pick another --out or pass --resume to continue it'));
    mkdirSync(runDir, { recursive: true });
    const run = { game: opts.game, envOptions: opts.envOptions ?? {}, agentConfig: cfg, steps, numEnvs, seed, evalEvery, evalEpisodes, checkpointEvery, logEvery };
    writeAtomic(join(runDir, 'config.json'), JSON.stringify({ format: 'npcforge-run', version: 1, agent: algorithm, run, versions: { npcforge: process.env.npm_package_version ?? '0.1.0', tfjs: tf.version.tfjs }, backend: tf.getBackend() }, null, 2));
  }

  // Rollout buffers, reused across rollouts.
  const S = agent.obsSize;
  const N = numEnvs;
  let obs: ObsArray = (await venv.reset({ seed })).obs;
  const rollout: Rollout = {
    numSteps: T,
    numEnvs: N,
    obs: obs instanceof Uint8Array ? new Uint8Array(T * N * S) : obs instanceof Int32Array ? new Int32Array(T * N * S) : new Float32Array(T * N * S),
    actions: new Int32Array(T * N),
    logProbs: new Float32Array(T * N),
    values: new Float32Array(T * N),
    rewards: new Float32Array(T * N),
    terminated: new Uint8Array(T * N),
    truncated: new Uint8Array(T * N),
    truncValues: new Float32Array(T * N),
    starts: new Float32Array(T * N),
    lastValues: new Float32Array(N),
    initialState: null,
  };
  let starts = new Float32Array(N).fill(1);
  let state: RecurrentState | null = agent.initialState(N);
  let step = 0;
  let episodes = 0;
  const epReturn = new Float64Array(N);
  const epLength = new Int32Array(N);
  let recentReturns: number[] = [];
  let lastEval: EvalSummary | null = null;

  if (saved) {
    await agent.load(saved.agent);
    const r = saved.runner;
    step = r.step;
    episodes = r.episodes;
    obs = obsFromBase64(r.obs);
    starts = Float32Array.from(r.starts);
    state = r.state ? { h: base64ToF32(r.state.h), c: base64ToF32(r.state.c) } : null;
    venv.envs.forEach((e, i) => restoreEnv(e, r.envs[i]!));
    epReturn.set(r.epReturn);
    epLength.set(r.epLength);
    recentReturns = r.recentReturns;
    lastEval = r.lastEval;
    if (runDir) {
      // Metrics written after the checkpoint belong to the lost future: drop them.
      const mpath = join(runDir, 'metrics.jsonl');
      if (existsSync(mpath)) {
        const keep = readFileSync(mpath, 'utf8').split('\n').filter((l) => l.trim() && (JSON.parse(l) as { step: number }).step <= step);
        writeAtomic(mpath, keep.map((l) => l + '\n').join(''));
      }
    }
    log(`resumed ${runDir} at step ${step}`);
  }

  const saveCheckpoint = async (): Promise<void> => {
    if (!runDir) return;
    const dir = join(runDir, 'checkpoints');
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${step}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const f32 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    const runner: RunnerSnapshot = {
      format: RUNNER_FORMAT,
      version: RUNNER_VERSION,
      step,
      episodes,
      obs: obsToBase64(obs),
      starts: Array.from(starts),
      state: state ? { h: f32(state.h), c: f32(state.c) } : null,
      envs: venv.envs.map(snapshotEnv),
      epReturn: Array.from(epReturn),
      epLength: Array.from(epLength),
      recentReturns,
      lastEval,
    };
    writeFileSync(join(tmp, 'agent.json'), JSON.stringify(await agent.save()));
    writeFileSync(join(tmp, 'runner.json'), JSON.stringify(runner));
    const final = join(dir, String(step));
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  };

  const evalMakeEnv = makeEnv;
  const evaluate = async (): Promise<EvalSummary> => evaluatePolicy(agent, evalMakeEnv, { episodes: evalEpisodes, seed: seed + 1_000_003 });

  const t0 = Date.now();
  const stepAtStart = step;
  let updatesThisSession = 0;
  let lastUpdate: PgUpdateMetrics | null = null;
  let nextLog = (Math.floor(step / logEvery) + 1) * logEvery;
  let nextEval = evalEvery > 0 ? (Math.floor(step / evalEvery) + 1) * evalEvery : Infinity;
  let nextCheckpoint = checkpointEvery > 0 ? (Math.floor(step / checkpointEvery) + 1) * checkpointEvery : Infinity;
  let aborted = false;

  const writeMetrics = (extra: Record<string, unknown> = {}): void => {
    const wall = (Date.now() - t0) / 1000;
    const mean = recentReturns.length ? recentReturns.reduce((s, x) => s + x, 0) / recentReturns.length : null;
    const row = {
      step,
      episodes,
      mean_return: mean,
      eval_return: lastEval?.mean_return ?? null,
      eval_success: lastEval?.success_rate ?? null,
      loss: lastUpdate?.loss ?? null,
      policy_loss: lastUpdate?.policyLoss ?? null,
      value_loss: lastUpdate?.valueLoss ?? null,
      entropy: lastUpdate?.entropy ?? null,
      approx_kl: lastUpdate?.approxKl ?? null,
      clip_fraction: lastUpdate?.clipFraction ?? null,
      lr: lastUpdate?.lr ?? null,
      updates: agent.updates,
      env_steps_per_s: wall > 0 ? (step - stepAtStart) / wall : null,
      updates_per_s: wall > 0 ? updatesThisSession / wall : null,
      wall_time_s: wall,
      tensors: tf.memory().numTensors,
      ...extra,
    };
    if (runDir) appendFileSync(join(runDir, 'metrics.jsonl'), JSON.stringify(row) + '\n');
    const eta = row.env_steps_per_s ? (steps - step) / row.env_steps_per_s : 0;
    log(`step ${step}/${steps}  episodes ${episodes}  return(100) ${mean === null ? '-' : mean.toFixed(3)}  eval ${lastEval ? lastEval.mean_return.toFixed(3) : '-'}  ${row.env_steps_per_s?.toFixed(0) ?? '-'} steps/s  eta ${eta.toFixed(0)} s`);
  };

  while (step < steps) {
    rollout.initialState = state ? { h: Float32Array.from(state.h), c: Float32Array.from(state.c) } : null;
    for (let t = 0; t < T; t++) {
      const a = await agent.act(obs, N, state, starts);
      rollout.obs.set(obs, t * N * S);
      rollout.starts.set(starts, t * N);
      rollout.actions.set(a.actions, t * N);
      rollout.logProbs.set(a.logProbs, t * N);
      rollout.values.set(a.values, t * N);
      const r = await venv.step(a.actions);
      rollout.rewards.set(r.rewards, t * N);
      rollout.terminated.set(r.terminated, t * N);
      rollout.truncated.set(r.truncated, t * N);
      const nextStarts = new Float32Array(N);
      let anyTrunc = false;
      for (let e = 0; e < N; e++) {
        epReturn[e] = epReturn[e]! + r.rewards[e]!;
        epLength[e]!++;
        if (r.truncated[e] && !r.terminated[e]) anyTrunc = true;
        if (r.terminated[e] || r.truncated[e]) {
          nextStarts[e] = 1;
          episodes++;
          recentReturns.push(epReturn[e]!);
          if (recentReturns.length > 100) recentReturns.shift();
          epReturn[e] = 0;
          epLength[e] = 0;
        }
      }
      if (anyTrunc) {
        // Bootstrap truncated episodes from V(finalObs), continuing each env's own recurrent state.
        const finalObs = obs instanceof Float32Array ? new Float32Array(N * S) : obs instanceof Int32Array ? new Int32Array(N * S) : new Uint8Array(N * S);
        finalObs.set(r.obs);
        for (let e = 0; e < N; e++) if (r.truncated[e]) finalObs.set(r.infos[e]!.finalObs as ObsArray, e * S);
        const v = await agent.values(finalObs, N, a.state, new Float32Array(N));
        for (let e = 0; e < N; e++) rollout.truncValues[t * N + e] = r.truncated[e] ? v[e]! : 0;
      } else {
        rollout.truncValues.fill(0, t * N, (t + 1) * N);
      }
      obs = r.obs;
      state = a.state;
      starts = nextStarts;
      step += N;
    }
    rollout.lastValues.set(await agent.values(obs, N, state, starts));
    const m = await agent.update(rollout, Math.min(1, step / steps));
    if (m) {
      lastUpdate = m;
      updatesThisSession++;
    }
    if (step >= nextEval) {
      lastEval = await evaluate();
      nextEval = (Math.floor(step / evalEvery) + 1) * evalEvery;
    }
    const done = step >= steps;
    if (step >= nextLog || done) {
      writeMetrics();
      nextLog = (Math.floor(step / logEvery) + 1) * logEvery;
    }
    if (step >= nextCheckpoint || done) {
      await saveCheckpoint();
      nextCheckpoint = checkpointEvery > 0 ? (Math.floor(step / checkpointEvery) + 1) * checkpointEvery : Infinity;
    }
    if (opts.signal?.aborted && !done) {
      aborted = true;
      writeMetrics({ aborted: true });
      await saveCheckpoint();
      log(`interrupted at step ${step}; checkpoint written${runDir ? ` to ${runDir}` : ''}`);
      break;
    }
  }
  await venv.close();
  const finalEval = aborted && lastEval ? lastEval : await evaluate();
  if (runDir && !aborted) writeAtomic(join(runDir, 'final-eval.json'), JSON.stringify(finalEval, null, 2));
  const meanReturn = recentReturns.length ? recentReturns.reduce((s, x) => s + x, 0) / recentReturns.length : null;
  return { runDir, steps: step, episodes, meanReturn, finalEval, aborted, agent };
}
