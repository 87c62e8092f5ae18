import { describe, expect, it } from 'vitest';
import { TagEnv, TAG_AGENTS, resolveTagConfig } from '../../games/tag/tag.js';
import { InvalidConfigError } from '../../src/errors.js';
import type { Box } from '../../src/envs/spaces.js';

const STAY = 0;
const UP = 1;
const RIGHT = 2;
const LEFT = 4;

type Cell = readonly [number, number];

/** A 5x5 tag game in a given position: walls at the listed cells. */
function game(cells: { chaser_0: Cell; chaser_1: Cell; evader: Cell }, walls: Cell[] = [], options = {}): TagEnv {
  const env = new TagEnv({ size: 5, obstacles: 0, minStartDistance: 1, ...options });
  env.reset({ seed: 0 });
  const grid = new Array(25).fill(0);
  for (const [x, y] of walls) grid[y * 5 + x] = 1;
  env.setPosition(grid, cells);
  return env;
}

function cellsOf(env: TagEnv): Record<string, [number, number]> {
  const pos = env.positions();
  return Object.fromEntries(TAG_AGENTS.map((a, i) => [a, [pos[i]! % 5, Math.floor(pos[i]! / 5)]]));
}

describe('tag: catches', () => {
  it('a chaser moving onto the evader catches it: +1 to each chaser, -1 to the evader, the episode ends', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [4, 4], evader: [2, 1] });
    const r = env.step({ chaser_0: RIGHT, chaser_1: STAY, evader: STAY });
    expect(r.rewards).toEqual({ chaser_0: 1, chaser_1: 1, evader: -1 });
    expect(r.terminated).toEqual({ chaser_0: true, chaser_1: true, evader: true });
    expect(r.infos.evader).toEqual({ caught: true, caughtBy: ['chaser_0'] });
    expect(env.agents).toEqual([]);
  });

  it('the evader walking into a chaser that stays is caught', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [4, 4], evader: [2, 1] });
    expect(env.step({ chaser_0: STAY, chaser_1: STAY, evader: LEFT }).infos.chaser_1).toEqual({ caught: true, caughtBy: ['chaser_0'] });
  });

  it('a chaser and the evader swapping cells is a catch (they cannot pass through each other)', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [4, 4], evader: [2, 1] });
    const r = env.step({ chaser_0: RIGHT, chaser_1: STAY, evader: LEFT });
    expect(r.terminated.evader).toBe(true);
    expect(cellsOf(env)).toMatchObject({ chaser_0: [2, 1], evader: [1, 1] });
  });

  it('a chaser and the evader moving into the same cell is a catch', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [4, 4], evader: [3, 1] });
    expect(env.step({ chaser_0: RIGHT, chaser_1: STAY, evader: LEFT }).rewards.evader).toBe(-1);
  });

  it('two chasers closing in on the evader from both sides both catch it (the one cell chasers may share)', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [3, 1], evader: [2, 1] });
    const r = env.step({ chaser_0: RIGHT, chaser_1: LEFT, evader: STAY });
    expect(r.infos.evader).toEqual({ caught: true, caughtBy: ['chaser_0', 'chaser_1'] });
    expect(cellsOf(env)).toEqual({ chaser_0: [2, 1], chaser_1: [2, 1], evader: [2, 1] });
    // The end state round-trips (checkpoints and recorded episodes snapshot it).
    const copy = new TagEnv({ size: 5, obstacles: 0 });
    copy.setState(JSON.parse(JSON.stringify(env.getState())));
    expect(cellsOf(copy)).toEqual(cellsOf(env));
    expect(() => copy.setState({ game: { walls: new Array(25).fill(0), pos: [3, 3, 4], agents: [], steps: 0 } })).toThrow(/\[tag\.setState\] expected walls: 25 cells/);
  });

  it('a chaser moving into the cell the evader leaves does not catch it', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [4, 4], evader: [2, 1] });
    const r = env.step({ chaser_0: RIGHT, chaser_1: STAY, evader: RIGHT });
    expect(r.terminated.evader).toBe(false);
    expect(r.rewards).toEqual({ chaser_0: -0.01, chaser_1: -0.01, evader: 0.01 });
    expect(cellsOf(env)).toMatchObject({ chaser_0: [2, 1], evader: [3, 1] });
  });
});

