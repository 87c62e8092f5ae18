/**
 * The self-play commands end to end on tiny runs: `eval --opponent`, `league`, and the bad inputs
 * of issue 18 (one line each, non-zero exit).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { train } from '../../src/train/runner.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { makeMultiAgent, registerMultiAgent } from '../../src/envs/multi/registry.js';
import { runCliWrites } from '../helpers/run-cli.js';
import * as tf from '@tensorflow/tfjs';
import { loadMatchAgent, playMatch } from '../../src/train/selfplay/match.js';

const FILE = { numSteps: 16, minibatches: 2, epochs: 1, envs: 2, checkpointEvery: 128, logEvery: 64, evalEvery: 0, evalEpisodes: 1, envOptions: { pointsToWin: 1 } };
let dir = '';
let pong = '';
let tag = '';

const cli = runCliWrites;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-selfplay-cli-'));
  // playLatestProb 0: after the first snapshot every opponent is a pool snapshot.
  const sp = { saveEvery: 64, swapEvery: 32, playLatestProb: 0 };
  pong = (await train({ config: resolveSelfPlayRunConfig({ game: 'pong', file: { ...FILE, selfplay: sp }, flags: { steps: 256 } }, { selfplay: true }), runDir: join(dir, 'pong'), progress: null })).runDir;
  tag = (await train({ config: resolveSelfPlayRunConfig({ game: 'tag', file: { ...FILE, envOptions: {}, selfplay: sp }, flags: { steps: 128 } }, { selfplay: true }), runDir: join(dir, 'tag'), progress: null })).runDir;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npcforge eval --opponent', () => {
  it('prints win/draw/loss rates against the bot, random moves and another run, reproducibly', async () => {
    for (const opponent of ['bot', 'random', `${pong}:64`]) {
      const a = await cli(['eval', pong, '--opponent', opponent, '--episodes', '6', '--json']);
      expect(a.code, a.err.join('')).toBe(0);
      const s = JSON.parse(a.out) as Record<string, number>;
      expect(Object.keys(s).sort()).toEqual(['draw_rate', 'episodes', 'loss_rate', 'mean_return', 'win_rate']);
      expect(s.episodes).toBe(6);
      expect(s.win_rate! + s.draw_rate! + s.loss_rate!).toBeCloseTo(1, 12);
      // One-point games: every episode is won or lost, so the mean return is win rate - loss rate.
      expect(s.mean_return).toBeCloseTo(s.win_rate! - s.loss_rate!, 12);
      const b = await cli(['eval', pong, '--opponent', opponent, '--episodes', '6', '--json']);
      expect(b.out).toBe(a.out);
    }
    // <run>:<step> names the evaluated weights too (a pool snapshot here).
    const step = await cli(['eval', `${pong}:64`, '--opponent', 'random', '--episodes', '2']);
    expect(step.code, step.err.join('')).toBe(0);
    expect(step.out).toMatch(/^pong .*:64 \(right\) vs random: 2 episodes/);
    const text = await cli(['eval', pong, '--opponent', 'random', '--episodes', '2']);
    expect(text.out).toMatch(/^pong .* \(right\) vs random: 2 episodes, win \d+\.\d%, draw \d+\.\d%, loss \d+\.\d%, mean return -?\d+\.\d{3}\n$/);
  }, 120_000);

  it('refuses bot for a game without a scripted opponent and a run of another game, in one line', async () => {
    const bot = await cli(['eval', tag, '--opponent', 'bot', '--episodes', '1']);
    expect(bot.code).toBe(2);
    expect(bot.err).toHaveLength(1);
    expect(bot.err[0]).toMatch(/^npcforge: \[--opponent bot\] expected a game with a scripted opponent .*"tag", which has none; fix: /);
    const other = await cli(['eval', pong, '--opponent', tag, '--episodes', '1']);
    expect(other.code).toBe(2);
    expect(other.err).toHaveLength(1);
    expect(other.err[0]).toMatch(/^npcforge: \[--opponent\] expected a run of "pong", received .*a run of "tag"; fix: /);
  });
});

describe('npcforge eval --opponent --seats', () => {
  it('plays a team of seats with the run (tag: both chasers), reproducibly; bad seat lists are one line', async () => {
    const one = await cli(['eval', tag, '--opponent', 'random', '--episodes', '8', '--json']);
    const team = await cli(['eval', tag, '--opponent', 'random', '--seats', 'chaser_0,chaser_1', '--episodes', '8', '--json']);
    const vsRun = await cli(['eval', tag, '--opponent', `${tag}:64`, '--seats', 'chaser_0,chaser_1', '--episodes', '8']);
    for (const r of [one, team, vsRun]) expect(r.code, r.err.join('')).toBe(0);
    expect(vsRun.out).toMatch(/\(chaser_0, chaser_1\) vs .*:64: 8 episodes/);
    expect((await cli(['eval', tag, '--opponent', 'random', '--seats', 'chaser_0,chaser_1', '--episodes', '8', '--json'])).out).toBe(team.out);
    // With the random evader and chaser_1 played by the run instead of at random, the games differ.
    expect(team.out).not.toBe(one.out);
    for (const [args, want] of [
      [['--opponent', 'random', '--seats', 'chaser_0,prey'], /^npcforge: \[--seats\] expected seats of tag \(chaser_0, chaser_1, evader\), received chaser_0, prey; fix: /],
      [['--opponent', 'random', '--seats', 'evader,evader'], /^npcforge: \[--seats\] expected distinct seat names/],
      [['--seats', 'evader'], /^npcforge: \[--seats\] expected an --opponent to play the other seats/],
      [['--opponent', 'bot', '--seats', 'right,left'], /^npcforge: \[--seats\] expected one seat against the scripted bot, received right, left; fix: /],
    ] as const) {
      const r = await cli(['eval', args[1] === 'bot' ? pong : tag, ...args, '--episodes', '1']);
      expect(r.code).not.toBe(0);
      expect(r.err).toEqual([expect.stringMatching(want)]);
    }
  }, 60_000);
});

describe('matches keep tensors flat', () => {
  it('playMatch with a team of seats against an agent, recording values: tf.memory().numTensors unchanged over 40 episodes', async () => {
    const me = await loadMatchAgent(tag);
    const other = await loadMatchAgent(`${tag}:64`, 'tag');
    const play = (episodes: number) => playMatch({ game: 'tag', envOptions: me.run.run.envOptions, seat: 'chaser_0', teamSeats: ['chaser_1'], player: me.agent, opponent: { kind: 'agent', agent: other.agent }, episodes, seed: 3, lengths: [] });
    await play(2);
    const before = tf.memory().numTensors;
    await play(40);
    expect(tf.memory().numTensors).toBe(before);
    me.agent.dispose();
    other.agent.dispose();
  }, 60_000);
});

describe('npcforge league', () => {
  it('plays every pair and prints an Elo table', async () => {
    const r = await cli(['league', `${pong}:0`, `${pong}:128`, pong, '--episodes', '4', '--json']);
    expect(r.code, r.err.join('')).toBe(0);
    const t = JSON.parse(r.out) as { episodes_per_pair: number; players: Array<{ run: string; elo: number; wins: number; draws: number; losses: number; games: number }> };
    expect(t.episodes_per_pair).toBe(4);
    expect(t.players.map((p) => p.run).sort()).toEqual([`${pong}:0`, `${pong}:128`, pong].sort());
    // Each plays the two others 4 times; Elo is zero-sum around 1200.
    for (const p of t.players) expect(p.games).toBe(8);
    expect(t.players.reduce((s, p) => s + p.elo, 0)).toBeCloseTo(3600, 6);
    expect(t.players.reduce((s, p) => s + p.wins, 0)).toBe(t.players.reduce((s, p) => s + p.losses, 0));
    const text = await cli(['league', `${pong}:0`, pong, '--episodes', '2']);
    expect(text.out.split('\n')[0]).toMatch(/^#\s+run\s+elo\s+win\s+draw\s+loss$/);
  }, 120_000);
});

describe('self-play bad input', () => {
  it('--selfplay on a single-agent game: one line, exit 2', async () => {
    const r = await cli(['train', 'catch', '--selfplay', '--steps', '10']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/^npcforge: \[train --selfplay\] expected a multi-agent game .*received "catch", a single-agent game; fix: .*\n$/)]);
  });

  it('--selfplay with a recurrent agent: refused by name', async () => {
    const r = await cli(['train', 'pong', '--selfplay', '--recurrent', '--steps', '10']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/^npcforge: \[train --selfplay\] expected a feed-forward agent .*received lstmUnits \d+ \(--recurrent\); fix: /)]);
  });

  it('a pool snapshot that fails to load: one line, non-zero exit (eval and resume)', async () => {
    const copy = join(dir, 'corrupt');
    cpSync(pong, copy, { recursive: true });
    // The opponent the last checkpoint was playing: a pool snapshot (playLatestProb 0).
    const opponent = readCheckpoint(join(copy, 'checkpoints', '256')).runner.selfplay!.pool.opponent;
    expect(opponent.kind).toBe('snapshot');
    const step = (opponent as { step: number }).step;
    const snap = join(copy, 'pool', String(step));
    const blob = readdirSync(snap).find((f) => f.startsWith('weights.'))!;
    writeFileSync(join(snap, blob), new Uint8Array(10));
    const e = await cli(['eval', pong, '--opponent', `${copy}:${step}`, '--episodes', '1']);
    expect(e.code).not.toBe(0);
    expect(e.err).toHaveLength(1);
    expect(e.err[0]).toMatch(new RegExp(`^npcforge: \\[selfplay pool\\] expected a loadable pool snapshot ".*pool/${step}", received one that fails to load \\([^;]*\\); fix: `));
    const r = await cli(['train', '--resume', copy, '--steps', '512', '--no-progress']);
    expect(r.code).not.toBe(0);
    expect(r.err.filter((l) => l.includes('[selfplay pool]'))).toHaveLength(1);
  }, 60_000);
});

describe('self-play training defaults (the multi-agent registration train block)', () => {
  it('`train pong --selfplay` takes the block: PPO on the state vector, 16 envs, lr 5e-4; the vs-bot game keeps its own block', () => {
    const sp = resolveSelfPlayRunConfig({ game: 'pong' }, { selfplay: true });
    expect(sp.agent).toBe('ppo');
    expect(sp.run.envOptions).toEqual({ obsType: 'state' });
    expect(sp.run.envs).toBe(16);
    expect(sp.run.steps).toBe(2_000_000);
    expect(sp.agentConfig.lr).toBe(5e-4);
    expect(sp.run.evalEpisodes).toBe(50);
    // The single-agent registration of the same id keeps its own block (PPO on the state too, its
    // own evaluation), and so does its DQN variant (the classic preset, its own evaluation).
    const vsBot = resolveRunConfig({ game: 'pong' });
    expect([vsBot.agent, vsBot.run.envOptions, vsBot.run.envs, vsBot.run.evalEpisodes]).toEqual(['ppo', { obsType: 'state' }, 16, 20]);
    const dqn = resolveRunConfig({ game: 'pong', agent: 'dqn' });
    expect([dqn.agent, dqn.preset, dqn.run.envOptions, dqn.run.evalEvery, dqn.agentConfig.network]).toEqual(['dqn', 'classic', { obsType: 'state' }, 25_000, 'auto']);
    // Another agent does not inherit the block's env options or hyperparameters.
    const a2c = resolveSelfPlayRunConfig({ game: 'pong', agent: 'a2c' }, { selfplay: true });
    expect(a2c.run.envOptions).toEqual({});
    expect(a2c.run.envs).not.toBe(16);
    // Tag's block: the centred view; a config file's envOptions replace the block's.
    const tag = resolveSelfPlayRunConfig({ game: 'tag' }, { selfplay: true });
    expect([tag.agent, tag.run.envOptions, tag.run.envs]).toEqual(['ppo', { view: 'centred' }, 16]);
    expect(resolveSelfPlayRunConfig({ game: 'tag', file: { envOptions: { size: 8 } } }, { selfplay: true }).run.envOptions).toEqual({ size: 8 });
  });

  it('a bad self-play train block is refused at registration, naming the field', () => {
    expect(() => registerMultiAgent('bad-block', () => makeMultiAgent('tag'), { train: { agent: 'ppo', steps: -1 } })).toThrow(/register bad-block.*train\.steps = -1/);
  });
});
