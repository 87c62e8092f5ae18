/**
 * The training loop, generic over the agent: steps a vector env, feeds the agent, evaluates on
 * separate envs, writes metrics.jsonl, checkpoints atomically and resumes exactly.
 */
import { existsSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, formatError, describe } from '../errors.js';
import type { Env, ObsArray } from '../envs/env.js';
import { make } from '../envs/registry.js';
import type { Box } from '../envs/spaces.js';
import { SyncVectorEnv } from '../envs/vector/sync-vector-env.js';
import type { VectorStepResult } from '../envs/vector/types.js';
import type { Agent } from '../agents/agent.js';
import { getAgentFactory } from '../agents/registry.js';
import { initBackend } from '../networks/backend.js';
import { npcforgeVersion } from '../version.js';
import { BEST_DIR, readCheckpoint, writeBest, writeCheckpoint, type RunnerState } from './checkpoint.js';
import { restoreEnvChain, snapshotEnvChain } from './env-state.js';
import { evaluate, summarise, type EvalEpisode } from './evaluate.js';
import { Progress } from './progress.js';
import { recordPolicyEpisode } from '../replay/episodes/record-policy.js';
import { episodeName } from '../replay/episodes/episode-name.js';
import type { ResolvedRunConfig } from './run-config.js';
import { RUN_FORMAT, RUN_VERSION, createRunFolder, listCheckpoints, pruneCheckpoints, readRunFile, runFolderName, type RunFile } from './run-folder.js';

/** One line of metrics.jsonl. */
export interface MetricsLine {
  step: number;
  episodes: number;
  /** Mean return of the last 100 finished training episodes (null before the first). */
  mean_return_100: number | null;
  /** Mean return of the latest evaluation (null before the first). */
  eval_return: number | null;
  /** Mean loss over the interval's updates (null when no update happened). */
  loss: number | null;
  epsilon: number | null;
  updates: number;
  env_steps_per_s: number;
  updates_per_s: number;
  wall_time_s: number;
  tensors: number;
}

export interface TrainOptions {
  /** New run: the resolved config and the parent folder (default `runs`). */
  config?: ResolvedRunConfig;
  outDir?: string;
  /** Exact folder of the new run (overrides outDir + generated name). */
  runDir?: string;
  /** Existing run to continue from its latest checkpoint. */
  resume?: string;
  /** With `resume`: a new total step budget. */
  steps?: number;
  /** Polled every iteration; true = write a final checkpoint and return. */
  shouldStop?: () => boolean;
  /** Called for every finished evaluation episode (hook for the episode recorder). */
  onEvalEpisode?: (e: EvalEpisode & { step: number; evalIndex: number; runDir: string }) => void | Promise<void>;
  /**
   * Evaluation episodes per evaluation recorded (annotated with the agent's Q-values or
   * probabilities and value) to `<run>/episodes/step<step>-ep<j>.npcep` for the viewer (default 1; 0 = none).
   */
  recordEvalEpisodes?: number;
  /** Progress output (default process.stderr); null for silence. */
  progress?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean } | null;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
}

export interface TrainResult {
  runDir: string;
  step: number;
  interrupted: boolean;
  /** Latest evaluation summary. */
  lastEval: ReturnType<typeof summarise> | null;
  /** Best periodic evaluation mean (its weights are in `<runDir>/best/`), null without evaluations. */
  bestEval: number | null;
  /** True when `stopAtEval` ended the run before its step budget. */
  stoppedEarly: boolean;
  checkpoint: string | null;
}

/** Builds the vector env of a run (the seam for a worker-thread vector env). */
export function createTrainEnvs(game: string, numEnvs: number, envOptions: Record<string, unknown>): SyncVectorEnv {
  return new SyncVectorEnv(() => make(game, envOptions) as Env<ObsArray, number>, numEnvs);
}

/** Seed of evaluation number `evalIndex` of a run seeded `seed` (episode j adds j). */
export function evalSeed(seed: number, evalIndex: number): number {
  return ((seed + 1) * 1_000_003 + evalIndex * 10_007) % 0x7fff0000;
}

function crossed(prev: number, now: number, every: number): boolean {
  return every > 0 && Math.floor(prev / every) < Math.floor(now / every);
}

