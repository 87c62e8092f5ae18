import { Wrapper, type WrapperState, type Env, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { checkOptions, stateError } from './validate.js';

/** Statistics of one finished episode, put in `info.episode` on its last step. */
export interface EpisodeStatistics {
  /** Sum of the rewards seen by this wrapper. */
  return: number;
  /** Steps of the episode, including the last. */
  length: number;
  /** Wall-clock seconds from reset to the last step. */
  time: number;
}

export interface RecordEpisodeStatisticsOptions {
  /** Clock in milliseconds (default `performance.now`); tests pass a fake one. */
  clock?: () => number;
}

/** Adds `info.episode = {return, length, time}` on the step that ends an episode (terminated or truncated). */
export class RecordEpisodeStatistics<Obs, Act> extends Wrapper<Obs, Act> {
  private episodeReturn = 0;
  private episodeLength = 0;
  private startedAt = 0;
  private readonly clock: () => number;

  constructor(env: Env<Obs, Act>, options: RecordEpisodeStatisticsOptions = {}) {
    super(env);
    checkOptions('RecordEpisodeStatistics', options, { clock: (v) => (typeof v === 'function' ? null : 'a function returning milliseconds') }, '{ clock: () => performance.now() }');
    this.clock = options.clock ?? (() => performance.now());
  }

  override reset(args?: ResetArgs): ResetResult<Obs> {
    this.episodeReturn = 0;
    this.episodeLength = 0;
    this.startedAt = this.clock();
    return this.env.reset(args);
  }

  override step(action: Act): StepResult<Obs> {
    const r = this.env.step(action);
    this.episodeReturn += r.reward;
    this.episodeLength++;
    if (r.terminated || r.truncated) {
      const episode: EpisodeStatistics = { return: this.episodeReturn, length: this.episodeLength, time: (this.clock() - this.startedAt) / 1000 };
      r.info = { ...r.info, episode };
    }
    return r;
  }

  /** The clock of another process means nothing here: the state keeps the episode's elapsed time instead. */
  override getWrapperState(): WrapperState {
    return { episodeReturn: this.episodeReturn, episodeLength: this.episodeLength, elapsedMs: this.clock() - this.startedAt };
  }

  override setWrapperState(state: WrapperState): void {
    const { episodeReturn, episodeLength, elapsedMs = 0 } = state ?? {};
    if (typeof episodeReturn !== 'number' || !Number.isFinite(episodeReturn) || !Number.isSafeInteger(episodeLength) || (episodeLength as number) < 0 || typeof elapsedMs !== 'number' || !Number.isFinite(elapsedMs)) {
      throw stateError('RecordEpisodeStatistics', 'a state {episodeReturn, episodeLength, elapsedMs}', state);
    }
    this.episodeReturn = episodeReturn;
    this.episodeLength = episodeLength as number;
    this.startedAt = this.clock() - elapsedMs;
  }
}
