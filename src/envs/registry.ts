/**
 * The env registry: games register a factory once; `make(id, options)` builds an env and applies
 * the standard wrappers (FlattenDictObservation for Dict observations, OrderEnforcing, TimeLimit
 * when the spec has `maxEpisodeSteps`).
 */
import { InvalidConfigError, UnknownEnvError, formatError, describe } from '../errors.js';
import type { Env } from './env.js';
import { OrderEnforcing } from './wrappers/order-enforcing.js';
import { TimeLimit } from './wrappers/time-limit.js';
import { FlattenDictObservation } from './dict-obs.js';
import { Dict } from './spaces.js';
import { checkTrainDefaults, type TrainDefaults } from './train-defaults.js';
import { isMultiAgentRegistered } from './multi/registry.js';

export type EnvFactory = (options: Record<string, unknown>) => Env<any, any>;

/** Registration-time defaults and metadata of an env id. */
export interface EnvDefaults {
  /** Episode cap applied by `make` through TimeLimit (steps); omit for none. */
  maxEpisodeSteps?: number;
  /** Return above which the task counts as solved. */
  rewardThreshold?: number;
  /** One-line description for `npcforge games`. */
  description?: string;
  /** Default option values, merged under the caller's options. */
  options?: Record<string, unknown>;
  /** How `npcforge train <id>` trains it: agent, steps, envs, hyperparameters (see train-defaults.ts). */
  train?: TrainDefaults;
}

interface Entry {
  id: string;
  factory: EnvFactory;
  defaults: EnvDefaults;
}

const entries = new Map<string, Entry>();

/** Called on every `register` (with whether it replaced an id): `--import` uses it to name who registered what. */
export type RegistrationObserver = (id: string, replaced: boolean) => void;
const observers = new Set<RegistrationObserver>();

/** Watches registrations until the returned function is called. */
export function observeRegistrations(observer: RegistrationObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Registers a game; registering the same id twice replaces it. */
export function register(id: string, factory: EnvFactory, defaults: EnvDefaults = {}): void {
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9_\-/]*$/.test(id)) {
    throw new InvalidConfigError(formatError('register', 'an id of lower-case letters, digits, _ - /', describe(id), "use e.g. 'catch' or 'minatar/breakout'"));
  }
  if (typeof factory !== 'function') throw new InvalidConfigError(formatError('register', 'a factory function', describe(factory), 'pass (options) => new MyEnv(options)'));
  if (defaults.train !== undefined) checkTrainDefaults(id, defaults.train);
  const replaced = entries.has(id);
  entries.set(id, { id, factory, defaults });
  for (const observe of observers) observe(id, replaced);
}

/** Options understood by `make` itself; the rest goes to the game's factory. */
export interface MakeOptions {
  /** Overrides the registered episode cap; `null` disables TimeLimit. */
  maxEpisodeSteps?: number | null;
  /** Wrap in OrderEnforcing (default true). */
  orderEnforcing?: boolean;
  [key: string]: unknown;
}

/** Builds a registered env with its standard wrappers. Unknown ids list the known ones. */
export function make<Obs = any, Act = any>(id: string, options: MakeOptions = {}): Env<Obs, Act> {
  const entry = entries.get(id);
  if (!entry) {
    const known = listEnvs().map((e) => e.id).join(', ');
    const fix = isMultiAgentRegistered(id)
      ? `'${id}' is a multi-agent game: build it with makeMultiAgent('${id}'), or play one seat with asSingleAgent(makeMultiAgent('${id}'), { agent, others })`
      : 'pick one of the listed ids, or register() your game first';
    throw new UnknownEnvError(formatError('make', `a registered env id (${known})`, describe(id), fix));
  }
  const { maxEpisodeSteps, orderEnforcing = true, ...rest } = options;
  const gameOptions = { ...(entry.defaults.options ?? {}), ...rest };
  let env: Env<any, any> = entry.factory(gameOptions);
  // Dict observations travel as one flat Float32Array (see dict-obs.ts).
  if (env.observationSpace instanceof Dict) env = new FlattenDictObservation(env);
  const cap = maxEpisodeSteps === undefined ? entry.defaults.maxEpisodeSteps : maxEpisodeSteps;
  if (cap !== null && cap !== undefined) {
    if (!Number.isInteger(cap) || cap < 1) throw new InvalidConfigError(formatError('make', 'maxEpisodeSteps to be a positive integer or null', describe(cap), 'pass e.g. 500, or null for no cap'));
    env = new TimeLimit(env, cap);
  }
  if (orderEnforcing) env = new OrderEnforcing(env);
  return env as Env<Obs, Act>;
}

/** Registered ids with their metadata, sorted by id. */
export function listEnvs(): Array<{ id: string } & EnvDefaults> {
  return [...entries.values()].sort((a, b) => a.id.localeCompare(b.id)).map((e) => ({ id: e.id, ...e.defaults }));
}

/** The train block a game registered with, if any. */
export function trainDefaultsOf(id: string): TrainDefaults | undefined {
  return entries.get(id)?.defaults.train;
}

/** True when the id is registered. */
export function isRegistered(id: string): boolean {
  return entries.has(id);
}