describe('tag: walls and simultaneous moves', () => {
  it('walls and the grid edge stop chasers and the evader', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [0, 0], evader: [3, 3] }, [
      [2, 1],
      [3, 2],
    ]);
    env.step({ chaser_0: RIGHT, chaser_1: UP, evader: UP });
    expect(cellsOf(env)).toEqual({ chaser_0: [1, 1], chaser_1: [0, 0], evader: [3, 3] });
    env.step({ chaser_0: STAY, chaser_1: LEFT, evader: RIGHT });
    expect(cellsOf(env)).toEqual({ chaser_0: [1, 1], chaser_1: [0, 0], evader: [4, 3] });
  });

  it('two chasers moving into the same cell both stay', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [3, 1], evader: [4, 4] });
    env.step({ chaser_0: RIGHT, chaser_1: LEFT, evader: STAY });
    expect(cellsOf(env)).toMatchObject({ chaser_0: [1, 1], chaser_1: [3, 1] });
  });

  it('a chaser cannot move into a chaser that stays, nor swap with one', () => {
    const env = game({ chaser_0: [1, 1], chaser_1: [2, 1], evader: [4, 4] });
    env.step({ chaser_0: RIGHT, chaser_1: STAY, evader: STAY });
    expect(cellsOf(env)).toMatchObject({ chaser_0: [1, 1], chaser_1: [2, 1] });
    env.step({ chaser_0: RIGHT, chaser_1: LEFT, evader: STAY });
    expect(cellsOf(env)).toMatchObject({ chaser_0: [1, 1], chaser_1: [2, 1] });
  });

  it('a chaser follows one that moves away, and is stopped when the one ahead is blocked', () => {
    const free = game({ chaser_0: [1, 1], chaser_1: [2, 1], evader: [4, 4] });
    free.step({ chaser_0: RIGHT, chaser_1: RIGHT, evader: STAY });
    expect(cellsOf(free)).toMatchObject({ chaser_0: [2, 1], chaser_1: [3, 1] });
    const blocked = game({ chaser_0: [1, 1], chaser_1: [2, 1], evader: [4, 4] }, [[3, 1]]);
    blocked.step({ chaser_0: RIGHT, chaser_1: RIGHT, evader: STAY });
    expect(cellsOf(blocked)).toMatchObject({ chaser_0: [1, 1], chaser_1: [2, 1] });
  });
});

