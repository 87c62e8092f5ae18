import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import {
  FULL_ACTION_NAMES,
  MINATAR_GAMES,
  MINATAR_PALETTES,
  MinAtarEnv,
  createMinAtarGame,
  resolveMinAtarConfig,
  type MinAtarGameName,
} from '../../games/minatar/index.js';
import { BreakoutGame } from '../../games/minatar/breakout.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { listEnvs, make } from '../../src/envs/registry.js';
import { MT19937 } from '../../src/envs/rng.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';

const MINIMAL: Record<MinAtarGameName, string[]> = {
  asterix: ['noop', 'left', 'up', 'right', 'down'],
  breakout: ['noop', 'left', 'right'],
  freeway: ['noop', 'up', 'down'],
  seaquest: ['noop', 'left', 'up', 'right', 'down', 'fire'],
  space_invaders: ['noop', 'left', 'right', 'fire'],
};

/** Slow reference of the documented drawing rule: each cell takes its highest lit channel's colour. */
function referenceDraw(grid: Uint8Array, game: MinAtarGameName, cellSize: number): Uint8Array {
  const palette = MINATAR_PALETTES[game];
  const C = palette.length;
  const side = 10 * cellSize;
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const cell = (Math.floor(y / cellSize) * 10 + Math.floor(x / cellSize)) * C;
      let top = -1;
      for (let ch = 0; ch < C; ch++) if (grid[cell + ch]) top = ch;
      if (top >= 0) out.set(palette[top]!, (y * side + x) * 3);
    }
  }
  return out;
}

function stepUntilTerminal(game: ReturnType<typeof createMinAtarGame>, action: (t: number) => number, limit = 10_000): { length: number; ret: number } {
  let ret = 0;
  let t = 0;
  while (!game.terminal && t < limit) {
    ret += game.step(action(t));
    t++;
  }
  return { length: t, ret };
}

