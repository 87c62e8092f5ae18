/**
 * `loadLadder`: a ladder exported from a tiny self-play run loads by level name and alias from a
 * folder and from URLs; ladder.json is untrusted (every corrupt field is refused in one message,
 * which never quotes the file); an unknown level name lists the levels; a level folder that links
 * outside the ladder is refused.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { train } from '../../src/train/runner.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { exportLadder } from '../../src/export/ladder.js';
import { CheckpointError, InvalidConfigError, UnsupportedVersionError, loadLadder, parseLadderFile, type LadderFile } from '../../src/runtime/index.js';

const TINY_SELFPLAY = { numSteps: 16, minibatches: 2, epochs: 1, envs: 2, checkpointEvery: 512, logEvery: 256, evalEvery: 0, evalEpisodes: 1, envOptions: { pointsToWin: 1 }, selfplay: { saveEvery: 128, swapEvery: 32, playLatestProb: 0 } };

let dir = '';
let ladder = '';
let file: LadderFile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-load-ladder-'));
  const run = (await train({ config: resolveSelfPlayRunConfig({ game: 'pong', file: TINY_SELFPLAY, flags: { steps: 512 } }, { selfplay: true }), runDir: join(dir, 'run'), progress: null })).runDir;
  ladder = join(dir, 'ladder');
  file = (await exportLadder({ runDir: run, levels: 3, outDir: ladder, gamesPerPair: 2 })).file;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the ladder with ladder.json replaced by `text`. */
function corrupt(name: string, text: string): string {
  const copy = join(dir, name);
  cpSync(ladder, copy, { recursive: true });
  writeFileSync(join(copy, 'ladder.json'), text);
  return copy;
}

