/**
 * The Agent contract the runner drives. An agent owns its networks, optimizer and (off-policy)
 * memory; the runner owns the envs, the loop, evaluation, metrics and checkpoint files.
 */
import type { ObsArray } from '../envs/env.js';
import type { Rng } from '../envs/rng.js';
import type { ActionBatch } from '../envs/actions.js';
import { InvalidConfigError, formatError, describe } from '../errors.js';

/**
 * Why the agent acts: `train` = the agent's own exploration, and the step is part of its training
 * data (the runner then calls `observe`); `eval` = greedy (or DQN's evaluation epsilon), nothing
 * recorded, recurrent state threaded by the caller.
 */
export type ActMode = 'train' | 'eval';

/** How to act. */
export interface ActOptions {
  /** Number of observations in the batch (sub-envs). */
  numEnvs: number;
  /** Training or evaluation acting (see `ActMode`). */
  mode: ActMode;
  /** DQN/DRQN evaluation only: the exploration rate of `mode: 'eval'` (default 0 = greedy). */
  epsilon?: number;
  /** RNG for evaluation's exploration draws (evaluation keeps its own stream). */
  rng?: Rng;
  /** Also return the per-action values in `info` (costs a read-back). */
  withValues?: boolean;
  /** Recurrent agents in evaluation: 1 where the observation is the first of an episode (resets that row's state). */
  episodeStarts?: ArrayLike<number>;
  /**
   * Training with `slicedTraining` only: the batch holds training sub-envs `first..first+numEnvs-1`
   * (default 0, with `numEnvs` = all of them). See `Agent.slicedTraining`.
   */
  first?: number;
}

export interface ActResult {
  /**
   * One row per sub-env, flat (see `envs/actions.ts`): an index each for Discrete, `parts` indices
   * for MultiDiscrete, `size` floats for Box (the env clips values outside the bounds). Owned by the caller.
   */
  actions: ActionBatch;
  /** Recurrent state to pass to the next `act` (undefined for feed-forward agents). */
  state?: unknown;
  info: {
    /** `numEnvs * numActions` Q-values or logits, when asked for. */
    values?: Float32Array;
    /** Exploration rate used for this call. */
    epsilon?: number;
    /** Policy agents: `numEnvs * numActions` action probabilities. */
    probs?: Float32Array;
    /** Policy agents: the value estimate V(obs) per env. */
    value?: Float32Array;
  };
}

/** One vector step as the runner hands it to the agent. */
export interface StepBatch {
  /** Observations the actions were taken in (`numEnvs * obsSize`). */
  obs: ObsArray;
  /** The actions `act` returned for `obs` (same layout). */
  actions: ActionBatch;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Observations after the step (first of a new episode where one ended). */
  nextObs: ObsArray;
  /** Last observation of each ended episode (undefined where the episode goes on). */
  finalObs: Array<ObsArray | undefined>;
  /** With `slicedTraining`: the rows are training sub-envs `first..` (default 0 = the whole batch). */
  first?: number;
}

/** Scalars an agent reports after learning (loss, gradient norm, ...). */
export type UpdateMetrics = Record<string, number>;

/** A serialised agent: JSON-safe state plus named binary blobs. */
export interface AgentSnapshot {
  json: Record<string, unknown>;
  blobs: Record<string, Uint8Array>;
}

export interface Agent {
  /** Algorithm name, e.g. `dqn`. */
  readonly kind: string;
  /** True when `act` threads a recurrent state (evaluation then passes it back with `episodeStarts`). */
  readonly recurrent?: boolean;
  /**
   * True when training `act`/`observe` take a contiguous slice of the sub-envs (`first`) and acting
   * on slices in order (all slices of step t, then those of t + 1) gives the same run as acting on
   * the whole batch: the double-buffered loop over worker envs acts on one half while the other steps.
   */
  readonly slicedTraining?: boolean;
  /**
   * With `slicedTraining`: true when the step being observed is the last before an update, so the
   * runner observes every slice of it before acting on the next step (which must see the new weights).
   */
  updateDue?(): boolean;
  /** Chooses actions for a batch of observations. */
  act(obs: ObsArray, options: ActOptions, state?: unknown): Promise<ActResult>;
  /** Records one vector step and learns when due; returns the metrics of the updates done, or null. */
  observe(step: StepBatch): Promise<UpdateMetrics | null>;
  /** Current exploration rate or other schedule values for the metrics line. */
  schedule(): Record<string, number>;
  /** Full state for a checkpoint; replay memory only when `includeReplay`. */
  save(options: { includeReplay: boolean }): Promise<AgentSnapshot>;
  /** Restores a snapshot written by `save` of an agent built with the same config. */
  load(snapshot: AgentSnapshot): Promise<void>;
  /** Releases every tensor the agent owns. */
  dispose(): void;
}

/** The mode of an `act` call, checked: 'train' or 'eval', else an InvalidConfigError naming `component`. */
export function actMode(options: ActOptions, component: string): ActMode {
  if (options.mode === 'train' || options.mode === 'eval') return options.mode;
  throw new InvalidConfigError(formatError(component, "act mode 'train' or 'eval'", describe(options.mode), "pass { mode: 'eval' } to evaluate, { mode: 'train' } to explore and learn"));
}

/**
 * The exploration rate of a DQN-family `act`: the agent's schedule (`scheduled`) in training,
 * `options.epsilon` (default 0, greedy) in evaluation. An epsilon in training is refused: the
 * mode says what the call means, never the epsilon.
 */
export function actEpsilon(options: ActOptions, scheduled: number, component: string): number {
  if (actMode(options, component) === 'eval') return options.epsilon ?? 0;
  if (options.epsilon !== undefined) throw new InvalidConfigError(formatError(component, "no epsilon in mode 'train' (the schedule decides)", `epsilon ${describe(options.epsilon)}`, "pass { mode: 'eval', epsilon } for a fixed evaluation rate"));
  return scheduled;
}
