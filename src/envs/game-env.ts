/**
 * `GameEnv`: the parts every game repeats, written once. A game extends it and writes only its
 * rules:
 * - `onReset(rng)`: set up a new episode, drawing every random number from `rng`;
 * - `onStep(action)`: advance one step, return `{ reward, terminated }` (the step limit, if any,
 *   sets `truncated` here, never the game);
 * - `observe()`: the observation of the current state (a fresh array: `freshObs()` gives one);
 * - `state()` / `restore(game)`: the game's own fields for `getState`/`setState` (JSON-safe);
 * - optionally `render()`: a game that cannot draw leaves it out (recording then says so).
 * The base class seeds (`reset({seed})` reseeds, `reset()` continues the stream), validates
 * actions against the action space, refuses `step` before `reset` or after the episode ended,
 * truncates at `maxSteps`, and saves its own part of the state (step count, done flag, RNG).
 */
import { EnvStateError, InvalidActionError, InvalidConfigError, ResetNeededError, describe, formatError } from '../errors.js';
import type { Env, EnvSnapshot, EnvSpec, Info, ObsArray, ResetArgs, ResetResult, StepResult } from './env.js';
import { SeededRng } from './rng.js';
import { Box, allocObs, type Space } from './spaces.js';

/** What a game declares once, in its constructor (`super(...)`). */
export interface GameEnvConfig<Obs, Act> {
  /** Registry id, e.g. `my-game`; names the game in every error. */
  id: string;
  observationSpace: Space<Obs>;
  actionSpace: Space<Act>;
  /** One human-readable name per action index (or per action dimension for Box actions). */
  actionNames: string[];
  /** Steps after which the episode is truncated (bootstrapped); omit for no limit. */
  maxSteps?: number;
  /** Return above which the task counts as solved, if any. */
  rewardThreshold?: number;
  /** The options the game was made with (JSON-safe; recorded in runs and episodes). */
  options?: Record<string, unknown>;
}

/** What `onStep` returns: the game's reward and whether the game itself ended. */
export interface StepOutcome {
  reward: number;
  terminated: boolean;
  info?: Info;
}

/** One option a game accepts: its type, range and default. */
export interface OptionSpec {
  type: 'integer' | 'number' | 'boolean' | 'string';
  default: number | boolean | string;
  /** Smallest allowed value (numbers). */
  min?: number;
  /** Largest allowed value (numbers). */
  max?: number;
}

/** The resolved option values of a schema (defaults filled in). */
export type ResolvedOptions<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : S[K]['type'] extends 'string' ? string : number;
};

/**
 * Checks a game's options against a schema and fills in defaults. Reports every problem at once
 * (unknown keys by name, wrong types, out-of-range values) in one InvalidConfigError.
 */
