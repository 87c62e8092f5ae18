import { ResetNeededError, formatError } from '../../errors.js';
import { stateError } from './validate.js';
import { Wrapper, type WrapperState, type ResetArgs, type ResetResult, type StepResult, type RgbFrame } from '../env.js';

/** Throws `ResetNeededError` on `step` before the first `reset` or after an episode ended. */
export class OrderEnforcing<Obs, Act> extends Wrapper<Obs, Act> {
  private state: 'fresh' | 'running' | 'done' = 'fresh';

  override reset(args?: ResetArgs): ResetResult<Obs> {
    const r = this.env.reset(args);
    this.state = 'running';
    return r;
  }

  override step(action: Act): StepResult<Obs> {
    if (this.state !== 'running') {
      const received = this.state === 'fresh' ? 'step() before the first reset()' : 'step() after the episode ended';
      throw new ResetNeededError(formatError(`${this.spec.id}.step`, 'reset() before stepping', received, 'call env.reset() first'));
    }
    const r = this.env.step(action);
    if (r.terminated || r.truncated) this.state = 'done';
    return r;
  }

  override render(): RgbFrame {
    if (this.state === 'fresh') {
      throw new ResetNeededError(formatError(`${this.spec.id}.render`, 'reset() before render()', 'render() before the first reset()', 'call env.reset() first'));
    }
    return super.render();
  }

  override getWrapperState(): WrapperState {
    return { state: this.state };
  }

  override setWrapperState(state: WrapperState): void {
    const s = state?.state;
    if (s !== 'fresh' && s !== 'running' && s !== 'done') throw stateError('OrderEnforcing', "a state {state: 'fresh' | 'running' | 'done'}", state);
    this.state = s;
  }
}
