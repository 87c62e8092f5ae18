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
