/**
 * examples/arena: the game module a user would write (imported by the package name, like
 * `--import ./examples/arena/arena.mjs` does) passes checkEnv, is deterministic under a seed,
 * blocks movement at walls and pillars, observes through the one function the page uses, and its
 * committed policy bundle catches the fleeing player far more often than random actions.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/runtime/index.js';
// @ts-expect-error plain ES module without types (the example is written like a user's game)
import * as core from '../../examples/arena/arena-core.mjs';
// @ts-expect-error plain ES module without types
import { ArenaEnv } from '../../examples/arena/arena.mjs';
// Node's package self-reference: dist/, as a game module outside npcforge sees it (built by the global setup).
import { checkEnv, EnvStateError, InvalidConfigError, SeededRng } from 'npcforge';

const NPC_DIR = join(__dirname, '..', '..', 'examples', 'arena', 'npc');

interface StepResult { obs: Float32Array; reward: number; terminated: boolean; truncated: boolean }
interface Arena {
  reset(a?: { seed?: number }): { obs: Float32Array };
  step(a: number): StepResult;
  world: { npcCount: number; npc: Float64Array; player: Float64Array };
  getState(): unknown;
  setState(s: unknown): void;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('arena game module', () => {
  it('passes checkEnv', () => {
    expect(() => checkEnv(() => new ArenaEnv())).not.toThrow();
    expect(() => checkEnv(() => new ArenaEnv({ others: 0 }))).not.toThrow();
  });

  it('checks its options and snapshots', () => {
    expect(() => new ArenaEnv({ others: -1, speed: 2 })).toThrow(InvalidConfigError);
    expect(() => new ArenaEnv({ others: -1, speed: 2 })).toThrow(/\[arena\] expected options .* received unknown options speed; others -1/);
    const env = new ArenaEnv() as Arena;
    env.reset({ seed: 1 });
    const snap = env.getState() as { game: { npc: number[] } };
    expect(() => env.setState({ ...snap, game: { ...snap.game, npc: [1, 2] } })).toThrow(EnvStateError);
    expect(() => env.setState({ ...snap, game: { ...snap.game, npc: snap.game.npc.map(() => 1e9) } })).toThrow(/\[arena\.setState\] expected npc \(6 coordinates\)/);
  });

  it('plays the same episode for the same seed, another for another seed', () => {
    const trace = (seed: number): number[] => {
      const env = new ArenaEnv() as Arena;
      const rng = new SeededRng(99);
      const out = Array.from(env.reset({ seed }).obs);
      for (let t = 0; t < 120; t++) {
        const r = env.step(rng.int(0, 9));
        out.push(...r.obs, r.reward);
        if (r.terminated || r.truncated) break;
      }
      return out;
    };
    expect(trace(7)).toEqual(trace(7));
    expect(trace(7)).not.toEqual(trace(8));
  });

  it('walls and pillars block movement; moving discs slide along them', () => {
    const world = core.createWorld({ npcCount: 1 });
    const [px, py, pr] = [core.PILLARS[0], core.PILLARS[1], core.PILLARS[2]];
    const clearance = pr + core.BODY_RADIUS;
    // Head east straight into the first pillar from its west side: it stops at the pillar's edge.
    world.npc.set([px - clearance - 1, py]);
    for (let i = 0; i < 40; i++) core.moveNpc(world, 0, core.ACTION_NAMES.indexOf('e'));
    expect(Math.hypot(world.npc[0] - px, world.npc[1] - py)).toBeGreaterThanOrEqual(clearance - 1e-9);
    expect(world.npc[0]).toBeLessThan(px);
    // Slightly off-centre, the same push slides it around the pillar to the far side.
    world.npc.set([px - clearance - 1, py - 0.3]);
    for (let i = 0; i < 60; i++) core.moveNpc(world, 0, core.ACTION_NAMES.indexOf('e'));
    expect(world.npc[0]).toBeGreaterThan(px);
    // Walls: north-west forever ends in the corner, one radius from both walls.
    world.npc.set([3, 3]);
    for (let i = 0; i < 40; i++) core.moveNpc(world, 0, core.ACTION_NAMES.indexOf('nw'));
    expect(Array.from(world.npc)).toEqual([core.BODY_RADIUS, core.BODY_RADIUS]);
    // A ray towards a near wall reads its distance; one into the pillar reads the gap to it.
    const obs = new Float32Array(core.OBS_SIZE);
    world.npc.set([px - clearance - 1, py]);
    core.observe(world, 0, obs);
    expect(obs[4]).toBeCloseTo((1 + core.BODY_RADIUS) / core.RAY_RANGE, 5);   // east ray: to the pillar's edge
    expect(obs[4 + 4]).toBeCloseTo(Math.min(world.npc[0], core.RAY_RANGE) / core.RAY_RANGE, 5);   // west ray: to the wall
  });

  it('observes through the one observe() of arena-core.mjs that the page imports', () => {
    const env = new ArenaEnv() as Arena;
    let obs = env.reset({ seed: 3 }).obs;
    const mine = new Float32Array(core.OBS_SIZE);
    for (let t = 0; t < 50; t++) {
      core.observe(env.world, 0, mine);
      expect(Array.from(obs)).toEqual(Array.from(mine));
      const r = env.step(core.chaseAction(env.world, 0));
      if (r.terminated) break;
      obs = r.obs;
    }
  });

  it('the committed policy catches the fleeing player far more often than random actions', async () => {
    const policy = await loadPolicy(NPC_DIR, { game: 'arena' });
    const EPISODES = 50;
    const run = async (pick: (obs: Float32Array[]) => Promise<number[]>): Promise<number> => {
      const envs = Array.from({ length: EPISODES }, () => new ArenaEnv() as Arena);
      const obs = envs.map((e, i) => e.reset({ seed: 1000 + i }).obs);
      const live = envs.map(() => true);
      let catches = 0;
      while (live.some(Boolean)) {
        const idx = live.flatMap((l, i) => (l ? [i] : []));
        const actions = await pick(idx.map((i) => obs[i]!));
        idx.forEach((i, j) => {
          const r = envs[i]!.step(actions[j]!);
          obs[i] = r.obs;
          if (r.terminated) catches++;
          if (r.terminated || r.truncated) live[i] = false;
        });
      }
      return catches / EPISODES;
    };
    const rng = new SeededRng(5);
    const random = await run(async (o) => o.map(() => rng.int(0, 9)));
    const trained = await run(async (o) => (await policy.actBatch(o)).map((r) => r.action as number));
    policy.dispose();
    console.log(`arena catch rate over ${EPISODES} episodes: trained ${trained}, random ${random}`);
    expect(trained).toBeGreaterThanOrEqual(0.8);
    expect(random).toBeLessThanOrEqual(0.2);
  }, 60_000);
});
