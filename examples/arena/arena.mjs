// The arena as an npcforge game, written only against the public API like a game developer's own
// module: `npcforge train arena --import ./examples/arena/arena.mjs`. One learning NPC (NPC 0)
// chases a scripted player that flees with noise; a few scripted NPCs chase it too, so the
// learner sees crowds (the page runs many NPCs from one policy) and the player gets cornered.
// The rules are arena-core.mjs, shared with the page.
import { Box, Discrete, EnvStateError, GameEnv, checkOptions, formatError, register } from 'npcforge';
import {
  ACTION_NAMES,
  ARENA_SIZE,
  BODY_RADIUS,
  OBS_SIZE,
  PILLARS,
  caught,
  chaseAction,
  createWorld,
  fleeStep,
  moveNpc,
  observe,
  spawnDisc,
} from './arena-core.mjs';

const OPTIONS = {
  others: { type: 'integer', default: 2, min: 0, max: 15 },
  maxSteps: { type: 'integer', default: 300, min: 1 },
  /** The player's speed as a fraction of the NPCs' (below 1, a straight chase eventually wins). */
  playerSpeed: { type: 'number', default: 0.8, min: 0, max: 2 },
  /** Chance per step that a scripted NPC heads straight for the player rather than anywhere. */
  othersChase: { type: 'number', default: 0.5, min: 0, max: 1 },
  /**
   * Reward per world unit the learner closes on the player (shaping: a random NPC almost never
   * touches the player, so the catch alone is too rare to learn from). A difference of
   * distances, so it sums to (start - end distance) x this and cannot be farmed by circling.
   */
  approachReward: { type: 'number', default: 0.1, min: 0, max: 10 },
};
/** Reward per step: a catch sooner is worth more. */
const STEP_COST = -0.005;
/** NPCs start at least this far from the player. */
const SPAWN_DISTANCE = 6;
/** Pixels per world unit in render(). */
const PIXELS_PER_UNIT = 4;

/** Distance from the learner (NPC 0) to the player. */
function playerDistance(world) {
  return Math.hypot(world.player[0] - world.npc[0], world.player[1] - world.npc[1]);
}

/** Top-down arena: NPC 0 (the learner) catches a fleeing player (+1, ends the episode). */
export class ArenaEnv extends GameEnv {
  constructor(options = {}) {
    const resolved = checkOptions('arena', options, OPTIONS);
    super({
      id: 'arena',
      observationSpace: new Box({ shape: [OBS_SIZE], dtype: 'float32', low: -1, high: 1 }),
      actionSpace: new Discrete(ACTION_NAMES.length),
      actionNames: ACTION_NAMES,
      maxSteps: resolved.maxSteps,
      options: resolved,
    });
    this.opts = resolved;
    this.world = createWorld({ npcCount: 1 + resolved.others });
    this.random = () => this.rng.random();
  }
  onReset() {
    const { world } = this;
    spawnDisc(world.player, 0, this.random);
    for (let i = 0; i < world.npcCount; i++) spawnDisc(world.npc, 2 * i, this.random, world.player[0], world.player[1], SPAWN_DISTANCE);
  }
  onStep(action) {
    const { world, opts } = this;
    const before = playerDistance(world);
    moveNpc(world, 0, action);
    if (caught(world, 0)) return { reward: 1 + opts.approachReward * before, terminated: true };
    for (let i = 1; i < world.npcCount; i++) {
      moveNpc(world, i, this.rng.random() < opts.othersChase ? chaseAction(world, i) : this.rng.int(0, ACTION_NAMES.length));
    }
    fleeStep(world, opts.playerSpeed * 0.3, this.random);
    // The player can run into the learner while fleeing the others.
    const hit = caught(world, 0);
    const shaping = opts.approachReward * (before - (hit ? 0 : playerDistance(world)));
    return { reward: (hit ? 1 : STEP_COST) + shaping, terminated: hit };
  }
  observe() {
    const o = this.freshObs();
    observe(this.world, 0, o);
    return o;
  }
  state() {
    return { npc: Array.from(this.world.npc), player: Array.from(this.world.player) };
  }
  restore(game) {
    // Snapshots come from files: positions must be finite and inside the arena.
    const inside = (a, n) => Array.isArray(a) && a.length === n && a.every((v) => Number.isFinite(v) && v >= 0 && v <= ARENA_SIZE);
    if (!inside(game.npc, 2 * this.world.npcCount) || !inside(game.player, 2)) {
      const expected = `npc (${2 * this.world.npcCount} coordinates) and player (2) inside 0..${ARENA_SIZE}`;
      throw new EnvStateError(formatError('arena.setState', expected, 'another snapshot', 'pass a snapshot of an arena made with the same options'));
    }
    this.world.npc.set(game.npc);
    this.world.player.set(game.player);
  }
  /** RGB frame, PIXELS_PER_UNIT pixels per unit: pillars grey, the learner red, other NPCs orange, the player green. */
  render() {
    const size = ARENA_SIZE * PIXELS_PER_UNIT;
    const data = new Uint8Array(size * size * 3).fill(24);
    const disc = (x, y, r, rgb) => {
      const cx = x * PIXELS_PER_UNIT;
      const cy = y * PIXELS_PER_UNIT;
      const rp = r * PIXELS_PER_UNIT;
      for (let py = Math.max(0, Math.floor(cy - rp)); py < Math.min(size, Math.ceil(cy + rp)); py++) {
        for (let px = Math.max(0, Math.floor(cx - rp)); px < Math.min(size, Math.ceil(cx + rp)); px++) {
          if ((px + 0.5 - cx) ** 2 + (py + 0.5 - cy) ** 2 <= rp * rp) data.set(rgb, (py * size + px) * 3);
        }
      }
    };
    for (let p = 0; p < PILLARS.length; p += 3) disc(PILLARS[p], PILLARS[p + 1], PILLARS[p + 2], [110, 110, 120]);
    const { world } = this;
    for (let i = world.npcCount - 1; i >= 0; i--) disc(world.npc[2 * i], world.npc[2 * i + 1], BODY_RADIUS, i === 0 ? [230, 60, 50] : [230, 150, 40]);
    disc(world.player[0], world.player[1], BODY_RADIUS, [70, 220, 90]);
    return { width: size, height: size, data };
  }
}

register('arena', (options) => new ArenaEnv(options), {
  description: 'top-down arena: an NPC corners a fleeing player around pillars (examples/arena)',
  train: { agent: 'ppo', steps: 400_000, envs: 8, config: { lr: 1e-3, mlpHidden: [64, 64] }, run: { evalEvery: 100_000, evalEpisodes: 50 } },
});
