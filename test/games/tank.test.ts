import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { TANK_HIT_REWARD, TANK_MISS_REWARD, TANK_STEP_REWARD, TankEnv, resolveTankConfig } from '../../games/tank/index.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';
import { resolveRunConfig } from '../../src/train/run-config.js';

const act = (move: number, turret: number, fire: number): Int32Array => Int32Array.of(move, turret, fire);
const game = (env: TankEnv) => env.getState().game as { x: number; y: number; turret: number; tx: number; ty: number; shot: number[] };

/** Puts the env in a known state (tank, turret, target) through setState. */
function place(env: TankEnv, s: { x: number; y: number; turret: number; tx: number; ty: number }): void {
  env.reset({ seed: 0 });
  env.setState({ ...env.getState(), game: { ...s, shot: [] } });
}

describe('tank (MultiDiscrete game)', () => {
  it('moves, turns, then fires; a shot along the turret ray hits (+1, terminated), a miss costs 0.05, a step 0.01', () => {
    const env = new TankEnv();
    // Tank (1, 1), turret up; target (4, 4): after moving right the tank is at (2, 1), the
    // diagonal down-right ray (3, 2), (4, 3), ... misses; from (1, 1) the ray (2, 2), (3, 3), (4, 4) hits.
    place(env, { x: 1, y: 1, turret: 0, tx: 4, ty: 4 });
    let r = env.step(act(0, 2, 0)); // turn right: up-right (1)
    expect(r.reward).toBe(TANK_STEP_REWARD);
    expect(game(env).turret).toBe(1);
    r = env.step(act(2, 2, 1)); // move right to (2, 1), turn to right (2), fire along row 1: miss
    expect(r.reward).toBe(TANK_MISS_REWARD);
    expect(r.terminated).toBe(false);
    expect(game(env)).toMatchObject({ x: 2, y: 1, turret: 2 });
    expect(game(env).shot).toEqual([1 * 7 + 3, 1 * 7 + 4, 1 * 7 + 5, 1 * 7 + 6]);
    r = env.step(act(4, 2, 1)); // back to (1, 1), turret down-right (3), fire: hits (4, 4)
    expect(r.reward).toBe(TANK_HIT_REWARD);
    expect(r.terminated).toBe(true);
    expect(game(env).shot).toEqual([2 * 7 + 2, 3 * 7 + 3, 4 * 7 + 4]);
    // Observation: column, row, target offset / 6, turret one-hot.
    expect(Array.from(r.obs)).toEqual([1 / 6, 1 / 6, 3 / 6, 3 / 6, 0, 0, 0, 1, 0, 0, 0, 0].map(Math.fround));
  });

  it('walls and the target block moves; the turret wraps around', () => {
    const env = new TankEnv();
    place(env, { x: 0, y: 0, turret: 0, tx: 1, ty: 0 });
    env.step(act(1, 0, 0)); // up into the wall, turn left: 7
    expect(game(env)).toMatchObject({ x: 0, y: 0, turret: 7 });
    env.step(act(2, 1, 0)); // right onto the target: stays
    expect(game(env)).toMatchObject({ x: 0, y: 0 });
    env.step(act(3, 2, 0)); // down, turn right: 0
    expect(game(env)).toMatchObject({ x: 0, y: 1, turret: 0 });
  });

  it('rejects actions outside MultiDiscrete([5, 3, 2]) and bad options, naming them', () => {
    const env = new TankEnv();
    env.reset({ seed: 1 });
    for (const bad of [act(5, 0, 0), act(0, 3, 0), Int32Array.of(0, 0)]) {
      expect(() => env.step(bad)).toThrow(InvalidActionError);
    }
    expect(() => env.step(act(0, 1, 2))).toThrow(/^\[tank\.step\] expected an action \[move 0-4, turret 0-2, fire 0-1\], received/);
    expect(() => resolveTankConfig({ size: 2, cellSize: 0, bogus: 1 } as never)).toThrow(InvalidConfigError);
    expect(() => resolveTankConfig({ size: 2, cellSize: 0, bogus: 1 } as never)).toThrow(/unknown options bogus; size 2; cellSize 0/);
    expect(() => env.setState({ game: { x: 9, y: 0, turret: 0, tx: 1, ty: 1, shot: [] } })).toThrow(InvalidConfigError);
  });

  it('passes checkEnv; getState/setState round-trips exactly through JSON; renders RGB bytes', () => {
    expect(() => checkEnv(() => make('tank'), { steps: 300 })).not.toThrow();
    const a = new TankEnv();
    const b = new TankEnv();
    a.reset({ seed: 5 });
    const rng = new SeededRng(6);
    for (let i = 0; i < 7; i++) a.step(a.actionSpace.sample(rng));
    b.reset({ seed: 99 });
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    for (let i = 0; i < 30; i++) {
      const action = a.actionSpace.sample(rng);
      const ra = a.step(action);
      const rb = b.step(action);
      expect(rb).toEqual(ra);
      if (ra.terminated) {
        expect(b.reset().obs).toEqual(a.reset().obs);
      }
    }
    const f = a.render();
    expect([f.width, f.height, f.data.length]).toEqual([56, 56, 56 * 56 * 3]);
    expect(new Set(f.data).size).toBeGreaterThan(3);
  });

  it('a uniformly random policy scores well below the target of 0.8 (below 0: about -0.34)', () => {
    const env = make('tank');
    const rng = new SeededRng(1);
    let sum = 0;
    for (let ep = 0; ep < 200; ep++) {
      env.reset({ seed: ep });
      for (;;) {
        const r = env.step(env.actionSpace.sample(rng));
        sum += r.reward;
        if (r.terminated || r.truncated) break;
      }
    }
    const mean = sum / 200;
    expect(mean).toBeLessThan(0);
  });

  it('trains with PPO and its tank preset by default (DQN takes Discrete actions only)', () => {
    const plain = resolveRunConfig({ game: 'tank' });
    const ppo = resolveRunConfig({ game: 'tank', agent: 'ppo' });
    expect([plain.agent, plain.preset, plain.run.steps, plain.run.envs]).toEqual(['ppo', 'tank', 200_000, 8]);
    expect(ppo).toEqual(plain);
  });
});
