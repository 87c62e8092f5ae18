/**
 * `npcforge export <run> --ladder N`: difficulty levels from one self-play run. N snapshots of the
 * run's opponent pool, spread over their Elo range, each exported as an ordinary policy bundle in
 * `<out>/<level>/`, listed weakest first in `<out>/ladder.json` (src/runtime/ladder-file.ts).
 *
 * The rule (docs/export.md, "Difficulty ladders"):
 * 1. Candidates: the pool snapshots of the run's latest checkpoint (or `--checkpoint`). When there
 *    are more than `candidates` (default 2N), that many are kept evenly spaced over the pool in
 *    step order, the first and the last always (`thinPool`), so the league stays affordable. Not
 *    by training Elo: a snapshot is rated only while it is among the `window` newest, so old
 *    snapshots keep the learner's rating of their time, which says little about them later.
 * 2. Ratings: a round-robin league among the candidates (`gamesPerPair` games per pair, the league
 *    code of `npcforge league`), rated by the maximum-likelihood Elo fit of all its games
 *    (`fitElo`: unlike `league`'s sequential updates, independent of the order of the games).
 *    Training ratings are noisy (each snapshot met only a few opponents) and say nothing about
 *    snapshots never played; `gamesPerPair` 0 skips the league and uses them anyway.
 * 3. Levels, after a league: of the chains of N candidates in rating order, the one whose smallest
 *    step is largest, a step being the share of games the higher of two adjacent levels won
 *    against the lower one in the league (`pickChain`). That is the issue's measure of a ladder
 *    (each level beats the one below in at least 60% of games); on a pong pool it beat evenly
 *    spaced ratings on fresh games (docs/export.md).
 *    Without a league: the spread rule (`pickSpread`), N target
 *    ratings evenly spaced from the lowest to the highest rating, each target in turn taking the
 *    nearest candidate not taken yet (ties: the earlier snapshot).
 *    Either way the picks sorted by rating are the levels, weakest first.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, InvalidConfigError, describe, formatError } from '../errors.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { listCheckpoints, readRunFile, writeFileAtomic } from '../train/run-folder.js';
import { OpponentPool, type PoolEntry } from '../train/selfplay/pool.js';
import { POOL_DIR } from '../train/selfplay/selfplay.js';
import { pairRecord, playLeague, type LeaguePair } from '../train/selfplay/league.js';
import { fitElo, scoreOfReturn } from '../train/selfplay/elo.js';
import { loadMatchAgent } from '../train/selfplay/match.js';
import type { Agent } from '../agents/agent.js';
import { LADDER_FORMAT, LADDER_NAME, LADDER_VERSION, MAX_LADDER_LEVELS, parseLadderFile, type LadderFile, type LadderLevel } from '../runtime/ladder-file.js';
import { checkDecisionPeriod, describePolicy, policyNetwork, writePolicyBundle } from './export-policy.js';

/**
 * League games per pair of candidates by default: the standard error of a 60% win rate over 100
 * games is about 5 points. A ladder of 5 from a pong pool (10 candidates, 45 pairs): about 2 minutes here.
 */
export const DEFAULT_LADDER_GAMES = 100;
/** Issue 18's bar for a ladder: each level wins at least this share of its games against the level below. */
export const LADDER_TARGET_WIN_RATE = 0.6;
/** Seed of the first league game (game j: seed + j), the default of `npcforge league`. */
export const LADDER_SEED = 12345;
/** Aliases of a ladder of three, weakest first. */
export const LADDER_ALIASES_3 = ['easy', 'medium', 'hard'];

export interface LadderExportOptions {
  runDir: string;
  /** Number of levels (>= 2). */
  levels: number;
  /** Output folder (default `<runDir>/ladder`). */
  outDir?: string;
  /** League games per pair of candidates (default DEFAULT_LADDER_GAMES; 0 = rate by training Elo). */
  gamesPerPair?: number;
  /** Most candidates in the league (default 2 * levels). */
  candidates?: number;
  /** Level names, weakest first (default `level-1` .. `level-N`). */
  names?: string[];
  /** Checkpoint step whose pool is read (default the latest). */
  checkpoint?: number;
  /** Game frames per decision written to each bundle. */
  decisionPeriod?: number;
  /** Seed of the league's first game (default LADDER_SEED). */
  seed?: number;
}

