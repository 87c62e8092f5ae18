/**
 * The environment contract (Gymnasium semantics). `terminated` = the game ended (do not bootstrap);
 * `truncated` = cut off from outside, e.g. a time limit (bootstrap). The two stay separate everywhere.
 */
import type { Space } from './spaces.js';
import type { RngState } from './rng.js';
import { RenderUnavailableError, formatError } from '../errors.js';

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
  /** Optional: an RGB picture of the current state. Games that cannot draw leave it out (see `canRender`). */
  render?(): RgbFrame;
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

/** A wrapper's own state between steps (JSON-safe), not including its inner env's. */
export type WrapperState = Record<string, unknown>;

/**
 * Base class for wrappers: forwards everything to the inner env.
 *
 * Checkpoints restore a wrapped env exactly, so every wrapper class declares its state explicitly
 * (nothing is found by reflection): a wrapper that keeps nothing between steps says
 * `static override readonly stateless = true`; any other implements `getWrapperState()` and
 * `setWrapperState()` for its own fields (RNGs included). A subclass inherits the methods but not
 * `stateless`: a class that extends a stateless wrapper declares again. Snapshots of a chain with
 * an undeclared wrapper fail (see `envs/env-state.ts`). These are not `getState`/`setState`: on
 * an env those mean the whole env, and a wrapper's own fields are only part of it.
 */
export abstract class Wrapper<Obs = ObsArray, Act = number, InnerObs = Obs, InnerAct = Act> implements Env<Obs, Act> {
  /** True on a wrapper class that keeps no state between steps (declared per class, see above). */
  static readonly stateless: boolean = false;
  /** This wrapper's own state, for checkpoints (stateful wrappers only). */
  getWrapperState?(): WrapperState;
  /** Restores what `getWrapperState` returned (after a JSON round trip); throws CheckpointError on a malformed state. */
  setWrapperState?(state: WrapperState): void;

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
    if (!this.env.render) throw renderUnavailable(this.spec.id);
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

/** The error for a game without `render()`: one line, naming the game. */
export function renderUnavailable(id: string): RenderUnavailableError {
  return new RenderUnavailableError(formatError(id, 'a game with render() to draw frames', 'a game without render()', 'add render() to the game, or train and evaluate without recording'));
}

/** The env's current frame; a game without `render()` throws RenderUnavailableError naming it. */
export function drawFrame(env: Env<any, any>): RgbFrame {
  if (!env.render) throw renderUnavailable(env.spec.id);
  return env.render();
}

/** True when the env can draw: wrappers draw what the game inside them draws. */
export function canRender(env: Env<unknown, unknown>): boolean {
  const inner = env instanceof Wrapper ? env.unwrapped : env;
  return typeof inner.render === 'function';
}
