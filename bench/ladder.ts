/**
 * Difficulty ladder (issue 18's acceptance: "in `league` the higher level beats the lower in at
 * least 60% of games for every adjacent pair"): `export --ladder` on a self-play run, then a
 * league of the exported levels on fresh games (another seed than the export's league), and the
 * higher level's win rate per adjacent pair, both from the export's league and from the check.
 * Usage: npm run bench -- ladder --run <self-play run> [--levels 5] [--games 100] [--check-games 100]
 *        [--check-seed 777] [--out dir] [--json f]
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../games/index.js';
import { adjacentPairs, loadLadderPlayers, type AdjacentPair } from '../src/export/ladder-league.js';
import { DEFAULT_LADDER_GAMES, exportLadder } from '../src/export/ladder.js';
import type { LadderFile } from '../src/runtime/ladder-file.js';
import { playLeague } from '../src/train/selfplay/league.js';
import { numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

export interface LadderBenchResult {
  run: string;
  outDir: string;
  ladder: LadderFile;
  /** Snapshots in the export's league. */
  candidates: number;
  exportWallS: number;
  checkGames: number;
  checkSeed: number;
  check: AdjacentPair[];
  checkWallS: number;
  /** Lowest higher-level win rate over the adjacent pairs of the check league. */
  lowest: number;
  loadAvg: number[];
}

export async function runLadderBench(args: BenchArgs): Promise<LadderBenchResult> {
  const run = args.flags.run;
  if (!run) throw new Error('bench ladder: pass --run <a self-play run folder> (npcforge train <game> --selfplay)');
  const levels = numberFlag(args, 'levels', 5);
  const games = numberFlag(args, 'games', DEFAULT_LADDER_GAMES);
  const checkGames = numberFlag(args, 'check-games', 100);
  const checkSeed = numberFlag(args, 'check-seed', 777);
  const outDir = args.flags.out ?? join(mkdtempSync(join(tmpdir(), 'npcforge-bench-ladder-')), 'ladder');

  let t0 = Date.now();
  const r = await exportLadder({ runDir: run, levels, outDir, gamesPerPair: games });
  const exportWallS = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const { players } = await loadLadderPlayers({ dir: r.outDir });
  let check: AdjacentPair[];
  try {
    const pairs = await playLeague(players, { episodes: checkGames, seed: checkSeed });
    check = adjacentPairs(pairs, players.map((p, index) => ({ index, name: p.level })));
  } finally {
    for (const p of players) p.policy.dispose();
  }
  const checkWallS = (Date.now() - t0) / 1000;
  const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const lv = r.file.levels;
  process.stdout.write(`ladder of ${levels} from ${run}: export (league of ${r.candidates.length} snapshots, ${games} games per pair) ${exportWallS.toFixed(0)} s; check league (${checkGames} games per pair, seed ${checkSeed}) ${checkWallS.toFixed(0)} s; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  printTable(
    ['level', 'step', 'elo', 'export: win vs below', 'check: win vs below', 'check: won/drawn/lost'],
    lv.map((l, i) => {
      const c = i > 0 ? check[i - 1]! : null;
      return [l.name, String(l.step), l.elo.toFixed(1), pct(l.winRateVsBelow), pct(c?.win_rate ?? null), c ? `${c.wins}/${c.draws}/${c.losses}` : '-'];
    }),
  );
  const lowest = Math.min(...check.map((c) => c.win_rate));
  process.stdout.write(`lowest adjacent win rate (check): ${pct(lowest)}\n`);
  const result: LadderBenchResult = { run, outDir: r.outDir, ladder: r.file, candidates: r.candidates.length, exportWallS, checkGames, checkSeed, check, checkWallS, lowest, loadAvg: loadavg() };
  writeJson(args, 'ladder', result);
  return result;
}

export const bench: Bench = { description: 'export --ladder on a self-play run (--run), then a fresh league of its levels: the higher level\'s win rate per adjacent pair', run: runLadderBench };
