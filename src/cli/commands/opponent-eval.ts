/**
 * `npcforge eval <run>[:step] --opponent bot|random|<run>[:step]`: win/draw/loss rates on a
 * multi-agent game; `npcforge record <run> --opponent ...` (and `eval --opponent --record N`):
 * the same matches (`playMatch`), recorded as episode files.
 */
import { basename, join } from 'node:path';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { readRunFile } from '../../train/run-folder.js';
import { loadMatchAgent, parseRunRef, playMatch, requireBot, summariseMatch, type MatchOpponent, type MatchRecorder } from '../../train/selfplay/match.js';
import { RecordEpisode, type RecordedFile } from '../../replay/episodes/record-episode.js';
import { RecordMultiAgentEpisode } from '../../replay/episodes/record-multi-agent.js';
import { episodeName } from '../../replay/episodes/episode-name.js';
import type { StepAnnotation } from '../../replay/episodes/format.js';
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

/** The loaded players of a match: the run's seat (the first of `--seats`, else its learner seat) and team seats, the opponent. */
type MatchPlayers = { me: Awaited<ReturnType<typeof loadMatchAgent>>; seat: string; team: string[]; opponent: MatchOpponent; opponentLabel: string; opponentArg: string };

/** Loads the run's agent and the opponent (refusing a bad `--opponent` or `--seats` before any weights load), runs `fn`, disposes both. */
async function withMatchPlayers(runDir: string, f: { opponent: string; checkpoint?: number; seats?: string }, fn: (p: MatchPlayers) => Promise<void>): Promise<void> {
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
    await fn({ me, seat: seats?.[0] ?? me.seat, team: seats?.slice(1) ?? [], opponent, opponentLabel: opponentAgent ? opponentAgent.label : f.opponent, opponentArg: f.opponent });
  } finally {
    me.agent.dispose();
    opponentAgent?.agent.dispose();
  }
}

export async function evalAgainstOpponent(runDir: string, f: { opponent: string; episodes: number; seed: number; checkpoint?: number; json?: boolean; seats?: string; record?: number; out?: string }): Promise<void> {
  await withMatchPlayers(runDir, f, async (p) => {
    const { me, seat, team, opponent, opponentLabel } = p;
    const returns = await playMatch({ game: me.run.game, envOptions: me.run.run.envOptions, seat, teamSeats: team, player: me.agent, opponent, episodes: f.episodes, seed: f.seed });
    const s = summariseMatch(returns);
    if (f.json) process.stdout.write(JSON.stringify(s) + '\n');
    else {
      const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(`${me.run.game} ${me.label} (${[seat, ...team].join(', ')}) vs ${opponentLabel}: ${s.episodes} episodes, win ${pct(s.win_rate)}, draw ${pct(s.draw_rate)}, loss ${pct(s.loss_rate)}, mean return ${s.mean_return.toFixed(3)}\n`);
    }
    // The first N episodes again (same seeds, greedy players: the same games), recorded; listed on stderr with --json.
    if (f.record) await recordMatch(p, { runDir, episodes: Math.min(f.record, f.episodes), seed: f.seed, out: f.out, print: f.json ? (l) => process.stderr.write(l) : undefined });
  });
}

/** `npcforge record <run> --opponent ...`: records `episodes` matches to `<run>/episodes` (or `out`). */
export async function recordAgainstOpponent(runDir: string, f: { opponent: string; episodes: number; seed: number; checkpoint?: number; out?: string; keyframeInterval?: number | 'auto' }): Promise<void> {
  await withMatchPlayers(runDir, f, (p) => recordMatch(p, { runDir, ...f }));
}

/**
 * Plays and records the matches: a multi-agent episode per match (every seat's actions and the
 * agents' values; the player's seat is the learner), or against `bot` the single-agent game the
 * bot plays in. File names `vs-<opponent>-s<seed>-e<index>`.
 */
async function recordMatch({ me, seat, team, opponent, opponentLabel, opponentArg }: MatchPlayers, o: { runDir: string; episodes: number; seed: number; out?: string; keyframeInterval?: number | 'auto'; print?: (line: string) => void }): Promise<void> {
  const dir = o.out ?? join(parseRunRef(o.runDir).runDir, 'episodes');
  const ref = opponent.kind === 'agent' ? parseRunRef(opponentArg) : null;
  const source = `vs-${ref ? `${basename(ref.runDir)}${ref.step === undefined ? '' : `-${ref.step}`}` : opponent.kind}`;
  const name = (seed: number | null): string => episodeName({ source, seed, index: (seed ?? o.seed) - o.seed });
  const meta = { run: basename(parseRunRef(o.runDir).runDir), player: me.label, seat, ...(team.length ? { team } : {}), opponent: opponentLabel };
  const print = o.print ?? ((line: string) => process.stdout.write(line));
  const onEpisode = (file: RecordedFile): void => print(`${file.path}  steps ${file.steps}  return ${file.return}  ${(file.bytes / 1024).toFixed(1)} KB\n`);
  const annotators: Array<(seat: string, a: StepAnnotation) => void> = [];
  const recorder: MatchRecorder = {
    wrapMultiAgent: (multi, slot) => {
      const controllers = Object.fromEntries(multi.possibleAgents.map((a) => [a, a === seat || team.includes(a) ? me.label : opponentLabel]));
      const rec = new RecordMultiAgentEpisode(multi, { dir, name: (_, s) => name(s), controllers, learner: seat, meta, keyframeInterval: o.keyframeInterval, onEpisode });
      annotators[slot] = (seat, a) => rec.annotateNext(seat, a);
      return rec;
    },
    wrapBotGame: (env, slot) => {
      const rec = new RecordEpisode(env, { dir, name: (_, s) => name(s), meta, keyframeInterval: o.keyframeInterval, onEpisode });
      annotators[slot] = (_seat, a) => rec.annotateNext(a);
      return rec;
    },
    annotate: (slot, seat, info) => {
      if (info.q || info.probs || info.value !== undefined) annotators[slot]!(seat, info);
    },
  };
  await playMatch({ game: me.run.game, envOptions: me.run.run.envOptions, seat, teamSeats: team, player: me.agent, opponent, episodes: o.episodes, seed: o.seed, recorder });
}
