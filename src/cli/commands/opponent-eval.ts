/** `npcforge eval <run>[:step] --opponent bot|random|<run>[:step]`: win/draw/loss rates on a multi-agent game. */
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { readRunFile } from '../../train/run-folder.js';
import { loadMatchAgent, parseRunRef, playMatch, requireBot, summariseMatch, type MatchOpponent } from '../../train/selfplay/match.js';
import { importRunModules } from '../imports.js';

export const OPPONENT_HELP = 'multi-agent games: play against bot (the game\'s scripted opponent), random, or another run (<run>[:step]: a self-play pool snapshot, else a checkpoint) and print win/draw/loss rates';

export async function evalAgainstOpponent(runDir: string, f: { opponent: string; episodes: number; seed: number; checkpoint?: number; json?: boolean }): Promise<void> {
  if (f.opponent.trim() === '') throw new InvalidConfigError(formatError('--opponent', 'bot, random or <run>[:step]', describe(f.opponent), 'pass e.g. --opponent bot'));
  const own = parseRunRef(runDir);
  await importRunModules(own.runDir);
  // Refused before any weights are loaded.
  if (f.opponent === 'bot') requireBot(readRunFile(own.runDir).game);
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
    const returns = await playMatch({ game: me.run.game, envOptions: me.run.run.envOptions, seat: me.seat, player: me.agent, opponent, episodes: f.episodes, seed: f.seed });
    const s = summariseMatch(returns);
    if (f.json) process.stdout.write(JSON.stringify(s) + '\n');
    else {
      const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(`${me.run.game} ${me.label} (${me.seat}) vs ${opponentAgent ? opponentAgent.label : f.opponent}: ${s.episodes} episodes, win ${pct(s.win_rate)}, draw ${pct(s.draw_rate)}, loss ${pct(s.loss_rate)}, mean return ${s.mean_return.toFixed(3)}\n`);
    }
  } finally {
    me.agent.dispose();
    opponentAgent?.agent.dispose();
  }
}