describe('tag: episodes, observations, seeds', () => {
  it('truncates all three after maxSteps; the surviving evader earns +stepReward per step', () => {
    const env = game({ chaser_0: [0, 0], chaser_1: [0, 4], evader: [4, 2] }, [], { maxSteps: 5 });
    let evaderReturn = 0;
    let last;
    for (let t = 0; t < 5; t++) {
      last = env.step({ chaser_0: STAY, chaser_1: STAY, evader: STAY });
      evaderReturn += last.rewards.evader!;
    }
    expect(last!.truncated).toEqual({ chaser_0: true, chaser_1: true, evader: true });
    expect(last!.terminated.evader).toBe(false);
    expect(evaderReturn).toBeCloseTo(0.05);
  });

  it('each agent sees itself in channel 0; chasers, evader and walls in channels 1-3', () => {
    const env = game({ chaser_0: [1, 0], chaser_1: [3, 0], evader: [2, 4] }, [[0, 2]]);
    const r = env.step({ chaser_0: STAY, chaser_1: STAY, evader: STAY });
    const at = (obs: Uint8Array, [x, y]: Cell) => Array.from(obs.subarray((y * 5 + x) * 4, (y * 5 + x) * 4 + 4));
    expect(at(r.obs.chaser_0!, [1, 0])).toEqual([1, 1, 0, 0]);
    expect(at(r.obs.chaser_0!, [3, 0])).toEqual([0, 1, 0, 0]);
    expect(at(r.obs.chaser_1!, [3, 0])).toEqual([1, 1, 0, 0]);
    expect(at(r.obs.evader!, [2, 4])).toEqual([1, 0, 1, 0]);
    expect(at(r.obs.evader!, [0, 2])).toEqual([0, 0, 0, 1]);
    expect(r.obs.evader!.reduce((s, v) => s + v, 0)).toBe(5);
  });

  it("view: 'centred' shows a (2 size - 1) grid centred on the agent, the grid's surroundings as walls", () => {
    const env = game({ chaser_0: [0, 0], chaser_1: [4, 4], evader: [2, 1] }, [[1, 0]], { view: 'centred' });
    expect((env.observationSpace('evader') as Box).shape).toEqual([9, 9, 4]);
    const r = env.step({ chaser_0: STAY, chaser_1: STAY, evader: STAY });
    // Relative cell (dx, dy) of an agent's view is at (4 + dx, 4 + dy).
    const at = (obs: Uint8Array, dx: number, dy: number) => Array.from(obs.subarray(((4 + dy) * 9 + 4 + dx) * 4, ((4 + dy) * 9 + 4 + dx) * 4 + 4));
    const c0 = r.obs.chaser_0!;
    expect(at(c0, 0, 0)).toEqual([1, 1, 0, 0]);
    expect(at(c0, 2, 1)).toEqual([0, 0, 1, 0]);
    expect(at(c0, 4, 4)).toEqual([0, 1, 0, 0]);
    expect(at(c0, 1, 0)).toEqual([0, 0, 0, 1]);
    // Beyond the grid's edge: walls (chaser_0 is in the top-left corner).
    expect(at(c0, -1, 0)).toEqual([0, 0, 0, 1]);
    expect(at(c0, 0, -4)).toEqual([0, 0, 0, 1]);
    const ev = r.obs.evader!;
    expect(at(ev, 0, 0)).toEqual([1, 0, 1, 0]);
    expect(at(ev, -2, -1)).toEqual([0, 1, 0, 0]);
    expect(at(ev, 2, 3)).toEqual([0, 1, 0, 0]);
    expect(at(ev, 3, 0)).toEqual([0, 0, 0, 1]);
    // 81 cells: 25 inside the grid (one of them a wall), 56 beyond it.
    expect(Array.from({ length: 81 }, (_, i) => ev[i * 4 + 3]!).reduce((a, b) => a + b, 0)).toBe(57);
    expect(() => new TagEnv({ view: 'ego' as never })).toThrow(`view "ego" ('grid' | 'centred')`);
  });

  it('reset places the obstacles without cutting the grid apart and the evader away from the chasers; a seed means one layout', () => {
    const env = new TagEnv();
    const layouts = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      env.reset({ seed });
      const walls = env.wallGrid();
      expect(walls.reduce((s, v) => s + v, 0)).toBe(10);
      const pos = env.positions();
      for (const p of pos) expect(walls[p]).toBe(0);
      const d = (a: number, b: number) => Math.abs((a % 10) - (b % 10)) + Math.abs(Math.floor(a / 10) - Math.floor(b / 10));
      expect(Math.min(d(pos[2]!, pos[0]!), d(pos[2]!, pos[1]!))).toBeGreaterThanOrEqual(4);
      expect(reachable(walls, 10, pos[0]!)).toBe(100 - 10);
      layouts.add(`${walls.join('')}|${pos.join(',')}`);
      const again = new TagEnv();
      again.reset({ seed });
      expect(`${again.wallGrid().join('')}|${again.positions().join(',')}`).toBe(`${walls.join('')}|${pos.join(',')}`);
    }
    expect(layouts.size).toBe(30);
  });

  it('reports bad options together, and draws a stable-size frame', () => {
    expect(() => resolveTagConfig({ size: 6, obstacles: 10, minStartDistance: 7 })).toThrow(InvalidConfigError);
    expect(() => resolveTagConfig({ size: 6, obstacles: 10, minStartDistance: 7 })).toThrow("[tag] expected obstacles <= size*size/4, minStartDistance <= size and view 'grid' or 'centred', received obstacles 10 (at most a quarter of the 6x6 grid: 9); minStartDistance 7 (at most size 6); fix:");
    expect(() => new TagEnv({ size: 40 } as never)).toThrow(/size 40/);
    const env = new TagEnv({ renderScale: 8 });
    env.reset({ seed: 1 });
    const f = env.render();
    expect([f.width, f.height, f.data.length]).toEqual([80, 80, 80 * 80 * 3]);
  });
});

/** Free cells reachable from `start` (4-neighbourhood). */
function reachable(walls: Uint8Array, n: number, start: number): number {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length) {
    const c = stack.pop()!;
    const x = c % n;
    for (const nb of [x > 0 ? c - 1 : -1, x < n - 1 ? c + 1 : -1, c - n, c + n]) {
      if (nb < 0 || nb >= n * n || walls[nb] || seen.has(nb)) continue;
      seen.add(nb);
      stack.push(nb);
    }
  }
  return seen.size;
}
