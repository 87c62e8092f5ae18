/**
 * `npcforge league <ladder folder>`: the levels of a ladder (their exported bundles, through the
 * runtime) play each other; per adjacent pair the higher level's record against the lower one
 * (text and --json). The bundles act as the pool snapshots they came from: the same pair as
 * bundles and as `<run>:<step>` gives the same games.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { train } from '../../src/train/runner.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { exportLadder, LADDER_SEED } from '../../src/export/ladder.js';
import type { LadderFile } from '../../src/runtime/index.js';
import { runCliWrites } from '../helpers/run-cli.js';

const TINY_SELFPLAY = { numSteps: 16, minibatches: 2, epochs: 1, envs: 2, checkpointEvery: 512, logEvery: 256, evalEvery: 0, evalEpisodes: 1, envOptions: { pointsToWin: 1 }, selfplay: { saveEvery: 128, swapEvery: 32, playLatestProb: 0 } };
const GAMES = 8;

let dir = '';
let run = '';
let ladder = '';
let file: LadderFile;

const cli = runCliWrites;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-league-ladder-'));
  run = (await train({ config: resolveSelfPlayRunConfig({ game: 'pong', file: TINY_SELFPLAY, flags: { steps: 1024 } }, { selfplay: true }), runDir: join(dir, 'run'), progress: null })).runDir;
  ladder = join(dir, 'ladder');
  file = (await exportLadder({ runDir: run, levels: 4, outDir: ladder, gamesPerPair: GAMES, candidates: 9 })).file;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LeagueJson {
  episodes_per_pair: number;
  players: Array<{ run: string; games: number; wins: number; draws: number; losses: number }>;
  ladders: Array<{ ladder: string; pairs: Array<{ lower: string; higher: string; games: number; wins: number; draws: number; losses: number; win_rate: number }> }>;
}

describe('npcforge league <ladder>', () => {
  it('plays the levels against each other and prints the higher level\'s win rate per adjacent pair', async () => {
    const r = await cli(['league', ladder, '--episodes', String(GAMES), '--seed', String(LADDER_SEED), '--json']);
    expect(r.code, r.err.join('')).toBe(0);
    const j = JSON.parse(r.out) as LeagueJson;
    expect(j.players.map((p) => p.run).sort()).toEqual(['level-1', 'level-2', 'level-3', 'level-4'].map((l) => `${ladder}:${l}`));
    for (const p of j.players) expect(p.games).toBe(3 * GAMES);
    expect(j.ladders).toHaveLength(1);
    const pairs = j.ladders[0]!.pairs;
    expect(pairs.map((p) => [p.lower, p.higher])).toEqual([['level-1', 'level-2'], ['level-2', 'level-3'], ['level-3', 'level-4']]);
    for (const p of pairs) {
      expect(p.games).toBe(GAMES);
      expect(p.wins + p.draws + p.losses).toBe(GAMES);
      expect(p.win_rate).toBe(p.wins / GAMES);
    }

    const text = await cli(['league', ladder, '--episodes', '2']);
    expect(text.code, text.err.join('')).toBe(0);
    const lines = text.out.split('\n');
    expect(lines[0]).toMatch(/^#\s+run\s+elo\s+win\s+draw\s+loss$/);
    expect(text.out).toContain(`ladder ${ladder}: the higher level's win rate against the level below\n`);
    expect(lines.filter((l) => /^level-\d vs level-\d\s+\d+\.\d%  \(\d+ won, \d+ drawn, \d+ lost of 2\)$/.test(l))).toHaveLength(3);
    expect(text.out).toMatch(/\nlowest: \d+\.\d%\n$/);
  }, 120_000);

  it('single levels, beside a run; the bundles play exactly as the pool snapshots they came from', async () => {
    const r = await cli(['league', `${ladder}:level-4`, `${ladder}:level-1`, `${run}:0`, '--episodes', '2', '--json']);
    expect(r.code, r.err.join('')).toBe(0);
    const j = JSON.parse(r.out) as LeagueJson;
    expect(j.players.map((p) => p.run).sort()).toEqual([`${ladder}:level-4`, `${ladder}:level-1`, `${run}:0`].sort());
    expect(j.ladders).toEqual([]);
    // The same two players as bundles and as pool snapshots of the run: the same games, the same table.
    const record = (x: LeagueJson) => x.players.map((p) => [p.wins, p.draws, p.losses]);
    for (const [a, b] of [[0, 1], [2, 3], [3, 0]] as const) {
      const bundles = JSON.parse((await cli(['league', `${ladder}:${file.levels[a]!.name}`, `${ladder}:${file.levels[b]!.name}`, '--episodes', String(GAMES), '--json'])).out) as LeagueJson;
      const snapshots = JSON.parse((await cli(['league', `${run}:${file.levels[a]!.step}`, `${run}:${file.levels[b]!.step}`, '--episodes', String(GAMES), '--json'])).out) as LeagueJson;
      expect(record(bundles), `${a} vs ${b}`).toEqual(record(snapshots));
      expect(bundles.players.map((p) => p.run.endsWith(`:${file.levels[a]!.name}`))).toEqual(snapshots.players.map((p) => p.run.endsWith(`:${file.levels[a]!.step}`)));
    }
  }, 60_000);

  it('an unknown level and a corrupt ladder.json: one line, non-zero exit', async () => {
    const unknown = await cli(['league', ladder, `${ladder}:legendary`]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toEqual([expect.stringMatching(/^npcforge: \[loadLadder\] expected a level of the ladder \(level-1, level-2, level-3, level-4\), received "legendary"; fix: pass one of the listed names\n$/)]);
    const broken = join(dir, 'broken');
    cpSync(ladder, broken, { recursive: true });
    writeFileSync(join(broken, 'ladder.json'), JSON.stringify({ ...file, levels: file.levels.map((l, i) => (i === 1 ? { ...l, name: 'level-1' } : l)) }));
    const corrupt = await cli(['league', broken]);
    expect(corrupt.code).not.toBe(0);
    expect(corrupt.err).toEqual([expect.stringMatching(/^npcforge: \[ladder\.json\] expected levels\[1\]\.name to be unique among the level names and aliases, received a repeated name; fix: /)]);
  }, 60_000);
});
