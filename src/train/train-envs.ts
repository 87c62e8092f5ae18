/**
 * The vector env a training run steps, in this process (`SyncVectorEnv`) or in worker threads
 * (`WorkerVectorEnv`), behind what the runner needs of either: reset, step (whole, or one half of
 * the sub-envs for the double-buffered loop), checkpoint snapshots of the sub-envs, close.
 *
 * `vectorEnv: 'auto'` picks by measurement (see `chooseVectorEnv`): workers pay off when stepping
 * a game (its rules and its frame) costs at least as much per env as the agent's acting does, so
 * that one half's stepping in the workers hides behind acting on the other half.
 */
import { availableParallelism } from 'node:os';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { ActionBatch } from '../envs/actions.js';
import type { Env, ObsArray } from '../envs/env.js';
import { make } from '../envs/registry.js';
import { Discrete, type Space } from '../envs/spaces.js';
import { SyncVectorEnv } from '../envs/vector/sync-vector-env.js';
import { WorkerVectorEnv } from '../envs/vector/worker-vector-env.js';
import type { VectorStepResult } from '../envs/vector/types.js';
import { restoreEnvChain, snapshotEnvChain, type EnvChainSnapshot } from '../envs/env-state.js';

/** Where a run steps its sub-envs: in this process, in worker threads, or picked by `chooseVectorEnv`. */
export type VectorEnvMode = 'sync' | 'workers' | 'auto';
export const VECTOR_ENV_MODES: readonly VectorEnvMode[] = ['sync', 'workers', 'auto'];

/**
 * Smallest half of a double-buffered batch, and the multiple of 8 both halves' sizes must be. Our
 * kernels pick their code path by the size of a product (rows x n x k work thresholds, rows in
 * multiples of the 4-row tile; conv-gemm.ts, matmul.ts), and two paths round differently: a forward
 * pass over half the envs gives each env the bits of the whole-batch pass only when both take the
 * same paths. Measured: halves of 4 rows (8 envs) differ in the last bits on the MinAtar CNN (its
 * convolution takes XNNPACK below 8 rows) and on a 64-64 MLP; halves of 8-64 rows agree on both.
 * Smaller or unaligned halves step in the workers all at once and act on the whole batch instead.
 */
export const DOUBLE_BUFFER_MIN_HALF = 16;
const DOUBLE_BUFFER_ALIGN = 8;

/** Fewest sub-envs `auto` runs in workers: two halves of `DOUBLE_BUFFER_MIN_HALF`. */
export const AUTO_WORKERS_MIN_ENVS = 2 * DOUBLE_BUFFER_MIN_HALF;

/** What `chooseVectorEnv` decides from (measured by `measureCosts` where it says so). */
export interface VectorEnvFacts {
  mode: VectorEnvMode;
  numEnvs: number;
  /** Cores of the machine (`os.availableParallelism()`). */
  cores: number;
  /** True when the action space is Discrete (the worker envs' shared action buffer holds one index per env). */
  discrete: boolean;
  /** Measured: microseconds of one env step (rules + frame), averaged over a probe env's steps. */
  envStepUs: number;
  /** Measured: microseconds of acting per env, one forward pass over half the batch divided by its rows. */
  actUsPerEnv: number;
}

/**
 * `sync` or `workers` for a run. `auto` takes workers when the game has Discrete actions, the
 * machine has 2+ cores, the run has `AUTO_WORKERS_MIN_ENVS`+ envs, and a step of one env costs at
 * least as much as acting for one env: then the stepping of one half hides behind acting on the
 * other, where with cheaper steps the hand-off to the workers costs more than it saves (the
 * `ppo-batch` benchmark: bench/JOURNAL.md).
 */
export function chooseVectorEnv(f: VectorEnvFacts): { kind: 'sync' | 'workers'; reason: string } {
  if (f.mode === 'sync') return { kind: 'sync', reason: 'vectorEnv sync' };
  if (f.mode === 'workers') return { kind: 'workers', reason: 'vectorEnv workers' };
  if (!f.discrete) return { kind: 'sync', reason: 'auto: worker envs take Discrete actions only' };
  if (f.cores < 2) return { kind: 'sync', reason: 'auto: one core' };
  if (f.numEnvs < AUTO_WORKERS_MIN_ENVS) return { kind: 'sync', reason: `auto: ${f.numEnvs} envs (workers from ${AUTO_WORKERS_MIN_ENVS})` };
  const costs = `env step ${f.envStepUs.toFixed(0)} us, acting ${f.actUsPerEnv.toFixed(0)} us per env`;
  return f.envStepUs >= f.actUsPerEnv ? { kind: 'workers', reason: `auto: ${costs}` } : { kind: 'sync', reason: `auto: ${costs}` };
}

/** Microseconds per step of a fresh env of the game, over `steps` steps from a seeded reset (episode ends reset, as in training). */
export function measureEnvStepUs(game: string, envOptions: Record<string, unknown>, steps = 200): number {
  const env = make(game, envOptions) as Env<ObsArray, number>;
  try {
    env.reset({ seed: 0 });
    const n = (env.actionSpace as Discrete).n;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const r = env.step(i % n);
      if (r.terminated || r.truncated) env.reset();
    }
    return ((performance.now() - t0) * 1000) / steps;
  } finally {
    env.close();
  }
}

