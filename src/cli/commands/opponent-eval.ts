/** `npcforge eval <run>[:step] --opponent bot|random|<run>[:step]`: win/draw/loss rates on a multi-agent game. */
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { readRunFile } from '../../train/run-folder.js';
import { loadMatchAgent, parseRunRef, playMatch, requireBot, summariseMatch, type MatchOpponent } from '../../train/selfplay/match.js';
import { importRunModules } from '../imports.js';

export const OPPONENT_HELP = 'multi-agent games: play against bot (the game\'s scripted opponent), random, or another run (<run>[:step]: a self-play pool snapshot, else a checkpoint) and print win/draw/loss rates';

/** `--seats a,b`: the seats the evaluated run plays (the first one's return is reported). */
export const SEATS_HELP = 'with --opponent: the seats the run plays, comma-separated (default: its learner seat); the first seat\'s return is reported, the opponent plays the others (tag: --seats chaser_0,chaser_1)';

/** Parses `--seats`: a comma-separated list of distinct names. */
export function parseSeats(v: string): string[] {
  const seats = v.split(',').map((x) => x.trim());
  if (!seats.length || seats.some((x) => x === '') || new Set(seats).size !== seats.length) {
    throw new InvalidConfigError(formatError('--seats', 'distinct seat names separated by commas', describe(v), 'pass e.g. --seats chaser_0,chaser_1'));
  }
  return seats;
}

export async function evalAgainstOpponent(runDir: string, f: { opponent: string; episodes: number; seed: number; checkpoint?: number; json?: boolean; seats?: string }): Promise<void> {
  if (f.opponent.trim() === '') throw new InvalidConfigError(formatError('--opponent', 'bot, random or <run>[:step]', describe(f.opponent), 'pass e.g. --opponent bot'));
  const own = parseRunRef(runDir);
  await importRunModules(own.runDir);
  // Refused before any weights are loaded.
  if (f.opponent === 'bot') requireBot(readRunFile(own.runDir).game);
  const seats = f.seats === undefined ? undefined : parseSeats(f.seats);
  const me = await loadMatchAgent(f.checkpoint === undefined ? runDir : `${own.runDir}:${f.checkpoint}`);
  let opponentAgent: Awaited<ReturnType<typeof loadMatchAgent>> | null = null;
  try {
    let opponent: MatchOpponent;
    if (f.opponent === 'bot' || f.opponent === 'random') opponent = { kind: f.opponent };
    else {
      await importRunModules(parseRunRef(f.opponent).runDir);
      opponentAgent = await loadMatchAgent(f.opponent, me.run.game);
      opponent = { kind: 'agent', agent: opponentAgent.agent };
    }
    const seat = seats?.[0] ?? me.seat;
    const returns = await playMatch({ game: me.run.game, envOptions: me.run.run.envOptions, seat, teamSeats: seats?.slice(1), player: me.agent, opponent, episodes: f.episodes, seed: f.seed });
    const s = summariseMatch(returns);
    if (f.json) process.stdout.write(JSON.stringify(s) + '\n');
    else {
      const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(`${me.run.game} ${me.label} (${seats ? seats.join(', ') : seat}) vs ${opponentAgent ? opponentAgent.label : f.opponent}: ${s.episodes} episodes, win ${pct(s.win_rate)}, draw ${pct(s.draw_rate)}, loss ${pct(s.loss_rate)}, mean return ${s.mean_return.toFixed(3)}\n`);
    }
  } finally {
    me.agent.dispose();
    opponentAgent?.agent.dispose();
  }
}
