/**
 * The arena in the browser: you move the green player (arrow keys or WASD), N NPCs (default 12,
 * `?npcs=N`) chase you, all acting from ONE exported policy (`./npc/`, or `?npc=<url>`) through a
 * controller: every NPC decides every k frames (the bundle's decision period) and all NPCs due on
 * a frame go through one `actBatch` call. The rules are arena-core.mjs, the same functions the
 * training env runs. `?backend=webgl|cpu` picks the tfjs backend (default webgl, falling back to
 * cpu); `?autopilot=1` lets the player flee by itself. `window.arenaDemo` exposes the state for
 * tests.
 */
import { Application, Graphics } from 'pixi.js';
// The light runtime package (packages/runtime in this repository): the page needs nothing else of npcforge.
import { getBackend, loadPolicy, setBackend, type ControlledNpc } from '@npcforge/runtime';
import {
  ARENA_SIZE,
  BODY_RADIUS,
  NPC_SPEED,
  OBS_SIZE,
  PILLARS,
  caught,
  createWorld,
  fleeStep,
  moveDisc,
  moveNpc,
  observe,
  spawnDisc,
} from './arena-core.mjs';

/** Screen pixels per world unit. */
const SCALE = 30;
/** The player's speed as a fraction of the NPCs' (as in training: a straight chase wins). */
const PLAYER_SPEED_RATIO = 0.8;
/** Frame times kept for the tests (a ring would hide nothing at 60 fps over a minute). */
const MAX_FRAME_TIMES = 20_000;
/** NPCs start at least this far from the player, and a caught player respawns this far from its catcher. */
const RESPAWN_DISTANCE = 6;

const params = new URLSearchParams(location.search);
const npcSource = params.get('npc') ?? './npc/';
const npcCount = Math.min(256, Math.max(1, Math.floor(Number(params.get('npcs') ?? 12)) || 12));
const wantBackend = params.get('backend') ?? 'webgl';
const autopilot = params.get('autopilot') === '1';
const keys = new Set<string>();

const demo = {
  ready: false,
  error: null as string | null,
  backend: '',
  npcCount,
  decisionPeriod: 0,
  /** rAF-to-rAF intervals in ms, from the first frame on. */
  frameTimes: [] as number[],
  catches: 0,
  /** actBatch calls made, and decisions per NPC. */
  batches: 0,
  decisions: new Array<number>(npcCount).fill(0),
  /** Mean NPC-player distance when the NPCs first appeared, and now. */
  startDistance: 0,
  meanDistance: 0,
};
(globalThis as unknown as { arenaDemo: typeof demo }).arenaDemo = demo;

function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

