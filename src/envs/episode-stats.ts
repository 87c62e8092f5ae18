/** Summary statistics of per-episode values (returns, lengths) and a loop that runs a policy for N episodes. */
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { Env } from './env.js';

/** Summary of a sample. `std` is the sample standard deviation (n - 1); `std` and `sem` are null for n < 2. */
export interface SampleSummary {
  mean: number;
  std: number | null;
  sem: number | null;
  median: number;
  p05: number;
  p95: number;
  min: number;
  max: number;
}

/** Percentile with linear interpolation between order statistics (numpy's default); `sorted` ascending. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Mean, sample std, standard error, median, 5th/95th percentiles, min and max of a non-empty sample. */
export function summarize(values: ArrayLike<number>): SampleSummary {
  const n = values.length;
  if (n === 0) throw new InvalidConfigError(formatError('summarize', 'at least one value', 'an empty sample', 'run at least one episode'));
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : null;
  return {
    mean,
    std,
    sem: std === null ? null : std / Math.sqrt(n),
    median: percentile(sorted, 0.5),
    p05: percentile(sorted, 0.05),
    p95: percentile(sorted, 0.95),
    min: sorted[0]!,
    max: sorted[n - 1]!,
  };
}

/** Chooses the action for step `t` (0-based) of the current episode. */
export type EpisodePolicy = (obs: unknown, t: number) => number;

export interface EpisodeRecord {
  return: number;
  /** Steps including the last. */
  length: number;
  /** True when the episode ended by truncation (time limit) rather than by the game's rules. */
  truncated: boolean;
}

export interface RunEpisodesOptions {
  /** Number of episodes (positive integer). */
  episodes: number;
  /** Seed of the first reset; later episodes continue the env's stream. */
  seed?: number;
  /** Called after each episode with the number finished so far. */
  onEpisode?: (done: number) => void;
}

/** Runs `policy` on `env` for whole episodes and returns one record per episode. */
export function runEpisodes(env: Env<any, number>, policy: EpisodePolicy, options: RunEpisodesOptions): EpisodeRecord[] {
  const { episodes, seed } = options;
  if (!Number.isInteger(episodes) || episodes < 1) throw new InvalidConfigError(formatError('runEpisodes', 'episodes to be a positive integer', describe(episodes), 'pass e.g. 100'));
  const records: EpisodeRecord[] = [];
  for (let e = 0; e < episodes; e++) {
    let { obs } = env.reset(e === 0 && seed !== undefined ? { seed } : {});
    let total = 0;
    let t = 0;
    for (;;) {
      const r = env.step(policy(obs, t));
      t++;
      total += r.reward;
      obs = r.obs;
      if (r.terminated || r.truncated) {
        records.push({ return: total, length: t, truncated: r.truncated && !r.terminated });
        break;
      }
    }
    options.onEpisode?.(e + 1);
  }
  return records;
}
