/**
 * The training loop, generic over the agent: steps a vector env, feeds the agent, evaluates on
 * separate envs, writes metrics.jsonl, checkpoints atomically and resumes exactly.
 */
import { existsSync, readFileSync, appendFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, InvalidConfigError, formatError, describe } from '../errors.js';
import { canRender, type Env, type ObsArray } from '../envs/env.js';
import { make } from '../envs/registry.js';
import { Box, Discrete, type Space } from '../envs/spaces.js';
import { SyncVectorEnv } from '../envs/vector/sync-vector-env.js';
import type { VectorStepResult } from '../envs/vector/types.js';
import type { Agent, UpdateMetrics } from '../agents/agent.js';
import { getAgentFactory } from '../agents/registry.js';
import { initBackend } from '../networks/backend.js';
import { smallFrameHint } from '../networks/encoders.js';
import { npcforgeVersion } from '../version.js';
import { BEST_DIR, readCheckpoint, writeBest, writeCheckpoint, type RunnerState } from './checkpoint.js';
import { AUTO_WORKERS_MIN_ENVS, chooseVectorEnv, measureEnvStepUs, openTrainEnvs, syncTrainEnvs, type TrainEnvs, type VectorEnvMode } from './train-envs.js';
import { evaluate, summarise, type EvalEpisode } from './evaluate.js';
import { Progress, formatNumber } from './progress.js';
import { recordPolicyEpisode } from '../replay/episodes/record-policy.js';
import { RecordMultiAgentEpisode } from '../replay/episodes/record-multi-agent.js';
import { episodeName } from '../replay/episodes/episode-name.js';
import { episodeActionLayout } from '../replay/episodes/format.js';
import type { ResolvedRunConfig } from './run-config.js';
import type { PhaseTimer } from './phases.js';
import { SelfPlay, makeRunEnv } from './selfplay/selfplay.js';
import { TensorBoardWriter } from './tensorboard.js';
import { METRICS_CSV, MetricsCsv, metricsColumns, truncateMetricsCsv } from './metrics-csv.js';
import { resolveSelfPlayConfig } from './selfplay/config.js';
import { NO_FRAMES_MARKER } from '../replay/episodes/no-frames.js';
import { RunStatusWriter } from './run-status.js';
import { RUN_FORMAT, RUN_VERSION, createRunFolder, listCheckpoints, lockRunFolder, pruneCheckpoints, readRunFile, recoverRunFolder, runFolderName, writeFileAtomic, writeRunFile, type RunFile, type WriteAtomicOptions } from './run-folder.js';

/** One line of metrics.jsonl. */
export interface MetricsLine {
  step: number;
  episodes: number;
  /** Mean return of the last 100 finished training episodes (null before the first). */
  mean_return_100: number | null;
  /** Mean return of the evaluation run at this line's step; null on lines without one (never carried forward). */
  eval_return: number | null;
  /** Mean loss over the interval's updates (null when no update happened). */
  loss: number | null;
  epsilon: number | null;
  updates: number;
  env_steps_per_s: number;
  updates_per_s: number;
  wall_time_s: number;
  tensors: number;
  /** Box-action games: action values outside the bounds (clipped before the env saw them) over the interval's updates. */
  clipped_actions?: number;
  /** Self-play: the learner's Elo against its pool (once an episode against a snapshot was rated). */
  elo?: number;
  /** Self-play: who plays the other seats (`latest` or a snapshot's step) and the pool's size. */
  opponent?: string;
  pool_size?: number;
}

export interface TrainOptions {
  /** New run: the resolved config and the parent folder (default `runs`). */
  config?: ResolvedRunConfig;
  outDir?: string;
  /** Exact folder of the new run (overrides outDir + generated name). */
  runDir?: string;
  /** Existing run to continue from its latest intact checkpoint (or `checkpoint`). */
  resume?: string;
  /** With `resume`: the step of the checkpoint to continue from (later checkpoints are removed). */
  checkpoint?: number;
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
  /**
   * False hides the progress bar, the per-interval lines and the start line (`--no-progress`);
   * warnings, repairs and the final line are still printed. Default true.
   */
  showProgress?: boolean;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
  /** Profile of the loop by phase (the `dqn-frame` benchmark); the agent charges its own phases to it too. */
  phases?: PhaseTimer;
  /**
   * Where the sub-envs step, over the run's `vectorEnv` setting (also with `resume`: it changes
   * the speed, not the run). See `chooseVectorEnv`.
   */
  vectorEnv?: VectorEnvMode;
  /**
   * Module URLs worker envs import before the bundled games (the game's own registration): the
   * modules this process imported for the run. Default: the new run's `config.imports` (none on a
   * resume: a run folder's modules run only when the caller imported them, as `train --resume` does).
   */
  modules?: string[];
  /**
   * Where the experience comes from instead of the run's own envs (the distributed learner,
   * `distributed/learner.ts`). The run's envs are then built in this process but never stepped
   * (they keep the checkpoint format); the step counter counts the transitions the source added.
   */
  experience?: ExperienceSource;
}

