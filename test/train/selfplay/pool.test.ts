import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../src/errors.js';
import { eloChange, expectedScore, scoreOfReturn } from '../../../src/train/selfplay/elo.js';
import { DEFAULT_SELFPLAY, resolveSelfPlayConfig } from '../../../src/train/selfplay/config.js';
import { OpponentPool } from '../../../src/train/selfplay/pool.js';
import { InvalidConfigError } from '../../../src/errors.js';

/** Bound on |frequency - p| over n Bernoulli(p) draws: 5 standard deviations (false alarm < 1e-6). */
function bound(p: number, n: number): number {
  return 5 * Math.sqrt((p * (1 - p)) / n);
}

describe('Elo', () => {
  it('matches hand-computed values', () => {
    expect(expectedScore(1200, 1200)).toBe(0.5);
    // 400 points apart: 10 to 1 odds.
    expect(expectedScore(1600, 1200)).toBeCloseTo(10 / 11, 12);
    expect(eloChange(1200, 1200, 1, 16)).toBe(8);
    expect(eloChange(1200, 1200, 0.5, 16)).toBe(0);
    expect(eloChange(1600, 1200, 0, 16)).toBeCloseTo(-16 * (10 / 11), 12);
    expect([scoreOfReturn(3), scoreOfReturn(0), scoreOfReturn(-0.2)]).toEqual([1, 0.5, 0]);
  });
});

describe('OpponentPool', () => {
  it('plays the latest policy with probability playLatestProb and past snapshots uniformly over the window', () => {
    for (const p of [0.5, 0.2]) {
      const pool = new OpponentPool({ ...DEFAULT_SELFPLAY, playLatestProb: p, window: 4 }, 7);
      for (let s = 0; s < 6; s++) pool.add(s * 100);
      const n = 20_000;
      const counts = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const o = pool.swap();
        const key = o.kind === 'latest' ? 'latest' : String(o.step);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      expect(Math.abs((counts.get('latest') ?? 0) / n - p)).toBeLessThan(bound(p, n));
      // Only the 4 newest snapshots are played, each with probability (1 - p) / 4.
      expect([...counts.keys()].sort()).toEqual(['200', '300', '400', '500', 'latest']);
      for (const s of ['200', '300', '400', '500']) expect(Math.abs(counts.get(s)! / n - (1 - p) / 4)).toBeLessThan(bound((1 - p) / 4, n));
    }
  });

  it('plays the latest policy while the pool is empty', () => {
    const pool = new OpponentPool({ ...DEFAULT_SELFPLAY, playLatestProb: 0 }, 1);
    expect(pool.swap()).toEqual({ kind: 'latest' });
    pool.add(5);
    expect(pool.swap()).toEqual({ kind: 'snapshot', step: 5 });
  });

  it('rates games against snapshots only, zero-sum, and round-trips its state exactly', () => {
    const pool = new OpponentPool({ ...DEFAULT_SELFPLAY, playLatestProb: 0, k: 16 }, 3);
    pool.add(0);
    expect(pool.record(1)).toBe(false); // still playing 'latest' before the first swap
    pool.swap();
    expect(pool.record(1)).toBe(true);
    expect(pool.elo).toBe(1208);
    expect(pool.list()[0]).toEqual({ step: 0, rating: 1192, games: 1 });
    pool.add(10); // joins at the learner's rating
    expect(pool.list()[1]!.rating).toBe(1208);
    const saved = JSON.parse(JSON.stringify(pool.getState()));
    const a = Array.from({ length: 20 }, () => (pool.swap(), pool.record(0), pool.elo));
    const other = new OpponentPool({ ...DEFAULT_SELFPLAY, playLatestProb: 0, k: 16 }, 99);
    other.setState(saved);
    const b = Array.from({ length: 20 }, () => (other.swap(), other.record(0), other.elo));
    expect(b).toEqual(a);
    const sum = (x: OpponentPool) => x.elo + x.list().reduce((s, e) => s + e.rating, 0);
    expect(sum(pool)).toBeCloseTo(3 * 1200 + 8, 9);
  });

  it('refuses a corrupt state', () => {
    const pool = new OpponentPool(DEFAULT_SELFPLAY, 0);
    const state = pool.getState();
    expect(() => pool.setState({ ...state, opponent: { kind: 'snapshot', step: 3 } })).toThrow(CheckpointError);
    expect(() => pool.setState({ ...state, learnerElo: Number.NaN })).toThrow(/\[selfplay pool\] expected .*; fix: /);
  });
});

