import { describe, expect, it } from 'vitest';
import { PongMultiAgentEnv } from '../../games/pong/pong-multi-agent.js';
import { mirrorPongObs, type PongOptions } from '../../games/pong/pong.js';
import { InvalidConfigError } from '../../src/errors.js';
import { SeededRng } from '../../src/envs/rng.js';

interface PongState {
  ballX: number;
  ballY: number;
  ballVx: number;
  ballVy: number;
  paddleY: [number, number];
  score: [number, number];
  hits: [number, number];
  aimError: number;
  done: boolean;
}

const W = 40;
const BALL = 2;

/** The same position seen from the other side: x mirrored, paddles and scores swapped. */
function mirrored(s: PongState): PongState {
  return { ...s, ballX: W - BALL - s.ballX, ballVx: -s.ballVx, paddleY: [s.paddleY[1], s.paddleY[0]], score: [s.score[1], s.score[0]], hits: [s.hits[1], s.hits[0]] };
}

/** A two-agent pong put in position `s` (the RNG as after reset({seed: 3})). */
function at(s: PongState, options: PongOptions = {}): PongMultiAgentEnv {
  const env = new PongMultiAgentEnv(options);
  env.reset({ seed: 3 });
  const rng = env.pong.getState().rng;
  env.pong.setState({ game: { ...s, paddleY: [...s.paddleY], score: [...s.score], hits: [...s.hits] }, rng });
  return env;
}

// The ball between pixels, moving right and up, paddles at different heights.
const S: PongState = { ballX: 13.37, ballY: 20.5, ballVx: 1.2, ballVy: -0.4, paddleY: [10, 24], score: [1, 2], hits: [3, 4], aimError: 0, done: false };

describe('pong as a two-agent game: each side sees itself as the right paddle', () => {
  for (const obsType of ['pixels', 'state'] as const) {
    it(`${obsType}: the left agent's view equals the right agent's view of the mirrored position`, () => {
      const env = at(S, { obsType });
      const mirror = at(mirrored(S), { obsType });
      expect(Array.from(env.pong.observePlayer(1))).toEqual(Array.from(mirror.pong.observePlayer(0)));
      expect(Array.from(env.pong.observePlayer(0))).toEqual(Array.from(mirror.pong.observePlayer(1)));
      expect(Array.from(env.pong.observePlayer(1))).not.toEqual(Array.from(env.pong.observePlayer(0)));
    });

    it(`${obsType}: play stays mirrored step by step with the actions swapped, rewards swapped`, () => {
      const env = at(S, { obsType });
      const mirror = at(mirrored(S), { obsType });
      const rng = new SeededRng(8);
      let compared = 0;
      for (let t = 0; t < 200; t++) {
        const a = rng.int(0, 3);
        const b = rng.int(0, 3);
        const r = env.step({ right: a, left: b });
        const m = mirror.step({ right: b, left: a });
        expect(m.rewards).toEqual({ right: r.rewards.left, left: r.rewards.right });
        // After a point the serve draws from the game RNG, which a return by the right paddle also
        // draws from (the bot's aim): the two games may serve differently from there.
        if (r.rewards.right !== 0) break;
        expect(Array.from(r.obs.left!)).toEqual(Array.from(m.obs.right!));
        expect(Array.from(r.obs.right!)).toEqual(Array.from(m.obs.left!));
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
    });
  }

  it('with the ball on whole pixels the left view is the right picture flipped (mirrorPongObs)', () => {
    const env = at({ ...S, ballX: 13 });
    expect(Array.from(env.pong.observePlayer(1))).toEqual(Array.from(mirrorPongObs(env.pong.observePlayer(0) as Uint8Array, 40, 40)));
  });

  it('rewards are zero-sum per point, the game ends for both at pointsToWin, scores are [own, opponent]', () => {
    const env = new PongMultiAgentEnv({ pointsToWin: 2 });
    env.reset({ seed: 1 });
    const rng = new SeededRng(2);
    const returns = { right: 0, left: 0 };
    let last;
    for (let t = 0; t < 6000 && env.agents.length; t++) {
      last = env.step({ right: rng.int(0, 3), left: rng.int(0, 3) });
      expect(last.rewards.right! + last.rewards.left!).toBe(0);
      returns.right += last.rewards.right!;
      returns.left += last.rewards.left!;
    }
    expect(last!.terminated).toEqual({ right: true, left: true });
    const [own, opp] = last!.infos.right!.score as number[];
    expect(last!.infos.left!.score).toEqual([opp, own]);
    expect(Math.max(own!, opp!)).toBe(2);
    expect(returns.right).toBe(own! - opp!);
  });

  it('the right agent\'s observations are the single-agent game\'s player-0 observations', () => {
    const env = new PongMultiAgentEnv();
    const first = env.reset({ seed: 5 }).obs.right!;
    expect(Array.from(first)).toEqual(Array.from(env.pong.observePlayer(0)));
    const r = env.step({ right: 1, left: 2 });
    expect(Array.from(r.obs.right!)).toEqual(Array.from(env.pong.observePlayer(0)));
    expect(Array.from(r.obs.left!)).toEqual(Array.from(env.pong.observePlayer(1)));
  });

  it('refuses the options of the game against the bot', () => {
    expect(() => new PongMultiAgentEnv({ botSkill: 1, mode: 'vs-bot' } as never)).toThrow(InvalidConfigError);
    expect(() => new PongMultiAgentEnv({ botSkill: 1 } as never)).toThrow("[pong (multi-agent)] expected the options of pong without mode, botSkill and trackReward, received options botSkill; fix: remove them: both paddles are agents here (use make('pong') for the game against the bot)");
  });

  it('truncates both agents at maxSteps', () => {
    const env = new PongMultiAgentEnv({ maxSteps: 4 });
    env.reset({ seed: 0 });
    let r;
    for (let t = 0; t < 4; t++) r = env.step({ right: 0, left: 0 });
    expect(r!.truncated).toEqual({ right: true, left: true });
    expect(env.agents).toEqual([]);
  });
});
