// The arena's rules, with no imports: the training env (arena.mjs) and the browser page (main.ts)
// both run these exact functions, so the observation the policy learned from is the one the page
// feeds it. A square top-down arena with round pillars; one player and N NPCs, all discs. Nothing
// here allocates per step: positions live in Float64Arrays, observations are written into `out`.

/** Side of the square arena, in world units. */
export const ARENA_SIZE = 20;
/** Radius of every NPC and of the player (a catch is a touch: centres closer than the sum). */
export const BODY_RADIUS = 0.45;
/** Distance an NPC moves per decision (one env step), in world units. */
export const NPC_SPEED = 0.3;
/** How far the rays see; a ray reads distance / RAY_RANGE, 1 for nothing in range. */
export const RAY_RANGE = 10;
/** Rays around each NPC, evenly spaced starting east, counter-clockwise in screen terms (y down). */
export const NUM_RAYS = 8;
/** Another NPC farther than this counts as nobody near (its offset reads 0, 0). */
export const CROWD_RANGE = 5;
/**
 * Observation layout, all in [-1, 1]: [0, 1] the player's offset from this NPC / ARENA_SIZE;
 * [2, 3] the NPC's own position scaled to [-1, 1]; [4 .. 4+NUM_RAYS) ray distances;
 * the last two the nearest other NPC's offset / CROWD_RANGE when within CROWD_RANGE, else 0, 0.
 */
export const OBS_SIZE = 4 + NUM_RAYS + 2;

/** The Discrete actions: stay, then the 8 compass directions (y grows downwards, as on screen). */
export const ACTION_NAMES = ['stay', 'n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'];
const D = Math.SQRT1_2;
/** Unit direction per action, [dx, dy] pairs in ACTION_NAMES order. */
export const ACTION_DIRS = new Float64Array([0, 0, 0, -1, D, -D, 1, 0, D, D, 0, 1, -D, D, -1, 0, -D, -D]);

/** The fixed pillars as [x, y, radius] triples: four around the centre and one in it. */
export const PILLARS = new Float64Array([
  6, 6, 1.6,
  14, 6, 1.6,
  6, 14, 1.6,
  14, 14, 1.6,
  10, 10, 1.2,
]);

const RAY_DIRS = new Float64Array(NUM_RAYS * 2);
for (let r = 0; r < NUM_RAYS; r++) {
  const a = (2 * Math.PI * r) / NUM_RAYS;
  RAY_DIRS[2 * r] = Math.cos(a);
  RAY_DIRS[2 * r + 1] = Math.sin(a);
}

/**
 * @typedef {object} World
 * @property {number} npcCount how many NPCs (NPC i is at npc[2i], npc[2i+1])
 * @property {Float64Array} npc NPC centres, x then y per NPC
 * @property {Float64Array} player the player's centre, [x, y]
 */

/**
 * A world with `npcCount` NPCs, all at the origin until spawned.
 * @param {{ npcCount: number }} options
 * @returns {World}
 */
export function createWorld({ npcCount }) {
  return { npcCount, npc: new Float64Array(2 * npcCount), player: new Float64Array(2) };
}

/**
 * Moves a disc at pos[i], pos[i+1] by (dx, dy), then pushes it out of the walls and pillars: it
 * slides along what it hits rather than stopping, so going around a pillar is a matter of steering.
 * @param {Float64Array} pos
 * @param {number} i index of the x coordinate in `pos`
 * @param {number} dx
 * @param {number} dy
 */
export function moveDisc(pos, i, dx, dy) {
  let x = pos[i] + dx;
  let y = pos[i + 1] + dy;
  for (let p = 0; p < PILLARS.length; p += 3) {
    const ox = x - PILLARS[p];
    const oy = y - PILLARS[p + 1];
    const min = PILLARS[p + 2] + BODY_RADIUS;
    const d2 = ox * ox + oy * oy;
    if (d2 < min * min) {
      // d == 0 only if the mover was put exactly on the centre; push it east.
      const d = Math.sqrt(d2);
      x = d > 1e-9 ? PILLARS[p] + (ox / d) * min : PILLARS[p] + min;
      y = d > 1e-9 ? PILLARS[p + 1] + (oy / d) * min : PILLARS[p + 1];
    }
  }
  // Walls last: the pillars stand clear of the walls, so this never pushes a disc into a pillar.
  const lo = BODY_RADIUS;
  const hi = ARENA_SIZE - BODY_RADIUS;
  pos[i] = x < lo ? lo : x > hi ? hi : x;
  pos[i + 1] = y < lo ? lo : y > hi ? hi : y;
}