describe('resolveSelfPlayConfig', () => {
  it('fills defaults and reports every bad field at once', () => {
    expect(resolveSelfPlayConfig({})).toEqual(DEFAULT_SELFPLAY);
    expect(resolveSelfPlayConfig({ window: 3, agent: 'left' }, ['right', 'left'])).toMatchObject({ window: 3, agent: 'left' });
    let err: unknown;
    try {
      resolveSelfPlayConfig({ window: 0, playLatestProb: 2, agent: 'middle', extra: 1 }, ['right', 'left']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    const m = (err as Error).message;
    for (const w of ['window = 0', 'playLatestProb = 2', 'agent = "middle"', '"extra" is not']) expect(m).toContain(w);
  });

  it('checks randomSeats against the seats: distinct known names, at least one seat left, not the learner\'s', () => {
    const seats = ['chaser_0', 'chaser_1', 'evader'];
    expect(resolveSelfPlayConfig({ randomSeats: ['evader'] }, seats).randomSeats).toEqual(['evader']);
    const bad: Array<[unknown, string]> = [
      [{ randomSeats: ['prey'] }, 'randomSeats = ["prey"] (want distinct seat names of chaser_0'],
      [{ randomSeats: ['evader', 'evader'] }, 'want distinct seat names'],
      [{ randomSeats: 'evader' }, 'randomSeats = "evader"'],
      [{ randomSeats: seats }, 'leaves no seat for the learner'],
      [{ randomSeats: ['evader'], agent: 'evader' }, "has the learner's seat evader"],
    ];
    for (const [given, want] of bad) expect(() => resolveSelfPlayConfig(given, seats)).toThrow(want);
  });
});

describe('league and match summaries', () => {
  it('rates games in order from 1200 with K = 16 (hand-computed)', async () => {
    const { leagueTable, interleaveGames } = await import('../../../src/train/selfplay/league.js');
    // Pair (0, 1): 0 wins, then draws. Game 1: +8 / -8. Game 2: 1208 vs 1192, draw: 16 * (0.5 - E).
    const games = interleaveGames([{ a: 0, b: 1, returns: [2, 0] }]);
    expect(games).toEqual([{ a: 0, b: 1, score: 1 }, { a: 0, b: 1, score: 0.5 }]);
    const t = leagueTable(2, games);
    const e = 1 / (1 + Math.pow(10, -16 / 400));
    expect(t[0]).toMatchObject({ player: 0, wins: 1, draws: 1, losses: 0, games: 2 });
    expect(t[0]!.elo).toBeCloseTo(1208 + 16 * (0.5 - e), 10);
    expect(t[1]!.elo).toBeCloseTo(1192 - 16 * (0.5 - e), 10);
    // Round by round: episode 0 of every pair before episode 1.
    expect(interleaveGames([{ a: 0, b: 1, returns: [1, -1] }, { a: 0, b: 2, returns: [-1] }]).map((g) => `${g.b}:${g.score}`)).toEqual(['1:1', '2:0', '1:0']);
  });

  it('summarises a match from the return signs', async () => {
    const { summariseMatch } = await import('../../../src/train/selfplay/match.js');
    expect(summariseMatch([3, -1, 0, 2])).toEqual({ episodes: 4, win_rate: 0.5, draw_rate: 0.25, loss_rate: 0.25, mean_return: 1 });
  });
});