export interface LadderCandidate {
  step: number;
  /** Rating at the end of training (the pool state). */
  trainingElo: number;
  /** Rating the levels were picked by (the league's, or the training one). */
  elo: number;
}

export interface LadderExportResult {
  outDir: string;
  file: LadderFile;
  /** Every candidate, by step. */
  candidates: LadderCandidate[];
  /** The league's pairs (indices into `candidates`); empty without a league. */
  pairs: LeaguePair[];
}

function ladderError(expected: string, received: string, fix: string): never {
  throw new InvalidConfigError(formatError('export --ladder', expected, received, fix));
}

/** Checks a number of levels (an integer from 2 to MAX_LADDER_LEVELS); returns it. */
export function checkLadderLevels(n: unknown): number {
  if (!Number.isSafeInteger(n) || (n as number) < 2 || (n as number) > MAX_LADDER_LEVELS) ladderError(`a number of levels from 2 to ${MAX_LADDER_LEVELS}`, describe(n), 'pass e.g. --ladder 3 (easy, medium, hard)');
  return n as number;
}

/** The level names: given ones (checked), else `level-1` .. `level-N`; and their aliases. */
export function ladderNames(n: number, names?: readonly string[]): Array<{ name: string; aliases: string[] }> {
  if (names === undefined) return Array.from({ length: n }, (_, i) => ({ name: `level-${i + 1}`, aliases: n === 3 ? [LADDER_ALIASES_3[i]!] : [] }));
  if (names.length !== n) ladderError(`${n} level names (one per level, weakest first)`, `${names.length}`, `pass ${n} comma-separated names`);
  const bad = names.filter((x) => !LADDER_NAME.test(x));
  if (bad.length) ladderError('level names of 1 to 32 letters, digits, - or _ (starting with a letter or digit)', bad.map((x) => describe(x)).join(', '), 'pick names that are also folder names, e.g. rookie,pro');
  if (new Set(names).size !== names.length) ladderError('distinct level names', names.join(','), 'give every level its own name');
  return names.map((name) => ({ name, aliases: [] }));
}

/**
 * The spread rule: `n` of `items` for targets evenly spaced from the lowest to the highest `elo`,
 * each target taking the nearest item not taken yet (ties: the lower step). Sorted by elo (then step).
 */
export function pickSpread<T extends { step: number; elo: number }>(items: readonly T[], n: number): T[] {
  if (items.length < n) throw new RangeError(`pickSpread: ${n} of ${items.length}`);
  const byStep = [...items].sort((a, b) => a.step - b.step);
  const lo = Math.min(...items.map((x) => x.elo));
  const hi = Math.max(...items.map((x) => x.elo));
  const taken = new Set<T>();
  for (let i = 0; i < n; i++) {
    const target = n === 1 ? hi : lo + ((hi - lo) * i) / (n - 1);
    let best: T | null = null;
    for (const x of byStep) if (!taken.has(x) && (best === null || Math.abs(x.elo - target) < Math.abs(best.elo - target))) best = x;
    taken.add(best!);
  }
  return [...taken].sort((a, b) => a.elo - b.elo || a.step - b.step);
}

/** `k` of `items` (in step order) evenly spaced by index, the first and the last included; all of them when k >= their number. */
export function thinPool<T extends { step: number }>(items: readonly T[], k: number): T[] {
  const sorted = [...items].sort((a, b) => a.step - b.step);
  if (k >= sorted.length) return sorted;
  if (k === 1) return [sorted[sorted.length - 1]!];
  // Spacing (m - 1) / (k - 1) >= 1 when k <= m, so the rounded indices are distinct.
  return Array.from({ length: k }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (k - 1))]!);
}

/**
 * The chain rule: `n` of `items` (taken in rating order, ties by step) whose smallest adjacent step
 * `step(higher, lower)` is largest; among equal chains, the first found (dynamic programming over
 * chain ends in rating order, O(n * items^2)). Sorted by elo (then step).
 */
