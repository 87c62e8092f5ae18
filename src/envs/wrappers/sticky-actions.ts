import { Wrapper, type WrapperState, type Env, type ObsArray, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { SeededRng } from '../rng.js';
import { checkOptions, probability, savedRng, stateError } from './validate.js';

export interface StickyActionsOptions {
  /** Probability of repeating the previous action instead of the chosen one (default 0.25, as ALE v5). */
  p?: number;
}

export const STICKY_ACTIONS_DEFAULTS = { p: 0.25 } as const;

/**
 * With probability `p` the env executes the previous action instead of the one passed (Machado et
 * al. 2018). The previous action starts at 0 (no-op) each episode. Its RNG is reseeded by
 * `reset({seed})` (a stream independent of the game's) and saved by `getWrapperState`.
 */
export class StickyActions<Obs = ObsArray> extends Wrapper<Obs, number> {
  readonly p: number;
  private rng = new SeededRng('sticky/0');
  private previous = 0;

  constructor(env: Env<Obs, number>, options: StickyActionsOptions = {}) {
    super(env);
    checkOptions('StickyActions', options, { p: probability }, '{ p: 0.25 }');
    this.p = options.p ?? STICKY_ACTIONS_DEFAULTS.p;
  }

  override reset(args?: ResetArgs): ResetResult<Obs> {
    if (args?.seed !== undefined) this.rng = new SeededRng(`sticky/${args.seed}`);
    this.previous = 0;
    return this.env.reset(args);
  }

  override step(action: number): StepResult<Obs> {
    // Draw every step, even when p = 0 or the actions agree, so the stream does not depend on the policy.
    const repeat = this.rng.random() < this.p;
    const executed = repeat ? this.previous : action;
    this.previous = executed;
    return this.env.step(executed);
  }

  override getWrapperState(): WrapperState {
    return { previous: this.previous, rng: this.rng.getState() };
  }

  override setWrapperState(state: WrapperState): void {
    if (!Number.isSafeInteger(state?.previous)) throw stateError('StickyActions', 'a state {previous: action, rng}', state);
    this.rng.setState(savedRng('StickyActions', state.rng));
    this.previous = state.previous as number;
  }
}
