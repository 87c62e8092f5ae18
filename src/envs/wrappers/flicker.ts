import { SpaceMismatchError, formatError } from '../../errors.js';
import { Wrapper, type WrapperState, type Env, type ObsArray, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { SeededRng } from '../rng.js';
import type { Box } from '../spaces.js';
import { allocObs, checkOptions, probability, requireBox, savedRng } from './validate.js';

export interface FlickerOptions {
  /** Probability that an observation is blanked to zeros (default 0.5). */
  p?: number;
}

export const FLICKER_DEFAULTS = { p: 0.5 } as const;

/**
 * Flickering POMDP (Hausknecht & Stone 2015): each observation, including the one from reset, is
 * replaced by zeros with probability `p`; `info.flickered` says which. Makes any game partially
 * observable, to test memory. The RNG is reseeded by `reset({seed})`, independent of the game's.
 */
export class Flicker extends Wrapper<ObsArray, number, ObsArray, number> {
  readonly p: number;
  private rng = new SeededRng('flicker/0');
  private readonly dtype: Box['dtype'];

  constructor(env: Env<ObsArray, number>, options: FlickerOptions = {}) {
    super(env);
    checkOptions('Flicker', options, { p: probability }, '{ p: 0.5 }');
    this.p = options.p ?? FLICKER_DEFAULTS.p;
    const box = requireBox('Flicker', env.observationSpace);
    this.dtype = box.dtype;
    for (let i = 0; i < box.size; i++) {
      if (!(box.low[i]! <= 0 && box.high[i]! >= 0)) {
        throw new SpaceMismatchError(formatError('Flicker', 'an observation space that contains 0 everywhere', `bounds [${box.low[i]}, ${box.high[i]}] at index ${i}`, 'blank a space whose bounds include zero'));
      }
    }
  }

  private maybeBlank(obs: ObsArray, info: Record<string, unknown>): { obs: ObsArray; info: Record<string, unknown> } {
    const flickered = this.rng.random() < this.p;
    return { obs: flickered ? allocObs(this.dtype, obs.length) : obs, info: { ...info, flickered } };
  }

  override reset(args?: ResetArgs): ResetResult<ObsArray> {
    if (args?.seed !== undefined) this.rng = new SeededRng(`flicker/${args.seed}`);
    const r = this.env.reset(args);
    return this.maybeBlank(r.obs, r.info);
  }

  override step(action: number): StepResult<ObsArray> {
    const r = this.env.step(action);
    const { obs, info } = this.maybeBlank(r.obs, r.info);
    return { obs, reward: r.reward, terminated: r.terminated, truncated: r.truncated, info };
  }

  override getWrapperState(): WrapperState {
    return { rng: this.rng.getState() };
  }

  override setWrapperState(state: WrapperState): void {
    this.rng.setState(savedRng('Flicker', state?.rng));
  }
}
