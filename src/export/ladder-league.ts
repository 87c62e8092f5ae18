/**
 * Ladder levels as league players (`npcforge league <ladder folder>[:level]`): each level is its
 * exported bundle, loaded with the runtime exactly as a game loads it, acting greedily through
 * `policyActor`. Per adjacent pair of levels, the higher level's record against the lower one is
 * the acceptance check ("the higher level beats the lower in at least 60% of games").
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigError, formatError } from '../errors.js';
import type { ActResult } from '../agents/agent.js';
import type { ObsArray } from '../envs/env.js';
import { initBackend } from '../networks/backend.js';
import { loadLadder } from '../runtime/load-ladder.js';
import type { LadderFile } from '../runtime/ladder-file.js';
import type { Policy } from '../runtime/policy.js';
import { pairRecord, type LeaguePair, type LeaguePlayer } from '../train/selfplay/league.js';
import type { MatchActor } from '../train/selfplay/match.js';

/**
 * An exported policy acting like an agent in matches: one greedy `actBatch` per call. Bundles of
 * self-play runs read the multi-agent env's observations as they are (no frame stack, no LSTM);
 * others are refused, since a match calls it without per-NPC state.
 */
export function policyActor(policy: Policy, label: string): MatchActor {
  if (policy.recurrent || policy.file.preprocess.some((s) => s.kind === 'frameStack')) {
    throw new InvalidConfigError(formatError('league', 'ladder levels without a frame stack or recurrent state (self-play bundles)', `${label}, a bundle that ${policy.recurrent ? 'is recurrent' : 'stacks frames'}`, 'export the ladder from a self-play run'));
  }
  return {
    act: async (obs: ObsArray, options): Promise<ActResult> => {
      const n = options.numEnvs;
      const size = obs.length / n;
      const rows = Array.from({ length: n }, (_, i) => obs.subarray(i * size, (i + 1) * size));
      const res = await policy.actBatch(rows);
      return { actions: Int32Array.from(res, (r) => r.action as number), info: {} };
    },
  };
}

/** `<dir>` or `<dir>:<level>` when `<dir>` holds ladder.json; null for anything else (a run reference). */
export function parseLadderRef(ref: string): { dir: string; level?: string } | null {
  const isLadder = (d: string): boolean => existsSync(join(d, 'ladder.json')) && statSync(d).isDirectory();
  if (isLadder(ref)) return { dir: ref };
  const m = /^(.*):([^:/\\]+)$/.exec(ref);
  if (m && isLadder(m[1]!)) return { dir: m[1]!, level: m[2]! };
  return null;
}

export interface LadderPlayer extends LeaguePlayer {
  /** `<dir>:<level>`. */
  label: string;
  level: string;
  policy: Policy;
}

/** Loads the levels a ladder reference names (all, weakest first, or one); the caller disposes their policies. */
export async function loadLadderPlayers(ref: { dir: string; level?: string }, game?: string): Promise<{ file: LadderFile; players: LadderPlayer[] }> {
  await initBackend();
  const ladder = await loadLadder(ref.dir, game === undefined ? {} : { game });
  const names = ref.level === undefined ? ladder.levels : [ladder.resolve(ref.level)];
  const players: LadderPlayer[] = [];
  try {
    for (const level of names) {
      const policy = await ladder.load(level);
      const label = `${ref.dir}:${level}`;
      players.push({ label, level, policy, actor: policyActor(policy, label), game: ladder.file.game, envOptions: policy.file.game.options, seat: ladder.file.seat });
    }
  } catch (err) {
    for (const p of players) p.policy.dispose();
    throw err;
  }
  return { file: ladder.file, players };
}

export interface AdjacentPair {
  lower: string;
  higher: string;
  games: number;
  /** Games the higher level won, drew and lost against the lower one. */
  wins: number;
  draws: number;
  losses: number;
  /** wins / games. */
  win_rate: number;
}

/** The higher level's record against the level below it, for each adjacent pair of `levels` (player indices, weakest first). */
export function adjacentPairs(pairs: readonly LeaguePair[], levels: ReadonlyArray<{ index: number; name: string }>): AdjacentPair[] {
  const out: AdjacentPair[] = [];
  for (let i = 1; i < levels.length; i++) {
    const lo = levels[i - 1]!;
    const hi = levels[i]!;
    const pair = pairs.find((p) => (p.a === lo.index && p.b === hi.index) || (p.a === hi.index && p.b === lo.index))!;
    const r = pairRecord(pair, hi.index);
    out.push({ lower: lo.name, higher: hi.name, games: r.games, wins: r.wins, draws: r.draws, losses: r.games - r.wins - r.draws, win_rate: r.games ? r.wins / r.games : 0 });
  }
  return out;
}
