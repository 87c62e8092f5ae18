/**
 * A game without render(): it trains (evaluation recording on, skipped with one progress line),
 * and recording, `npcforge record` and `npcforge play` refuse it in one line naming the game.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { isRegistered, make, register } from '../../src/envs/registry.js';
import { RenderUnavailableError } from '../../src/errors.js';
import { startViewerServer } from '../../src/render/server.js';
import { RecordEpisode } from '../../src/replay/episodes/record-episode.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { WalkEnv, type WalkOptions } from '../fixtures/walk-game.js';

if (!isRegistered('test/walk')) register('test/walk', (o) => new WalkEnv(o as WalkOptions));

const dir = mkdtempSync(join(tmpdir(), 'npcforge-no-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LINE = '[test/walk] expected a game with render() to draw frames, received a game without render(); fix: add render() to the game, or train and evaluate without recording';

describe('a game without render()', () => {
  it('trains a few hundred steps with evaluation recording on: recording is skipped with one progress line', async () => {
    const notices: string[] = [];
    const config = resolveRunConfig({ game: 'test/walk', agent: 'dqn', flags: { steps: 300, evalEvery: 150, evalEpisodes: 2, logEvery: 150 } as never, file: { learningStarts: 50, batchSize: 8 } });
    const res = await train({ config, runDir: join(dir, 'run'), progress: { write: (s: string) => (notices.push(s), true) } as never, showProgress: false, recordEvalEpisodes: 2 });
    const skipped = notices.join('').split('\n').filter((l) => /no render\(\)/.test(l));
    expect(skipped).toEqual(['npcforge: test/walk has no render(); evaluation episodes are not recorded (episode files hold frames)']);
    const episodes = join(res.runDir, 'episodes');
    expect(existsSync(episodes) ? readdirSync(episodes) : []).toEqual([]);
    expect(existsSync(join(res.runDir, 'metrics.jsonl'))).toBe(true);
    // The viewer lists the run as one that cannot draw (learning curves only).
    const server = await startViewerServer({ root: dir, assetsDir: dir, port: 0 });
    try {
      const runs = (await (await fetch(`${server.url}api/runs`)).json()) as Array<{ name: string; drawable: boolean; metrics: boolean }>;
      expect(runs).toEqual([expect.objectContaining({ name: 'run', drawable: false, metrics: true, episodes: 0 })]);
    } finally {
      await server.close();
    }
  });

  it('RecordEpisode refuses it before opening a file', () => {
    const out = join(dir, 'rec');
    expect(() => new RecordEpisode(make('test/walk'), { dir: out })).toThrow(RenderUnavailableError);
    expect(() => new RecordEpisode(make('test/walk'), { dir: out })).toThrow(LINE);
    expect(existsSync(out)).toBe(false);
  });

  it('`npcforge record` (random and --policy <run>) and `npcforge play` refuse it in one line, non-zero exit', async () => {
    const errs: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const ewrite = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (errs.push(String(s)), true));
    try {
      expect(await main(['record', 'test/walk', '--out', join(dir, 'cli-rec')])).not.toBe(0);
      expect(await main(['play', 'test/walk'])).not.toBe(0);
      // The trained run of the first test: its greedy policy cannot be recorded either.
      expect(await main(['record', 'test/walk', '--policy', join(dir, 'run'), '--out', join(dir, 'cli-rec')])).not.toBe(0);
    } finally {
      write.mockRestore();
      ewrite.mockRestore();
    }
    const lines = errs.join('').split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toContain(LINE);
    expect(existsSync(join(dir, 'cli-rec'))).toBe(false);
  });
});
