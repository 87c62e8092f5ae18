import { InvalidConfigError, formatError } from '../../errors.js';
import { Wrapper, type Env, type StepResult } from '../env.js';
import { checkOptions, finiteNumber } from './validate.js';

/** Without options: sign clipping (reward -> -1, 0 or +1, as DQN on Atari). With both: clamp to [min, max]. */
export interface ClipRewardOptions {
  /** Lower clamp bound. Give it together with `max`. */
  min?: number;
  /** Upper clamp bound. Give it together with `min`. */
  max?: number;
}

/** Clips rewards: sign-clipping by default, or clamping to `[min, max]`. `info.rawReward` keeps the original. */
export class ClipReward<Obs, Act> extends Wrapper<Obs, Act> {
  // A pure function of each observation / reward: nothing carries over between steps.
  static override readonly stateless = true;
  readonly min: number;
  readonly max: number;
  readonly mode: 'sign' | 'clamp';

  constructor(env: Env<Obs, Act>, options: ClipRewardOptions = {}) {
    super(env);
    checkOptions('ClipReward', options, { min: finiteNumber, max: finiteNumber }, '{ min: -1, max: 1 } or {} for sign clipping');
    const { min, max } = options;
    if ((min === undefined) !== (max === undefined) || (min !== undefined && max !== undefined && !(min < max))) {
      throw new InvalidConfigError(formatError('ClipReward', 'both min and max with min < max, or neither (sign clipping)', `min ${min}, max ${max}`, 'pass { min: -1, max: 1 } or {}'));
    }
    this.mode = min === undefined ? 'sign' : 'clamp';
    this.min = min ?? -1;
    this.max = max ?? 1;
  }

  override step(action: Act): StepResult<Obs> {
    const r = this.env.step(action);
    const raw = r.reward;
    r.reward = this.mode === 'sign' ? Math.sign(raw) : Math.min(this.max, Math.max(this.min, raw));
    r.info = { ...r.info, rawReward: raw };
    return r;
  }
}
