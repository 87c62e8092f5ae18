/**
 * Elo ratings (the logistic form chess and Unity ML-Agents use): a player rated `r` is expected to
 * score `1 / (1 + 10^((rOpponent - r) / 400))` against an opponent rated `rOpponent` (1 = win,
 * 0.5 = draw, 0 = loss); after a game both move by `k * (score - expected)` in opposite directions,
 * so the sum of the ratings stays the same.
 */

/** ML-Agents' starting rating of a new learner. */
export const INITIAL_ELO = 1200;
/** ML-Agents' K-factor: the most a rating moves after one game (half of it after a draw). */
export const DEFAULT_ELO_K = 16;

/** Expected score of a player rated `rating` against one rated `opponent`. */
export function expectedScore(rating: number, opponent: number): number {
  return 1 / (1 + Math.pow(10, (opponent - rating) / 400));
}

/** The change of the first player's rating after a game it scored `score` in (the opponent's is its negative). */
export function eloChange(rating: number, opponent: number, score: number, k: number): number {
  return k * (score - expectedScore(rating, opponent));
}

/** 1 win, 0.5 draw, 0 loss from the sign of an episode return (zero-sum games: the return is the margin). */
export function scoreOfReturn(episodeReturn: number): 0 | 0.5 | 1 {
  return episodeReturn > 0 ? 1 : episodeReturn < 0 ? 0 : 0.5;
}

/** Games between two players: `games` played, `score` the points player `a` took (win 1, draw 0.5). */
export interface PairScore {
  a: number;
  b: number;
  games: number;
  score: number;
}

/**
 * Maximum-likelihood Elo ratings from all the games at once (the Bradley-Terry model with the Elo
 * curve `expectedScore`), so unlike sequential updates the order of the games does not matter.
 * A Gaussian prior centred on `mean` with deviation `priorSd` keeps an unbeaten (or winless)
 * player finite; `priorSd: Infinity` is the plain fit (then centred on `mean`). Newton steps on
 * each rating in turn until no rating moves by more than 1e-9.
 */
export function fitElo(players: number, pairs: readonly PairScore[], options: { mean?: number; priorSd?: number } = {}): number[] {
  const mean = options.mean ?? INITIAL_ELO;
  const sd = options.priorSd ?? 400;
  const c = Math.LN10 / 400;
  const r = new Array<number>(players).fill(mean);
  for (let iter = 0; iter < 10_000; iter++) {
    let moved = 0;
    for (let i = 0; i < players; i++) {
      // d/dr_i of log-likelihood and minus its second derivative (prior included).
      let grad = Number.isFinite(sd) ? -(r[i]! - mean) / (sd * sd) : 0;
      let hess = Number.isFinite(sd) ? 1 / (sd * sd) : 0;
      for (const p of pairs) {
        if (p.a !== i && p.b !== i) continue;
        const [other, score] = p.a === i ? [p.b, p.score] : [p.a, p.games - p.score];
        const e = expectedScore(r[i]!, r[other]!);
        grad += c * (score - p.games * e);
        hess += c * c * p.games * e * (1 - e);
      }
      if (hess <= 0) continue;
      const step = Math.max(-400, Math.min(400, grad / hess));
      r[i]! += step;
      moved = Math.max(moved, Math.abs(step));
    }
    if (moved < 1e-9) break;
  }
  if (!Number.isFinite(sd)) {
    const shift = mean - r.reduce((s, x) => s + x, 0) / players;
    for (let i = 0; i < players; i++) r[i]! += shift;
  }
  return r;
}
