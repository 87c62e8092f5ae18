import { Wrapper, type Env, type EnvSnapshot, type ObsArray, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { SeededRng, type RngState } from '../rng.js';
import { InvalidConfigError, formatError } from '../../errors.js';
import { checkOptions, probability } from './validate.js';

export interface StickyActionsOptions {
  /** Probability of repeating the previous action instead of the chosen one (default 0.25, as ALE v5). */
  p?: number;
}

export const STICKY_ACTIONS_DEFAULTS = { p: 0.25 } as const;

/** Saved state of StickyActions: the inner env's snapshot, the previous action and the wrapper's RNG. */
interface StickyState {
  inner: EnvSnapshot | null;
  previous: number;
}

/**
 * With probability `p` the env executes the previous action instead of the one passed (Machado et
 * al. 2018). The previous action starts at 0 (no-op) each episode. Its RNG is reseeded by
 * `reset({seed})` (a stream independent of the game's) and saved by `getState`.
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

  getState(): EnvSnapshot {
    const state: StickyState = { inner: this.env.getState?.() ?? null, previous: this.previous };
    return { game: state, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const s = snapshot.game as StickyState;
    if (!snapshot.rng || typeof s?.previous !== 'number') {
      throw new InvalidConfigError(formatError('StickyActions.setState', 'a snapshot from StickyActions.getState()', 'a snapshot without previous action or rng', 'pass what getState() returned'));
    }
    if (s.inner) {
      if (!this.env.setState) throw new InvalidConfigError(formatError('StickyActions.setState', 'an inner env with setState', 'an env without it', 'restore only snapshots of envs that support it'));
      this.env.setState(s.inner);
    }
    this.previous = s.previous;
    this.rng.setState(snapshot.rng as RngState);
  }
}