export function checkOptions<S extends Record<string, OptionSpec>>(component: string, options: Record<string, unknown> | undefined, schema: S): ResolvedOptions<S> {
  const given = options ?? {};
  const problems: string[] = [];
  const unknown = Object.keys(given).filter((k) => !Object.hasOwn(schema, k));
  if (unknown.length) problems.push(`unknown options ${unknown.join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const v = given[key] === undefined ? spec.default : given[key];
    const isNumber = typeof v === 'number' && Number.isFinite(v);
    const typeOk = spec.type === 'integer' ? isNumber && Number.isInteger(v) : spec.type === 'number' ? isNumber : typeof v === spec.type;
    const rangeOk = !isNumber || ((spec.min === undefined || (v as number) >= spec.min) && (spec.max === undefined || (v as number) <= spec.max));
    if (!typeOk || !rangeOk) problems.push(`${key} ${describe(v)}`);
    out[key] = v;
  }
  if (problems.length) {
    const expected = Object.entries(schema).map(([k, s]) => `${k} (${s.type}${s.min !== undefined ? ` >= ${s.min}` : ''}${s.max !== undefined ? ` <= ${s.max}` : ''})`);
    throw new InvalidConfigError(formatError(component, `options ${expected.join(', ')} only`, problems.join('; '), 'fix or remove the listed options'));
  }
  return out as ResolvedOptions<S>;
}

/** Keys of `getState().game` that the base class owns; a game's own state must not use them. */
const BASE_KEYS = ['done', 'steps'] as const;

/** How many observations one pooled chunk holds (one allocation per this many steps). */
const OBS_PER_CHUNK = 256;

export abstract class GameEnv<Obs = ObsArray, Act = number> implements Env<Obs, Act> {
  readonly observationSpace: Space<Obs>;
  readonly actionSpace: Space<Act>;
  readonly spec: EnvSpec;
  /** The game's RNG: every random draw of the game comes from it. */
  protected rng = new SeededRng(0);
  /** Steps taken in the current episode (for the step limit; a game that counts for its rules keeps its own). */
  private steps = 0;
  private readonly maxSteps: number | undefined;
  /** True before the first reset and after the episode ended. */
  private done = true;
  /** False until the first reset (or setState): names the step-before-reset mistake. */
  private started = false;
  private chunk: ObsArray | null = null;
  private chunkOffset = 0;

  constructor(config: GameEnvConfig<Obs, Act>) {
    const { id, maxSteps } = config;
    if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) {
      throw new InvalidConfigError(formatError(id, 'maxSteps to be a positive integer', describe(maxSteps), 'pass e.g. maxSteps: 500, or leave it out for no limit'));
    }
    this.observationSpace = config.observationSpace;
    this.actionSpace = config.actionSpace;
    this.maxSteps = maxSteps;
    const { rewardThreshold, options } = config;
    this.spec = { id, actionNames: config.actionNames, ...(rewardThreshold === undefined ? {} : { rewardThreshold }), ...(options === undefined ? {} : { options }) };
  }

  /** Starts a new episode: the state before the first step. */
  protected abstract onReset(rng: SeededRng, options: Record<string, unknown> | undefined): void;
  /** Advances the game by one (already validated) action. */
  protected abstract onStep(action: Act): StepOutcome;
  /** The observation of the current state; never a buffer handed out before. */
  protected abstract observe(): Obs;
  /** The game's own fields for `getState` (JSON-safe, without `steps` or `done`). */
  protected abstract state(): Record<string, unknown>;
  /** Restores what `state()` returned (after a JSON round trip); throw on a malformed value. */
  protected abstract restore(game: Record<string, unknown>): void;

  reset(args: ResetArgs = {}): ResetResult<Obs> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    this.steps = 0;
    this.done = false;
    this.started = true;
    this.onReset(this.rng, args.options);
    return { obs: this.observe(), info: {} };
  }

  step(action: Act): StepResult<Obs> {
    const id = this.spec.id;
    if (this.done) {
      const received = !this.started ? 'step() before the first reset()' : 'step() after the episode ended';
      throw new ResetNeededError(formatError(`${id}.step`, 'reset() before stepping', received, 'call env.reset() when terminated or truncated is true'));
    }
    if (!this.actionSpace.contains(action)) {
      throw new InvalidActionError(formatError(`${id}.step`, `an action in ${JSON.stringify(this.actionSpace.toJSON())}`, describe(action), 'pass an action from env.actionSpace'));
    }
    const { reward, terminated, info = {} } = this.onStep(action);
    this.steps++;
    const truncated = !terminated && this.maxSteps !== undefined && this.steps >= this.maxSteps;
    this.done = terminated || truncated;
    return { obs: this.observe(), reward, terminated, truncated, info };
  }

  close(): void {}

  /**
   * A zero-filled array for a Box observation. Views into a shared chunk rather than one
   * `ArrayBuffer` per step (allocating small buffers dominates a cheap step); no view is handed
   * out or written twice, so observations stay valid. `obs.buffer` is the whole chunk.
   */
  protected freshObs(): ObsArray {
    const space = this.observationSpace as unknown;
    if (!(space instanceof Box)) {
      throw new InvalidConfigError(formatError(`${this.spec.id}.freshObs`, 'a Box observation space', (space as Space).type, 'build Dict observations in observe() from one freshObs-like array per key'));
    }
    const size = space.size;
    if (this.chunk === null || this.chunkOffset + size > this.chunk.length) {
      this.chunk = allocObs(space.dtype, size * OBS_PER_CHUNK);
      this.chunkOffset = 0;
    }
    const view = this.chunk.subarray(this.chunkOffset, this.chunkOffset + size);
    this.chunkOffset += size;
    return view;
  }

  getState(): EnvSnapshot {
    const own = this.state();
    for (const k of BASE_KEYS) {
      if (Object.hasOwn(own, k)) throw new EnvStateError(formatError(`${this.spec.id}.getState`, `a game state without the base keys ${BASE_KEYS.join(', ')}`, `key ${k}`, 'rename the field in state()'));
    }
    // The step count only matters under a step limit, so only then is it saved: a game without
    // one keeps the snapshot it had before it moved to GameEnv (episode headers hold it).
    const base = this.maxSteps === undefined ? { done: this.done } : { done: this.done, steps: this.steps };
    return { game: { ...own, ...base }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as Record<string, unknown> | undefined;
    const steps = this.maxSteps === undefined ? 0 : g?.steps;
    if (!g || typeof g !== 'object' || typeof g.done !== 'boolean' || !Number.isInteger(steps) || (steps as number) < 0) {
      const shape = this.maxSteps === undefined ? '{game: {..., done}}' : '{game: {..., done, steps}}';
      throw new EnvStateError(formatError(`${this.spec.id}.setState`, `a snapshot ${shape} from getState()`, describe(g), 'pass the output of getState()'));
    }
    const { steps: _s, done, ...own } = g;
    this.restore(own);
    this.steps = steps as number;
    this.done = done as boolean;
    this.started = true;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
