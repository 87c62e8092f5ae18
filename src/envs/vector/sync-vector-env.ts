/**
 * In-process vector env: steps K copies of an env one after the other. Autoreset `same-step`
 * (see types.ts): an ended sub-env is reset inside the same step, its last observation kept in
 * `infos[i].finalObs`.
 */
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import { actionAt, actionWidth, checkActionBatch, type ActionBatch } from '../actions.js';
import type { Env, ObsArray, Info } from '../env.js';
import { Box, type Space, allocObs } from '../spaces.js';
import type { AutoresetMode, VectorEnv, VectorResetResult, VectorStepResult } from './types.js';

function allocLike(space: Space, n: number): ObsArray {
  if (!(space instanceof Box)) {
    throw new InvalidConfigError(formatError('VectorEnv', 'a Box observation space', space.type, 'vectorise envs with array observations'));
  }
  const size = space.size * n;
  return allocObs(space.dtype, size);
}

const ARRAY_OF_DTYPE = { uint8: Uint8Array, int32: Int32Array, float32: Float32Array } as const;

/**
 * A game's observation must be the typed array its Box declares: `set` into the batch would
 * otherwise pad a short array with stale values, drop the tail of a long one or truncate floats
 * into bytes, and training would go on silently on garbage. Length and type are checked on every
 * step (O(1)); the values (bounds, NaN) on every reset, where an O(size) pass costs nothing.
 */
function checkObservation(env: Env<ObsArray, number>, obs: unknown, full: boolean): void {
  const space = env.observationSpace as Box;
  const Want = ARRAY_OF_DTYPE[space.dtype];
  const ok = obs instanceof Want && obs.length === space.size && (!full || space.contains(obs as never));
  if (ok) return;
  const got = obs instanceof Want && obs.length === space.size ? `values outside its bounds (or NaN)` : ArrayBuffer.isView(obs) ? `${obs.constructor.name}(${(obs as unknown as ArrayLike<number>).length})` : describe(obs);
  throw new SpaceMismatchError(formatError(`game ${describe(env.spec?.id ?? 'unknown')}`, `observations in its observationSpace (${space.dtype === 'float32' ? 'Float32Array' : space.dtype === 'int32' ? 'Int32Array' : 'Uint8Array'}(${space.size}))`, got, 'make observe() return arrays of the declared dtype, size and bounds (checkEnv(factory) lists every problem)'));
}

export class SyncVectorEnv implements VectorEnv {
  readonly autoresetMode: AutoresetMode = 'same-step';
  readonly numEnvs: number;
  readonly envs: Env<ObsArray, number>[];
  private readonly obsSize: number;

  /** `makeEnv(i)` builds sub-env i. */
  constructor(makeEnv: (index: number) => Env<ObsArray, number>, numEnvs: number) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) {
      throw new InvalidConfigError(formatError('SyncVectorEnv', 'numEnvs to be a positive integer', describe(numEnvs), 'pass e.g. 4'));
    }
    this.numEnvs = numEnvs;
    this.envs = Array.from({ length: numEnvs }, (_, i) => makeEnv(i));
    this.obsSize = (this.envs[0]!.observationSpace as Box).size;
  }

  get singleObservationSpace(): Space {
    return this.envs[0]!.observationSpace;
  }
  get singleActionSpace(): Space {
    return this.envs[0]!.actionSpace;
  }
  get spec() {
    return this.envs[0]!.spec;
  }

  async reset(args: { seed?: number } = {}): Promise<VectorResetResult> {
    const obs = allocLike(this.singleObservationSpace, this.numEnvs);
    const infos: Info[] = [];
    for (let i = 0; i < this.numEnvs; i++) {
      const r = this.envs[i]!.reset(args.seed === undefined ? {} : { seed: args.seed + i });
      checkObservation(this.envs[i]!, r.obs, true);
      obs.set(r.obs, i * this.obsSize);
      infos.push(r.info);
    }
    return { obs, infos };
  }

  async step(actions: ActionBatch | number[]): Promise<VectorStepResult> {
    return this.stepSync(actions);
  }

  /** Synchronous step (the async `step` wraps it); `actions` holds one row per sub-env (see envs/actions.ts). */
  stepSync(actions: ActionBatch | number[]): VectorStepResult {
    const space = this.singleActionSpace as Space<unknown>;
    const width = actionWidth(space);
    checkActionBatch('SyncVectorEnv.step', actions, this.numEnvs, width);
    const n = this.numEnvs;
    const obs = allocLike(this.singleObservationSpace, n);
    const rewards = new Float32Array(n);
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const infos: Info[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const env = this.envs[i]!;
      const r = env.step(actionAt(actions, i, width, space) as number);
      rewards[i] = r.reward;
      terminated[i] = r.terminated ? 1 : 0;
      truncated[i] = r.truncated ? 1 : 0;
      checkObservation(env, r.obs, false);
      if (r.terminated || r.truncated) {
        const next = env.reset();
        checkObservation(env, next.obs, true);
        obs.set(next.obs, i * this.obsSize);
        infos[i] = { ...next.info, finalObs: r.obs, finalInfo: r.info };
      } else {
        obs.set(r.obs, i * this.obsSize);
        infos[i] = r.info;
      }
    }
    return { obs, rewards, terminated, truncated, infos };
  }

  async close(): Promise<void> {
    for (const e of this.envs) e.close();
  }
}
