import { describe, expect, it } from 'vitest';
import { MemoryMazeEnv, MEMORY_MAZE_ACTIONS, CUE_LEFT, CUE_RIGHT, type MemoryMazeOptions } from '../../games/memory-maze/memory-maze.js';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';
import { SeededRng } from '../../src/envs/rng.js';
import type { Env } from '../../src/envs/env.js';

const FORWARD = 0;
const LEFT = 1;
const RIGHT = 2;

/** Row of the agent in an observation of a corridor-L maze (-1 if absent). */
function agentRow(obs: Uint8Array): number {
  for (let i = 0; i < obs.length / 4; i++) if (obs[i * 4]) return Math.floor(i / 3);
  return -1;
}

function cueChannelsSum(obs: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < obs.length / 4; i++) n += obs[i * 4 + 2]! + obs[i * 4 + 3]!;
  return n;
}

describe('memory-maze', () => {
  it('passes checkEnv (registered with its time limit, and direct)', () => {
    checkEnv(() => make('memory-maze'), { steps: 500 });
    checkEnv(() => new MemoryMazeEnv({ corridorLength: 1, stepReward: -0.01 }), { steps: 300 });
  });

  it('has action names with unique first letters and a [L+1, 3, 4] observation', () => {
    expect(MEMORY_MAZE_ACTIONS).toEqual(['forward', 'left', 'right']);
    expect(new Set(MEMORY_MAZE_ACTIONS.map((a) => a[0])).size).toBe(3);
    const env = make('memory-maze', { corridorLength: 7 });
    expect(env.observationSpace.toJSON()).toMatchObject({ shape: [8, 3, 4], dtype: 'uint8' });
    expect(env.spec.maxEpisodeSteps).toBe(100);
  });

  it('shows the cue only in the reset observation; later observations are identical for both cues', () => {
    const rng = new SeededRng(11);
    for (let trial = 0; trial < 50; trial++) {
      const actions = Array.from({ length: 30 }, () => rng.int(0, 3));
      const play = (cue: number): { obs: string[]; rewards: number[] } => {
        const env = new MemoryMazeEnv();
        const first = env.reset({ seed: trial, options: { cue } }).obs;
        const obs = [Array.from(first).join('')];
        const rewards: number[] = [];
        for (const a of actions) {
          const r = env.step(a);
          expect(cueChannelsSum(r.obs)).toBe(0);
          obs.push(Array.from(r.obs).join(''));
          rewards.push(r.reward);
          if (r.terminated) break;
        }
        return { obs, rewards };
      };
      const blue = play(CUE_LEFT);
      const yellow = play(CUE_RIGHT);
      expect(blue.obs[0]).not.toEqual(yellow.obs[0]);
      expect(blue.obs.slice(1)).toEqual(yellow.obs.slice(1));
      // Only the final reward (the arm) may differ between the cues.
      expect(blue.rewards.slice(0, -1)).toEqual(yellow.rewards.slice(0, -1));
    }
  });

  it('the reset observation lights the whole plane of the cue colour', () => {
    const env = new MemoryMazeEnv();
    const { obs, info } = env.reset({ options: { cue: CUE_RIGHT } });
    expect(info.cue).toBe(CUE_RIGHT);
    let yellow = 0;
    let blue = 0;
    for (let i = 0; i < 18; i++) {
      blue += obs[i * 4 + 2]!;
      yellow += obs[i * 4 + 3]!;
    }
    expect([blue, yellow]).toEqual([0, 18]);
  });

  it('+1 for the arm matching the cue, -1 for the other; bumps cost a step and do not move', () => {
    for (const cue of [CUE_LEFT, CUE_RIGHT]) {
      for (const arm of [LEFT, RIGHT]) {
        const env = new MemoryMazeEnv({ stepReward: -0.01 });
        env.reset({ seed: 1, options: { cue } });
        let r = env.step(LEFT);
        expect(agentRow(r.obs)).toBe(5);
        expect(r.reward).toBeCloseTo(-0.01, 12);
        for (let k = 0; k < 5; k++) r = env.step(FORWARD);
        expect(agentRow(r.obs)).toBe(0);
        r = env.step(FORWARD);
        expect(r.terminated).toBe(false);
        r = env.step(arm);
        const correct = (arm === LEFT ? CUE_LEFT : CUE_RIGHT) === cue;
        expect(r.terminated).toBe(true);
        expect(r.truncated).toBe(false);
        expect(r.reward).toBeCloseTo((correct ? 1 : -1) - 0.01, 12);
        expect(r.info).toMatchObject({ success: correct, cue, steps: 8 });
        expect(env.step(FORWARD)).toMatchObject({ reward: 0, terminated: true });
      }
    }
  });

  it('a wandering policy is truncated by the registered time limit, with success false', () => {
    const env = make('memory-maze');
    env.reset({ seed: 3 });
    let r;
    let t = 0;
    do {
      r = env.step(FORWARD);
      t++;
    } while (!r.terminated && !r.truncated);
    expect(t).toBe(100);
    expect(r).toMatchObject({ truncated: true, terminated: false });
    expect(r.info.success).toBe(false);
  });

  it('a policy that remembers the cue succeeds in every episode', () => {
    const env = make('memory-maze');
    let successes = 0;
    let total = 0;
    for (let seed = 0; seed < 200; seed++) {
      const { obs } = env.reset({ seed });
      let sawBlue = false;
      for (let i = 0; i < obs.length / 4; i++) if (obs[i * 4 + 2]) sawBlue = true;
      let row = agentRow(obs);
      let r;
      do {
        r = env.step(row > 0 ? FORWARD : sawBlue ? LEFT : RIGHT);
        row = agentRow(r.obs);
        total += r.reward;
      } while (!r.terminated && !r.truncated);
      if (r.info.success) successes++;
    }
    expect(successes).toBe(200);
    expect(total).toBe(200);
  });

  it('no memoryless policy beats 50%: all 243 deterministic ones on corridorLength 2', () => {
    const L = 2;
    // The distinct observations: the two reset observations, then the three corridor cells without cue.
    const probe = new MemoryMazeEnv({ corridorLength: L });
    const keys: string[] = [];
    keys.push(Array.from(probe.reset({ options: { cue: CUE_LEFT } }).obs).join(''));
    keys.push(Array.from(probe.reset({ options: { cue: CUE_RIGHT } }).obs).join(''));
    keys.push(Array.from(probe.step(LEFT).obs).join(''));
    keys.push(Array.from(probe.step(FORWARD).obs).join(''));
    keys.push(Array.from(probe.step(FORWARD).obs).join(''));
    expect(new Set(keys).size).toBe(5);

    const runEpisode = (env: Env<Uint8Array, number>, table: Map<string, number>, reset: { seed?: number; options?: Record<string, unknown> }): boolean => {
      let { obs } = env.reset(reset);
      for (;;) {
        const action = table.get(Array.from(obs).join(''));
        if (action === undefined) throw new Error('an observation outside the enumerated set');
        const r = env.step(action);
        obs = r.obs;
        if (r.terminated || r.truncated) return r.info.success as boolean;
      }
    };
    const env = make<Uint8Array, number>('memory-maze', { corridorLength: L, maxEpisodeSteps: 20 });
    let best = 0;
    for (let code = 0; code < 3 ** keys.length; code++) {
      const table = new Map<string, number>();
      let c = code;
      for (const k of keys) {
        table.set(k, c % 3);
        c = Math.floor(c / 3);
      }
      // Exact: a memoryless policy never succeeds for both cues.
      const both = Number(runEpisode(env, table, { options: { cue: CUE_LEFT } })) + Number(runEpisode(env, table, { options: { cue: CUE_RIGHT } }));
      expect(both).toBeLessThanOrEqual(1);
      if (both === 1) {
        let wins = 0;
        for (let seed = 0; seed < 300; seed++) if (runEpisode(env, table, { seed })) wins++;
        best = Math.max(best, wins / 300);
      }
    }
    expect(best).toBeGreaterThan(0.4);
    expect(best).toBeLessThan(0.6);
  });

  it('draws the cue from the env RNG: both cues appear, the same seed gives the same cue', () => {
    const env = new MemoryMazeEnv();
    const cues = Array.from({ length: 400 }, (_, seed) => env.reset({ seed }).info.cue as number);
    const ones = cues.filter((c) => c === 1).length;
    expect(ones).toBeGreaterThan(160);
    expect(ones).toBeLessThan(240);
    expect(new MemoryMazeEnv().reset({ seed: 17 }).info.cue).toBe(cues[17]);
  });

  it('snapshot round trip (JSON-safe), including the not-yet-stepped cue observation', () => {
    const play = (env: MemoryMazeEnv): string[] => [FORWARD, LEFT, FORWARD, FORWARD, FORWARD, FORWARD, RIGHT].map((a) => {
      const r = env.step(a);
      return `${Array.from(r.obs).join('')}|${r.reward}|${r.terminated}`;
    });
    const env = new MemoryMazeEnv();
    env.reset({ seed: 5 });
    const snap = JSON.parse(JSON.stringify(env.getState()));
    const before = Array.from(env.render().data);
    const a = play(env);
    const restored = new MemoryMazeEnv();
    restored.setState(snap);
    expect(Array.from(restored.render().data)).toEqual(before);
    expect(play(restored)).toEqual(a);
  });

  it('renders a stable RGB frame; the floor shows the cue colour only before the first step', () => {
    const env = new MemoryMazeEnv({ cellSize: 4 });
    env.reset({ options: { cue: CUE_LEFT } });
    const f0 = env.render();
    expect([f0.width, f0.height]).toEqual([12, 24]);
    expect(Array.from(f0.data.slice(0, 3))).toEqual([60, 110, 240]);
    env.step(FORWARD);
    const f1 = env.render();
    expect([f1.width, f1.height]).toEqual([12, 24]);
    expect(Array.from(f1.data.slice(0, 3))).toEqual([120, 120, 130]);
  });

  it('rejects bad options (all at once), bad cues and bad actions', () => {
    const bad = { corridorLength: 0, cellSize: 'big' } as unknown as MemoryMazeOptions;
    expect(() => new MemoryMazeEnv(bad)).toThrow(InvalidConfigError);
    expect(() => new MemoryMazeEnv(bad)).toThrow(/corridorLength 0.*cellSize "big"/);
    const env = new MemoryMazeEnv();
    expect(() => env.reset({ options: { cue: 2 } })).toThrow(InvalidConfigError);
    env.reset({ seed: 1 });
    expect(() => env.step(3)).toThrow(InvalidActionError);
    expect(() => env.step(3)).toThrow(/\[memory-maze.step\] expected an action in \{0, 1, 2\}/);
  });
});