/**
 * Moves NPC `npcIndex` by `fraction` of one step in the direction of `action` (the page moves
 * 1/k of a step per frame with a decision every k frames; training moves whole steps).
 * @param {World} world
 * @param {number} npcIndex
 * @param {number} action index into ACTION_NAMES
 * @param {number} [fraction]
 */
export function moveNpc(world, npcIndex, action, fraction = 1) {
  const s = NPC_SPEED * fraction;
  moveDisc(world.npc, 2 * npcIndex, ACTION_DIRS[2 * action] * s, ACTION_DIRS[2 * action + 1] * s);
}

/**
 * True if NPC `npcIndex` touches the player.
 * @param {World} world
 * @param {number} npcIndex
 */
export function caught(world, npcIndex) {
  const dx = world.player[0] - world.npc[2 * npcIndex];
  const dy = world.player[1] - world.npc[2 * npcIndex + 1];
  const min = 2 * BODY_RADIUS;
  return dx * dx + dy * dy < min * min;
}

/** True if a disc centred at (x, y) overlaps a pillar or a wall. */
function blocked(x, y) {
  if (x < BODY_RADIUS || y < BODY_RADIUS || x > ARENA_SIZE - BODY_RADIUS || y > ARENA_SIZE - BODY_RADIUS) return true;
  for (let p = 0; p < PILLARS.length; p += 3) {
    const ox = x - PILLARS[p];
    const oy = y - PILLARS[p + 1];
    const min = PILLARS[p + 2] + BODY_RADIUS;
    if (ox * ox + oy * oy < min * min) return true;
  }
  return false;
}

/**
 * Puts the disc at pos[i] at a random free spot at least `minDistance` from (awayX, awayY).
 * Rejection sampling: the free area is most of the arena, so a few draws suffice.
 * @param {Float64Array} pos
 * @param {number} i
 * @param {() => number} random uniform in [0, 1)
 * @param {number} awayX
 * @param {number} awayY
 * @param {number} minDistance
 */
export function spawnDisc(pos, i, random, awayX = 0, awayY = 0, minDistance = 0) {
  for (;;) {
    const x = BODY_RADIUS + random() * (ARENA_SIZE - 2 * BODY_RADIUS);
    const y = BODY_RADIUS + random() * (ARENA_SIZE - 2 * BODY_RADIUS);
    const dx = x - awayX;
    const dy = y - awayY;
    if (!blocked(x, y) && dx * dx + dy * dy >= minDistance * minDistance) {
      pos[i] = x;
      pos[i + 1] = y;
      return;
    }
  }
}

/** Distance from (x, y) along the unit direction (cx, cy) to the first wall or pillar. */
function rayDistance(x, y, cx, cy) {
  let t = RAY_RANGE;
  if (cx > 1e-12) t = Math.min(t, (ARENA_SIZE - x) / cx);
  else if (cx < -1e-12) t = Math.min(t, -x / cx);
  if (cy > 1e-12) t = Math.min(t, (ARENA_SIZE - y) / cy);
  else if (cy < -1e-12) t = Math.min(t, -y / cy);
  for (let p = 0; p < PILLARS.length; p += 3) {
    const fx = x - PILLARS[p];
    const fy = y - PILLARS[p + 1];
    const r = PILLARS[p + 2];
    const b = fx * cx + fy * cy;
    const c = fx * fx + fy * fy - r * r;
    const disc = b * b - c;
    if (disc < 0) continue;
    const hit = -b - Math.sqrt(disc);
    if (hit >= 0 && hit < t) t = hit;
  }
  return t < 0 ? 0 : t;
}

