import { describe, expect, it } from 'vitest';
import { SnakeEnv, SNAKE_ACTIONS } from '../../games/snake/snake.js';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';
import { SeededRng } from '../../src/envs/rng.js';

const UP = 0;
const RIGHT = 1;
const DOWN = 2;
const LEFT = 3;

/** Cells of channel `ch` that are set, as "x,y" strings. */
function cellsOf(obs: Uint8Array, width: number, ch: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < obs.length / 3; i++) if (obs[i * 3 + ch]) out.push(`${i % width},${Math.floor(i / width)}`);
  return out;
}

describe('snake', () => {
  it('passes checkEnv (registered and direct, with options)', () => {
    checkEnv(() => make('snake'), { steps: 400 });
    checkEnv(() => new SnakeEnv({ width: 6, height: 5, stepReward: -0.01, maxStepsWithoutFruit: 20 }), { steps: 400 });
  });

  it('has action names with unique first letters', () => {
    expect(SNAKE_ACTIONS).toEqual(['up', 'right', 'down', 'left']);
    expect(new Set(SNAKE_ACTIONS.map((a) => a[0])).size).toBe(4);
  });

  it('starts in the middle row heading right, observation channels head/body/fruit', () => {
    const env = new SnakeEnv();
    const { obs, info } = env.reset({ seed: 3 });
    expect(obs.length).toBe(9 * 9 * 3);
    expect(cellsOf(obs, 9, 0)).toEqual(['5,4']);
    expect(cellsOf(obs, 9, 1)).toEqual(['3,4', '4,4']);
    expect(cellsOf(obs, 9, 2)).toHaveLength(1);
    expect(info).toMatchObject({ score: 0, length: 3 });
  });

  it('eats the fruit: +1, grows by one, a new fruit appears on a free cell', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 1, options: { fruit: 4 * 9 + 6 } });
    const r = env.step(RIGHT);
    expect(r.reward).toBe(1);
    expect(r.terminated).toBe(false);
    expect(r.info).toMatchObject({ score: 1, length: 4, stepsSinceFruit: 0 });
    expect(cellsOf(r.obs, 9, 0)).toEqual(['6,4']);
    expect(cellsOf(r.obs, 9, 1)).toEqual(['3,4', '4,4', '5,4']);
    const fruit = cellsOf(r.obs, 9, 2);
    expect(fruit).toHaveLength(1);
    expect(['3,4', '4,4', '5,4', '6,4']).not.toContain(fruit[0]);
    // Next step without fruit: the length stays 4 (the tail follows).
    const r2 = env.step(UP);
    expect(r2.reward).toBe(0);
    expect(r2.info).toMatchObject({ length: 4 });
    expect(cellsOf(r2.obs, 9, 1)).toEqual(['4,4', '5,4', '6,4']);
  });

  it('dies on the wall: -1, terminated, cause wall', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 1, options: { fruit: 0 } });
    const rewards: number[] = [];
    let r;
    do {
      r = env.step(RIGHT);
      rewards.push(r.reward);
    } while (!r.terminated);
    expect(rewards).toEqual([0, 0, 0, -1]);
    expect(r.truncated).toBe(false);
    expect(r.info.cause).toBe('wall');
    // Stepping a finished game changes nothing.
    const after = env.step(UP);
    expect(after).toMatchObject({ reward: 0, terminated: true });
  });

  it('dies on its own body, but may move into the cell its tail is leaving', () => {
    const env = new SnakeEnv({ initialLength: 5 });
    env.reset({ seed: 1, options: { fruit: 0 } });
    expect(env.step(UP).terminated).toBe(false);
    expect(env.step(LEFT).terminated).toBe(false);
    const r = env.step(DOWN);
    expect(r).toMatchObject({ reward: -1, terminated: true });
    expect(r.info.cause).toBe('self');

    const tailChaser = new SnakeEnv({ initialLength: 4 });
    tailChaser.reset({ seed: 1, options: { fruit: 0 } });
    for (const a of [UP, LEFT, DOWN, RIGHT, UP, LEFT, DOWN]) expect(tailChaser.step(a).terminated).toBe(false);
  });

  it('ignores a reversal onto the neck and keeps its heading', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 1, options: { fruit: 0 } });
    const r = env.step(LEFT);
    expect(r.terminated).toBe(false);
    expect(cellsOf(r.obs, 9, 0)).toEqual(['6,4']);
  });

  it('starves after maxStepsWithoutFruit steps (terminated, not truncated) and adds stepReward', () => {
    const env = new SnakeEnv({ maxStepsWithoutFruit: 3, stepReward: -0.01 });
    env.reset({ seed: 1, options: { fruit: 0 } });
    expect(env.step(UP).reward).toBeCloseTo(-0.01, 12);
    expect(env.step(UP).terminated).toBe(false);
    const r = env.step(RIGHT);
    expect(r).toMatchObject({ terminated: true, truncated: false });
    expect(r.reward).toBeCloseTo(-1.01, 12);
    expect(r.info.cause).toBe('starved');
    expect(new SnakeEnv().spec.options?.maxStepsWithoutFruit).toBe(162);
  });

  // A Hamiltonian cycle of the 4x4 board (x, y); following it never collides.
  const CYCLE: Array<[number, number]> = [
    [0, 0], [1, 0], [2, 0], [3, 0], [3, 1], [2, 1], [1, 1], [1, 2], [2, 2], [3, 2], [3, 3], [2, 3], [1, 3], [0, 3], [0, 2], [0, 1],
  ];
  const cellOf = ([x, y]: [number, number]): number => y * 4 + x;

  it('wins when the board is full: +1 for the last fruit, terminated, cause won', () => {
    const env = new SnakeEnv({ width: 4, height: 4, initialLength: 2 });
    env.reset({ seed: 0 });
    const snap = env.getState();
    env.setState({ ...snap, game: { body: CYCLE.slice(0, 15).map(cellOf), heading: UP, fruit: cellOf([0, 1]), stepsSinceFruit: 0, score: 13, done: false } });
    const r = env.step(UP);
    expect(r).toMatchObject({ reward: 1, terminated: true });
    expect(r.info).toMatchObject({ cause: 'won', length: 16, score: 14 });
    expect(cellsOf(r.obs, 4, 2)).toEqual([]);
  });

  it('following a Hamiltonian cycle from a short snake eats every fruit and wins', () => {
    for (const seed of [1, 2, 3]) {
      const env = new SnakeEnv({ width: 4, height: 4, initialLength: 2, maxStepsWithoutFruit: null });
      env.reset({ seed });
      const snap = env.getState();
      env.setState({ ...snap, game: { body: [cellOf(CYCLE[0]!), cellOf(CYCLE[1]!)], heading: RIGHT, fruit: cellOf(CYCLE[5]!), stepsSinceFruit: 0, score: 0, done: false } });
      let pos = 1;
      let total = 0;
      let r;
      for (let t = 0; t < 16 * 16; t++) {
        const [x, y] = CYCLE[pos]!;
        pos = (pos + 1) % 16;
        const [nx, ny] = CYCLE[pos]!;
        r = env.step(nx > x ? RIGHT : nx < x ? LEFT : ny > y ? DOWN : UP);
        total += r.reward;
        if (r.terminated) break;
      }
      expect(r!.info.cause).toBe('won');
      expect(total).toBe(14);
    }
  });

  it('places fruit uniformly over the free cells, from the env RNG', () => {
    const counts = new Map<string, number>();
    const env = new SnakeEnv();
    for (let seed = 0; seed < 3000; seed++) {
      const f = cellsOf(env.reset({ seed }).obs, 9, 2)[0]!;
      counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    expect(counts.size).toBe(81 - 3);
    for (const snakeCell of ['3,4', '4,4', '5,4']) expect(counts.has(snakeCell)).toBe(false);
    expect(Math.min(...counts.values())).toBeGreaterThan(10);
    expect(Math.max(...counts.values())).toBeLessThan(80);
    const a = new SnakeEnv().reset({ seed: 42 }).obs;
    const b = new SnakeEnv().reset({ seed: 42 }).obs;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('snapshot round trip: restoring a state replays the same future (JSON-safe)', () => {
    const env = new SnakeEnv({ maxStepsWithoutFruit: null });
    env.reset({ seed: 7 });
    const rng = new SeededRng(5);
    const policy = (): number => rng.int(0, 4);
    for (let t = 0; t < 3; t++) env.step(RIGHT);
    const snap = JSON.parse(JSON.stringify(env.getState()));
    const actions = Array.from({ length: 40 }, policy);
    const run = (): string[] => {
      const out: string[] = [];
      for (const a of actions) {
        const r = env.step(a);
        out.push(`${Array.from(r.obs).join('')}|${r.reward}|${r.terminated}`);
      }
      return out;
    };
    const first = run();
    env.setState(snap);
    expect(run()).toEqual(first);
  });

  it('renders a stable RGB frame with the head drawn', () => {
    const env = new SnakeEnv({ cellSize: 4 });
    env.reset({ seed: 1 });
    const f = env.render();
    expect([f.width, f.height, f.data.length]).toEqual([36, 36, 36 * 36 * 3]);
    const i = ((4 * 4 + 2) * 36 + 5 * 4 + 2) * 3;
    expect(Array.from(f.data.slice(i, i + 3))).toEqual([150, 255, 120]);
  });

  it('rejects bad options (all at once) and bad actions', () => {
    expect(() => new SnakeEnv({ width: 2, cellSize: 0 })).toThrow(InvalidConfigError);
    expect(() => new SnakeEnv({ width: 2, cellSize: 0 })).toThrow(/width 2.*cellSize 0/);
    expect(() => new SnakeEnv({ colour: 'red' } as never)).toThrow(/unknown options colour/);
    const env = new SnakeEnv();
    env.reset({ seed: 1 });
    expect(() => env.step(4)).toThrow(InvalidActionError);
    expect(() => env.step(4)).toThrow(/\[snake.step\] expected an action in \{0, 1, 2, 3\}/);
    expect(() => env.reset({ options: { fruit: 4 * 9 + 4 } })).toThrow(InvalidConfigError);
  });
});
