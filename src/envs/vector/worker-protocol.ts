/** Messages between WorkerVectorEnv and its worker threads (internal). */
import type { EnvSpec, Info } from '../env.js';
import type { SpaceJSON } from '../spaces.js';

/** What a worker needs to build its sub-envs (sent as workerData). */
export interface WorkerInit {
  id: string;
  options: Record<string, unknown>;
  /** Module URLs imported before the bundled games (users' own registrations). */
  modules: string[];
  /** URL of the bundled games' index module. */
  gamesModule: string;
  /** Global indices of this worker's sub-envs: [first, first + count). */
  first: number;
  count: number;
}

/** Shared memory of one vector env; every worker writes only its own rows. */
export interface SharedBuffers {
  /** `numEnvs * obsSize` observation values (dtype of the space). */
  obs: SharedArrayBuffer;
  /** Last observation of an episode that ended in this step, same layout as `obs`. */
  finalObs: SharedArrayBuffer;
  /** Int32 action per sub-env. */
  actions: SharedArrayBuffer;
  /** Float64 reward per sub-env. */
  rewards: SharedArrayBuffer;
  /** Uint8 flags per sub-env. */
  terminated: SharedArrayBuffer;
  truncated: SharedArrayBuffer;
}

export type ParentMessage =
  | { type: 'attach'; buffers: SharedBuffers }
  | { type: 'reset'; seed?: number }
  | { type: 'step'; step: number }
  | { type: 'close' };

export type WorkerMessage =
  | { type: 'ready'; observationSpace: SpaceJSON; actionSpace: SpaceJSON; spec: EnvSpec }
  | { type: 'attached' }
  /** `infos[k]` for local sub-env k; null = empty info (saves cloning). */
  | { type: 'done'; infos: Array<Info | null> }
  | { type: 'closed' }
  | { type: 'error'; phase: 'init' | 'reset' | 'step' | 'close'; step: number; envIndex: number | null; message: string; stack?: string };
