/**
 * The contract shared by the five MinAtar games (shared/specs/minatar.md): pure game logic on a
 * 10x10 grid, no tensors, no drawing. `MinAtarEnv` owns the RNG, sticky actions and observations.
 */
import type { MT19937 } from '../../src/envs/rng.js';

/** Grid side length (cells). */
export const GRID = 10;

/** Full MinAtar action ids. */
export const NOOP = 0;
export const LEFT = 1;
export const UP = 2;
export const RIGHT = 3;
export const DOWN = 4;
export const FIRE = 5;

/** Names of the full action set, indexed by action id. */
export const FULL_ACTION_NAMES: readonly string[] = ['noop', 'left', 'up', 'right', 'down', 'fire'];

export type MinAtarGameName = 'asterix' | 'breakout' | 'freeway' | 'seaquest' | 'space_invaders';

/** Options every game constructor takes. */
export interface GameOptions {
  /** Difficulty ramping (asterix, seaquest, space_invaders; ignored by the others). */
  ramping: boolean;
}

/** One MinAtar game: its state, reset and step. */
export interface MinAtarGame {
  /** Channel names, in channel order. */
  readonly channels: readonly string[];
  /** Minimal action set (full action ids, increasing). */
  readonly minimalActions: readonly number[];
  /** True once the episode has ended; `step` then does nothing. */
  readonly terminal: boolean;
  /** Starts a new episode; the game keeps `rng` and draws from it in later steps. */
  reset(rng: MT19937): void;
  /**
   * Advances one step with a full action id (ids outside the minimal set act as no-op) and returns
   * the reward; read `terminal` afterwards. Returns 0 and changes nothing once terminal.
   */
  step(action: number): number;
  /** Writes the observation `[10, 10, C]` (row-major, 0/1) into `out`, which must be all zeros. */
  writeObs(out: Uint8Array): void;
  /** JSON-safe copy of the full game state (the RNG is not included). */
  getState(): Record<string, unknown>;
  /** Restores a state from `getState`. */
  setState(state: Record<string, unknown>): void;
}