export function pickChain<T extends { step: number; elo: number }>(items: readonly T[], n: number, step: (higher: T, lower: T) => number): T[] {
  if (items.length < n || n < 1) throw new RangeError(`pickChain: ${n} of ${items.length}`);
  const sorted = [...items].sort((a, b) => a.elo - b.elo || a.step - b.step);
  const m = sorted.length;
  // best[k][j]: the largest smallest step of a chain of k + 1 items ending at j; from[k][j]: its previous item.
  const best = Array.from({ length: n }, () => new Array<number>(m).fill(-Infinity));
  const from = Array.from({ length: n }, () => new Array<number>(m).fill(-1));
  for (let j = 0; j < m; j++) best[0]![j] = Infinity;
  for (let k = 1; k < n; k++) {
    for (let j = k; j < m; j++) {
      for (let i = k - 1; i < j; i++) {
        const v = Math.min(best[k - 1]![i]!, step(sorted[j]!, sorted[i]!));
        if (v > best[k]![j]!) {
          best[k]![j] = v;
          from[k]![j] = i;
        }
      }
    }
  }
  let end = n - 1;
  for (let j = n - 1; j < m; j++) if (best[n - 1]![j]! > best[n - 1]![end]!) end = j;
  const chain: T[] = [];
  for (let k = n - 1, j = end; k >= 0; j = from[k]![j]!, k--) chain.unshift(sorted[j]!);
  return chain;
}

/** The pool of a self-play run at a checkpoint: its snapshots with their training ratings, by step. */
export function readRunPool(runDir: string, checkpoint?: number): { entries: PoolEntry[]; checkpoint: number } {
  const run = readRunFile(runDir);
  const noPool = (): never => ladderError('a self-play run (trained with --selfplay: its snapshots in <run>/pool/)', `${describe(runDir)}, a run without a pool`, 'train with npcforge train <game> --selfplay, or export one policy without --ladder');
  if (!run.selfplay || !existsSync(join(runDir, POOL_DIR))) noPool();
  const steps = listCheckpoints(runDir);
  const step = checkpoint ?? steps[steps.length - 1];
  if (step === undefined || !steps.includes(step)) throw new CheckpointError(formatError('export --ladder', `a checkpoint of the run, one of [${steps.join(', ')}]`, describe(checkpoint ?? 'none'), steps.length ? 'pass --checkpoint with a listed step' : 'train the run first'));
  const state = readCheckpoint(join(runDir, 'checkpoints', String(step))).runner.selfplay?.pool;
  if (!state) noPool();
  // OpponentPool.setState checks the state as it checks it on resume (it comes from a file).
  const pool = new OpponentPool(run.selfplay!, 0);
  pool.setState(state!);
  return { entries: pool.list().sort((a, b) => a.step - b.step), checkpoint: step };
}

