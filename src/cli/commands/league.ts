import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { adjacentPairs, loadLadderPlayers, parseLadderRef, type AdjacentPair } from '../../export/ladder-league.js';
import { interleaveGames, leagueTable, playLeague, type LeaguePlayer } from '../../train/selfplay/league.js';
import { loadMatchAgent, parseRunRef } from '../../train/selfplay/match.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules } from '../imports.js';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

/** A league player with its name in the table and how to release it. */
type Player = LeaguePlayer & { label: string; dispose(): void };

/** `npcforge league <run...>`: every pair of runs (or ladder levels) plays `--episodes` games; prints an Elo table. */
export function registerLeague(program: Command): void {
  program
    .command('league')
    .description('play every pair of runs (or ladder levels) of one multi-agent game and print an Elo table')
    .argument('<runs...>', 'run folders, each optionally <run>:<step> (a self-play pool snapshot, else a checkpoint); or ladder folders (export --ladder: all their levels), each optionally <ladder>:<level>')
    .option('--episodes <n>', 'episodes per pair', intFlag('episodes', 1), 20)
    .option('--seed <n>', 'seed of the first episode of each pair (episode j: seed + j)', intFlag('seed', 0), 12345)
    .option('--json', 'print one JSON object: {episodes_per_pair, players: [{run, elo, wins, draws, losses, games}], ladders: [{ladder, pairs: [{lower, higher, games, wins, draws, losses, win_rate}]}]}')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .addHelpText('after', '\nIn the first half of a pair\'s games the first player (in the order given; a ladder\'s levels weakest first) plays its seat (its self-play seat, else the first seat) and the second every other seat; in the second half the seats are swapped. Both act greedily.\nRatings start at 1200 and move by K = 16 per game, rated round by round (episode j of every pair before episode j + 1).\nFor a whole ladder folder it also prints, per adjacent pair of levels, the higher level\'s win rate against the lower one.')
    .action(async (refs: string[], f: { episodes: number; seed: number; json?: boolean; import: string[] }) => {
      await importModules(f.import);
      const players: Player[] = [];
      const ladders: Array<{ dir: string; levels: Array<{ index: number; name: string }> }> = [];
      try {
        for (const ref of refs) {
          const ladderRef = parseLadderRef(ref);
          if (ladderRef) {
            const { players: levels } = await loadLadderPlayers(ladderRef, players[0]?.game);
            if (ladderRef.level === undefined) ladders.push({ dir: ladderRef.dir, levels: levels.map((l, i) => ({ index: players.length + i, name: l.level })) });
            for (const l of levels) players.push({ ...l, dispose: () => l.policy.dispose() });
            continue;
          }
          await importRunModules(parseRunRef(ref).runDir);
          const m = await loadMatchAgent(ref, players[0]?.game, 'league');
          players.push({ label: ref, actor: m.agent, game: m.run.game, envOptions: m.run.run.envOptions, seat: m.seat, dispose: () => m.agent.dispose() });
        }
        if (players.length < 2) throw new InvalidConfigError(formatError('league', 'at least two players (runs, snapshots or ladder levels)', `${players.length}`, 'pass two or more run folders, or a ladder folder'));
        const pairs = await playLeague(players, { episodes: f.episodes, seed: f.seed });
        const table = leagueTable(players.length, interleaveGames(pairs));
        const ladderPairs = ladders.map((l) => ({ ladder: l.dir, pairs: adjacentPairs(pairs, l.levels) }));
        if (f.json) {
          process.stdout.write(JSON.stringify({ episodes_per_pair: f.episodes, players: table.map((r) => ({ run: players[r.player]!.label, elo: r.elo, wins: r.wins, draws: r.draws, losses: r.losses, games: r.games })), ladders: ladderPairs }) + '\n');
        } else {
          const width = Math.max(3, ...players.map((p) => p.label.length));
          process.stdout.write(`${'#'.padEnd(3)} ${'run'.padEnd(width)} ${'elo'.padStart(7)} ${'win'.padStart(5)} ${'draw'.padStart(5)} ${'loss'.padStart(5)}\n`);
          table.forEach((r, i) => process.stdout.write(`${String(i + 1).padEnd(3)} ${players[r.player]!.label.padEnd(width)} ${r.elo.toFixed(1).padStart(7)} ${String(r.wins).padStart(5)} ${String(r.draws).padStart(5)} ${String(r.losses).padStart(5)}\n`));
          for (const l of ladderPairs) process.stdout.write(formatAdjacent(l.ladder, l.pairs));
        }
      } finally {
        for (const p of players) p.dispose();
      }
    });
}

/** The adjacent-pair lines of one ladder: the higher level's record against the level below it. */
export function formatAdjacent(ladder: string, pairs: readonly AdjacentPair[]): string {
  const width = Math.max(...pairs.map((p) => `${p.higher} vs ${p.lower}`.length));
  const lines = pairs.map((p) => `${`${p.higher} vs ${p.lower}`.padEnd(width)} ${`${(100 * p.win_rate).toFixed(1)}%`.padStart(6)}  (${p.wins} won, ${p.draws} drawn, ${p.losses} lost of ${p.games})\n`);
  const lowest = Math.min(...pairs.map((p) => p.win_rate));
  return `\nladder ${ladder}: the higher level's win rate against the level below\n${lines.join('')}lowest: ${(100 * lowest).toFixed(1)}%\n`;
}
