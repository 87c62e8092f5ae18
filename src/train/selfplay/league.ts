/** `npcforge league`: every pair of runs plays a match; an Elo table from the results. */
import { INITIAL_ELO, DEFAULT_ELO_K, eloChange, scoreOfReturn } from './elo.js';
import { playMatch, type MatchActor } from './match.js';

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

/** One player of a league: what acts, in which game and seat. */
export interface LeaguePlayer {
  actor: MatchActor;
  game: string;
  envOptions: Record<string, unknown>;
  /** The seat it plays when it is the first of a pair. */
  seat: string;
}

/** The results of one pair: player `a` (first, in its seat) against `b` (every other seat); `returns` from a's seat. */
export interface LeaguePair {
  a: number;
  b: number;
  returns: number[];
}

/**
 * Round robin: every pair (a < b) plays `episodes` games with episode j reset with seed `seed + j`
 * (the same seeds for every pair). In the first ceil(episodes / 2) games a plays its seat and b
 * every other seat; in the rest b plays its seat and a the others, so a side's advantage (pong's
 * serve, tag's roles) is shared out. Returns are from a's side: in the swapped games, the negated
 * return of b's seat (zero-sum games: the margin is the other side's loss).
 */
export async function playLeague(players: readonly LeaguePlayer[], o: { episodes: number; seed: number }): Promise<LeaguePair[]> {
  const pairs: LeaguePair[] = [];
  const first = Math.ceil(o.episodes / 2);
  const play = (p: LeaguePlayer, q: LeaguePlayer, episodes: number, seed: number): Promise<number[]> => (episodes > 0 ? playMatch({ game: p.game, envOptions: p.envOptions, seat: p.seat, player: p.actor, opponent: { kind: 'agent', agent: q.actor }, episodes, seed }) : Promise.resolve([]));
  for (let a = 0; a < players.length; a++) {
    for (let b = a + 1; b < players.length; b++) {
      const [pa, pb] = [players[a]!, players[b]!];
      const asA = await play(pa, pb, first, o.seed);
      const asB = await play(pb, pa, o.episodes - first, o.seed + first);
      pairs.push({ a, b, returns: [...asA, ...asB.map((r) => (r === 0 ? 0 : -r))] });
    }
  }
  return pairs;
}

/** Games, wins and draws of player `who` (one of the pair) in a pair's results. */
export function pairRecord(pair: LeaguePair, who: number): { games: number; wins: number; draws: number } {
  const sign = who === pair.a ? 1 : -1;
  let wins = 0;
  let draws = 0;
  for (const r of pair.returns) {
    if (r * sign > 0) wins++;
    else if (r === 0) draws++;
  }
  return { games: pair.returns.length, wins, draws };
}
