import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeStats } from '../../src/cli/commands/stats.js';
import { parseFixedSequence } from '../../src/envs/fixed-sequence.js';
import { register } from '../../src/envs/registry.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { CatchEnv } from '../../games/catch/catch.js';
import { CartPoleEnv } from '../../games/cartpole/cartpole.js';
import { runCli } from '../helpers/run-cli.js';

const root = join(__dirname, '..', '..');

const run = runCli;

afterEach(() => vi.restoreAllMocks());

describe('npcforge stats', () => {
  it('prints one JSON object with hand-checkable lengths (catch always lasts 9 steps)', async () => {
    const { code, out } = await run(['stats', 'catch', '--policy', 'fixed:s', '--episodes', '20', '--seed', '3', '--json']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(Object.keys(report)).toEqual(['game', 'policy', 'n_episodes', 'n_truncated', 'return', 'length']);
    expect(report.game).toBe('catch');
    expect(report.policy).toBe('fixed:s');
    expect(report.n_episodes).toBe(20);
    expect(report.n_truncated).toBe(0);
    expect(report.length).toEqual({ mean: 9, std: 0, sem: 0, median: 9, p05: 9, p95: 9, min: 9, max: 9 });
    expect(Object.keys(report.return)).toEqual(['mean', 'std', 'sem', 'median', 'p05', 'p95', 'min', 'max']);
    // Staying put catches exactly the balls dropped in the middle column: returns are +-1.
    expect(report.return.min).toBeGreaterThanOrEqual(-1);
    expect(report.return.max).toBeLessThanOrEqual(1);
  });

  it('returns +1 exactly for the balls that start in the paddle column when staying put', () => {
    const env = new CatchEnv();
    const columns = Array.from({ length: 50 }, (_, e) => {
      env.reset(e === 0 ? { seed: 1 } : {});
      return (env.getState().game as { ballX: number }).ballX;
    });
    const hits = columns.filter((x) => x === 2).length;
    const r = computeStats({ game: 'catch', policy: 'fixed:s', episodes: 50, seed: 1 });
    expect(r.return.mean).toBeCloseTo((hits - (50 - hits)) / 50, 12);
    expect(r.return.max).toBe(hits > 0 ? 1 : -1);
  });

  it('counts truncated episodes and lengths including the last step', () => {
    register('test/capped-cartpole', (o) => new CartPoleEnv(o), { maxEpisodeSteps: 5 });
    // Alternating left/right keeps the pole up well past 5 steps, so every episode is cut by the cap.
    const r = computeStats({ game: 'test/capped-cartpole', policy: 'fixed:lr', episodes: 4, seed: 0 });
    expect(r.n_truncated).toBe(4);
    expect(r.length).toEqual({ mean: 5, std: 0, sem: 0, median: 5, p05: 5, p95: 5, min: 5, max: 5 });
    expect(r.return.mean).toBe(5); // +1 per step, including the last
    const fall = computeStats({ game: 'cartpole', policy: 'fixed:r', episodes: 3, seed: 0 });
    expect(fall.n_truncated).toBe(0);
    expect(fall.length.mean).toBe(fall.return.mean);
  });

  it('plays fixed sequences on the full action set of games registered with minimalActions', () => {
    const seen: unknown[] = [];
    const full = ['noop', 'left', 'up', 'right', 'down', 'fire'];
    register('test/minimal', (o) => {
      seen.push(o.minimalActions);
      const names = o.minimalActions ? ['noop', 'fire'] : full;
      let t = 0;
      return {
        observationSpace: new Box({ shape: [1], dtype: 'uint8', low: 0, high: 1 }),
        actionSpace: new Discrete(names.length),
        spec: { id: 'test/minimal', actionNames: names },
        reset: () => ((t = 0), { obs: new Uint8Array(1), info: {} }),
        // reward = action index, so the return reveals which actions were played
        step: (a: number) => ({ obs: new Uint8Array(1), reward: a, terminated: ++t === 3, truncated: false, info: {} }),
        render: () => ({ width: 1, height: 1, data: new Uint8Array(3) }),
        close: () => undefined,
      };
    }, { options: { minimalActions: true } });
    const r = computeStats({ game: 'test/minimal', policy: 'fixed:rd', episodes: 2, seed: 0 });
    expect(seen).toEqual([false]);
    expect(r.return.mean).toBe(3 + 4 + 3); // r, d, r: the sequence restarts each episode and cycles
    computeStats({ game: 'test/minimal', policy: 'random', episodes: 1, seed: 0 });
    expect(seen).toEqual([false, true]);
  });

  it('is reproducible for a seed with the random policy', () => {
    const a = computeStats({ game: 'catch', policy: 'random', episodes: 30, seed: 5 });
    const b = computeStats({ game: 'catch', policy: 'random', episodes: 30, seed: 5 });
    expect(a).toEqual(b);
  });

  it.each([
    [['stats', 'nope', '--policy', 'random', '--episodes', '3'], /registered game \(.*catch.*\), received "nope"/],
    [['stats', 'catch', '--policy', 'greedy', '--episodes', '3'], /--policy 'random' or 'fixed:<seq>', received "greedy"/],
    [['stats', 'catch', '--policy', 'fixed:x', '--episodes', '3'], /action initials \(0=left, 1=stay, 2=right\), received 'x'/],
    [['stats', 'catch', '--policy', 'fixed:5', '--episodes', '3'], /digits below 3/],
    [['stats', 'catch', '--policy', 'fixed:', '--episodes', '3'], /non-empty sequence/],
    [['stats', 'catch', '--policy', 'random', '--episodes', '0'], /--episodes to be a positive integer, received 0/],
    [['stats', 'catch', '--policy', 'random', '--episodes', 'ten'], /--episodes to be a positive integer, received "ten"/],
    [['stats', 'catch', '--policy', 'random', '--episodes', '3', '--seed', '1.5'], /--seed/],
  ])('exits with code 2 and one line for %j', async (argv, message) => {
    const { code, err, out } = await run(argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(message);
  });

  it('keeps the table columns apart for wide values (pendulum returns)', async () => {
    const { code, out } = await run(['stats', 'pendulum', '--policy', 'random', '--episodes', '2']);
    expect(code).toBe(0);
    const [, header, ret, len] = out.trimEnd().split('\n');
    // Every cell is separated by spaces: 9 cells per row, the same right edges as the header.
    for (const line of [header!, ret!, len!]) expect(line.trim().split(/\s+/)).toHaveLength(line === header ? 8 : 9);
    expect(ret).toMatch(/^\s+return\s+-\d+\.\d{3}\s/);
    expect(ret!.length).toBe(header!.length);
  });

  it('works from the built CLI', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'npcforge.js'), 'stats', 'catch', '--policy', 'fixed:s', '--episodes', '4', '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).length.max).toBe(9);
    const bad = spawnSync(process.execPath, [join(root, 'bin', 'npcforge.js'), 'stats', 'catch', '--policy', 'fixed:q', '--episodes', '4'], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('parseFixedSequence', () => {
  it('maps initials and digits to action indices', () => {
    expect(parseFixedSequence('nlurdf3', ['noop', 'left', 'up', 'right', 'down', 'fire'])).toEqual([0, 1, 2, 3, 4, 5, 3]);
    expect(parseFixedSequence('LR', ['left', 'stay', 'right'])).toEqual([0, 2]);
  });

  it('refuses letters when initials collide', () => {
    expect(() => parseFixedSequence('s', ['stay', 'shoot'])).toThrow(/unique action initials/);
    expect(parseFixedSequence('1', ['stay', 'shoot'])).toEqual([1]);
  });
});
