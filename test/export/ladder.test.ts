/**
 * `npcforge export <run> --ladder N`: the spread rule against hand-picked cases, the export of a
 * tiny self-play run (ladder.json + one loadable bundle per level, ordered by the league), and the
 * bad inputs of the slice (one line, non-zero exit).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { train } from '../../src/train/runner.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { exportLadder, pickChain, pickSpread, readRunPool, thinPool } from '../../src/export/ladder.js';
import { pairRecord } from '../../src/train/selfplay/league.js';
import { fitElo, scoreOfReturn } from '../../src/train/selfplay/elo.js';
import { loadPolicy, parseLadderFile, type LadderFile } from '../../src/runtime/index.js';
import { formatLadderTable } from '../../src/cli/commands/export.js';
import { runCliWrites } from '../helpers/run-cli.js';

/** A tiny self-play pong run: 9 pool snapshots (0, 128, ..., 1024). */
const TINY_SELFPLAY = { numSteps: 16, minibatches: 2, epochs: 1, envs: 2, checkpointEvery: 512, logEvery: 256, evalEvery: 0, evalEpisodes: 1, envOptions: { pointsToWin: 1 }, selfplay: { saveEvery: 128, swapEvery: 32, playLatestProb: 0 } };

let dir = '';
let pong = '';
let single = '';

const cli = runCliWrites;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-ladder-'));
  pong = (await train({ config: resolveSelfPlayRunConfig({ game: 'pong', file: TINY_SELFPLAY, flags: { steps: 1024 } }, { selfplay: true }), runDir: join(dir, 'pong'), progress: null })).runDir;
  single = (await train({ config: resolveRunConfig({ game: 'catch', flags: { steps: 200, seed: 1, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 100 }, file: { learningStarts: 100, batchSize: 16 } }), runDir: join(dir, 'single'), progress: null })).runDir;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pickSpread', () => {
  const c = (step: number, elo: number) => ({ step, elo });

  it('takes the nearest item to evenly spaced targets, without duplicates, sorted by rating', () => {
    // Targets 1000, 1100, 1200: 1000 -> step 0; 1100 -> 1090 (step 3) over 1120; 1200 -> step 4.
    const items = [c(0, 1000), c(1, 1010), c(2, 1120), c(3, 1090), c(4, 1200)];
    expect(pickSpread(items, 3).map((x) => x.step)).toEqual([0, 3, 4]);
    // Targets 1000, 1040, 1080, 1120: 1040 and 1080 are both nearest to 1100; 1080 takes the next nearest, 1110.
    const bunched = [c(0, 1000), c(1, 1100), c(2, 1110), c(3, 1120)];
    expect(pickSpread(bunched, 4).map((x) => x.step)).toEqual([0, 1, 2, 3]);
    expect(pickSpread([c(0, 1000), c(1, 1001), c(2, 1002), c(3, 1400)], 3).map((x) => x.step)).toEqual([0, 2, 3]);
    // Equal distance: the earlier snapshot; output sorted by rating, not by step.
    expect(pickSpread([c(5, 1000), c(9, 1300), c(7, 1150), c(8, 1250)], 3).map((x) => x.step)).toEqual([5, 7, 9]);
    expect(pickSpread([c(10, 1300), c(20, 1000), c(30, 1150)], 2).map((x) => x.step)).toEqual([20, 10]);
    // All N of N.
    expect(pickSpread([c(1, 5), c(2, 5)], 2).map((x) => x.step)).toEqual([1, 2]);
  });
});

