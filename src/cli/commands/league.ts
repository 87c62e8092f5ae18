import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { interleaveGames, leagueTable } from '../../train/selfplay/league.js';
import { loadMatchAgent, parseRunRef, playMatch } from '../../train/selfplay/match.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules } from '../imports.js';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

/** `npcforge league <run...>`: every pair of runs plays `--episodes` games; prints an Elo table. */
export function registerLeague(program: Command): void {
  program
    .command('league')
    .description('play every pair of runs of one multi-agent game and print an Elo table')
    .argument('<runs...>', 'run folders, each optionally <run>:<step> (a self-play pool snapshot, else a checkpoint)')
    .option('--episodes <n>', 'episodes per pair', intFlag('episodes', 1), 20)
    .option('--seed <n>', 'seed of the first episode of each pair (episode j: seed + j)', intFlag('seed', 0), 12345)
    .option('--json', 'print one JSON object: {episodes_per_pair, players: [{run, elo, wins, draws, losses, games}]}')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .addHelpText('after', '\nThe first run of a pair plays its seat (its self-play seat, else the first seat), the second every other seat; both act greedily.\nRatings start at 1200 and move by K = 16 per game, rated round by round (episode j of every pair before episode j + 1).')
    .action(async (refs: string[], f: { episodes: number; seed: number; json?: boolean; import: string[] }) => {
      if (refs.length < 2) throw new InvalidConfigError(formatError('league', 'at least two runs', `${refs.length}`, 'pass two or more run folders'));
      await importModules(f.import);
      const players: Array<Awaited<ReturnType<typeof loadMatchAgent>>> = [];
      try {
        for (const ref of refs) {
          await importRunModules(parseRunRef(ref).runDir);
          players.push(await loadMatchAgent(ref, players[0]?.run.game, 'league'));
        }
        const pairs: Array<{ a: number; b: number; returns: number[] }> = [];
        for (let a = 0; a < players.length; a++) {
          for (let b = a + 1; b < players.length; b++) {
            const p = players[a]!;
            const returns = await playMatch({ game: p.run.game, envOptions: p.run.run.envOptions, seat: p.seat, player: p.agent, opponent: { kind: 'agent', agent: players[b]!.agent }, episodes: f.episodes, seed: f.seed });
            pairs.push({ a, b, returns });
          }
        }
        const table = leagueTable(players.length, interleaveGames(pairs));
        if (f.json) {
          process.stdout.write(JSON.stringify({ episodes_per_pair: f.episodes, players: table.map((r) => ({ run: refs[r.player], elo: r.elo, wins: r.wins, draws: r.draws, losses: r.losses, games: r.games })) }) + '\n');
        } else {
          const width = Math.max(3, ...refs.map((r) => r.length));
          process.stdout.write(`${'#'.padEnd(3)} ${'run'.padEnd(width)} ${'elo'.padStart(7)} ${'win'.padStart(5)} ${'draw'.padStart(5)} ${'loss'.padStart(5)}\n`);
          table.forEach((r, i) => process.stdout.write(`${String(i + 1).padEnd(3)} ${refs[r.player]!.padEnd(width)} ${r.elo.toFixed(1).padStart(7)} ${String(r.wins).padStart(5)} ${String(r.draws).padStart(5)} ${String(r.losses).padStart(5)}\n`));
        }
      } finally {
        for (const p of players) p.agent.dispose();
      }
    });
}
