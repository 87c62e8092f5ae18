/**
 * Vector env contract. Autoreset mode is `same-step`: when sub-env i ends (terminated or
 * truncated) it is reset inside the same `step` call; the returned `obs` row i is the first
 * observation of the new episode, and `infos[i].finalObs` / `infos[i].finalInfo` hold the last
 * observation and info of the episode that ended (needed to bootstrap truncated transitions).
 */
import type { ObsArray, Info, EnvSpec } from '../env.js';
import type { Space } from '../spaces.js';
import type { ActionBatch } from '../actions.js';

export type AutoresetMode = 'same-step';

export interface VectorResetResult {
  /** `numEnvs * obsSize` values, env-major. A fresh array each call. */
  obs: ObsArray;
  infos: Info[];
}

export interface VectorStepResult {
  /** `numEnvs * obsSize` values, env-major. A fresh array each call. */
  obs: ObsArray;
  rewards: Float32Array;
  /** 1 where the sub-env's episode ended by the game's own rules. */
  terminated: Uint8Array;
  /** 1 where the sub-env's episode was cut off (time limit). */
  truncated: Uint8Array;
  /** Per sub-env info; after an episode end holds `finalObs` (ObsArray) and `finalInfo`. */
  infos: Info[];
}

/** A batch of independent copies of one env, stepped together. */
export interface VectorEnv {
  readonly numEnvs: number;
  readonly autoresetMode: AutoresetMode;
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;
  readonly spec: EnvSpec;
  /** Resets every sub-env; with a seed, sub-env i gets seed + i. */
  reset(args?: { seed?: number }): Promise<VectorResetResult>;
  /** One action per sub-env. */
  step(actions: ActionBatch | number[]): Promise<VectorStepResult>;
  close(): Promise<void>;
}