/** The vector env of a run, whichever kind. */
export interface TrainEnvs {
  readonly kind: 'sync' | 'workers';
  readonly numEnvs: number;
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;
  /** First sub-env of the second half (worker envs; see `DOUBLE_BUFFER_MIN_HALF`), or null: no double buffering. */
  readonly split: number | null;
  /** Resets every sub-env (sub-env i with seed + i); the observation batch. */
  reset(seed: number): Promise<ObsArray>;
  step(actions: ActionBatch): Promise<VectorStepResult>;
  /** Steps sub-envs `first..first+actions.length-1`, a half given by `split` (worker envs only). */
  stepBlock(first: number, actions: ActionBatch): Promise<VectorStepResult>;
  /** Checkpoint snapshot of every sub-env (null where the game cannot snapshot itself). */
  snapshots(): Promise<Array<EnvChainSnapshot | null>>;
  /**
   * After a `reset`: restores sub-env i from `states[i]`, or resets it with `seeds[i]` where the
   * state is null. Returns the first observation of each sub-env reset that way (null elsewhere).
   */
  restore(states: Array<EnvChainSnapshot | null>, seeds: number[]): Promise<Array<ObsArray | null>>;
  close(): Promise<void>;
}

/** How to build a run's vector env. */
export interface TrainEnvsOptions {
  game: string;
  numEnvs: number;
  envOptions: Record<string, unknown>;
  kind: 'sync' | 'workers';
  /** `--import` modules (file URLs) the workers import before the bundled games. */
  modules?: string[];
  /** Worker threads (default: the cores, rounded down to an even number, at least 2, at most numEnvs). */
  numWorkers?: number;
}

/** Builds the vector env of a run. */
export async function openTrainEnvs(o: TrainEnvsOptions): Promise<TrainEnvs> {
  if (o.kind === 'sync') return syncTrainEnvs(new SyncVectorEnv(() => make(o.game, o.envOptions) as Env<ObsArray, number>, o.numEnvs));
  const numWorkers = o.numWorkers ?? Math.min(o.numEnvs, Math.max(2, availableParallelism() - (availableParallelism() % 2)));
  const vec = await WorkerVectorEnv.create({ id: o.game, options: o.envOptions, numEnvs: o.numEnvs, numWorkers, modules: o.modules ?? [] });
  return workerTrainEnvs(vec);
}

/** In-process envs as a run's `TrainEnvs` (self-play builds its own `SyncVectorEnv`). */
export function syncTrainEnvs(vec: SyncVectorEnv): TrainEnvs {
  return {
    kind: 'sync',
    numEnvs: vec.numEnvs,
    singleObservationSpace: vec.singleObservationSpace,
    singleActionSpace: vec.singleActionSpace,
    split: null,
    reset: async (seed) => (await vec.reset({ seed })).obs,
    step: (actions) => vec.step(actions),
    stepBlock: () => {
      throw new InvalidConfigError(formatError('TrainEnvs(sync).stepBlock', 'worker envs', 'in-process envs', "step the whole batch, or train with vectorEnv 'workers'"));
    },
    snapshots: async () => vec.envs.map((e) => snapshotEnvChain(e as Env<unknown, unknown>)),
    restore: async (states, seeds) =>
      states.map((snap, i) => {
        if (!snap) return vec.envs[i]!.reset({ seed: seeds[i]! }).obs;
        restoreEnvChain(vec.envs[i]! as Env<unknown, unknown>, snap);
        return null;
      }),
    close: () => vec.close(),
  };
}

function workerTrainEnvs(vec: WorkerVectorEnv): TrainEnvs {
  // The halves are whole worker blocks: the first half's workers step while the agent acts on the second.
  const cut = vec.numWorkers >= 2 && vec.numWorkers % 2 === 0 ? vec.firsts[vec.numWorkers / 2]! : null;
  const ok = (half: number): boolean => half >= DOUBLE_BUFFER_MIN_HALF && half % DOUBLE_BUFFER_ALIGN === 0;
  const split = cut !== null && ok(cut) && ok(vec.numEnvs - cut) ? cut : null;
  return {
    kind: 'workers',
    numEnvs: vec.numEnvs,
    singleObservationSpace: vec.singleObservationSpace,
    singleActionSpace: vec.singleActionSpace,
    split,
    reset: async (seed) => (await vec.reset({ seed })).obs,
    step: (actions) => vec.step(actions as Int32Array),
    stepBlock: (first, actions) => vec.stepBlock(first, actions as Int32Array),
    snapshots: () => vec.getStates(),
    restore: async (states, seeds) => {
      const obs = await vec.setStates(states, seeds);
      const S = obs.length / vec.numEnvs;
      return states.map((snap, i) => (snap ? null : obs.slice(i * S, (i + 1) * S)));
    },
    close: () => vec.close(),
  };
}

/** Checks a `vectorEnv` value (run config, `--vector-env`); the problem line, or null. */
export function vectorEnvProblem(v: unknown): string | null {
  return VECTOR_ENV_MODES.includes(v as VectorEnvMode) ? null : `vectorEnv = ${describe(v)} (want ${VECTOR_ENV_MODES.join(', ')})`;
}
