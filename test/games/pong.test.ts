import { describe, expect, it } from 'vitest';
import { PongEnv, PONG_ACTIONS, PONG_INTENSITY, mirrorPongObs, type PongOptions } from '../../games/pong/pong.js';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';
import type { Info } from '../../src/envs/env.js';

const NOOP = 0;
const UP = 1;
const DOWN = 2;

/** Puts the game into a chosen situation through a snapshot. */
function place(env: PongEnv, game: Record<string, unknown>): void {
  const snap = env.getState();
  env.setState({ ...snap, game: { ...(snap.game as object), ...game } });
}

/** Moves player 0's paddle centre toward the ball centre (a simple tracking policy). */
function track(info: Info): number {
  const gap = (info.ballY as number) + 1 - ((info.paddleY as number) + 3);
  return gap < -1 ? UP : gap > 1 ? DOWN : NOOP;
}

function countValue(obs: Uint8Array, v: number): number {
  let n = 0;
  for (const x of obs) if (x === v) n++;
  return n;
}

describe('pong', () => {
  it('passes checkEnv in both modes', () => {
    checkEnv(() => make('pong'), { steps: 300 });
    checkEnv(() => make('pong', { mode: 'two-player', pointsToWin: 2 }), { steps: 300 });
    checkEnv(() => new PongEnv({ width: 24, height: 16, paddleHeight: 4, ballSize: 1, botSkill: 1 }), { steps: 150 });
  });

  it('has action names with unique first letters and the declared spaces', () => {
    expect(new Set(PONG_ACTIONS.map((a) => a[0])).size).toBe(PONG_ACTIONS.length);
    const env = make('pong');
    expect(env.observationSpace.toJSON()).toMatchObject({ type: 'Box', shape: [40, 40, 1], dtype: 'uint8' });
    expect(env.actionSpace.toJSON()).toEqual({ type: 'Discrete', n: 3, start: 0 });
    expect(env.spec.maxEpisodeSteps).toBe(6000);
    expect(make('pong', { mode: 'two-player' }).actionSpace.toJSON()).toEqual({ type: 'MultiDiscrete', nvec: [3, 3] });
  });

  it('draws paddles and ball with distinct intensities at their positions', () => {
    const env = new PongEnv();
    const { obs, info } = env.reset({ seed: 2 });
    expect(countValue(obs as Uint8Array, PONG_INTENSITY.player)).toBe(6);
    expect(countValue(obs as Uint8Array, PONG_INTENSITY.opponent)).toBe(6);
    expect(countValue(obs as Uint8Array, PONG_INTENSITY.ball)).toBe(4);
    expect(obs[(info.paddleY as number) * 40 + 38]).toBe(PONG_INTENSITY.player);
    expect(obs[Math.round(info.opponentY as number) * 40 + 1]).toBe(PONG_INTENSITY.opponent);
    expect(obs[Math.floor(info.ballY as number) * 40 + Math.floor(info.ballX as number)]).toBe(PONG_INTENSITY.ball);
  });

  it('a ball past player 0 is a point for player 1 (-1), then a serve toward player 0', () => {
    const env = new PongEnv();
    env.reset({ seed: 1 });
    place(env, { ballX: 30, ballY: 30, ballVx: 2, ballVy: 0, paddleY: [0, 17] });
    let r;
    let steps = 0;
    do {
      r = env.step(NOOP);
      steps++;
    } while (r.reward === 0 && steps < 20);
    expect(r.reward).toBe(-1);
    expect(r.terminated).toBe(false);
    expect(r.info.score).toEqual([0, 1]);
    expect(r.info.ballVx).toBeGreaterThan(0);
    expect(r.info.ballX).toBe(19);
  });

  it('a paddle returns the ball; the hit position sets the angle and the ball speeds up', () => {
    const hit = (ballY: number): Info => {
      const env = new PongEnv();
      env.reset({ seed: 1 });
      place(env, { ballX: 35, ballY, ballVx: 1, ballVy: 0, paddleY: [17, 17] });
      env.step(NOOP);
      return env.step(NOOP).info;
    };
    const centre = hit(19);
    expect(centre.hits).toEqual([1, 0]);
    expect(centre.ballVx).toBeCloseTo(-1.05, 12);
    expect(Math.abs(centre.ballVy as number)).toBeLessThan(0.1);
    expect(hit(15.5).ballVy).toBeLessThan(-0.5);
    expect(hit(22.5).ballVy).toBeGreaterThan(0.5);
    const miss = hit(10);
    expect(miss.hits).toEqual([0, 0]);
    expect(miss.ballVx).toBe(1);
  });

  it('bounces off the top and bottom walls', () => {
    const env = new PongEnv();
    env.reset({ seed: 1 });
    place(env, { ballX: 20, ballY: 0.5, ballVx: 1, ballVy: -1 });
    const r = env.step(NOOP);
    expect(r.info.ballY).toBeCloseTo(0.5, 12);
    expect(r.info.ballVy).toBe(1);
    place(env, { ballX: 20, ballY: 37.5, ballVx: 1, ballVy: 1 });
    expect(env.step(NOOP).info).toMatchObject({ ballY: 37.5, ballVy: -1 });
  });

  it('ends when a side reaches pointsToWin; the return is the score difference', () => {
    for (const seed of [1, 2, 3]) {
      const env = new PongEnv({ pointsToWin: 3, botSkill: 0 });
      env.reset({ seed });
      let total = 0;
      let r;
      let steps = 0;
      do {
        r = env.step(NOOP);
        total += r.reward;
        steps++;
      } while (!r.terminated && steps < 10_000);
      expect(r.terminated).toBe(true);
      const [s0, s1] = r.info.score as number[];
      expect(Math.max(s0!, s1!)).toBe(3);
      expect(total).toBe(s0! - s1!);
      expect(env.step(NOOP)).toMatchObject({ reward: 0, terminated: true });
    }
  });

  it('two-player mode: step([a0, a1]) moves both paddles; rewards from both views', () => {
    const env = new PongEnv({ mode: 'two-player' });
    const { info } = env.reset({ seed: 4 });
    const r = env.step([UP, DOWN]);
    expect(r.info.paddleY).toBe((info.paddleY as number) - 2);
    expect(r.info.opponentY).toBe((info.opponentY as number) + 2);
    expect(r.info.rewards).toEqual([0, -0]);
    place(env, { ballX: 3, ballY: 30, ballVx: -2, ballVy: 0, paddleY: [17, 0] });
    let s;
    do s = env.step(Int32Array.of(NOOP, NOOP));
    while (s.reward === 0);
    expect(s.reward).toBe(1);
    expect(s.info.rewards).toEqual([1, -1]);
    expect(s.info.score).toEqual([1, 0]);
    expect(() => env.step(1)).toThrow(InvalidActionError);
    expect(() => env.step([1, 3])).toThrow(/two actions \[a0, a1\]/);
  });

  it('the scripted bot does not move its paddle from player 1 actions and rejects arrays in vs-bot mode', () => {
    const env = new PongEnv();
    env.reset({ seed: 1 });
    expect(() => env.step([1, 0])).toThrow(InvalidActionError);
    expect(() => env.step(3)).toThrow(/\[pong.step\] expected an action in \{0, 1, 2\}/);
  });

  it('botSkill measurably changes the bot hit rate against a tracking player', () => {
    const hitRate = (botSkill: number): number => {
      let hits = 0;
      let misses = 0;
      for (let seed = 0; seed < 6; seed++) {
        const env = new PongEnv({ botSkill });
        let { info } = env.reset({ seed });
        for (let t = 0; t < 3000; t++) {
          const r = env.step(track(info));
          info = r.info;
          if (r.terminated) break;
        }
        hits += (info.hits as number[])[1]!;
        misses += (info.score as number[])[0]!;
      }
      return hits / (hits + misses);
    };
    const weak = hitRate(0.1);
    const strong = hitRate(0.9);
    expect(weak).toBeLessThan(0.7);
    expect(strong).toBeGreaterThan(weak + 0.25);
  });

  it('is deterministic under a seed and snapshots round-trip through JSON', () => {
    const run = (env: PongEnv, n: number): string[] => {
      const out: string[] = [];
      let { info } = { info: env.step(NOOP).info };
      for (let t = 0; t < n; t++) {
        const r = env.step(t % 7 === 0 ? UP : track(info));
        info = r.info;
        out.push(`${r.reward}|${r.terminated}|${info.ballX},${info.ballY},${info.paddleY},${info.opponentY}`);
        if (r.terminated) break;
      }
      return out;
    };
    const a = new PongEnv();
    a.reset({ seed: 9 });
    const b = new PongEnv();
    b.reset({ seed: 9 });
    expect(run(a, 300)).toEqual(run(b, 300));
    const snap = JSON.parse(JSON.stringify(a.getState()));
    const first = run(a, 400);
    a.setState(snap);
    expect(run(a, 400)).toEqual(first);
  });

  it('mirrorPongObs gives player 1 the same picture player 0 sees', () => {
    const env = new PongEnv({ mode: 'two-player' });
    const { obs } = env.reset({ seed: 3 });
    const m = mirrorPongObs(obs as Uint8Array, 40, 40);
    expect(Array.from(mirrorPongObs(m, 40, 40))).toEqual(Array.from(obs));
    let own = 0;
    for (let y = 0; y < 40; y++) if (m[y * 40 + 38] === PONG_INTENSITY.player) own++;
    expect(own).toBe(6);
  });

  it('renders a stable RGB frame (renderScale px per field pixel)', () => {
    const env = new PongEnv({ renderScale: 2 });
    env.reset({ seed: 1 });
    const f1 = env.render();
    env.step(UP);
    const f2 = env.render();
    expect([f1.width, f1.height, f1.data.length]).toEqual([80, 80, 80 * 80 * 3]);
    expect([f2.width, f2.height]).toEqual([80, 80]);
    expect(Buffer.from(f1.data).equals(Buffer.from(f2.data))).toBe(false);
  });

  it('rejects bad options, all of them in one message', () => {
    const bad = { width: 3, botSkill: 2, mode: 'solo' } as unknown as PongOptions;
    expect(() => new PongEnv(bad)).toThrow(InvalidConfigError);
    expect(() => new PongEnv(bad)).toThrow(/mode "solo".*width 3.*botSkill 2/);
    expect(() => new PongEnv({ speed: 3 } as unknown as PongOptions)).toThrow(/unknown options speed/);
  });
});
