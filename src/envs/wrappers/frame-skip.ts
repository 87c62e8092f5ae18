import { Wrapper, type Env, type ObsArray, type StepResult } from '../env.js';
import { checkOptions, integerAtLeast, booleanField, requireBox } from './validate.js';

export interface FrameSkipOptions {
  /** Inner steps per outer step, the same action each time (default 4). */
  k?: number;
  /** Observation = element-wise max of the last two inner observations, removing sprite flicker (default false). */
  maxPoolLast2?: boolean;
}

export const FRAME_SKIP_DEFAULTS = { k: 4, maxPoolLast2: false } as const;

/**
 * Repeats each action `k` times and sums the rewards; stops early when the episode ends. `info`
 * is the last inner step's, with `info.frames` = inner steps taken.
 */
export class FrameSkip<Obs extends ObsArray = ObsArray> extends Wrapper<Obs, number> {
  // Each outer step runs its k inner steps to the end: nothing carries over to the next one.
  static override readonly stateless = true;
  readonly k: number;
  readonly maxPoolLast2: boolean;

  constructor(env: Env<Obs, number>, options: FrameSkipOptions = {}) {
    super(env);
    checkOptions('FrameSkip', options, { k: integerAtLeast(1), maxPoolLast2: booleanField }, '{ k: 4, maxPoolLast2: true }');
    this.k = options.k ?? FRAME_SKIP_DEFAULTS.k;
    this.maxPoolLast2 = options.maxPoolLast2 ?? FRAME_SKIP_DEFAULTS.maxPoolLast2;
    if (this.maxPoolLast2) requireBox('FrameSkip', env.observationSpace, 'a Box observation space (for maxPoolLast2)');
  }

  override step(action: number): StepResult<Obs> {
    let total = 0;
    let previous: Obs | null = null;
    let r!: StepResult<Obs>;
    let frames = 0;
    for (let i = 0; i < this.k; i++) {
      if (r) previous = r.obs;
      r = this.env.step(action);
      frames++;
      total += r.reward;
      if (r.terminated || r.truncated) break;
    }
    // Inner observations are fresh arrays, so the last one can hold the pooled result.
    if (this.maxPoolLast2 && previous) {
      const out = r.obs;
      for (let j = 0; j < out.length; j++) if (previous[j]! > out[j]!) out[j] = previous[j]!;
    }
    return { obs: r.obs, reward: total, terminated: r.terminated, truncated: r.truncated, info: { ...r.info, frames } };
  }
}
