/** Pong's `obsType: 'state'` vector and `trackReward` shaping (used to train the NPC quickly). */
import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { PongEnv } from '../../games/pong/pong.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { make } from '../../src/envs/registry.js';
import { InvalidConfigError } from '../../src/errors.js';

describe('pong state observation and tracking shaping', () => {
  it('passes checkEnv with obsType state', () => {
    checkEnv(() => make('pong', { obsType: 'state' }), { steps: 300 });
  });

  it('the state vector is the normalised positions and velocities of the info', () => {
    const env = new PongEnv({ obsType: 'state' });
    env.reset({ seed: 2 });
    for (let t = 0; t < 30; t++) {
      const r = env.step(t % 3);
      const i = r.info as { ballX: number; ballY: number; ballVx: number; ballVy: number; paddleY: number; opponentY: number };
      const o = r.obs as Float32Array;
      expect(o).toBeInstanceOf(Float32Array);
      expect(Array.from(o)).toEqual(Array.from(Float32Array.of(i.ballX / 40, i.ballY / 40, i.ballVx / 2, i.ballVy / 2, i.paddleY / 40, i.opponentY / 40)));
    }
  });

  it('trackReward adds -trackReward * |paddle centre - ball centre| / height per step without a point', () => {
    const env = new PongEnv({ obsType: 'state', trackReward: 0.5 });
    env.reset({ seed: 5 });
    const r = env.step(0);
    const i = r.info as { ballY: number; paddleY: number };
    expect(r.reward).toBeCloseTo((-0.5 * Math.abs(i.paddleY + 3 - (i.ballY + 1))) / 40, 10);
    expect(() => new PongEnv({ obsType: 'rgb' as 'state' })).toThrow(InvalidConfigError);
  });
});