/** Keeps only the metrics lines up to `step` (a resumed run rewrites what came after its checkpoint). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => {
      if (!l.trim()) return false;
      try {
        return (JSON.parse(l) as MetricsLine).step <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(path, keep.length ? keep.join('\n') + '\n' : '');
}

/** The default run folder, suffixed `-2`, `-3`, ... when a run started in the same second already has it. */
function uniqueRunDir(base: string): string {
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** Re-plays an evaluation episode on a fresh env and writes it, with its annotations, as an .npcep file. */
async function recordEvalEpisode(game: string, envOptions: Record<string, unknown>, dir: string, name: string, e: EvalEpisode, meta: Record<string, unknown>): Promise<void> {
  const env = make(game, envOptions) as Env<ObsArray, number>;
  try {
    await recordPolicyEpisode({ env, dir, name, seed: e.seed, meta, policy: (_obs, t) => ({ action: e.actions[t]!, info: e.annotations?.[t] }) });
  } finally {
    env.close();
  }
}

/** Trains a new run or resumes one; returns when the budget is spent or `shouldStop` says so. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const now = options.now ?? (() => Date.now());
  let runDir: string;
  let cfg: ResolvedRunConfig;
  let resumeFrom: string | null = null;
  if (options.resume) {
    runDir = options.resume;
    const file = readRunFile(runDir);
    cfg = { game: file.game, agent: file.agent, preset: file.preset, run: { ...file.run, stopAtEval: file.run.stopAtEval ?? null }, agentConfig: file.agentConfig };
    if (options.steps !== undefined) cfg.run.steps = options.steps;
    const steps = listCheckpoints(runDir);
    if (!steps.length) throw new CheckpointError(formatError('--resume', 'a run with at least one checkpoint', `${describe(runDir)} without checkpoints`, 'start a new run instead'));
    resumeFrom = join(runDir, 'checkpoints', String(steps[steps.length - 1]));
  } else {
    if (!options.config) throw new CheckpointError(formatError('train', 'a config or --resume', 'neither', 'pass one'));
    cfg = options.config;
    runDir = options.runDir ?? uniqueRunDir(join(options.outDir ?? 'runs', runFolderName(cfg.game, cfg.agent, cfg.run.seed, new Date(now()))));
  }
  // After the run folder and config were validated, so a bad --resume reports only its own error.
  const backend = await initBackend();
  const run = cfg.run;
  const K = run.envs;
  const vec = createTrainEnvs(cfg.game, K, run.envOptions);
  const factory = getAgentFactory(cfg.agent);
  let agent: Agent | null = null;
  const progress = new Progress(options.progress === undefined ? process.stderr : (options.progress ?? { write: () => true }), options.progress !== null);
  try {
    agent = factory.create({ config: cfg.agentConfig, observationSpace: vec.singleObservationSpace, actionSpace: vec.singleActionSpace, numEnvs: K, seed: run.seed });
    const metricsPath = join(runDir, 'metrics.jsonl');
    const obsSize = (vec.singleObservationSpace as Box).size;
    let st: RunnerState;
    let obs: ObsArray;
    if (resumeFrom) {
      // Read everything before touching the run folder, so a corrupt checkpoint changes nothing.
      const ck = readCheckpoint(resumeFrom);
      await agent.load(ck.agent);
      st = ck.runner;
      if (st.envs.length !== K || st.obs.length !== K * obsSize) throw new CheckpointError(formatError('checkpoint', `${K} env states`, `${st.envs.length}`, 'resume with the same --envs'));
      const first = (await vec.reset({ seed: run.seed })).obs;
      obs = new (first.constructor as { new (a: number[]): ObsArray })(st.obs);
      st.envs.forEach((snap, i) => {
        if (snap) restoreEnvChain(vec.envs[i]!, snap);
        else {
          const r = vec.envs[i]!.reset({ seed: (run.seed + 7919 * (st.step + i + 1)) % 0x7fff0000 });
          obs.set(r.obs, i * obsSize);
          st.episodeReturns[i] = 0;
          st.episodeLengths[i] = 0;
        }
      });
      if (st.envs.some((s) => s === null)) progress.message(`npcforge: ${cfg.game} cannot snapshot its state; resumed episodes restart (not an exact resume)`);
      truncateMetrics(metricsPath, st.step);
    } else {
      const file: RunFile = { format: RUN_FORMAT, version: RUN_VERSION, ...cfg, backend, versions: { npcforge: npcforgeVersion(), tfjs: tf.version.tfjs }, createdAt: new Date(now()).toISOString() };
      createRunFolder(runDir, file);
      obs = (await vec.reset({ seed: run.seed })).obs;
      st = { step: 0, episodes: 0, evals: 0, lastEval: null, wallTime: 0, recentReturns: [], episodeReturns: new Array(K).fill(0), episodeLengths: new Array(K).fill(0), obs: [], envs: [], acc: { loss: 0, lossCount: 0, updates: 0 } };
    }
    progress.message(`npcforge: ${resumeFrom ? 'resuming' : 'training'} ${cfg.game} with ${cfg.agent}/${cfg.preset} on ${backend}, ${run.steps} steps -> ${runDir}`);

    const t0 = now();
    const wall0 = st.wallTime;
    let intervalStart = now();
    let intervalSteps = 0;
    let lastEvalSummary: ReturnType<typeof summarise> | null = null;
    let lastCheckpoint: string | null = null;
    const wall = (): number => wall0 + (now() - t0) / 1000;

    const meanRecent = (): number | null => (st.recentReturns.length ? st.recentReturns.reduce((a, b) => a + b, 0) / st.recentReturns.length : null);
    const recordEval = options.recordEvalEpisodes ?? 1;
    const doEval = async (): Promise<void> => {
      if (run.evalEpisodes === 0) return;
      const evalIndex = st.evals++;
      const epsilon = (cfg.agentConfig.evalEpsilon as number | undefined) ?? 0;
      const res = await evaluate(agent!, {
        makeEnv: () => make(cfg.game, run.envOptions) as Env<ObsArray, number>,
        episodes: run.evalEpisodes,
        baseSeed: evalSeed(run.seed, evalIndex),
        epsilon,
        annotateEpisodes: recordEval,
        onEpisode: async (e) => {
          if (e.index < recordEval) await recordEvalEpisode(cfg.game, run.envOptions, join(runDir, 'episodes'), episodeName({ source: `eval-step${st.step}`, seed: e.seed, index: e.index }), e, { run: basename(runDir), agentStep: st.step });
          await options.onEvalEpisode?.({ ...e, step: st.step, evalIndex, runDir });
        },
      });
      lastEvalSummary = summarise(res);
      st.lastEval = lastEvalSummary.mean_return;
      // DQN's greedy policy can collapse late in training; keep the best-evaluated weights for eval/export.
      // Ties go to the later weights (more training behind the same score).
      if (st.bestEval === undefined || st.bestEval === null || st.lastEval >= st.bestEval) {
        st.bestEval = st.lastEval;
        const snap = await agent!.save({ includeReplay: false });
        writeBest(runDir, { ...st, wallTime: wall(), obs: [], envs: [] }, snap);
      }
    };
    const writeMetrics = (): void => {
      const elapsed = Math.max(1e-9, (now() - intervalStart) / 1000);
      const sched = agent!.schedule();
      const line: MetricsLine = {
        step: st.step,
        episodes: st.episodes,
        mean_return_100: meanRecent(),
        eval_return: st.lastEval,
        loss: st.acc.lossCount ? st.acc.loss / st.acc.lossCount : null,
        epsilon: sched.epsilon ?? null,
        updates: sched.updates ?? 0,
        env_steps_per_s: intervalSteps / elapsed,
        updates_per_s: st.acc.updates / elapsed,
        wall_time_s: wall(),
        tensors: tf.memory().numTensors,
      };
      appendFileSync(metricsPath, JSON.stringify(line) + '\n');
      progress.line({ step: st.step, total: run.steps, meanReturn: line.mean_return_100, evalReturn: st.lastEval, stepsPerSec: line.env_steps_per_s });
      st.acc = { loss: 0, lossCount: 0, updates: 0 };
      intervalStart = now();
      intervalSteps = 0;
    };
    const checkpoint = async (): Promise<void> => {
      st.wallTime = wall();
      st.obs = Array.from(obs);
      st.envs = vec.envs.map((e) => snapshotEnvChain(e as Env<unknown, unknown>));
      const snap = await agent!.save({ includeReplay: run.saveReplay });
      lastCheckpoint = writeCheckpoint(runDir, st, snap);
      pruneCheckpoints(runDir, run.keepCheckpoints);
    };

    let interrupted = false;
    let stoppedEarly = false;
    const speedStart = now();
    const speedStep0 = st.step;
    let lastYield = now();
    while (st.step < run.steps) {
      // The loop's awaits resolve as microtasks; yield to the event loop now and then so signal
      // handlers (Ctrl-C) and I/O callbacks get to run.
      if (now() - lastYield > 100) {
        await new Promise((r) => setImmediate(r));
        lastYield = now();
      }
      if (options.shouldStop?.()) {
        interrupted = true;
        break;
      }
      const { actions } = await agent.act(obs, { numEnvs: K });
      const r: VectorStepResult = await vec.step(actions);
      const finalObs = r.infos.map((inf) => inf.finalObs as ObsArray | undefined);
      const m = await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs });
      if (m) {
        st.acc.loss += (m.loss ?? 0) * (m.updates ?? 1);
        st.acc.lossCount += m.updates ?? 1;
        st.acc.updates += m.updates ?? 1;
      }
      for (let i = 0; i < K; i++) {
        st.episodeReturns[i]! += r.rewards[i]!;
        st.episodeLengths[i]! += 1;
        if (r.terminated[i] || r.truncated[i]) {
          st.recentReturns.push(st.episodeReturns[i]!);
          if (st.recentReturns.length > 100) st.recentReturns.shift();
          st.episodes++;
          st.episodeReturns[i] = 0;
          st.episodeLengths[i] = 0;
        }
      }
      obs = r.obs;
      const prev = st.step;
      st.step += K;
      intervalSteps += K;
      // The last iteration always evaluates, logs and checkpoints, so the final numbers are in metrics.jsonl.
      let last = st.step >= run.steps;
      if (crossed(prev, st.step, run.evalEvery) || last) {
        await doEval();
        if (run.stopAtEval !== null && st.lastEval !== null && st.lastEval >= run.stopAtEval) {
          stoppedEarly = !last;
          last = true;
        }
      }
      if (crossed(prev, st.step, run.logEvery) || last) writeMetrics();
      if (crossed(prev, st.step, run.checkpointEvery) || last) await checkpoint();
      const sps = (st.step - speedStep0) / Math.max(1e-3, (now() - speedStart) / 1000);
      progress.tick({ step: st.step, total: run.steps, meanReturn: meanRecent(), evalReturn: st.lastEval, stepsPerSec: sps });
      if (stoppedEarly) break;
    }
    if (interrupted) await checkpoint();
    progress.message(interrupted ? `npcforge: interrupted at step ${st.step}; checkpoint ${lastCheckpoint}; continue with --resume ${runDir}` : `npcforge: ${stoppedEarly ? `eval return reached stopAtEval ${run.stopAtEval}; stopped` : 'done'} at step ${st.step}; eval return ${st.lastEval ?? '-'} (best ${st.bestEval ?? '-'}); run ${runDir}`);
    return { runDir, step: st.step, interrupted, lastEval: lastEvalSummary, bestEval: st.bestEval ?? null, stoppedEarly, checkpoint: lastCheckpoint };
  } finally {
    agent?.dispose();
    await vec.close();
  }
}

/**
 * Loads a run's agent for evaluation or export: the best-evaluated weights (`best/`) by default,
 * else the latest checkpoint; `checkpointStep` picks a checkpoint. The caller disposes the agent.
 */
export async function loadRunAgent(runDir: string, checkpointStep?: number): Promise<{ agent: Agent; run: RunFile; step: number; best: boolean }> {
  const run = readRunFile(runDir);
  const steps = listCheckpoints(runDir);
  const useBest = checkpointStep === undefined && existsSync(join(runDir, BEST_DIR, 'checkpoint.json'));
  const step = checkpointStep ?? steps[steps.length - 1];
  if (!useBest && (step === undefined || !steps.includes(step))) {
    throw new CheckpointError(formatError('checkpoint', `one of [${steps.join(', ')}]`, describe(checkpointStep ?? 'none'), steps.length ? 'pass --checkpoint with a listed step' : 'train the run first'));
  }
  const ck = readCheckpoint(useBest ? join(runDir, BEST_DIR) : join(runDir, 'checkpoints', String(step)));
  await initBackend();
  const probe = make(run.game, run.run.envOptions);
  const agent = getAgentFactory(run.agent).create({ config: run.agentConfig, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, numEnvs: 1, seed: run.run.seed });
  probe.close();
  try {
    await agent.load({ json: ck.agent.json, blobs: Object.fromEntries(Object.entries(ck.agent.blobs).filter(([k]) => k !== 'replay.bin')) });
  } catch (err) {
    agent.dispose();
    throw err;
  }
  return { agent, run, step: ck.runner.step, best: useBest };
}
