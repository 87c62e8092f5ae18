/**
 * The environment contract (Gymnasium semantics). `terminated` = the game ended (do not bootstrap);
 * `truncated` = cut off from outside, e.g. a time limit (bootstrap). The two stay separate everywhere.
 */
import type { Space } from './spaces.js';
import type { RngState } from './rng.js';

/** An observation as the framework handles it: a flat typed array in the order of the Box shape. */
export type ObsArray = Uint8Array | Int32Array | Float32Array;

/** An RGB frame, row-major, `height * width * 3` bytes. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Static description of an environment. */
export interface EnvSpec {
  /** Registry id, e.g. `catch` or `minatar/breakout`. */
  id: string;
  /** Steps after which TimeLimit truncates, if any. */
  maxEpisodeSteps?: number;
  /** Return above which the task counts as solved, if any. */
  rewardThreshold?: number;
  /** One human-readable name per action index. */
  actionNames: string[];
  /** The options the env was made with (JSON-safe). */
  options?: Record<string, unknown>;
}

export type Info = Record<string, unknown>;

export interface ResetArgs {
  /** Reseeds the env's RNG; without it the stream continues. */
  seed?: number;
  /** Env-specific reset options. */
  options?: Record<string, unknown>;
}

export interface ResetResult<Obs> {
  obs: Obs;
  info: Info;
}

export interface StepResult<Obs> {
  obs: Obs;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

/** A Gymnasium-style environment. Observations handed out are never overwritten later. */
export interface Env<Obs = ObsArray, Act = number> {
  readonly observationSpace: Space<Obs>;
  readonly actionSpace: Space<Act>;
  readonly spec: EnvSpec;
  reset(args?: ResetArgs): ResetResult<Obs>;
  step(action: Act): StepResult<Obs>;
  /** An RGB picture of the current state; envs that cannot draw throw. */
  render(): RgbFrame;
  /** Releases resources; safe to call more than once. */
  close(): void;
  /** Optional: full internal state for checkpoints and replays (JSON-safe). */
  getState?(): EnvSnapshot;
  setState?(snapshot: EnvSnapshot): void;
}

/** Serialisable env state: the game's own fields plus its RNG. */
export interface EnvSnapshot {
  game: unknown;
  rng?: RngState;
}

/** Base class for wrappers: forwards everything to the inner env. */
export abstract class Wrapper<Obs = ObsArray, Act = number, InnerObs = Obs, InnerAct = Act> implements Env<Obs, Act> {
  constructor(readonly env: Env<InnerObs, InnerAct>) {}

  get observationSpace(): Space<Obs> {
    return this.env.observationSpace as unknown as Space<Obs>;
  }
  get actionSpace(): Space<Act> {
    return this.env.actionSpace as unknown as Space<Act>;
  }
  get spec(): EnvSpec {
    return this.env.spec;
  }
  reset(args?: ResetArgs): ResetResult<Obs> {
    return this.env.reset(args) as unknown as ResetResult<Obs>;
  }
  step(action: Act): StepResult<Obs> {
    return this.env.step(action as unknown as InnerAct) as unknown as StepResult<Obs>;
  }
  render(): RgbFrame {
    return this.env.render();
  }
  close(): void {
    this.env.close();
  }
  /** The innermost env. */
  get unwrapped(): Env<unknown, unknown> {
    let e: Env<unknown, unknown> = this.env as Env<unknown, unknown>;
    while (e instanceof Wrapper) e = e.env as Env<unknown, unknown>;
    return e;
  }
}
