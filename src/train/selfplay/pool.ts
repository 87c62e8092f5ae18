/**
 * The opponent pool of self-play (Unity ML-Agents' ghost trainer, in its parts that do not touch
 * the network): the steps of past snapshots of the learner, the swap draw that picks who plays
 * the other seats, and the Elo ratings of the learner and of every snapshot. Weights live on disk
 * (`SelfPlay`); this class holds only numbers, so its state round-trips through a checkpoint exactly.
 */
import { CheckpointError, describe, formatError } from '../../errors.js';
import { SeededRng, type RngState } from '../../envs/rng.js';
import type { SelfPlaySettings } from './config.js';
import { eloChange } from './elo.js';

/** Who plays the other seats: the learner's current weights, or the snapshot taken at `step`. */
export type Opponent = { kind: 'latest' } | { kind: 'snapshot'; step: number };

export interface PoolEntry {
  /** Env step the snapshot was taken at (its name in `<run>/pool/`). */
  step: number;
  /** Its Elo rating. */
  rating: number;
  /** Rated episodes it played. */
  games: number;
}

/** Everything a checkpoint stores of the pool (JSON-safe). */
export interface PoolState {
  entries: PoolEntry[];
  learnerElo: number;
  ratedGames: number;
  opponent: Opponent;
  rng: RngState;
}

/** The name of an opponent in metrics and messages: `latest` or the snapshot's step. */
export function opponentName(o: Opponent): string {
  return o.kind === 'latest' ? 'latest' : String(o.step);
}

export class OpponentPool {
  private entries: PoolEntry[] = [];
  private learnerElo: number;
  private ratedGames = 0;
  private current: Opponent = { kind: 'latest' };
  private rng: SeededRng;

  constructor(private readonly settings: Pick<SelfPlaySettings, 'playLatestProb' | 'window' | 'k' | 'initialElo'>, seed: number | string) {
    this.learnerElo = settings.initialElo;
    this.rng = new SeededRng(seed);
  }

  /** A snapshot taken at `step` joins the pool at the learner's current rating (as in ML-Agents). */
  add(step: number): void {
    this.entries.push({ step, rating: this.learnerElo, games: 0 });
  }

  /**
   * Picks the next opponent: the current policy with probability `playLatestProb` (always while
   * the pool is empty), else one of the `window` newest snapshots, uniformly.
   */
  swap(): Opponent {
    const u = this.rng.random();
    if (this.entries.length === 0 || u < this.settings.playLatestProb) this.current = { kind: 'latest' };
    else {
      const recent = this.entries.slice(-this.settings.window);
      this.current = { kind: 'snapshot', step: recent[this.rng.int(0, recent.length)]!.step };
    }
    return this.current;
  }

  get opponent(): Opponent {
    return this.current;
  }

  /** The learner's Elo rating. */
  get elo(): number {
    return this.learnerElo;
  }

  /** Finished episodes that moved the ratings. */
  get rated(): number {
    return this.ratedGames;
  }

  /** The snapshots, oldest first (copies). */
  list(): PoolEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /**
   * Rates one finished episode of the learner against the current opponent (`score` 1, 0.5 or 0).
   * Against the latest policy nothing moves: a game against itself says nothing about its strength.
   * Returns whether the ratings changed.
   */
  record(score: number): boolean {
    if (this.current.kind === 'latest') return false;
    const step = this.current.step;
    const entry = this.entries.find((e) => e.step === step)!;
    const d = eloChange(this.learnerElo, entry.rating, score, this.settings.k);
    this.learnerElo += d;
    entry.rating -= d;
    entry.games++;
    this.ratedGames++;
    return true;
  }

  getState(): PoolState {
    return { entries: this.list(), learnerElo: this.learnerElo, ratedGames: this.ratedGames, opponent: { ...this.current }, rng: this.rng.getState() };
  }

  /** Restores `getState()` (checked: it comes from a checkpoint file). */
  setState(state: PoolState): void {
    const bad = (what: string): never => {
      throw new CheckpointError(formatError('selfplay pool', 'the pool state written by a checkpoint', what, 'the checkpoint is corrupt; resume from another one (train --resume <run> --checkpoint <step>)'));
    };
    if (!state || typeof state !== 'object' || !Array.isArray(state.entries)) bad(`pool state ${describe(state)}`);
    const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    for (const e of state.entries) if (!e || !Number.isSafeInteger(e.step) || e.step < 0 || !finite(e.rating) || !Number.isSafeInteger(e.games) || e.games < 0) bad(`a pool entry ${describe(e)}`);
    if (!finite(state.learnerElo) || !Number.isSafeInteger(state.ratedGames)) bad('the learner rating or game count');
    const o = state.opponent;
    if (!o || (o.kind !== 'latest' && !(o.kind === 'snapshot' && state.entries.some((e) => e.step === o.step)))) bad(`opponent ${describe(o)}`);
    if (!state.rng || state.rng.kind !== 'alea') bad('its RNG state');
    this.entries = state.entries.map((e) => ({ step: e.step, rating: e.rating, games: e.games }));
    this.learnerElo = state.learnerElo;
    this.ratedGames = state.ratedGames;
    this.current = o.kind === 'latest' ? { kind: 'latest' } : { kind: 'snapshot', step: o.step };
    this.rng.setState(state.rng);
  }
}