describe('thinPool', () => {
  it('keeps k snapshots evenly spaced in step order, the first and the last always', () => {
    const pool = [40, 0, 10, 30, 20, 50, 60].map((step) => ({ step }));
    expect(thinPool(pool, 3).map((x) => x.step)).toEqual([0, 30, 60]);
    expect(thinPool(pool, 4).map((x) => x.step)).toEqual([0, 20, 40, 60]);
    expect(thinPool(pool, 6).map((x) => x.step)).toEqual([0, 10, 20, 40, 50, 60]);
    expect(thinPool(pool, 9).map((x) => x.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });
});

describe('pickChain', () => {
  it('takes the chain in rating order whose smallest step (win rate of the higher over the lower) is largest', () => {
    const [A, B, C, D] = [{ step: 0, elo: 1000 }, { step: 1, elo: 1100 }, { step: 2, elo: 1200 }, { step: 3, elo: 1300 }];
    const table = new Map<string, number>([['B>A', 0.65], ['C>A', 0.7], ['D>A', 0.8], ['C>B', 0.6], ['D>B', 0.75], ['D>C', 0.52]]);
    const names = new Map([[A, 'A'], [B, 'B'], [C, 'C'], [D, 'D']]);
    const step = (hi: typeof A, lo: typeof A) => table.get(`${names.get(hi)}>${names.get(lo)}`)!;
    const pick = (n: number) => pickChain([D, B, A, C], n, step).map((x) => names.get(x)).join('');
    // Chains of 3: ABC min .6, ABD min .65, ACD .52, BCD .52.
    expect(pick(3)).toBe('ABD');
    expect(pick(2)).toBe('AD');
    expect(pick(4)).toBe('ABCD');
    // Ties: the first chain found (the lower end, then the lower middle).
    expect(pickChain([A, B, C], 2, () => 0.5).map((x) => names.get(x)).join('')).toBe('AB');
  });
});

describe('formatLadderTable', () => {
  it('one row per level; a note when a level won less than 60% against the level below', () => {
    const file = (rates: Array<number | null>): LadderFile => ({ format: 'npcforge-ladder', version: 1, game: 'pong', seat: 'right', rating: 'league', gamesPerPair: 10, run: 'r', createdAt: '', levels: rates.map((w, i) => ({ name: `level-${i + 1}`, aliases: [], step: 100 * i, elo: 1100 + 50 * i, winRateVsBelow: w })) });
    const text = (rates: Array<number | null>) => formatLadderTable({ outDir: '/x', file: file(rates), candidates: [], pairs: [] });
    const ok = text([null, 0.7, 0.6]);
    expect(ok.split('\n').slice(1, 5)).toEqual(['level        step     elo win vs below', 'level-1         0  1100.0            -', 'level-2       100  1150.0        70.0%', 'level-3       200  1200.0        60.0%']);
    expect(ok).not.toContain('note');
    expect(text([null, 0.59, 0.8, 0.5])).toMatch(/\nnote: level-2, level-4 won less than 60% of the league games against the level below; with fewer levels \(--ladder 3\) or a longer run the steps are larger\n$/);
  });
});

describe('exportLadder', () => {
  it('writes ladder.json and one loadable bundle per level, ordered by the league of the candidates', async () => {
    const out = join(dir, 'ladder3');
    const r = await exportLadder({ runDir: pong, levels: 3, outDir: out, gamesPerPair: 6, candidates: 5 });
    const { entries } = readRunPool(pong);
    expect(entries.map((e) => e.step)).toEqual([0, 128, 256, 384, 512, 640, 768, 896, 1024]);
    // Thinned to 5 candidates evenly spaced over the pool.
    expect(r.candidates.map((x) => x.step)).toEqual([0, 256, 512, 768, 1024]);
    expect(r.pairs).toHaveLength(10);
    for (const p of r.pairs) expect(p.returns).toHaveLength(6);
    // The ratings are the maximum-likelihood fit of the league's games; the picks follow the chain rule on the league's win rates.
    const fit = fitElo(5, r.pairs.map((p) => ({ a: p.a, b: p.b, games: 6, score: p.returns.reduce((t, x) => t + scoreOfReturn(x), 0) })));
    expect(r.candidates.map((x) => x.elo)).toEqual(fit);
    expect(new Set(fit).size).toBeGreaterThan(1);
    const winRate = (hi: (typeof r.candidates)[number], lo: (typeof r.candidates)[number]) => {
      const [x, y] = [r.candidates.indexOf(lo), r.candidates.indexOf(hi)];
      return pairRecord(r.pairs.find((p) => (p.a === x && p.b === y) || (p.a === y && p.b === x))!, y).wins / 6;
    };
    expect(r.file.levels.map((l) => l.step)).toEqual(pickChain(r.candidates, 3, winRate).map((x) => x.step));

    const file = parseLadderFile(readFileSync(join(out, 'ladder.json'), 'utf8'));
    expect(file).toEqual(r.file);
    expect(file.game).toBe('pong');
    expect(file.rating).toBe('league');
    expect(file.levels.map((l) => l.name)).toEqual(['level-1', 'level-2', 'level-3']);
    expect(file.levels.map((l) => l.aliases)).toEqual([['easy'], ['medium'], ['hard']]);
    for (let i = 1; i < 3; i++) expect(file.levels[i]!.elo).toBeGreaterThanOrEqual(file.levels[i - 1]!.elo);
    expect(file.levels[0]!.winRateVsBelow).toBeNull();
    for (let i = 1; i < 3; i++) {
      const [lo, hi] = [r.candidates.findIndex((x) => x.step === file.levels[i - 1]!.step), r.candidates.findIndex((x) => x.step === file.levels[i]!.step)];
      const pair = r.pairs.find((p) => (p.a === lo && p.b === hi) || (p.a === hi && p.b === lo))!;
      expect(file.levels[i]!.winRateVsBelow).toBe(pairRecord(pair, hi).wins / 6);
    }
    expect(readdirSync(out).sort()).toEqual(['ladder.json', 'level-1', 'level-2', 'level-3']);
    for (const l of file.levels) {
      const policy = await loadPolicy(join(out, l.name), { game: 'pong' });
      expect(policy.file.training.checkpoint).toBe(l.step);
      policy.dispose();
    }
  }, 120_000);

  it('--ladder-games 0 picks by the training Elo; names, N = pool size, and replacing an earlier ladder', async () => {
    const out = join(dir, 'ladder-train');
    mkdirSync(out);
    writeFileSync(join(out, 'ladder.json'), '{}');
    const r = await cli(['export', pong, '--ladder', '4', '--ladder-games', '0', '--ladder-names', 'a,b,c,d', '--out', out]);
    expect(r.code, r.err.join('')).toBe(0);
    expect(r.out).toMatch(/^ladder of 4 levels for pong \(rated by training Elo\)/);
    expect(r.out.split('\n')[1]).toMatch(/^level\s+step\s+elo\s+win vs below$/);
    const file = parseLadderFile(readFileSync(join(out, 'ladder.json'), 'utf8'));
    const { entries } = readRunPool(pong);
    expect(file.rating).toBe('training');
    expect(file.levels.map((l) => l.step)).toEqual(pickSpread(entries.map((e) => ({ step: e.step, elo: e.rating })), 4).map((x) => x.step));
    expect(file.levels.map((l) => l.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(file.levels.every((l) => l.winRateVsBelow === null && l.aliases.length === 0)).toBe(true);
    // All nine snapshots as nine levels.
    const all = await cli(['export', pong, '--ladder', '9', '--ladder-games', '0', '--out', join(dir, 'ladder9'), '--json']);
    expect(all.code, all.err.join('')).toBe(0);
    expect((JSON.parse(all.out) as { levels: Array<{ step: number }> }).levels.map((l) => l.step).sort((a, b) => a - b)).toEqual(entries.map((e) => e.step));
  }, 120_000);
});

describe('export --ladder bad input: one line, non-zero exit', () => {
  const oneLine = (r: { code: number; err: string[] }, re: RegExp): void => {
    expect(r.code).not.toBe(0);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(re);
  };

  it('a run without a pool, --ladder 1, more levels than snapshots, bad names, an --out with other files', async () => {
    oneLine(await cli(['export', single, '--ladder', '3', '--out', join(dir, 'x')]), /^npcforge: \[export --ladder\] expected a self-play run .*received ".*single", a run without a pool; fix: /);
    for (const n of ['1', '0', 'two', '65']) oneLine(await cli(['export', pong, '--ladder', n, '--out', join(dir, 'x')]), /^npcforge: \[export --ladder\] expected a number of levels from 2 to 64, received .*; fix: pass e\.g\. --ladder 3/);
    oneLine(await cli(['export', pong, '--ladder', '10', '--out', join(dir, 'x')]), /^npcforge: \[export --ladder\] expected at least 10 distinct pool snapshots for 10 levels, received 9 in ".*pool"; fix: pass --ladder 9 or fewer/);
    oneLine(await cli(['export', pong, '--ladder', '2', '--ladder-names', 'ok,../up', '--out', join(dir, 'x')]), /^npcforge: \[export --ladder\] expected level names of 1 to 32 letters.*received "\.\.\/up"; fix: /);
    oneLine(await cli(['export', pong, '--ladder', '2', '--ladder-candidates', '1', '--out', join(dir, 'x')]), /^npcforge: \[--ladder-candidates\] expected an integer >= 2, received "1"/);
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    oneLine(await cli(['export', pong, '--ladder', '2', '--out', busy]), /^npcforge: \[export --ladder\] expected --out to be a new folder, an empty one or an earlier ladder .*; fix: pass another --out/);
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'x'))).toBe(false);
  }, 60_000);
});