/** What a source of experience collected elsewhere gets once the agent is built (see `TrainOptions.experience`). */
export interface ExperienceContext {
  agent: Agent;
  cfg: ResolvedRunConfig;
  /** The run folder's name. */
  runId: string;
  observationSpace: Space;
  actionSpace: Space;
  /** True when the run resumes from a checkpoint. */
  resumed: boolean;
  warn: (line: string) => void;
}

/** A source of experience collected outside the runner (actors over Redis). */
export interface ExperienceSource {
  /** Before the run folder is created or changed: throws to refuse the run (nothing is written then). */
  check(ctx: ExperienceContext): Promise<void>;
  /** Once the run folder exists (new or resumed) and the agent holds its weights. */
  start(): Promise<void>;
  /**
   * Waits a short while for experience, adds it to the agent's memory and runs the updates it owes.
   * `remaining` is what the step budget still wants (a source takes no more than it needs to reach
   * it, in whole batches). Returns the transitions added (0 when none came), the returns of the
   * episodes that ended in them, and the update metrics.
   */
  next(remaining: number): Promise<{ steps: number; episodeReturns: number[]; metrics: UpdateMetrics | null }>;
  /** At the end: `finished` = the step budget is spent (false: stopped, to be resumed). */
  close(finished: boolean): Promise<void>;
  /** Figures for the result (`TrainResult.experience`). */
  stats(): Promise<Record<string, unknown>>;
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
  /** With `TrainOptions.experience`: the source's figures (the distributed learner's acknowledged transitions). */
  experience?: Record<string, unknown>;
}

/** Builds the in-process vector env of a run (`openTrainEnvs` builds either kind). */
export function createTrainEnvs(game: string, numEnvs: number, envOptions: Record<string, unknown>): SyncVectorEnv {
  return new SyncVectorEnv(() => make(game, envOptions) as Env<ObsArray, number>, numEnvs);
}

/** Microseconds of acting per env: the fastest of 3 evaluation-mode forward passes over `rows` zero observations (after a warm-up). */
async function measureActUsPerEnv(agent: Agent, space: Box, rows: number): Promise<number> {
  const obs = space.dtype === 'uint8' ? new Uint8Array(rows * space.size) : space.dtype === 'int32' ? new Int32Array(rows * space.size) : new Float32Array(rows * space.size);
  await agent.act(obs, { numEnvs: rows, mode: 'eval' });
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await agent.act(obs, { numEnvs: rows, mode: 'eval' });
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1000) / rows;
}