/**
 * Writes NPC `npcIndex`'s observation (OBS_SIZE floats, layout at OBS_SIZE) into `out` from
 * `offset` on. The one observation function of the arena: training and the page both call it.
 * @param {World} world
 * @param {number} npcIndex
 * @param {Float32Array | Float64Array} out
 * @param {number} [offset]
 */
export function observe(world, npcIndex, out, offset = 0) {
  const x = world.npc[2 * npcIndex];
  const y = world.npc[2 * npcIndex + 1];
  out[offset] = (world.player[0] - x) / ARENA_SIZE;
  out[offset + 1] = (world.player[1] - y) / ARENA_SIZE;
  out[offset + 2] = (2 * x) / ARENA_SIZE - 1;
  out[offset + 3] = (2 * y) / ARENA_SIZE - 1;
  for (let r = 0; r < NUM_RAYS; r++) {
    out[offset + 4 + r] = rayDistance(x, y, RAY_DIRS[2 * r], RAY_DIRS[2 * r + 1]) / RAY_RANGE;
  }
  let best = CROWD_RANGE * CROWD_RANGE;
  let nx = 0;
  let ny = 0;
  for (let j = 0; j < world.npcCount; j++) {
    if (j === npcIndex) continue;
    const dx = world.npc[2 * j] - x;
    const dy = world.npc[2 * j + 1] - y;
    const d2 = dx * dx + dy * dy;
    if (d2 < best) {
      best = d2;
      nx = dx / CROWD_RANGE;
      ny = dy / CROWD_RANGE;
    }
  }
  out[offset + OBS_SIZE - 2] = nx;
  out[offset + OBS_SIZE - 1] = ny;
}

/**
 * The action whose direction is closest to the straight line to the player: a scripted chaser
 * (the env's extra NPCs) and a baseline that ignores pillars.
 * @param {World} world
 * @param {number} npcIndex
 */
export function chaseAction(world, npcIndex) {
  const dx = world.player[0] - world.npc[2 * npcIndex];
  const dy = world.player[1] - world.npc[2 * npcIndex + 1];
  let best = 0;
  let bestDot = 0;
  for (let a = 1; a < ACTION_NAMES.length; a++) {
    const dot = ACTION_DIRS[2 * a] * dx + ACTION_DIRS[2 * a + 1] * dy;
    if (dot > bestDot) {
      bestDot = dot;
      best = a;
    }
  }
  return best;
}

/**
 * Moves the player `speed` units away from the NPCs (each pushes with weight 1 / distance^2) and
 * from the walls, turned by a random angle of up to +-`noise` radians: a fleeing player that
 * can be cornered. The page's autopilot uses it too.
 * @param {World} world
 * @param {number} speed
 * @param {() => number} random uniform in [0, 1)
 * @param {number} [noise]
 */
export function fleeStep(world, speed, random, noise = 0.8) {
  const px = world.player[0];
  const py = world.player[1];
  let fx = 0;
  let fy = 0;
  for (let j = 0; j < world.npcCount; j++) {
    const dx = px - world.npc[2 * j];
    const dy = py - world.npc[2 * j + 1];
    const d2 = Math.max(dx * dx + dy * dy, 0.01);
    fx += dx / d2;
    fy += dy / d2;
  }
  // Walls push as if an NPC stood behind each one, so the player leaves corners when it can.
  fx += 1 / Math.max(px * px, 0.01) - 1 / Math.max((ARENA_SIZE - px) ** 2, 0.01);
  fy += 1 / Math.max(py * py, 0.01) - 1 / Math.max((ARENA_SIZE - py) ** 2, 0.01);
  const norm = Math.hypot(fx, fy);
  const turn = (random() * 2 - 1) * noise;
  let ux = norm > 1e-12 ? fx / norm : 1;
  let uy = norm > 1e-12 ? fy / norm : 0;
  const c = Math.cos(turn);
  const s = Math.sin(turn);
  const rx = ux * c - uy * s;
  uy = ux * s + uy * c;
  ux = rx;
  moveDisc(world.player, 0, ux * speed, uy * speed);
}
