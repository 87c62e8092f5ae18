/**
 * `npcforge record <run> --opponent bot|random|<run>[:step]` and `eval --opponent --record N`:
 * matches of a self-play run recorded through playMatch, where the viewer lists them, replayable.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { runCli } from '../helpers/run-cli.js';
import { train } from '../../src/train/runner.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { readEpisode, type RecordedEpisode } from '../../src/replay/episodes/reader.js';
import { verifyEpisode } from '../../src/replay/episodes/verify.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-rec-opp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCli;

async function trainRun(game: string, envOptions: Record<string, unknown>): Promise<string> {
  const file = { numSteps: 16, minibatches: 1, epochs: 1, envs: 3, logEvery: 48, evalEvery: 48, evalEpisodes: 1, seed: 4, envOptions, selfplay: { saveEvery: 48, swapEvery: 48 } };
  const config = resolveSelfPlayRunConfig({ game, file, flags: { steps: 48 } }, { selfplay: true });
  // No eval episodes: the folder then holds only what the commands below record.
  return (await train({ config, runDir: join(tmp, game), progress: null, recordEvalEpisodes: 0 })).runDir;
}

const read = (path: string): RecordedEpisode => readEpisode(new Uint8Array(readFileSync(path)), { source: basename(path) });
const files = (dir: string, prefix: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .sort()
    .map((f) => join(dir, f));

let tagRun = '';
let pongRun = '';
beforeAll(async () => {
  tagRun = await trainRun('tag', { maxSteps: 25 });
  pongRun = await trainRun('pong', { pointsToWin: 1, maxSteps: 400 });
}, 120_000);

describe('npcforge record <run> --opponent', () => {
  it('tag vs random: multi-agent episodes in <run>/episodes, the run\'s seat annotated, replay verify ok', async () => {
    const r = await run(['record', tagRun, '--opponent', 'random', '--episodes', '2', '--seed', '3']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const paths = files(join(tagRun, 'episodes'), 'vs-random');
    expect(paths.map((p) => basename(p))).toEqual(['vs-random-s3-e000.npcep', 'vs-random-s4-e001.npcep']);
    expect(r.out.trim().split('\n')).toHaveLength(2);
    for (const p of paths) {
      const ep = read(p);
      expect(ep.learner).toBe('chaser_0');
      // The run's label as eval prints it: its best weights, else a checkpoint step.
      expect(ep.agents![0]!.controller.startsWith(tagRun)).toBe(true);
      expect(ep.agents![0]!.controller.slice(tagRun.length)).toMatch(/^( \(best\)|:\d+)$/);
      expect(ep.agents!.slice(1).map((a) => a.controller)).toEqual(['random', 'random']);
      expect(ep.agentAnnotation(0, 0)!.probs).toHaveLength(5);
      expect(ep.agentAnnotation(1, 0)).toBeUndefined();
      expect(ep.header.meta).toMatchObject({ seat: 'chaser_0', opponent: 'random' });
      expect(verifyEpisode(ep).ok).toBe(true);
    }
    const v = await run(['replay', 'verify', ...paths]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/ok .*vs-random-s3-e000\.npcep: tag, 3 agents/);
  });

  it('tag vs a pool snapshot of a run: every agent annotated, labelled <run>:<step>', async () => {
    const out = join(tmp, 'vs-snapshot');
    const r = await run(['record', tagRun, '--opponent', `${tagRun}:48`, '--episodes', '1', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [p] = files(out, 'vs-tag-48');
    const ep = read(p!);
    expect(ep.agents!.slice(1).map((a) => a.controller)).toEqual([`${tagRun}:48`, `${tagRun}:48`]);
    for (let i = 0; i < 3; i++) expect(ep.agentAnnotation(i, 0)!.probs).toHaveLength(5);
    expect(verifyEpisode(ep).ok).toBe(true);
  });

  it('pong vs random: a two-agent episode; vs bot: a single-agent episode of pong; both replay', async () => {
    const out = join(tmp, 'pong-eps');
    expect((await run(['record', 'pong', '--policy', pongRun, '--opponent', 'random', '--out', out, '--seed', '7'])).code).toBe(0);
    const two = read(files(out, 'vs-random')[0]!);
    expect(two.agents!.map((a) => `${a.name}=${a.controller === 'random' ? 'random' : 'run'}`)).toEqual(['right=run', 'left=random']);
    expect(verifyEpisode(two).ok).toBe(true);
    expect((await run(['record', pongRun, '--opponent', 'bot', '--out', out, '--seed', '7'])).code).toBe(0);
    const bot = read(files(out, 'vs-bot')[0]!);
    expect(bot.agents).toBeNull();
    expect(bot.header.game.id).toBe('pong');
    expect(bot.header.meta).toMatchObject({ opponent: 'bot', seat: 'right' });
    expect(bot.annotation(0)!.probs).toHaveLength(3);
    expect(verifyEpisode(bot).ok).toBe(true);
  });

  it('eval --opponent --record N: the rates on stdout, N episodes recorded', async () => {
    const out = join(tmp, 'eval-rec');
    const r = await run(['eval', tagRun, '--opponent', 'random', '--episodes', '3', '--record', '2', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ episodes: 3 });
    expect(readdirSync(out).sort()).toEqual(['vs-random-s12345-e000.npcep', 'vs-random-s12346-e001.npcep']);
    for (const p of files(out, 'vs-random')) expect(verifyEpisode(read(p)).ok).toBe(true);
  });

  it('eval --seats (a team) --record: the run\'s seats labelled and annotated, the first one the learner', async () => {
    const out = join(tmp, 'team');
    const r = await run(['eval', tagRun, '--opponent', 'random', '--seats', 'chaser_0,chaser_1', '--episodes', '1', '--record', '1', '--out', out]);
    expect(r.code).toBe(0);
    const ep = read(files(out, 'vs-random')[0]!);
    expect(ep.learner).toBe('chaser_0');
    expect(ep.agents!.map((a) => a.controller === 'random')).toEqual([false, false, true]);
    expect(ep.agentAnnotation(1, 0)!.probs).toHaveLength(5);
    expect(ep.header.meta).toMatchObject({ seat: 'chaser_0', team: ['chaser_1'] });
    expect(verifyEpisode(ep).ok).toBe(true);
  });

  it('bad input: one line, exit 2, no file', async () => {
    const out = join(tmp, 'bad');
    const cases: Array<[string[], RegExp]> = [
      [['record', 'tag', '--opponent', 'random', '--out', out], /\[npcforge record --opponent\] expected a trained run \(a folder with config\.json\) to play the matches, received "tag"; fix: pass the run folder/],
      [['record', tagRun, '--opponent', 'bot', '--out', out], /\[--opponent bot\] expected a game with a scripted opponent/],
      [['record', 'pong', '--policy', tagRun, '--opponent', 'random', '--out', out], /expected a run of "pong", received a run of "tag"/],
      [['record', tagRun, '--opponent', pongRun, '--out', out], /\[--opponent\] expected a run of "tag"/],
      [['eval', tagRun, '--record', '1'], /\[npcforge eval\] expected --record and --out only with --opponent/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});
