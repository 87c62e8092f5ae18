/**
 * The multi-agent registry: a second kind of entry beside the single-agent one (`register`/`make`).
 * An id may be registered in both: `make('pong')` is pong against the scripted bot,
 * `makeMultiAgent('pong')` the same game with both paddles as agents.
 */
import { InvalidConfigError, UnknownEnvError, formatError, describe } from '../../errors.js';
import type { MultiAgentEnv } from './multi-agent-env.js';
import { checkTrainDefaults, type TrainDefaults } from '../train-defaults.js';

export type MultiAgentEnvFactory = (options: Record<string, unknown>) => MultiAgentEnv<any, any>;

/** Registration-time metadata of a multi-agent id. */
export interface MultiAgentEnvDefaults {
  /** One-line description for `npcforge games`. */
  description?: string;
  /** Default option values, merged under the caller's options. */
  options?: Record<string, unknown>;
  /**
   * How `npcforge train <id> --selfplay` trains it (the single-agent train block's shape: agent,
   * steps, envs, hyperparameters, runner settings such as `envOptions`). The single-agent
   * registration of the same id keeps its own block for training against the game's bot.
   */
  train?: TrainDefaults;
}

interface Entry {
  id: string;
  factory: MultiAgentEnvFactory;
  defaults: MultiAgentEnvDefaults;
}

const entries = new Map<string, Entry>();

/** Registers a multi-agent game; registering the same id twice replaces it. */
export function registerMultiAgent(id: string, factory: MultiAgentEnvFactory, defaults: MultiAgentEnvDefaults = {}): void {
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9_\-/]*$/.test(id)) {
    throw new InvalidConfigError(formatError('registerMultiAgent', 'an id of lower-case letters, digits, _ - /', describe(id), "use e.g. 'tag'"));
  }
  if (typeof factory !== 'function') throw new InvalidConfigError(formatError('registerMultiAgent', 'a factory function', describe(factory), 'pass (options) => new MyGame(options)'));
  if (defaults.train !== undefined) checkTrainDefaults(id, defaults.train);
  entries.set(id, { id, factory, defaults });
}

/** Builds a registered multi-agent game (the game enforces step order and its step limit itself). */
export function makeMultiAgent<Obs = any, Act = any>(id: string, options: Record<string, unknown> = {}): MultiAgentEnv<Obs, Act> {
  const entry = entries.get(id);
  if (!entry) {
    const known = listMultiAgentEnvs().map((e) => e.id).join(', ');
    throw new UnknownEnvError(formatError('makeMultiAgent', `a registered multi-agent id (${known || 'none registered'})`, describe(id), "pick one of the listed ids (single-agent games are built with make()), or registerMultiAgent() your game first"));
  }
  return entry.factory({ ...(entry.defaults.options ?? {}), ...options }) as MultiAgentEnv<Obs, Act>;
}

/** Registered multi-agent ids with their metadata, sorted by id. */
export function listMultiAgentEnvs(): Array<{ id: string } & MultiAgentEnvDefaults> {
  return [...entries.values()].sort((a, b) => a.id.localeCompare(b.id)).map((e) => ({ id: e.id, ...e.defaults }));
}

/** The self-play train block of a multi-agent id, if it declares one. */
export function multiAgentTrainDefaultsOf(id: string): TrainDefaults | undefined {
  return entries.get(id)?.defaults.train;
}

/** True when the id is registered as a multi-agent game. */
export function isMultiAgentRegistered(id: string): boolean {
  return entries.has(id);
}
