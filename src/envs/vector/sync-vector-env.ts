/**
 * In-process vector env: steps K copies of an env one after the other. Autoreset `same-step`
 * (see types.ts): an ended sub-env is reset inside the same step, its last observation kept in
 * `infos[i].finalObs`.
 */
import { InvalidConfigError, formatError, describe } from '../../errors.js';
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
      if (r.terminated || r.truncated) {
        const next = env.reset();
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
