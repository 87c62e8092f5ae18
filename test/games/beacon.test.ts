import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { BEACON_REWARD, BEACON_STEP_REWARD, BeaconEnv } from '../../games/beacon/index.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { make } from '../../src/envs/registry.js';

const at = (env: BeaconEnv, x: number, y: number, bx: number, by: number): void => {
  env.reset({ seed: 0 });
  env.setState({ game: { x, y, bx, by } });
};

describe('beacon rules (hand-computed)', () => {
  it('moves one cell per action, blocked at the walls; -0.01 per step, +1 and terminated on the beacon', () => {
    const env = new BeaconEnv();
    at(env, 0, 0, 2, 1);
    let r = env.step(0); // up at the top wall: stays at (0, 0)
    expect(r.reward).toBe(BEACON_STEP_REWARD);
    expect(r.terminated).toBe(false);
    expect(Array.from(r.obs.offset as Float32Array)).toEqual([Math.fround(2 / 7), Math.fround(1 / 7)]);
    r = env.step(3); // left at the left wall: stays
    expect(Array.from(r.obs.offset as Float32Array)).toEqual([Math.fround(2 / 7), Math.fround(1 / 7)]);
    r = env.step(1); // right -> (1, 0)
    const grid = r.obs.grid as Uint8Array;
    // Channel 0 (agent) at (x 1, y 0): index (0 * 8 + 1) * 2 = 2; channel 1 (beacon) at (2, 1): (1 * 8 + 2) * 2 + 1 = 21.
    expect([...grid.keys()].filter((i) => grid[i] === 1)).toEqual([2, 21]);
    expect(Array.from(r.obs.offset as Float32Array)).toEqual([Math.fround(1 / 7), Math.fround(1 / 7)]);
    r = env.step(2); // down -> (1, 1)
    expect(r.reward).toBe(BEACON_STEP_REWARD);
    r = env.step(1); // right -> (2, 1): the beacon
    expect(r.reward).toBe(BEACON_REWARD);
    expect(r.terminated).toBe(true);
    expect(Array.from(r.obs.offset as Float32Array)).toEqual([0, 0]);
  });

  it('the bottom-right walls block too', () => {
    const env = new BeaconEnv();
    at(env, 7, 7, 0, 0);
    expect(Array.from(env.step(1).obs.offset as Float32Array)).toEqual([-1, -1]);
    expect(Array.from(env.step(2).obs.offset as Float32Array)).toEqual([-1, -1]);
  });

  it('reset never puts the beacon on the agent, and a seed fixes the episode', () => {
    const env = new BeaconEnv({ size: 3 });
    for (let seed = 0; seed < 200; seed++) {
      env.reset({ seed });
      const g = env.getState().game as { x: number; y: number; bx: number; by: number };
      expect(g.x !== g.bx || g.y !== g.by).toBe(true);
    }
    const a = new BeaconEnv().reset({ seed: 9 }).obs;
    const b = new BeaconEnv().reset({ seed: 9 }).obs;
    expect(Array.from(a.grid as Uint8Array)).toEqual(Array.from(b.grid as Uint8Array));
  });

  it('make() hands out the flat observation: grid (128 values) then offset (2), keys sorted', () => {
    const env = make('beacon');
    env.reset({ seed: 0 });
    (env as unknown as { unwrapped: BeaconEnv }).unwrapped.setState({ game: { x: 3, y: 2, bx: 5, by: 6 } });
    const { obs } = env.step(1); // right -> (4, 2)
    expect(obs).toBeInstanceOf(Float32Array);
    expect(obs.length).toBe(130);
    expect(obs[(2 * 8 + 4) * 2]).toBe(1);
    expect(obs[(6 * 8 + 5) * 2 + 1]).toBe(1);
    expect(Array.from((obs as Float32Array).subarray(0, 128)).reduce((a, b) => a + b, 0)).toBe(2);
    expect(Array.from((obs as Float32Array).subarray(128))).toEqual([Math.fround(1 / 7), Math.fround(4 / 7)]);
  });

  it('passes checkEnv and refuses bad actions, options and states', () => {
    checkEnv(() => make('beacon'));
    const env = new BeaconEnv();
    env.reset({ seed: 1 });
    expect(() => env.step(4)).toThrow(InvalidActionError);
    expect(() => new BeaconEnv({ size: 2 })).toThrow(InvalidConfigError);
    expect(() => env.setState({ game: { x: 8, y: 0, bx: 0, by: 0 } })).toThrow(InvalidConfigError);
  });
});