/** Exports the ladder; see the module comment for the rule. */
export async function exportLadder(o: LadderExportOptions): Promise<LadderExportResult> {
  const n = checkLadderLevels(o.levels);
  const names = ladderNames(n, o.names);
  const games = o.gamesPerPair ?? DEFAULT_LADDER_GAMES;
  if (!Number.isSafeInteger(games) || games < 0) ladderError('--ladder-games to be an integer >= 0', describe(games), 'pass e.g. --ladder-games 40 (0 rates by the training Elo)');
  const maxCandidates = o.candidates ?? 2 * n;
  if (!Number.isSafeInteger(maxCandidates) || maxCandidates < n) ladderError(`--ladder-candidates to be an integer >= the number of levels (${n})`, describe(maxCandidates), `pass e.g. --ladder-candidates ${2 * n}`);
  if (o.decisionPeriod !== undefined) checkDecisionPeriod(o.decisionPeriod);
  const outDir = resolve(o.outDir ?? join(o.runDir, 'ladder'));
  checkOutDir(outDir);
  const run = readRunFile(o.runDir);
  const { entries } = readRunPool(o.runDir, o.checkpoint);
  if (entries.length < n) ladderError(`at least ${n} distinct pool snapshots for ${n} levels`, `${entries.length} in ${describe(join(o.runDir, POOL_DIR))}`, `pass --ladder ${Math.max(2, entries.length)} or fewer, or train longer (or with a smaller selfplay.saveEvery)`);
  const pool = entries.map((e) => ({ step: e.step, trainingElo: e.rating, elo: e.rating }));
  const candidates = games > 0 ? thinPool(pool, maxCandidates) : pool;

  const agents = new Map<number, { agent: Agent; seat: string }>();
  const load = async (step: number): Promise<{ agent: Agent; seat: string }> => {
    if (!agents.has(step)) {
      const m = await loadMatchAgent(`${o.runDir}:${step}`, run.game, 'export --ladder');
      agents.set(step, { agent: m.agent, seat: m.seat });
    }
    return agents.get(step)!;
  };
  try {
    let pairs: LeaguePair[] = [];
    if (games > 0) {
      const players = [];
      for (const c of candidates) {
        const { agent, seat } = await load(c.step);
        players.push({ actor: agent, game: run.game, envOptions: run.run.envOptions, seat });
      }
      pairs = await playLeague(players, { episodes: games, seed: o.seed ?? LADDER_SEED });
      fitElo(candidates.length, pairs.map((p) => ({ a: p.a, b: p.b, games: p.returns.length, score: p.returns.reduce((t, r) => t + scoreOfReturn(r), 0) }))).forEach((elo, i) => (candidates[i]!.elo = elo));
    }
    const index = (c: LadderCandidate): number => candidates.indexOf(c);
    const winRate = (higher: LadderCandidate, lower: LadderCandidate): number => {
      const [x, y] = [index(lower), index(higher)];
      const r = pairRecord(pairs.find((p) => (p.a === x && p.b === y) || (p.a === y && p.b === x))!, y);
      return r.wins / r.games;
    };
    const picks = pairs.length ? pickChain(candidates, n, winRate) : pickSpread(candidates, n);
    const levels: LadderLevel[] = picks.map((c, i) => {
      const winRateVsBelow = i > 0 && pairs.length ? winRate(c, picks[i - 1]!) : null;
      return { name: names[i]!.name, aliases: names[i]!.aliases, step: c.step, elo: c.elo, winRateVsBelow };
    });
    const file: LadderFile = { format: LADDER_FORMAT, version: LADDER_VERSION, game: run.game, seat: '', rating: games > 0 ? 'league' : 'training', gamesPerPair: games, run: basename(resolve(o.runDir)), levels, createdAt: new Date().toISOString() };
    // Built in a sibling folder and renamed: an interrupted export leaves the old ladder (or none).
    const tmp = `${outDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      for (const level of levels) {
        const { agent, seat } = await load(level.step);
        file.seat = seat;
        const net = policyNetwork(agent);
        const policy = describePolicy(run, o.runDir, level.step, net, agent, { decisionPeriod: o.decisionPeriod });
        await writePolicyBundle(join(tmp, level.name), policy, net.model, net.valueModel);
      }
      // What the runtime will read: the writer's own output passes the reader's checks.
      const text = JSON.stringify(file, null, 2) + '\n';
      parseLadderFile(text);
      writeFileAtomic(join(tmp, 'ladder.json'), text);
      const old = `${outDir}.old-${process.pid}`;
      if (existsSync(outDir)) renameSync(outDir, old);
      renameSync(tmp, outDir);
      rmSync(old, { recursive: true, force: true });
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return { outDir, file, candidates, pairs };
  } finally {
    for (const { agent } of agents.values()) agent.dispose();
  }
}

/** The output folder is replaced: refuse one that holds anything but an earlier ladder. */
function checkOutDir(outDir: string): void {
  if (!existsSync(outDir)) {
    mkdirSync(dirname(outDir), { recursive: true });
    return;
  }
  const isLadder = statSync(outDir).isDirectory() && (readdirSync(outDir).length === 0 || existsSync(join(outDir, 'ladder.json')));
  if (!isLadder) ladderError('--out to be a new folder, an empty one or an earlier ladder (it is replaced)', `${describe(outDir)}, which holds other files`, 'pass another --out');
}