/** mulberry32: the page's own seeded RNG (the rules take any uniform [0, 1) source). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function pickBackend(): Promise<string> {
  // setBackend resolves false (or throws) when the backend cannot start, e.g. no WebGL.
  // setBackend resolves once the backend is ready, to false when it cannot start.
  const ok = await setBackend(wantBackend).catch(() => false);
  if (!ok) await setBackend('cpu');
  return getBackend();
}

function meanDistance(world: ReturnType<typeof createWorld>): number {
  let sum = 0;
  for (let i = 0; i < world.npcCount; i++) sum += Math.hypot(world.npc[2 * i]! - world.player[0]!, world.npc[2 * i + 1]! - world.player[1]!);
  return sum / world.npcCount;
}

async function main(): Promise<void> {
  demo.backend = await pickBackend();
  const policy = await loadPolicy(npcSource, { game: 'arena' });
  const controller = policy.controller();
  const k = controller.decisionPeriod;
  demo.decisionPeriod = k;

  const random = seededRandom(Number(params.get('seed') ?? 1));
  const world = createWorld({ npcCount });
  spawnDisc(world.player, 0, random);
  for (let i = 0; i < npcCount; i++) spawnDisc(world.npc, 2 * i, random, world.player[0], world.player[1], RESPAWN_DISTANCE);
  demo.startDistance = meanDistance(world);
  // One observation buffer per NPC, rewritten at each of its decisions (actBatch copies them).
  const obs = Array.from({ length: npcCount }, () => new Float32Array(OBS_SIZE));
  const npcs: ControlledNpc[] = Array.from({ length: npcCount }, () => controller.add());
  const observeNpc = (npc: ControlledNpc): Float32Array => {
    observe(world, npc.id, obs[npc.id]!);
    demo.decisions[npc.id]!++;
    return obs[npc.id]!;
  };

  const app = new Application();
  await app.init({ width: ARENA_SIZE * SCALE, height: ARENA_SIZE * SCALE, preference: 'webgl', background: '#181818', antialias: false, autoStart: false });
  $('stage').appendChild(app.canvas);
  const walls = new Graphics().rect(0, 0, ARENA_SIZE * SCALE, ARENA_SIZE * SCALE).stroke({ width: 4, color: 0x666677 });
  for (let p = 0; p < PILLARS.length; p += 3) walls.circle(PILLARS[p]! * SCALE, PILLARS[p + 1]! * SCALE, PILLARS[p + 2]! * SCALE).fill(0x6e6e78);
  app.stage.addChild(walls);
  const npcSprites = npcs.map(() => app.stage.addChild(new Graphics().circle(0, 0, BODY_RADIUS * SCALE).fill(0xe63c32)));
  const playerSprite = app.stage.addChild(new Graphics().circle(0, 0, BODY_RADIUS * SCALE).fill(0x46dc5a));

  addEventListener('keydown', (e) => keys.add(e.key.toLowerCase()));
  addEventListener('keyup', (e) => keys.delete(e.key.toLowerCase()));
  const playerStep = (PLAYER_SPEED_RATIO * NPC_SPEED) / k;
  const movePlayer = (): void => {
    const dx = Number(keys.has('arrowright') || keys.has('d')) - Number(keys.has('arrowleft') || keys.has('a'));
    const dy = Number(keys.has('arrowdown') || keys.has('s')) - Number(keys.has('arrowup') || keys.has('w'));
    if (dx || dy) {
      const n = Math.hypot(dx, dy);
      moveDisc(world.player, 0, (dx / n) * playerStep, (dy / n) * playerStep);
    } else if (autopilot) {
      fleeStep(world, playerStep, random, 0.3);
    }
  };

  let ticking = false;
  let last = -1;
  let frames = 0;
  const fail = (err: Error): void => {
    demo.error = err.message;
    $('error').textContent = err.message;
    console.error(err);
  };
  const frame = (now: number): void => {
    if (demo.error) return;
    if (last >= 0 && demo.frameTimes.length < MAX_FRAME_TIMES) demo.frameTimes.push(now - last);
    last = now;
    // The decision runs beside the frame loop: on webgl its result arrives a frame or so later,
    // and the NPCs keep their last action meanwhile rather than holding up the frame.
    if (!ticking) {
      ticking = true;
      controller.tick(observeNpc).then((due) => {
        if (due.length) demo.batches++;
      }, fail).finally(() => {
        ticking = false;
      });
    }
    // One decision moves an NPC one training step, spread over its k frames.
    for (const npc of npcs) if (npc.action) moveNpc(world, npc.id, npc.action.action as number, 1 / k);
    movePlayer();
    for (let i = 0; i < npcCount; i++) {
      if (!caught(world, i)) continue;
      demo.catches++;
      spawnDisc(world.player, 0, random, world.npc[2 * i], world.npc[2 * i + 1], RESPAWN_DISTANCE);
      break;
    }
    for (let i = 0; i < npcCount; i++) npcSprites[i]!.position.set(world.npc[2 * i]! * SCALE, world.npc[2 * i + 1]! * SCALE);
    playerSprite.position.set(world.player[0]! * SCALE, world.player[1]! * SCALE);
    app.render();
    if (frames++ % 15 === 0) {
      demo.meanDistance = meanDistance(world);
      $('status').textContent = `caught ${demo.catches} times by ${npcCount} NPCs (one policy, a decision every ${k} frames, tfjs ${demo.backend})`;
    }
    requestAnimationFrame(frame);
  };
  demo.ready = true;
  requestAnimationFrame(frame);
}

main().catch((err: Error) => {
  demo.error = err.message;
  $('error').textContent = `Could not start: ${err.message}`;
  console.error(err);
});
