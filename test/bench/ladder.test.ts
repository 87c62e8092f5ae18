/** `npm run bench -- ladder` mechanics on a tiny self-play run: the export, the check league on other seeds, the JSON written (no learning target). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../games/index.js';
import { train } from '../../src/train/runner.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { parseLadderFile } from '../../src/runtime/index.js';
import { runLadderBench, type LadderBenchResult } from '../../bench/ladder.js';

const TINY_SELFPLAY = { numSteps: 16, minibatches: 2, epochs: 1, envs: 2, checkpointEvery: 512, logEvery: 256, evalEvery: 0, evalEpisodes: 1, envOptions: { pointsToWin: 1 }, selfplay: { saveEvery: 128, swapEvery: 32, playLatestProb: 0 } };
const dir = mkdtempSync(join(tmpdir(), 'npcforge-bench-ladder-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench ladder', () => {
  it('exports a ladder of --levels from --run and checks every adjacent pair on a fresh league', async () => {
    const run = (await train({ config: resolveSelfPlayRunConfig({ game: 'pong', file: TINY_SELFPLAY, flags: { steps: 768 } }, { selfplay: true }), runDir: join(dir, 'run'), progress: null })).runDir;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let r: LadderBenchResult;
    let printed = '';
    try {
      r = await runLadderBench({ json: join(dir, 'b.json'), flags: { run, levels: '4', games: '3', 'check-games': '5', 'check-seed': '9', out: join(dir, 'ladder') } });
      printed = out.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      out.mockRestore();
    }
    expect(printed).toMatch(/^ladder of 4 from .*: export \(league of 7 snapshots, 3 games per pair\)/);
    expect(printed).toMatch(/\nlowest adjacent win rate \(check\): \d+\.\d%\n/);
    expect(parseLadderFile(readFileSync(join(dir, 'ladder', 'ladder.json'), 'utf8'))).toEqual(r.ladder);
    expect(r.check.map((c) => [c.lower, c.higher])).toEqual([['level-1', 'level-2'], ['level-2', 'level-3'], ['level-3', 'level-4']]);
    for (const c of r.check) expect(c.games).toBe(5);
    expect(r.lowest).toBe(Math.min(...r.check.map((c) => c.win_rate)));
    const json = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as { bench: string; result: LadderBenchResult };
    expect(json.bench).toBe('ladder');
    expect(json.result.check).toEqual(r.check);
    await expect(runLadderBench({ flags: {} })).rejects.toThrow(/pass --run/);
  }, 120_000);
});
