import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { stateError } from './validate.js';
import { Wrapper, type WrapperState, type Env, type EnvSpec, type ResetArgs, type ResetResult, type StepResult } from '../env.js';

/** Truncates an episode after `maxEpisodeSteps` steps (`truncated = true`; `terminated` is kept as is). */
export class TimeLimit<Obs, Act> extends Wrapper<Obs, Act> {
  private elapsed = 0;

  constructor(env: Env<Obs, Act>, readonly maxEpisodeSteps: number) {
    super(env);
    if (!Number.isInteger(maxEpisodeSteps) || maxEpisodeSteps < 1) {
      throw new InvalidConfigError(formatError('TimeLimit', 'maxEpisodeSteps to be a positive integer', describe(maxEpisodeSteps), 'pass e.g. 500'));
    }
  }

  override get spec(): EnvSpec {
    return { ...this.env.spec, maxEpisodeSteps: this.maxEpisodeSteps };
  }

  override reset(args?: ResetArgs): ResetResult<Obs> {
    this.elapsed = 0;
    return this.env.reset(args);
  }

  override step(action: Act): StepResult<Obs> {
    const r = this.env.step(action);
    this.elapsed++;
    if (this.elapsed >= this.maxEpisodeSteps) r.truncated = true;
    return r;
  }

  override getWrapperState(): WrapperState {
    return { elapsed: this.elapsed };
  }

  override setWrapperState(state: WrapperState): void {
    if (!Number.isSafeInteger(state?.elapsed) || (state.elapsed as number) < 0) throw stateError('TimeLimit', 'a state {elapsed: steps so far}', state);
    this.elapsed = state.elapsed as number;
  }
}
