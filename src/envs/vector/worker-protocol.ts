/**
 * Protocol between WorkerVectorEnv and its worker threads (internal). Start-up uses messages
 * (ready, attach); after that each reset/step is signalled through a shared Int32 control block
 * with Atomics (a worker blocks in Atomics.wait, the parent awaits Atomics.waitAsync), and a
 * message is posted only when a reply carries non-empty infos or an error.
 */
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
  /** Index of this worker (its control slots). */
  worker: number;
  /** Global indices of this worker's sub-envs: [first, first + count). */
  first: number;
  count: number;
}

/** Shared memory of one vector env; every worker writes only its own rows. */
export interface SharedBuffers {
  /** Int32 control block, CONTROL_SLOTS per worker. */
  control: SharedArrayBuffer;
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

/** Int32 slots per worker in the control block. */
export const CONTROL_SLOTS = 8;
/** Slot offsets inside a worker's control slots. */
export const Slot = {
  /** Request sequence number, bumped by the parent (the worker waits on it). */
  request: 0,
  /** Sequence number of the last finished request (the parent waits on it). */
  response: 1,
  /** Command of the request. */
  command: 2,
  /** 1 when `seed` holds a reset seed. */
  hasSeed: 3,
  /** Reset seed (uint32 bits). */
  seed: 4,
  /** Vector step count, for error reports. */
  step: 5,
  /** Reply status: 0 = done, nothing more; 1 = a message with infos or an error was posted. */
  status: 6,
} as const;

/**
 * `getState` replies with a 'done' message whose `infos[k]` is `{ state }` (the sub-env's chain
 * snapshot, or null when the game cannot snapshot itself). `setState` reads a 'states' message
 * posted just before the command.
 */
export const Command = { reset: 1, step: 2, close: 3, getState: 4, setState: 5 } as const;

export type ParentMessage =
  | { type: 'attach'; buffers: SharedBuffers }
  /** Per local sub-env: a chain snapshot to restore, or null = reset with `seeds[k]` (its observation goes to the shared buffer). */
  | { type: 'states'; states: Array<unknown | null>; seeds: number[] };

export type WorkerMessage =
  | { type: 'ready'; observationSpace: SpaceJSON; actionSpace: SpaceJSON; spec: EnvSpec }
  | { type: 'attached' }
  /** `infos[k]` for local sub-env k; null = empty info (saves cloning). */
  | { type: 'done'; seq: number; infos: Array<Info | null> }
  | { type: 'error'; seq: number; phase: 'init' | 'reset' | 'step' | 'close' | 'getState' | 'setState'; step: number; envIndex: number | null; message: string; stack?: string };
