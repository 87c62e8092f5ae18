/**
 * The pong page with a ladder (`npcforge export --ladder`) in real Chromium (playwright-core,
 * headless): `/` redirects to the first level, the level picker lists the ladder's levels, and
 * picking another level swaps the NPC (the trace names the level) and its paddle moves. Also
 * `npcforge play pong --npc <ladder> --level`: an unknown level and a corrupt ladder.json are one
 * line and a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { collectPageErrors, launchChromium } from '../../bench/browser-page.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { train } from '../../src/train/runner.js';
import { resolveSelfPlayRunConfig } from '../../src/cli/commands/selfplay-flags.js';
import { exportLadder } from '../../src/export/ladder.js';
import { startNpcPlayServer, type NpcPlayServer } from '../../src/export/play-server.js';
// @ts-expect-error plain .mjs build helper without type declarations
import { bundle } from '../../scripts/bundle-pong-npc.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TINY_SELFPLAY = { numSteps: 16, minibatches: 2, epochs: 1, envs: 2, checkpointEvery: 512, logEvery: 256, evalEvery: 0, evalEpisodes: 1, envOptions: { pointsToWin: 1 }, selfplay: { saveEvery: 256, swapEvery: 32, playLatestProb: 0 } };

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-pong-ladder-'));
let ladder = '';
let server: NpcPlayServer;
let browser: Browser;

interface TraceStep {
  paddleY: number;
  npcAction: number;
  level: string | null;
}

beforeAll(async () => {
  const run = (await train({ config: resolveSelfPlayRunConfig({ game: 'pong', file: TINY_SELFPLAY, flags: { steps: 1024 } }, { selfplay: true }), runDir: join(tmp, 'run'), progress: null })).runDir;
  ladder = join(tmp, 'ladder');
  await exportLadder({ runDir: run, levels: 3, outDir: ladder, gamesPerPair: 0 });
  const pageDir = await bundle(ROOT, { outDir: join(tmp, 'page') });
  server = await startNpcPlayServer({ game: 'pong', bundleDir: ladder, root: ROOT, pageDir });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});


describe('pong page with a ladder', () => {
  it('lists the levels; picking a level swaps the NPC, which moves; no console errors', async () => {
    const first = await fetch(server.url + '?fps=120', { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/?fps=120&level=level-1');
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    try {
      await page.goto(`${server.url}?fps=120&seed=3`);
      expect(new URL(page.url()).searchParams.get('level')).toBe('level-1');
      const waitSteps = (level: string, n: number) =>
        page.waitForFunction(
          ([lv, k]) => {
            const d = (globalThis as unknown as { pongDemo?: { trace: TraceStep[]; error: string | null } }).pongDemo;
            return d !== undefined && (d.error !== null || d.trace.filter((s) => s.level === lv).length >= (k as number));
          },
          [level, n] as const,
          { timeout: 90_000 },
        );
      await waitSteps('level-1', 60);
      const options = await page.$$eval('#level option', (os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent })));
      expect(options).toEqual([
        { value: 'level-1', label: 'level-1 (easy)' },
        { value: 'level-2', label: 'level-2 (medium)' },
        { value: 'level-3', label: 'level-3 (hard)' },
      ]);
      expect(await page.isVisible('#level')).toBe(true);
      for (const level of ['level-3', 'level-2']) {
        await page.selectOption('#level', level);
        await waitSteps(level, 120);
        const all = await page.evaluate(() => (globalThis as unknown as { pongDemo: { trace: TraceStep[] } }).pongDemo.trace.slice());
        const steps = all.filter((s) => s.level === level);
        expect(new URL(page.url()).searchParams.get('level')).toBe(level);
        // The new level's NPC moves its paddle: a new game starts at the centre, so any move shows.
        expect(new Set(steps.map((s) => s.paddleY)).size, level).toBeGreaterThan(1);
        expect(steps.some((s) => s.npcAction !== 0), level).toBe(true);
      }
      expect(await page.textContent('#status')).toMatch(/NPC \d+ : \d+ you/);
      expect(await page.evaluate(() => (globalThis as unknown as { pongDemo: { error: string | null } }).pongDemo.error)).toBeNull();
    } finally {
      await page.close();
    }
    expect(errors).toEqual([]);
  }, 180_000);

  it('?level= opens that level, by alias too; an unknown level shows the error listing the levels', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}?fps=120&level=hard`);
      await page.waitForFunction(() => (globalThis as unknown as { pongDemo?: { trace: unknown[] } }).pongDemo?.trace.length, null, { timeout: 90_000 });
      expect(await page.evaluate(() => (globalThis as unknown as { pongDemo: { level: string } }).pongDemo.level)).toBe('level-3');
      expect(await page.inputValue('#level')).toBe('level-3');
      await page.goto(`${server.url}?level=legendary`);
      await page.waitForFunction(() => (globalThis as unknown as { pongDemo?: { error: string | null } }).pongDemo?.error, null, { timeout: 90_000 });
      expect(await page.textContent('#error')).toContain('[loadLadder] expected a level of the ladder (level-1, level-2, level-3, easy, medium, hard), received "legendary"');
    } finally {
      await page.close();
    }
  }, 120_000);

  it('npcforge play pong --npc <ladder>: an unknown --level, --level with a bundle, a corrupt ladder.json: one line, non-zero exit', () => {
    const play = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'play', 'pong', ...args], { encoding: 'utf8', timeout: 60_000 });
    const lines = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('npcforge: compute backend'));
    const unknown = play(['--npc', ladder, '--level', 'legendary']);
    expect(unknown.status).toBe(2);
    expect(lines(unknown.stderr)).toEqual([expect.stringMatching(/^npcforge: \[loadLadder\] expected a level of the ladder \(level-1, level-2, level-3, easy, medium, hard\), received "legendary"; fix: /)]);
    const single = play(['--npc', join(ladder, 'level-1'), '--level', 'easy']);
    expect(single.status).toBe(2);
    expect(lines(single.stderr)).toEqual([expect.stringMatching(/^npcforge: \[play --level\] expected a ladder folder in --npc .*a single policy bundle; fix: /)]);
    const broken = join(tmp, 'broken');
    cpSync(ladder, broken, { recursive: true });
    writeFileSync(join(broken, 'ladder.json'), '{"format":"npcforge-ladder","version":1,"levels":');
    const corrupt = play(['--npc', broken]);
    expect(corrupt.status).not.toBe(0);
    expect(lines(corrupt.stderr)).toEqual([expect.stringMatching(/^npcforge: \[ladder\.json\] expected a JSON object, received unparsable text \(\d+ characters\); fix: /)]);
  }, 120_000);
});
