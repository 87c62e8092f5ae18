/**
 * `ladder.json`: the manifest of a difficulty ladder (`npcforge export <run> --ladder N`). The
 * ladder folder holds it and one ordinary policy bundle per level, in a subfolder named after the
 * level. Levels are listed weakest first. Browser-safe (no Node built-ins): the runtime reads it.
 */
import { CheckpointError, UnsupportedVersionError, describe, formatError } from '../errors.js';

export const LADDER_FORMAT = 'npcforge-ladder';
export const LADDER_VERSION = 1;
/** Largest ladder.json, in bytes. */
export const MAX_LADDER_JSON_BYTES = 64 << 10;
/** Most levels a ladder may list. */
export const MAX_LADDER_LEVELS = 64;
/**
 * A level name or alias: also the name of the level's bundle folder, so it must be one plain path
 * segment that means the same on every file system and in a URL.
 */
export const LADDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

export interface LadderLevel {
  /** The level's name and the name of its bundle folder (`level-1`, ...). */
  name: string;
  /** Other names the runtime accepts for it (`easy`, `medium`, `hard` in a ladder of 3). */
  aliases: string[];
  /** Env step of the pool snapshot the level was exported from. */
  step: number;
  /** Its Elo rating (from the export's league, or from training when the league was skipped). */
  elo: number;
  /** Share of the league games it won against the level below; null for the first level or without a league. */
  winRateVsBelow: number | null;
}

export interface LadderFile {
  format: typeof LADDER_FORMAT;
  version: number;
  /** Game id every level was trained on. */
  game: string;
  /** The multi-agent seat the levels play (the run's self-play seat). */
  seat: string;
  /** Where `elo` comes from: the export's round-robin `league`, or the run's `training` ratings. */
  rating: 'league' | 'training';
  /** League games per pair of candidates (0 when rated by training). */
  gamesPerPair: number;
  /** Run folder name the snapshots come from (information only). */
  run: string;
  /** Weakest first. */
  levels: LadderLevel[];
  createdAt: string;
}

function bad(expected: string, received: string): never {
  throw new CheckpointError(formatError('ladder.json', expected, received, 'export the ladder again with npcforge export <run> --ladder N'));
}

/** Parses and checks a ladder.json text (untrusted: a file or an HTTP response); never quotes it. */
export function parseLadderFile(text: string): LadderFile {
  if (typeof text !== 'string' || text.length > MAX_LADDER_JSON_BYTES) bad(`at most ${MAX_LADDER_JSON_BYTES} bytes`, `${typeof text === 'string' ? text.length : describe(text)} characters`);
  let f: Record<string, unknown>;
  try {
    f = JSON.parse(text) as Record<string, unknown>;
  } catch {
    bad('a JSON object', `unparsable text (${text.length} characters)`);
  }
  if (!f || typeof f !== 'object' || Array.isArray(f)) bad('a JSON object', f === null ? 'null' : Array.isArray(f) ? 'an array' : typeof f);
  if (f.format !== LADDER_FORMAT) bad(`format ${JSON.stringify(LADDER_FORMAT)}`, typeof f.format === 'string' ? 'another format' : describe(f.format));
  if (f.version !== LADDER_VERSION) {
    throw new UnsupportedVersionError(formatError('ladder.json', `version ${LADDER_VERSION}`, Number.isSafeInteger(f.version) ? `version ${f.version}` : 'no integer version', 'use the npcforge version that exported the ladder, or export it again'));
  }
  const str = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 128) bad(`${field} to be a string of 1 to 128 characters`, describe(typeof v === 'string' ? `${v.length} characters` : v));
    return v;
  };
  const game = str(f.game, 'game');
  const seat = str(f.seat, 'seat');
  const run = typeof f.run === 'string' && f.run.length <= 256 ? f.run : bad('run to be a string of at most 256 characters', describe(typeof f.run === 'string' ? `${f.run.length} characters` : f.run));
  if (f.rating !== 'league' && f.rating !== 'training') bad("rating 'league' or 'training'", describe(f.rating));
  if (!Number.isSafeInteger(f.gamesPerPair) || (f.gamesPerPair as number) < 0) bad('gamesPerPair to be an integer >= 0', describe(f.gamesPerPair));
  if (!Array.isArray(f.levels) || f.levels.length < 2 || f.levels.length > MAX_LADDER_LEVELS) bad(`levels to be an array of 2 to ${MAX_LADDER_LEVELS} levels`, Array.isArray(f.levels) ? `${f.levels.length} levels` : describe(f.levels));
  const seen = new Set<string>();
  const name = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !LADDER_NAME.test(v)) bad(`${where} to be a name of 1 to 32 letters, digits, - or _ (starting with a letter or digit)`, typeof v === 'string' ? `a string of ${v.length} characters that is not` : describe(v));
    if (seen.has(v)) bad(`${where} to be unique among the level names and aliases`, `a repeated name`);
    seen.add(v);
    return v;
  };
  const levels = (f.levels as unknown[]).map((raw, i): LadderLevel => {
    const l = raw as Record<string, unknown>;
    if (!l || typeof l !== 'object' || Array.isArray(l)) bad(`levels[${i}] to be an object`, describe(l));
    const n = name(l.name, `levels[${i}].name`);
    if (!Array.isArray(l.aliases) || l.aliases.length > 8) bad(`levels[${i}].aliases to be an array of at most 8 names`, describe(l.aliases));
    const aliases = (l.aliases as unknown[]).map((a, j) => name(a, `levels[${i}].aliases[${j}]`));
    if (!Number.isSafeInteger(l.step) || (l.step as number) < 0) bad(`levels[${i}].step to be an integer >= 0`, describe(l.step));
    if (typeof l.elo !== 'number' || !Number.isFinite(l.elo)) bad(`levels[${i}].elo to be a finite number`, describe(l.elo));
    const w = l.winRateVsBelow;
    if (w !== null && (i === 0 || typeof w !== 'number' || !(w >= 0 && w <= 1))) bad(`levels[${i}].winRateVsBelow to be ${i === 0 ? 'null (the first level has none below)' : 'null or a number in [0, 1]'}`, describe(w));
    return { name: n, aliases, step: l.step as number, elo: l.elo, winRateVsBelow: w as number | null };
  });
  return { format: LADDER_FORMAT, version: LADDER_VERSION, game, seat, rating: f.rating, gamesPerPair: f.gamesPerPair as number, run, levels, createdAt: typeof f.createdAt === 'string' ? f.createdAt.slice(0, 64) : '' };
}