describe('MinAtar envs: contract', () => {
  for (const game of MINATAR_GAMES) {
    for (const obsType of ['grid', 'rgb'] as const) {
      for (const minimalActions of [true, false]) {
        it(`checkEnv ${game} ${obsType} ${minimalActions ? 'minimal' : 'full'} actions`, () => {
          // Small cells keep the rgb check fast; one default-size run per game is below.
          const cellSize = obsType === 'rgb' ? 2 : 8;
          checkEnv(() => new MinAtarEnv({ game, obsType, minimalActions, cellSize }), { steps: 300 });
        });
      }
    }
  }

  it('checkEnv on default-size (80x80x3) rgb observations', () => {
    for (const game of MINATAR_GAMES) checkEnv(() => new MinAtarEnv({ game, obsType: 'rgb' }), { steps: 15 });
  });

  it('action sets: minimal names by default, the full six on request', () => {
    for (const game of MINATAR_GAMES) {
      const minimal = new MinAtarEnv({ game });
      expect(minimal.spec.actionNames).toEqual(MINIMAL[game]);
      expect(minimal.actionSpace.n).toBe(MINIMAL[game].length);
      const full = new MinAtarEnv({ game, minimalActions: false });
      expect(full.spec.actionNames).toEqual(['noop', 'left', 'up', 'right', 'down', 'fire']);
      expect(FULL_ACTION_NAMES).toEqual(full.spec.actionNames);
    }
  });

  it('observation spaces: [10,10,C] 0/1 grids, or 80x80x3 frames by default in rgb mode', () => {
    const channels: Record<MinAtarGameName, number> = { asterix: 4, breakout: 4, freeway: 7, seaquest: 10, space_invaders: 6 };
    for (const game of MINATAR_GAMES) {
      expect(new MinAtarEnv({ game }).observationSpace.toJSON()).toMatchObject({ shape: [10, 10, channels[game]], dtype: 'uint8' });
      expect(new MinAtarEnv({ game, obsType: 'rgb' }).observationSpace.toJSON()).toMatchObject({ shape: [80, 80, 3], dtype: 'uint8' });
      expect(new MinAtarEnv({ game, obsType: 'rgb', cellSize: 3 }).observationSpace.toJSON()).toMatchObject({ shape: [30, 30, 3] });
    }
  });

  it('registry: five ids, minimalActions default present, no episode cap', () => {
    const ids = listEnvs().filter((e) => e.id.startsWith('minatar/'));
    expect(ids.map((e) => e.id)).toEqual(MINATAR_GAMES.map((g) => `minatar/${g}`));
    for (const e of ids) {
      expect(e.maxEpisodeSteps).toBeUndefined();
      expect(e.options).toMatchObject({ minimalActions: true, stickyActionProb: 0.1, difficultyRamping: true, obsType: 'grid' });
    }
    const env = make('minatar/freeway', { stickyActionProb: 0 });
    expect(env.spec.options).toMatchObject({ game: 'freeway', stickyActionProb: 0, minimalActions: true });
    env.reset({ seed: 3 });
    let n = 0;
    let r;
    do {
      r = env.step(1);
      n++;
    } while (!r.terminated && !r.truncated);
    expect(n).toBe(2501);
    expect(r.truncated).toBe(false);
  });

  it('rejects bad options (all at once) and bad actions', () => {
    expect(() => resolveMinAtarConfig({ game: 'pong' as MinAtarGameName, stickyActionProb: 2, cellSize: 0, colour: 1 })).toThrowError(
      /game "pong".*stickyActionProb 2.*cellSize 0|unknown options colour/,
    );
    try {
      resolveMinAtarConfig({ game: 'breakout', stickyActionProb: -1, obsType: 'png' as 'rgb' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidConfigError);
      expect((e as Error).message).toMatch(/^\[minatar\] expected .*stickyActionProb -1.*obsType "png"/);
    }
    const env = new MinAtarEnv({ game: 'breakout' });
    env.reset({ seed: 0 });
    expect(() => env.step(3)).toThrowError(InvalidActionError);
    expect(() => env.step(1.5)).toThrowError(/minatar\/breakout\.step.*noop, left, right/);
  });
});

describe('MinAtar envs: sticky actions and seeding', () => {
  it('draws the sticky number on every step, even with p = 0 and after the episode ended', () => {
    const env = new MinAtarEnv({ game: 'space_invaders', stickyActionProb: 0 });
    env.reset({ seed: 7 });
    let t = 0;
    while (!env.step(0).terminated) t++;
    expect(t + 1).toBe(17);
    for (let k = 0; k < 5; k++) expect(env.step(0)).toMatchObject({ reward: 0, terminated: true, truncated: false });
    const ref = new MT19937(7);
    for (let k = 0; k < 22; k++) ref.rand();
    expect(env.getState().rng).toEqual(ref.getState());
  });

  it('p = 1 repeats the last applied action, which starts at 0 (noop)', () => {
    const env = new MinAtarEnv({ game: 'breakout', stickyActionProb: 1 });
    env.reset({ seed: 1 });
    for (let k = 0; k < 5; k++) {
      env.step(2);
      expect(env.lastAction).toBe(0);
    }
  });

  it('keeps the last applied action across reset, matching a model of the shared stream', () => {
    // Seaquest makes no game draw before step 21, so the stream holds only sticky draws here.
    let carried = 0;
    for (let seed = 0; seed < 40; seed++) {
      const env = new MinAtarEnv({ game: 'seaquest', stickyActionProb: 0.5 });
      const ref = new MT19937(seed);
      let last = 0;
      const act = (agent: number): void => {
        const expected = ref.rand() < 0.5 ? last : agent;
        env.step(agent);
        expect(env.lastAction).toBe(expected);
        last = expected;
      };
      env.reset({ seed });
      for (let k = 0; k < 4; k++) act(3);
      env.reset();
      const before = last;
      act(1);
      if (before === 3 && env.lastAction === 3) carried++;
    }
    expect(carried).toBeGreaterThan(5);
  });

  it('reset({seed}) reproduces an episode; reset() continues the stream', () => {
    const env = new MinAtarEnv({ game: 'asterix' });
    const run = (): string => {
      const parts: string[] = [];
      for (let k = 0; k < 60; k++) {
        const r = env.step(k % 5);
        parts.push(`${r.reward}${r.terminated ? 'T' : ''}${Array.from(r.obs).join('')}`);
        if (r.terminated) env.reset();
      }
      return parts.join('|');
    };
    env.reset({ seed: 5 });
    const a = run();
    env.reset({ seed: 5 });
    expect(run()).toBe(a);
    env.reset();
    expect(run()).not.toBe(a);
  });

  it('a never-seeded env starts from MT19937(0)', () => {
    const a = new MinAtarEnv({ game: 'freeway' });
    const b = new MinAtarEnv({ game: 'freeway' });
    expect(Array.from(a.reset().obs)).toEqual(Array.from(b.reset({ seed: 0 }).obs));
  });
});

describe('MinAtar games: consequences stated in the spec', () => {
  it('space_invaders: always n dies at step 17; always f returns 3 in 18 steps', () => {
    const g = createMinAtarGame('space_invaders', { ramping: true });
    g.reset(new MT19937(0));
    expect(stepUntilTerminal(g, () => 0)).toEqual({ length: 17, ret: 0 });
    g.reset(new MT19937(0));
    expect(stepUntilTerminal(g, () => 5)).toEqual({ length: 18, ret: 3 });
  });

  it('freeway: every episode lasts 2501 steps', () => {
    const env = new MinAtarEnv({ game: 'freeway' });
    env.reset({ seed: 11 });
    const rng = new MT19937(99);
    for (let ep = 0; ep < 3; ep++) {
      let n = 0;
      let done = false;
      while (!done) {
        done = env.step(rng.randint(0, 3)).terminated;
        n++;
      }
      expect(n).toBe(2501);
      env.reset();
    }
  });

  it('breakout: the first descent reaches row 9 on step 6', () => {
    const g = new BreakoutGame({ ramping: true });
    g.forceStart(0, 3, 2);
    const ballRow = (): number => {
      const o = new Uint8Array(400);
      g.writeObs(o);
      for (let i = 0; i < 100; i++) if (o[i * 4 + 1]) return Math.floor(i / 10);
      return -1;
    };
    const rows: number[] = [];
    for (let t = 1; t <= 6; t++) {
      g.step(0);
      rows.push(ballRow());
    }
    expect(rows).toEqual([4, 5, 6, 7, 8, 9]);
    expect(g.terminal).toBe(true);
  });

  it('asterix: spawns on steps 11, 21; entities move on 6, 11, 16; ramps on steps 102 and 204', () => {
    let checkedRamp = false;
    for (let seed = 0; seed < 60 && !checkedRamp; seed++) {
      const g = createMinAtarGame('asterix', { ramping: true });
      g.reset(new MT19937(seed));
      const entityColumns = (): number[] => {
        const o = new Uint8Array(400);
        g.writeObs(o);
        const cols: number[] = [];
        for (let i = 0; i < 100; i++) if (o[i * 4 + 1] || o[i * 4 + 3]) cols.push(i % 10);
        return cols;
      };
      let t = 0;
      const speeds: Array<[number, number, number]> = [];
      while (!g.terminal && t < 205) {
        g.step(0);
        t++;
        const n = entityColumns().length;
        if (t === 10) expect(n).toBe(0);
        if (t === 11) expect(entityColumns().map((c) => (c === 1 || c === 8 ? 'moved' : c))).toEqual(['moved']);
        if (t === 20) expect(n).toBeLessThanOrEqual(1);
        const s = g.getState();
        if ([101, 102, 203, 204].includes(t)) speeds.push([t, s.spawnSpeed as number, s.moveSpeed as number]);
      }
      if (t === 205) {
        expect(speeds).toEqual([[101, 10, 5], [102, 9, 5], [203, 9, 5], [204, 8, 4]]);
        checkedRamp = true;
      }
    }
    expect(checkedRamp).toBe(true);
  });

  it('asterix without ramping keeps its speeds', () => {
    const g = createMinAtarGame('asterix', { ramping: false });
    g.reset(new MT19937(0));
    const s = g.getState();
    g.setState({ ...s, rampTimer: -1 });
    g.step(0);
    expect(g.getState()).toMatchObject({ spawnSpeed: 10, moveSpeed: 5 });
  });

  it('seaquest: surfacing with 6 divers pays floor(oxygen / 20) and leaves the count at -1', () => {
    const g = createMinAtarGame('seaquest', { ramping: true });
    g.reset(new MT19937(0));
    g.setState({ ...g.getState(), sy: 1, surface: false, oxygen: 150, diverCount: 6 });
    expect(g.step(2)).toBe(7);
    expect(g.getState()).toMatchObject({ sy: 0, oxygen: 200, diverCount: -1, surface: true, eSpawnSpeed: 19 });
    // A later surfacing with a negative count is free.
    g.setState({ ...g.getState(), sy: 1, surface: false });
    expect(g.step(2)).toBe(0);
    expect(g.terminal).toBe(false);
    expect(g.getState()).toMatchObject({ diverCount: -2 });
  });

  it('seaquest: a sub shoots 10 steps after spawning; the bullet moves on the step it is fired', () => {
    const g = createMinAtarGame('seaquest', { ramping: true });
    g.reset(new MT19937(0));
    // As if spawned just before step 1: [x, y, right, moveTimer, shotTimer].
    g.setState({ ...g.getState(), subs: [[0, 3, 1, 5, 10]] });
    const seen = (channel: number): number[] => {
      const o = new Uint8Array(1000);
      g.writeObs(o);
      const cells: number[] = [];
      for (let i = 0; i < 100; i++) if (o[i * 10 + channel]) cells.push(i);
      return cells;
    };
    for (let t = 1; t <= 10; t++) {
      g.step(0);
      expect(seen(4), `step ${t}`).toEqual([]);
      expect(seen(6)).toEqual([t < 6 ? 30 : 31]);
    }
    g.step(0);
    expect(seen(4)).toEqual([32]);
    g.step(0);
    expect(seen(6)).toEqual([32]);
    expect(seen(4)).toEqual([33]);
  });

  it('seaquest: a friendly bullet kills the first fish it reaches (+1)', () => {
    const g = createMinAtarGame('seaquest', { ramping: true });
    g.reset(new MT19937(0));
    g.setState({ ...g.getState(), sx: 3, sy: 3, facingRight: true, surface: false, fish: [[6, 3, 0, 5, 0]] });
    expect([g.step(5), g.step(0), g.step(0)]).toEqual([0, 0, 1]);
    expect(g.getState()).toMatchObject({ fish: [], fBullets: [] });
    expect(g.terminal).toBe(false);
  });

  it('seaquest: surfacing with no diver ends the game', () => {
    const g = createMinAtarGame('seaquest', { ramping: true });
    g.reset(new MT19937(0));
    g.step(4);
    expect(g.terminal).toBe(false);
    g.step(2);
    expect(g.terminal).toBe(true);
  });
});

describe('MinAtar envs: snapshots and pixels', () => {
  for (const game of MINATAR_GAMES) {
    it(`${game}: getState/setState round trip (through JSON) replays identically`, () => {
      const env = new MinAtarEnv({ game });
      env.reset({ seed: 21 });
      const policy = new MT19937(4);
      for (let k = 0; k < 150; k++) if (env.step(policy.randint(0, env.actionSpace.n)).terminated) env.reset();
      const snap = JSON.parse(JSON.stringify(env.getState()));
      const actions = Array.from({ length: 300 }, () => policy.randint(0, env.actionSpace.n));
      const play = (e: MinAtarEnv): string[] =>
        actions.map((a) => {
          const r = e.step(a);
          if (r.terminated) e.reset();
          return `${r.reward}|${r.terminated}|${e.lastAction}|${Array.from(r.obs).join('')}`;
        });
      const first = play(env);
      const other = new MinAtarEnv({ game });
      other.setState(snap);
      expect(play(other)).toEqual(first);
    });

    it(`${game}: rgb observations and render() are the grid drawn with the palette`, () => {
      for (const cellSize of [8, 3]) {
        const grid = new MinAtarEnv({ game, cellSize });
        const rgb = new MinAtarEnv({ game, obsType: 'rgb', cellSize });
        let g = grid.reset({ seed: 2 }).obs;
        let p = rgb.reset({ seed: 2 }).obs;
        const policy = new MT19937(8);
        let litFrames = 0;
        for (let k = 0; k < 60; k++) {
          const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
          expect(same(p, referenceDraw(g, game, cellSize)), `frame ${k}`).toBe(true);
          expect(same(rgb.render().data, p), `render ${k}`).toBe(true);
          expect(same(grid.render().data, p), `grid render ${k}`).toBe(true);
          if (p.some((v) => v > 0)) litFrames++;
          const a = policy.randint(0, grid.actionSpace.n);
          const rg = grid.step(a);
          const rp = rgb.step(a);
          expect(rp.reward).toBe(rg.reward);
          g = rg.obs;
          p = rp.obs;
          if (rg.terminated) {
            g = grid.reset().obs;
            p = rgb.reset().obs;
          }
        }
        expect(litFrames).toBe(60);
      }
    });
  }
});