/** One vector step of two halves (sub-envs 0..split-1, then the rest) as one. */
function joinHalves(a: VectorStepResult, b: VectorStepResult): VectorStepResult {
  const obs = new (a.obs.constructor as { new (n: number): ObsArray })(a.obs.length + b.obs.length);
  obs.set(a.obs);
  obs.set(b.obs, a.obs.length);
  const cat = <T extends Float32Array | Uint8Array>(x: T, y: T): T => {
    const out = new (x.constructor as { new (n: number): T })(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { obs, rewards: cat(a.rewards, b.rewards), terminated: cat(a.terminated, b.terminated), truncated: cat(a.truncated, b.truncated), infos: [...a.infos, ...b.infos] };
}

/** Seed of evaluation number `evalIndex` of a run seeded `seed` (episode j adds j). */
export function evalSeed(seed: number, evalIndex: number): number {
  return ((seed + 1) * 1_000_003 + evalIndex * 10_007) % 0x7fff0000;
}

function crossed(prev: number, now: number, every: number): boolean {
  return every > 0 && Math.floor(prev / every) < Math.floor(now / every);
}

/** Largest metrics.jsonl a resume rewrites (a line per log interval is ~300 bytes: millions of lines). */
export const MAX_METRICS_BYTES = 512 * 1024 * 1024;

/**
 * Keeps only the metrics lines up to `step` (a resumed run rewrites what came after its checkpoint).
 * The new file is written beside the old one and renamed over it, so a kill mid-rewrite loses nothing.
 */
export function truncateMetrics(path: string, step: number, options: WriteAtomicOptions = {}): void {
  if (!existsSync(path)) return;
  // The run folder is untrusted: a FIFO would block the read (and the SIGTERM handler with it).
  const st = statSync(path);
  if (!st.isFile()) throw new CheckpointError(formatError('metrics', 'metrics.jsonl to be a regular file', `${JSON.stringify(path)} that is not`, 'remove it or move it away, then continue with --resume'));
  if (st.size > MAX_METRICS_BYTES) throw new CheckpointError(formatError('metrics', `metrics.jsonl of at most ${MAX_METRICS_BYTES} bytes`, `${JSON.stringify(path)} of ${st.size} bytes`, 'move it away, then continue with --resume (a new one is written)'));
  const text = readFileSync(path, 'utf8');
  const keep = text.split('\n').filter((l) => {
    if (!l.trim()) return false;
    try {
      return (JSON.parse(l) as MetricsLine).step <= step;
    } catch {
      return false;
    }
  });
  const next = keep.length ? keep.join('\n') + '\n' : '';
  if (next !== text) writeFileAtomic(path, next, options);
}

/**
 * The checkpoint a resume continues from: `requested`, else the newest one that reads back intact
 * (newer corrupt ones are reported through `warn` and skipped).
 */
function pickResumeCheckpoint(runDir: string, requested: number | undefined, warn: (line: string) => void): { dir: string; ck: ReturnType<typeof readCheckpoint> } {
  const steps = listCheckpoints(runDir);
  if (!steps.length) throw new CheckpointError(formatError('--resume', 'a run with at least one checkpoint', `${JSON.stringify(runDir)} without checkpoints`, 'start a new run instead'));
  if (requested !== undefined) {
    if (!steps.includes(requested)) throw new CheckpointError(formatError('train --checkpoint', `one of the run's checkpoints [${steps.join(', ')}]`, String(requested), 'pass one of the listed steps'));
    const dir = join(runDir, 'checkpoints', String(requested));
    return { dir, ck: readCheckpoint(dir) };
  }
  const bad: number[] = [];
  let newestError: unknown = null;
  for (let i = steps.length - 1; i >= 0; i--) {
    const dir = join(runDir, 'checkpoints', String(steps[i]));
    try {
      const ck = readCheckpoint(dir);
      if (bad.length) warn(`npcforge: checkpoint${bad.length > 1 ? 's' : ''} ${bad.join(', ')} of ${runDir} ${bad.length > 1 ? 'are' : 'is'} corrupt or incomplete; resuming from checkpoint ${steps[i]}, the newest intact one`);
      return { dir, ck };
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      newestError ??= err;
      bad.push(steps[i]!);
    }
  }
  // None is intact: the newest one's own error says what is wrong with it.
  throw newestError;
}

/** The default run folder, suffixed `-2`, `-3`, ... when a run started in the same second already has it. */
function uniqueRunDir(base: string): string {
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** Whether the game draws (probed on a fresh env, since the training envs may live in workers). */
function gameCanRender(makeEnv: () => Env<ObsArray, number>): boolean {
  const env = makeEnv();
  try {
    return canRender(env as Env<unknown, unknown>);
  } finally {
    env.close();
  }
}

/**
 * Re-plays an evaluation episode on a fresh env and writes it, with its annotations, as an .npcep
 * file. A self-play run of a game that is multi-agent only (tag) is evaluated in the learner's seat
 * of the multi-agent game: its episodes are multi-agent ones (`makeMultiAgent` rebuilds them), with
 * the learner labelled `<run>:<step>` and the other seats `random`. A game that is also
 * single-agent (pong) keeps its single-agent episodes against the scripted bot.
 */
async function recordEvalEpisode(cfg: ResolvedRunConfig, dir: string, name: string, e: EvalEpisode, meta: { run: string; agentStep: number }): Promise<void> {
  let multiAgent: { recorder: RecordMultiAgentEpisode<ObsArray>; seat: string } | undefined;
  const env = makeRunEnv(cfg, {
    wrapMultiAgent: (multi, seats) => {
      const controllers = Object.fromEntries(multi.possibleAgents.map((a) => [a, a === seats.learner ? `${meta.run}:${meta.agentStep}` : seats.others]));
      const recorder = new RecordMultiAgentEpisode(multi, { dir, name: () => name, meta, learner: seats.learner, controllers });
      multiAgent = { recorder, seat: seats.learner };
      return recorder;
    },
  });
  try {
    // The observations the agent read go in too (~10 bytes per step for the bundled games): with the
    // run exported, the viewer computes saliency maps of its evaluation episodes from them.
    const observations = !multiAgent && env.observationSpace.type === 'Box';
    await recordPolicyEpisode({ env, dir, name, seed: e.seed, meta, multiAgent, observations, policy: (_obs, t) => ({ action: e.actions[t]!, info: e.annotations?.[t] }) });
  } finally {
    env.close();
  }
}

/** Trains a new run or resumes one; returns when the budget is spent or `shouldStop` says so. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const now = options.now ?? (() => Date.now());
  let runDir: string;
  let cfg: ResolvedRunConfig;
  if (options.resume) {
    runDir = options.resume;
    const file = readRunFile(runDir);
    cfg = { game: file.game, agent: file.agent, preset: file.preset, run: { ...file.run, stopAtEval: file.run.stopAtEval ?? null }, agentConfig: file.agentConfig };
    if (file.selfplay !== undefined) cfg.selfplay = resolveSelfPlayConfig(file.selfplay, undefined, 'run folder selfplay');
    if (file.distributed !== undefined) cfg.distributed = file.distributed;
    if (options.steps !== undefined) cfg.run.steps = options.steps;
  } else {
    if (options.checkpoint !== undefined) throw new InvalidConfigError(formatError('train', '--checkpoint only with --resume', `checkpoint ${options.checkpoint} for a new run`, 'add --resume <run>, or drop --checkpoint'));
    if (!options.config) throw new CheckpointError(formatError('train', 'a config or --resume', 'neither', 'pass one'));
    cfg = options.config;
    runDir = options.runDir ?? uniqueRunDir(join(options.outDir ?? 'runs', runFolderName(cfg.game, cfg.agent, cfg.run.seed, new Date(now()))));
  }
  const progress = new Progress(options.progress === undefined ? process.stderr : (options.progress ?? { write: () => true }), options.progress !== null, { progress: options.showProgress ?? true, stepInterval: cfg.run.logEvery });
  const warn = (line: string): void => progress.notice(line);
  let releaseLock: (() => void) | null = null;
  try {
    let resumeFrom: { dir: string; ck: ReturnType<typeof readCheckpoint> } | null = null;
    if (options.resume) {
      // One training per run folder; repairs and reads happen under the lock.
      releaseLock = lockRunFolder(runDir, warn);
      for (const line of recoverRunFolder(runDir, { holdsLock: true })) warn(line);
      resumeFrom = pickResumeCheckpoint(runDir, options.checkpoint, warn);
    }
    return await trainLoaded({ options, now, runDir, cfg, resumeFrom, progress, warn, lock: (dir) => (releaseLock = lockRunFolder(dir, warn)) });
  } finally {
    releaseLock?.();
  }
}

interface LoadedRun {
  options: TrainOptions;
  now: () => number;
  runDir: string;
  cfg: ResolvedRunConfig;
  resumeFrom: { dir: string; ck: ReturnType<typeof readCheckpoint> } | null;
  progress: Progress;
  warn: (line: string) => void;
  /** Locks a new run's folder once it exists. */
  lock: (dir: string) => void;
}

/** The loop of `train`, once the run folder is chosen, locked (resume) and its checkpoint read. */
async function trainLoaded({ options, now, runDir, cfg, resumeFrom, progress, warn, lock }: LoadedRun): Promise<TrainResult> {
  // After the run folder and config were validated, so a bad --resume reports only its own error.
  const backend = await initBackend();
  const run = cfg.run;
  const K = run.envs;
  // Self-play: the learner's seat of a multi-agent game, the other seats played by the opponent pool.
  const selfplay = cfg.selfplay ? new SelfPlay({ cfg: { ...cfg, selfplay: cfg.selfplay }, runDir, numEnvs: K }) : null;
  const makeEvalEnv = (): Env<ObsArray, number> => makeRunEnv(cfg);
  const factory = getAgentFactory(cfg.agent);
  let agent: Agent | null = null;
  let vec: TrainEnvs | null = null;
  let status: RunStatusWriter | null = null;
  try {
    const phases = options.phases;
    // The agent is built from a probe env's spaces: where the envs live is chosen with the agent at hand.
    const probe = makeEvalEnv();
    const spaces = { observationSpace: probe.observationSpace, actionSpace: probe.actionSpace };
    probe.close();
    agent = factory.create({ config: cfg.agentConfig, ...spaces, numEnvs: K, seed: run.seed, phases });
    const hint = options.resume ? null : smallFrameHint(cfg.agentConfig.encoder ?? cfg.agentConfig.network, spaces.observationSpace);
    if (hint) warn(`npcforge: ${hint}`);
    // Runs written before the setting existed stepped in this process.
    const mode: VectorEnvMode = options.vectorEnv ?? run.vectorEnv ?? 'sync';
    const discrete = spaces.actionSpace instanceof Discrete;
    if (mode === 'workers' && !discrete) throw new InvalidConfigError(formatError('--vector-env workers', 'a game with Discrete actions (worker envs share one action index per env)', `${cfg.game} with ${spaces.actionSpace.type} actions`, 'use --vector-env sync or auto'));
    const cores = availableParallelism();
    // Measured only when the rest of the rule would allow workers (the measurement costs a second or so on pixel games).
    const source = options.experience;
    const measure = !source && !selfplay && mode === 'auto' && discrete && cores >= 2 && K >= AUTO_WORKERS_MIN_ENVS;
    const choice = chooseVectorEnv({
      mode,
      numEnvs: K,
      cores,
      discrete,
      envStepUs: measure ? measureEnvStepUs(cfg.game, run.envOptions) : 0,
      actUsPerEnv: measure ? await measureActUsPerEnv(agent, spaces.observationSpace as Box, Math.ceil(K / 2)) : 0,
    });
    // Self-play steps in this process: the opponents act on every sub-env's other seats before each step.
    vec = selfplay ? syncTrainEnvs(selfplay.createEnvs()) : await openTrainEnvs({ game: cfg.game, numEnvs: K, envOptions: run.envOptions, kind: source ? 'sync' : choice.kind, modules: options.modules ?? (options.resume ? [] : cfg.imports?.map((m) => m.url)) });
    const envs = vec;
    if (envs.kind === 'workers') progress.message(`npcforge: ${K} envs in worker threads${envs.split !== null && agent.slicedTraining ? ', double-buffered' : ''} (${choice.reason})`);
    const metricsPath = join(runDir, 'metrics.jsonl');
    const obsSize = (envs.singleObservationSpace as Box).size;
    let st: RunnerState;
    let obs: ObsArray;
    await source?.check({ agent, cfg, runId: basename(runDir), ...spaces, resumed: resumeFrom !== null, warn });
    if (resumeFrom) {
      // Everything was read before touching the run folder, so a corrupt checkpoint changes nothing.
      const ck = resumeFrom.ck;
      await agent.load(ck.agent);
      // After the load, so a checkpoint with broken weights reports that first.
      if (cfg.run.steps <= ck.runner.step) {
        throw new InvalidConfigError(formatError('train --resume', `a step budget above the checkpoint's step ${ck.runner.step}`, `${cfg.run.steps}${options.steps === undefined ? " (the run's own budget: it is complete)" : ''}`, `pass --steps with more than ${ck.runner.step} steps to train further`));
      }
      if ((cfg.agent === 'dqn' || cfg.agent === 'sac') && !ck.agent.blobs['replay.bin']) warn(`npcforge: checkpoint ${ck.runner.step} holds no replay memory (the run was trained without --save-replay); learning restarts from an empty replay memory`);
      st = ck.runner;
      await selfplay?.setState(st.selfplay);
      if (st.envs.length !== K || st.obs.length !== K * obsSize) throw new CheckpointError(formatError('checkpoint', `${K} env states`, `${st.envs.length}`, 'resume with the same --envs'));
      const first = await envs.reset(run.seed);
      obs = new (first.constructor as { new (a: number[]): ObsArray })(st.obs);
      const fresh = await envs.restore(st.envs, st.envs.map((_, i) => (run.seed + 7919 * (st.step + i + 1)) % 0x7fff0000));
      fresh.forEach((o, i) => {
        if (!o) return;
        obs.set(o, i * obsSize);
        st.episodeReturns[i] = 0;
        st.episodeLengths[i] = 0;
      });
      if (st.envs.some((s) => s === null)) warn(`npcforge: ${cfg.game} cannot snapshot its state; resumed episodes restart (not an exact resume)`);
      // Checkpoints after the resumed one belong to the abandoned continuation; a later --resume must not pick them.
      const later = listCheckpoints(runDir).filter((s) => s > st.step);
      for (const s of later) rmSync(join(runDir, 'checkpoints', String(s)), { recursive: true, force: true });
      if (later.length) warn(`npcforge: removed checkpoint${later.length > 1 ? 's' : ''} ${later.join(', ')}, newer than the resumed checkpoint ${st.step}`);
      truncateMetrics(metricsPath, st.step);
      truncateMetricsCsv(join(runDir, METRICS_CSV), st.step);
    } else {
      const file: RunFile = { format: RUN_FORMAT, version: RUN_VERSION, ...cfg, backend, versions: { npcforge: npcforgeVersion(), tfjs: tf.version.tfjs }, createdAt: new Date(now()).toISOString() };
      createRunFolder(runDir, file);
      lock(runDir);
      obs = await envs.reset(run.seed);
      await selfplay?.start(agent);
      st = { step: 0, episodes: 0, evals: 0, lastEval: null, wallTime: 0, recentReturns: [], episodeReturns: new Array(K).fill(0), episodeLengths: new Array(K).fill(0), obs: [], envs: [], acc: { loss: 0, lossCount: 0, updates: 0 } };
    }
    // Running from here on (a resume too); the viewer reads it to show running/finished/interrupted.
    status = new RunStatusWriter(runDir);
    status.start();
    // TensorBoard's copy of metrics.jsonl (a new file per process; a resume marks where it continues) and a CSV one.
    await source?.start();
    const tensorboard = new TensorBoardWriter(runDir, { resumedAt: resumeFrom ? st.step : undefined });
    const csv = new MetricsCsv(join(runDir, METRICS_CSV), metricsColumns({ boxActions: envs.singleActionSpace instanceof Box, selfplay: selfplay !== null }));
    progress.message(`npcforge: ${resumeFrom ? `resuming from step ${resumeFrom.ck.runner.step},` : 'training'} ${cfg.game} with ${cfg.agent}/${cfg.preset} on ${backend}, ${run.steps} steps -> ${runDir}`);

    const t0 = now();
    const wall0 = st.wallTime;
    let intervalStart = now();
    let intervalSteps = 0;
    let lastEvalSummary: ReturnType<typeof summarise> | null = null;
    let lastCheckpoint: string | null = null;
    const wall = (): number => wall0 + (now() - t0) / 1000;

    const meanRecent = (): number | null => (st.recentReturns.length ? st.recentReturns.reduce((a, b) => a + b, 0) / st.recentReturns.length : null);
    // The episode format stores Discrete, MultiDiscrete and float32 Box actions: other games evaluate without recording.
    const recordable = typeof episodeActionLayout(envs.singleActionSpace.toJSON()) !== 'string';
    const boxActions = envs.singleActionSpace instanceof Box;
    // Episode files hold a frame per step: a game without render() trains and evaluates unrecorded.
    const drawable = gameCanRender(makeEvalEnv);
    const recordEval = recordable && drawable ? (options.recordEvalEpisodes ?? 1) : 0;
    if (!recordable && (options.recordEvalEpisodes ?? 1) > 0) progress.notice(`npcforge: ${cfg.game} has ${envs.singleActionSpace.type} actions; evaluation episodes are not recorded (the episode format stores Discrete, MultiDiscrete and float32 Box actions)`);
    else if (!drawable && (options.recordEvalEpisodes ?? 1) > 0) progress.notice(`npcforge: ${cfg.game} has no render(); evaluation episodes are not recorded (episode files hold frames)`);
    // Tells the viewer why the run has no episodes.
    if (!drawable) writeFileAtomic(join(runDir, NO_FRAMES_MARKER), `${cfg.game} has no render(): no episodes are recorded\n`);
    const doEval = async (): Promise<void> => {
      if (run.evalEpisodes === 0) return;
      const evalIndex = st.evals++;
      const epsilon = (cfg.agentConfig.evalEpsilon as number | undefined) ?? 0;
      const res = await evaluate(agent!, {
        makeEnv: makeEvalEnv,
        episodes: run.evalEpisodes,
        baseSeed: evalSeed(run.seed, evalIndex),
        epsilon,
        annotateEpisodes: recordEval,
        onEpisode: async (e) => {
          if (e.index < recordEval) await recordEvalEpisode(cfg, join(runDir, 'episodes'), episodeName({ source: `eval-step${st.step}`, seed: e.seed, index: e.index }), e, { run: basename(runDir), agentStep: st.step });
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
    // Loss of the latest interval that had updates (the TTY bar shows it between metrics lines).
    let lastLoss: number | null = null;
    // `evaluated`: an evaluation ran at this step; other lines carry no eval_return (null), so a chart
    // of it shows only what was measured.
    const writeMetrics = (evaluated: boolean): void => {
      const elapsed = Math.max(1e-9, (now() - intervalStart) / 1000);
      const sched = agent!.schedule();
      const line: MetricsLine = {
        step: st.step,
        episodes: st.episodes,
        mean_return_100: meanRecent(),
        eval_return: evaluated ? st.lastEval : null,
        loss: st.acc.lossCount ? st.acc.loss / st.acc.lossCount : null,
        epsilon: sched.epsilon ?? null,
        updates: sched.updates ?? 0,
        env_steps_per_s: intervalSteps / elapsed,
        updates_per_s: st.acc.updates / elapsed,
        ...(boxActions ? { clipped_actions: st.acc.clipped ?? 0 } : {}),
        ...selfplay?.metrics(),
        wall_time_s: wall(),
        tensors: tf.memory().numTensors,
      };
      writeRunFile('metrics', `append step ${st.step} to ${JSON.stringify(metricsPath)}`, () => appendFileSync(metricsPath, JSON.stringify(line) + '\n'));
      tensorboard.scalars(line.step, now() / 1000, line as unknown as Record<string, unknown>);
      csv.append(line as unknown as Record<string, unknown>);
      status!.beat();
      if (line.loss !== null) lastLoss = line.loss;
      progress.line({ step: st.step, total: run.steps, meanReturn: line.mean_return_100, evalReturn: st.lastEval, loss: line.loss, stepsPerSec: line.env_steps_per_s });
      st.acc = { loss: 0, lossCount: 0, updates: 0, ...(boxActions ? { clipped: 0 } : {}) };
      intervalStart = now();
      intervalSteps = 0;
    };
    let checkpointStep = -1;
    const checkpoint = async (): Promise<void> => {
      checkpointStep = st.step;
      st.wallTime = wall();
      st.obs = Array.from(obs);
      st.envs = await envs.snapshots();
      if (selfplay) st.selfplay = selfplay.getState();
      const snap = await agent!.save({ includeReplay: run.saveReplay });
      lastCheckpoint = writeCheckpoint(runDir, st, snap);
      pruneCheckpoints(runDir, run.keepCheckpoints);
    };

    let interrupted = false;
    let stoppedEarly = false;
    const speedStart = now();
    const speedStep0 = st.step;
    let lastYield = now();
    const addMetrics = (m: UpdateMetrics | null): void => {
      if (!m) return;
      st.acc.loss += (m.loss ?? 0) * (m.updates ?? 1);
      st.acc.lossCount += m.updates ?? 1;
      st.acc.updates += m.updates ?? 1;
      if (m.clipped_actions !== undefined) st.acc.clipped = (st.acc.clipped ?? 0) + m.clipped_actions;
    };
    /** The runner's part of a finished vector step: episode statistics, counters, evaluation, metrics, checkpoint. True = stop. */
    const finishStep = async (r: VectorStepResult): Promise<boolean> => {
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
      return advance(K, (prev) => selfplay?.afterStep({ prevStep: prev, step: st.step, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, learner: agent! }));
    };
    /** Counts `steps` new transitions, then evaluates, logs and checkpoints where due. True = stop. */
    const advance = async (steps: number, afterStep?: (prev: number) => Promise<void> | undefined): Promise<boolean> => {
      const prev = st.step;
      st.step += steps;
      await afterStep?.(prev);
      intervalSteps += steps;
      // The last iteration always evaluates, logs and checkpoints, so the final numbers are in metrics.jsonl.
      let last = st.step >= run.steps;
      phases?.lap('other');
      const evaluate = crossed(prev, st.step, run.evalEvery) || last;
      if (evaluate) {
        await doEval();
        phases?.lap('eval');
        if (run.stopAtEval !== null && st.lastEval !== null && st.lastEval >= run.stopAtEval) {
          stoppedEarly = !last;
          last = true;
        }
      }
      // An evaluation off the log interval gets a line of its own, at its step.
      if (crossed(prev, st.step, run.logEvery) || last || evaluate) writeMetrics(evaluate);
      phases?.lap('metrics');
      if (crossed(prev, st.step, run.checkpointEvery) || last) await checkpoint();
      phases?.lap('checkpoint');
      const sps = (st.step - speedStep0) / Math.max(1e-3, (now() - speedStart) / 1000);
      progress.tick({ step: st.step, total: run.steps, meanReturn: meanRecent(), evalReturn: st.lastEval, loss: lastLoss, stepsPerSec: sps });
      return stoppedEarly;
    };
    const finals = (r: VectorStepResult) => r.infos.map((inf) => inf.finalObs as ObsArray | undefined);
    /** True when the loop should stop before the next step (Ctrl-C); yields to the event loop now and then first. */
    const stopRequested = async (): Promise<boolean> => {
      // The loop's awaits resolve as microtasks; yield to the event loop now and then so signal
      // handlers (Ctrl-C) and I/O callbacks get to run.
      if (now() - lastYield > 100) {
        await new Promise((r) => setImmediate(r));
        lastYield = now();
      }
      return options.shouldStop?.() === true;
    };

    phases?.mark();
    const split = envs.split;
    if (source) {
      // The learner of a distributed run: actors step their own envs; the step budget counts the transitions that arrived.
      while (st.step < run.steps) {
        if (await stopRequested()) {
          interrupted = true;
          break;
        }
        const got = await source.next(run.steps - st.step);
        if (got.steps === 0) continue;
        addMetrics(got.metrics);
        for (const ret of got.episodeReturns) {
          st.recentReturns.push(ret);
          if (st.recentReturns.length > 100) st.recentReturns.shift();
          st.episodes++;
        }
        if (await advance(got.steps)) break;
      }
    } else if (split !== null && agent.slicedTraining === true && typeof agent.updateDue === 'function') {
      // Double buffering (as Sample Factory's): the workers step one half of the envs while the
      // agent acts on the other. Per step t: act A(t), A steps | finish B(t-1), act B(t), B steps |
      // observe A(t), act A(t+1) ... The agent acts on A(t) before B(t) before A(t+1), so it draws
      // its samples in the order of a whole-batch step, and a step is finished (B observed) before
      // acting on the next wherever that could change the run: before an update (the next actions
      // must come from the new weights), an evaluation, a checkpoint, the last step or a stop.
      const a = agent;
      const S = obsSize;
      let obsA: ObsArray = obs.slice(0, split * S);
      let obsB: ObsArray = obs.slice(split * S);
      let heldA: VectorStepResult | null = null;
      let pendingB: { result: Promise<VectorStepResult>; obs: ObsArray; actions: Awaited<ReturnType<Agent['act']>>['actions'] } | null = null;
      const finishB = async (): Promise<boolean> => {
        const p = pendingB!;
        pendingB = null;
        const rB = await p.result;
        phases?.lap('env');
        addMetrics(await a.observe({ obs: p.obs, actions: p.actions, rewards: rB.rewards, terminated: rB.terminated, truncated: rB.truncated, nextObs: rB.obs, finalObs: finals(rB), first: split }));
        obsB = rB.obs;
        return finishStep(joinHalves(heldA!, rB));
      };
      // A step in flight when an error ends training is rejected by close(); nobody awaits it then.
      const started = (p: Promise<VectorStepResult>): Promise<VectorStepResult> => {
        p.catch(() => undefined);
        return p;
      };
      for (;;) {
        if (pendingB) {
          const next = st.step + K;
          const mustFinish = a.updateDue!() || next >= run.steps || crossed(st.step, next, run.evalEvery) || crossed(st.step, next, run.checkpointEvery) || (await stopRequested());
          if (mustFinish && (await finishB())) break;
        }
        if (!pendingB) {
          if (st.step >= run.steps) break;
          if (await stopRequested()) {
            interrupted = true;
            break;
          }
        }
        phases?.lap('other');
        const actA = (await a.act(obsA, { numEnvs: split, mode: 'train', first: 0 })).actions;
        phases?.lap('act');
        const stepA = started(envs.stepBlock(0, actA));
        // Only eval, checkpoint, the last step or a stop end the loop, and those finished B above.
        if (pendingB) await finishB();
        phases?.lap('other');
        const actB = (await a.act(obsB, { numEnvs: K - split, mode: 'train', first: split })).actions;
        phases?.lap('act');
        pendingB = { result: started(envs.stepBlock(split, actB)), obs: obsB, actions: actB };
        const rA = await stepA;
        phases?.lap('env');
        addMetrics(await a.observe({ obs: obsA, actions: actA, rewards: rA.rewards, terminated: rA.terminated, truncated: rA.truncated, nextObs: rA.obs, finalObs: finals(rA), first: 0 }));
        heldA = rA;
        obsA = rA.obs;
      }
    } else {
      while (st.step < run.steps) {
        if (await stopRequested()) {
          interrupted = true;
          break;
        }
        phases?.lap('other');
        const { actions } = await agent.act(obs, { numEnvs: K, mode: 'train' });
        await selfplay?.actOthers(agent);
        phases?.lap('act');
        const r: VectorStepResult = await envs.step(actions);
        phases?.lap('env');
        addMetrics(await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: finals(r) }));
        if (await finishStep(r)) break;
      }
    }
    // The step just checkpointed by the loop needs no second copy.
    if (interrupted && checkpointStep !== st.step) await checkpoint();
    await source?.close(!interrupted);
    const experience = source ? await source.stats() : undefined;
    status.end(interrupted ? 'interrupted' : 'finished', interrupted ? 'stop requested' : null);
    progress.notice(
      interrupted
        ? `npcforge: interrupted at step ${st.step}; checkpoint ${lastCheckpoint}; continue with --resume ${runDir}`
        : `npcforge: ${stoppedEarly ? `eval return reached stopAtEval ${formatNumber(run.stopAtEval)}; stopped` : 'done'} at step ${st.step}; eval return ${formatNumber(st.lastEval)} (best ${formatNumber(st.bestEval)}); run ${runDir}`,
    );
    return { runDir, step: st.step, interrupted, lastEval: lastEvalSummary, bestEval: st.bestEval ?? null, stoppedEarly, checkpoint: lastCheckpoint, ...(experience ? { experience } : {}) };
  } catch (err) {
    status?.end('interrupted', err instanceof Error ? err.name : 'error');
    throw err;
  } finally {
    // Closes the source's connections when training ended with an error (a no-op after the close above).
    await options.experience?.close(false).catch(() => undefined);
    agent?.dispose();
    selfplay?.dispose();
    await vec?.close();
  }
}

/** Options of `loadRunAgent`. */
export interface LoadRunAgentOptions {
  /** Where the one-line reports of run-folder repairs go (default stderr). */
  warn?: (line: string) => void;
}

/**
 * Loads a run's agent for evaluation or export: the best-evaluated weights (`best/`) by default,
 * else the latest checkpoint; `checkpointStep` picks a checkpoint. Repairs what an interrupted
 * training left half-done first (unless another process is training the run). A run that evaluated
 * but has lost `best/` is an error, not a silent switch to another checkpoint. The caller disposes the agent.
 */
export async function loadRunAgent(runDir: string, checkpointStep?: number, options: LoadRunAgentOptions = {}): Promise<{ agent: Agent; run: RunFile; step: number; best: boolean }> {
  const warn = options.warn ?? ((line: string) => void process.stderr.write(line + '\n'));
  const run = readRunFile(runDir);
  for (const line of recoverRunFolder(runDir)) warn(line);
  const steps = listCheckpoints(runDir);
  const useBest = checkpointStep === undefined && existsSync(join(runDir, BEST_DIR, 'checkpoint.json'));
  const step = checkpointStep ?? steps[steps.length - 1];
  if (!useBest && (step === undefined || !steps.includes(step))) {
    throw new CheckpointError(formatError('checkpoint', `one of [${steps.join(', ')}]`, describe(checkpointStep ?? 'none'), steps.length ? 'pass --checkpoint with a listed step' : 'train the run first'));
  }
  const ck = readCheckpoint(useBest ? join(runDir, BEST_DIR) : join(runDir, 'checkpoints', String(step)));
  const bestEval = ck.runner.bestEval;
  if (!useBest && checkpointStep === undefined && typeof bestEval === 'number') {
    throw new CheckpointError(formatError('run folder', `${BEST_DIR}/ with the best-evaluated weights (the run's best eval return is ${formatNumber(bestEval)})`, `${JSON.stringify(runDir)} without ${BEST_DIR}/`, `use a checkpoint instead: eval and export take --checkpoint <step> (one of ${steps.join(', ')})`));
  }
  await initBackend();
  const probe = makeRunEnv(run);
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
