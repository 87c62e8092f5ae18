/**
 * The arena page in real Chromium (playwright-core, headless, SwiftShader WebGL): the bundled page
 * (scripts/bundle-arena.mjs, the same build as dist/arena) runs 12 NPCs from the one committed
 * policy (examples/arena/npc) through one controller (one actBatch per decision frame for all of
 * them), with the player on autopilot, for 10 s without a console error, and the NPCs chase the
 * player. Its frame rate is a speed figure, measured by `npm run bench -- arena-page` (60 fps on a
 * quiet machine); here a floor far below it only catches a page that stalls, since the suite runs
 * next to other tests on two cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeArenaRun, openArenaPage, type ArenaPage } from '../../bench/arena-page.js';

const NPCS = 12;
const SECONDS = 10;
/** A stalled page (a decision that blocks frames, a render loop that stops) falls far below this. */
const FLOOR_FPS = 20;

let page: ArenaPage;
beforeAll(async () => {
  page = await openArenaPage();
}, 120_000);
afterAll(async () => {
  await page?.close();
});

describe('arena page', () => {
  for (const backend of ['webgl', 'cpu']) {
    it(`${NPCS} NPCs from one policy for ${SECONDS} s on tfjs ${backend}: one actBatch per decision, chasing the player, no console error`, async () => {
      const r = await page.run({ backend, npcs: NPCS, seconds: SECONDS });
      expect(r.errors).toEqual([]);
      expect(r.frames.length).toBeGreaterThan(0);
      console.log(describeArenaRun(r));
      const d = r.demo;
      expect(d.backend).toBe(backend);
      expect(d.npcCount).toBe(NPCS);
      expect(d.decisions.length).toBe(NPCS);
      for (const n of d.decisions) expect(n).toBeGreaterThan(0);
      // One actBatch per decision frame for all NPCs, not one call per NPC.
      expect(d.batches).toBeLessThan(Math.min(...d.decisions) + 2);
      // Every NPC decides every decisionPeriod frames: about frames / k decisions each.
      expect(Math.min(...d.decisions)).toBeGreaterThan((0.8 * d.frameTimes.length) / d.decisionPeriod - 2);
      expect(r.fps).toBeGreaterThanOrEqual(FLOOR_FPS);
      // They chase: the player is caught, or the crowd closed in.
      expect(d.catches > 0 || d.meanDistance < d.startDistance).toBe(true);
    }, 120_000);
  }
});
