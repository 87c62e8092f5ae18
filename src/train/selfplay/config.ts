/**
 * Self-play settings (`selfplay` in a run's config.json), Unity ML-Agents' knobs with its defaults
 * except where noted.
 */
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { DEFAULT_ELO_K, INITIAL_ELO } from './elo.js';

export interface SelfPlaySettings {
  /** Env steps (summed over sub-envs) between snapshots of the learner added to the pool. */
  saveEvery: number;
  /** Env steps between opponent swaps: at each swap the other seats get a new opponent. */
  swapEvery: number;
  /** Probability that a swap picks the current policy itself instead of a past snapshot. */
  playLatestProb: number;
  /** Most recent snapshots a swap picks from (older ones stay on disk but are not played). */
  window: number;
  /** Elo K-factor: the most a rating moves after one finished episode. */
  k: number;
  /** Starting Elo of the learner (a snapshot starts at the learner's rating when it is taken). */
  initialElo: number;
  /**
   * The seat the learner plays in every sub-env, or null: sub-env i plays seat
   * `possibleAgents[i mod n]`, so one shared policy learns every seat (pong's two mirrored paddles;
   * tag's chasers and evader, told apart by its observation).
   */
  agent: string | null;
  /**
   * Seats played by uniformly random actions for the whole run instead of the pool (default none):
   * the learner never plays them (tag: chasers trained against a random evader, `["evader"]`).
   */
  randomSeats: string[];
}

export const DEFAULT_SELFPLAY: SelfPlaySettings = {
  saveEvery: 20_000,
  swapEvery: 2_000,
  playLatestProb: 0.5,
  window: 10,
  k: DEFAULT_ELO_K,
  initialElo: INITIAL_ELO,
  agent: null,
  randomSeats: [],
};

const KEYS = Object.keys(DEFAULT_SELFPLAY) as Array<keyof SelfPlaySettings>;

/**
 * Fills in the defaults and checks every field (untrusted: it may come from a run folder's
 * config.json); reports every bad or unknown field at once. `possibleAgents` checks `agent`.
 */
export function resolveSelfPlayConfig(partial: unknown, possibleAgents?: readonly string[], component = 'selfplay'): SelfPlaySettings {
  if (partial === undefined || partial === null) partial = {};
  if (typeof partial !== 'object' || Array.isArray(partial)) {
    throw new InvalidConfigError(formatError(component, 'an object of self-play settings', describe(partial), `pass e.g. { "saveEvery": 20000 } (keys ${KEYS.join(', ')})`));
  }
  const p = partial as Record<string, unknown>;
  const errs: string[] = [];
  for (const key of Object.keys(p)) if (!(KEYS as string[]).includes(key)) errs.push(`${describe(key)} is not a self-play setting`);
  const out = { ...DEFAULT_SELFPLAY };
  const int = (key: 'saveEvery' | 'swapEvery' | 'window', min: number): void => {
    if (p[key] === undefined) return;
    const v = p[key];
    if (Number.isSafeInteger(v) && (v as number) >= min) out[key] = v as number;
    else errs.push(`${key} = ${describe(v)} (want an integer >= ${min})`);
  };
  int('saveEvery', 1);
  int('swapEvery', 1);
  int('window', 1);
  const num = (key: 'playLatestProb' | 'k' | 'initialElo', ok: (x: number) => boolean, want: string): void => {
    if (p[key] === undefined) return;
    const v = p[key];
    if (typeof v === 'number' && Number.isFinite(v) && ok(v)) out[key] = v;
    else errs.push(`${key} = ${describe(v)} (want ${want})`);
  };
  num('playLatestProb', (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  num('k', (x) => x > 0 && x <= 400, 'a number in (0, 400]');
  num('initialElo', (x) => Math.abs(x) <= 1e6, 'a finite number');
  if (p.agent !== undefined && p.agent !== null) {
    if (typeof p.agent !== 'string' || (possibleAgents && !possibleAgents.includes(p.agent))) errs.push(`agent = ${describe(p.agent)} (want ${possibleAgents ? `one of ${possibleAgents.join(', ')}` : 'a seat name'}, or null)`);
    else out.agent = p.agent;
  }
  if (p.randomSeats !== undefined) {
    const v = p.randomSeats;
    const shown = Array.isArray(v) ? JSON.stringify(v).slice(0, 120) : describe(v);
    const seats = Array.isArray(v) && v.length <= 64 && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
    if (!seats || new Set(seats).size !== seats.length || (possibleAgents && seats.some((x) => !possibleAgents.includes(x)))) errs.push(`randomSeats = ${shown} (want distinct seat names${possibleAgents ? ` of ${possibleAgents.join(', ')}` : ''})`);
    else if (possibleAgents && seats.length >= possibleAgents.length) errs.push(`randomSeats = ${shown} leaves no seat for the learner`);
    else if (out.agent !== null && seats.includes(out.agent)) errs.push(`randomSeats = ${shown} has the learner's seat ${out.agent}`);
    else out.randomSeats = [...seats];
  }
  if (errs.length) throw new InvalidConfigError(formatError(component, 'valid self-play settings', errs.join('; '), `fix the listed fields (defaults: ${JSON.stringify(DEFAULT_SELFPLAY)})`));
  return out;
}