describe('loadLadder', () => {
  it('lists the levels weakest first and loads each by name or alias (folder path)', async () => {
    const l = await loadLadder(ladder, { game: 'pong' });
    expect(l.levels).toEqual(['level-1', 'level-2', 'level-3']);
    expect(l.aliases).toEqual({ easy: 'level-1', medium: 'level-2', hard: 'level-3' });
    expect(l.file).toEqual(file);
    for (const [name, level] of [['hard', 2], ['level-2', 1], ['easy', 0]] as const) {
      const p = await l.load(name);
      expect(p.file.training.checkpoint).toBe(file.levels[level]!.step);
      const obs = new Float32Array(p.file.observation.shape.reduce((a, b) => a * b, 1));
      expect([0, 1, 2]).toContain((await p.act(obs)).action);
      p.dispose();
    }
  }, 60_000);

  it('loads from a URL with the given fetch, reading only files under the ladder URL', async () => {
    const asked: string[] = [];
    const fetchFiles: typeof fetch = async (input) => {
      const url = new URL(String(input));
      asked.push(url.pathname);
      if (!url.pathname.startsWith('/game/npc/')) return new Response(null, { status: 404 });
      try {
        return new Response(readFileSync(join(ladder, decodeURIComponent(url.pathname.slice('/game/npc/'.length)))));
      } catch {
        return new Response(null, { status: 404 });
      }
    };
    const l = await loadLadder('http://127.0.0.1:1/game/npc', { fetch: fetchFiles });
    const p = await l.load('medium');
    expect(p.file.training.checkpoint).toBe(file.levels[1]!.step);
    p.dispose();
    expect(asked).toEqual(['/game/npc/ladder.json', '/game/npc/level-2/policy.json', '/game/npc/level-2/model.json', '/game/npc/level-2/weights.bin']);
  });

  it('the light package (@npcforge/runtime, the same source built by scripts/bundle-runtime.mjs) loads a level too', async () => {
    const pkg = (await import(join(__dirname, '..', '..', 'packages', 'runtime', 'dist', 'index.js'))) as { loadLadder: typeof loadLadder };
    const l = await pkg.loadLadder(ladder, { game: 'pong' });
    expect(l.levels).toEqual(['level-1', 'level-2', 'level-3']);
    const p = await l.load('hard');
    expect(p.file.training.checkpoint).toBe(file.levels[2]!.step);
    p.dispose();
    await expect(l.load('x')).rejects.toThrow('[loadLadder] expected a level of the ladder (level-1, level-2, level-3, easy, medium, hard), received "x"');
  });

  it('an unknown level name: one InvalidConfigError listing the names', async () => {
    const l = await loadLadder(ladder);
    await expect(l.load('impossible')).rejects.toThrow(InvalidConfigError);
    await expect(l.load('impossible')).rejects.toThrow('[loadLadder] expected a level of the ladder (level-1, level-2, level-3, easy, medium, hard), received "impossible"; fix: pass one of the listed names');
    // Names are not paths: '..' or 'level-1/..' never reach the file system.
    await expect(l.load('../ladder/level-1')).rejects.toThrow(InvalidConfigError);
    await expect(loadLadder(ladder, { game: 'tag' })).rejects.toThrow('[loadLadder] expected a ladder for game "tag", received a ladder for "pong"');
  });

  it('a corrupt ladder.json is refused with one message that does not quote it', async () => {
    const good = JSON.parse(readFileSync(join(ladder, 'ladder.json'), 'utf8')) as Record<string, unknown>;
    const level = (i: number, patch: Record<string, unknown>) => ({ ...good, levels: (good.levels as object[]).map((l, j) => (j === i ? { ...l, ...patch } : l)) });
    const cases: Array<[string, string, RegExp]> = [
      ['torn', readFileSync(join(ladder, 'ladder.json'), 'utf8').slice(0, 40), /\[ladder\.json\] expected a JSON object, received unparsable text \(40 characters\)/],
      ['array', '[1,2]', /expected a JSON object, received an array/],
      ['format', JSON.stringify({ ...good, format: 'npcforge-policy' }), /expected format "npcforge-ladder", received another format/],
      ['one-level', JSON.stringify({ ...good, levels: (good.levels as object[]).slice(0, 1) }), /expected levels to be an array of 2 to 64 levels, received 1 levels/],
      ['path-name', JSON.stringify(level(1, { name: '../../etc' })), /expected levels\[1\]\.name to be a name of 1 to 32 letters.*received a string of 9 characters that is not/],
      ['dup-name', JSON.stringify(level(2, { aliases: ['level-1'] })), /expected levels\[2\]\.aliases\[0\] to be unique among the level names and aliases/],
      ['step', JSON.stringify(level(0, { step: -1 })), /expected levels\[0\]\.step to be an integer >= 0, received -1/],
      ['elo', JSON.stringify(level(0, { elo: 'high' })), /expected levels\[0\]\.elo to be a finite number/],
      ['rate', JSON.stringify(level(2, { winRateVsBelow: 1.5 })), /expected levels\[2\]\.winRateVsBelow to be null or a number in \[0, 1\], received 1\.5/],
      ['rate0', JSON.stringify(level(0, { winRateVsBelow: 0.5 })), /expected levels\[0\]\.winRateVsBelow to be null \(the first level has none below\)/],
      ['rating', JSON.stringify({ ...good, rating: 'vibes' }), /expected rating 'league' or 'training', received "vibes"/],
      ['big', ' '.repeat(70_000), /\[loadLadder\] expected ladder\.json of at most 65536 bytes, received 70000 bytes/],
    ];
    for (const [name, text, re] of cases) {
      const err = await loadLadder(corrupt(name, text)).then(() => null, (e: Error) => e);
      expect(err, name).toBeInstanceOf(CheckpointError);
      expect(err!.message, name).toMatch(re);
      expect(err!.message.split('\n'), name).toHaveLength(1);
      expect(err!.message, name).toMatch(/; fix: /);
      expect(err!.message, name).not.toContain('../../etc');
    }
    const v2 = await loadLadder(corrupt('v2', JSON.stringify({ ...good, version: 2 }))).then(() => null, (e: Error) => e);
    expect(v2).toBeInstanceOf(UnsupportedVersionError);
    expect(v2!.message).toMatch(/^\[ladder\.json\] expected version 1, received version 2; fix: /);
    expect(() => parseLadderFile(JSON.stringify(good))).not.toThrow();
  });

  it('a missing ladder.json and a level folder linked from outside the ladder are refused', async () => {
    await expect(loadLadder(join(dir, 'nowhere'))).rejects.toThrow(/^\[loadLadder\] expected ladder\.json in the ladder folder, received ".*nowhere" without a readable ladder\.json \(ENOENT\); fix: /);
    const linked = join(dir, 'linked');
    cpSync(ladder, linked, { recursive: true });
    rmSync(join(linked, 'level-3'), { recursive: true });
    symlinkSync(join(ladder, 'level-3'), join(linked, 'level-3'));
    const l = await loadLadder(linked);
    await expect(l.load('level-3')).rejects.toThrow(/^\[loadLadder\] expected level-3\/policy\.json inside the bundle folder, received a link to a file outside it/);
    const p = await l.load('level-1');
    p.dispose();
  });
});

