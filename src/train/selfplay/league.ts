/** `npcforge league`: every pair of runs plays a match; an Elo table from the results. */
import { INITIAL_ELO, DEFAULT_ELO_K, eloChange, scoreOfReturn } from './elo.js';

/** One game: player `a` scored `score` (1, 0.5, 0) against player `b`. */
export interface LeagueGame {
  a: number;
  b: number;
  score: number;
}

export interface LeagueRow {
  player: number;
  elo: number;
  wins: number;
  draws: number;
  losses: number;
  games: number;
}

/**
 * Elo ratings from games in the given order: everyone starts at `initial`, each game moves both
 * players by `k * (score - expected)`. Rows sorted by rating, highest first.
 */
export function leagueTable(players: number, games: readonly LeagueGame[], k = DEFAULT_ELO_K, initial = INITIAL_ELO): LeagueRow[] {
  const rows: LeagueRow[] = Array.from({ length: players }, (_, player) => ({ player, elo: initial, wins: 0, draws: 0, losses: 0, games: 0 }));
  for (const g of games) {
    const a = rows[g.a]!;
    const b = rows[g.b]!;
    const d = eloChange(a.elo, b.elo, g.score, k);
    a.elo += d;
    b.elo -= d;
    a.games++;
    b.games++;
    if (g.score === 1) (a.wins++, b.losses++);
    else if (g.score === 0) (a.losses++, b.wins++);
    else (a.draws++, b.draws++);
  }
  return [...rows].sort((x, y) => y.elo - x.elo || x.player - y.player);
}

/**
 * The games of a league in rating order: match results `returns[pair][episode]` (from the first
 * player's seat) interleaved round by round, so no pair's games all come last.
 */
export function interleaveGames(pairs: ReadonlyArray<{ a: number; b: number; returns: readonly number[] }>): LeagueGame[] {
  const games: LeagueGame[] = [];
  const rounds = Math.max(0, ...pairs.map((p) => p.returns.length));
  for (let j = 0; j < rounds; j++) for (const p of pairs) if (j < p.returns.length) games.push({ a: p.a, b: p.b, score: scoreOfReturn(p.returns[j]!) });
  return games;
}
