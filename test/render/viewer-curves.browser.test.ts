/**
 * Browser tests of the learning-curve panel (real Chromium, playwright-core, against the real
 * server): three seeds compared (mean line, min-max band, legend), filters by game and agent, a run
 * trained by a real `npcforge train` child process appearing and growing while the page is open and
 * then showing finished, a SIGKILLed training showing interrupted, a long metrics file with
 * non-numeric values and a half-written last line. No console errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, utimesSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '../../bench/browser-page.js';
import { startViewerServer, type ViewerServer } from '../../src/render/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'npcforge.js');
const tmp = mkdtempSync(join(tmpdir(), 'npcview-curves-'));
const runs = join(tmp, 'runs');
let server: ViewerServer;
let browser: Browser;
let page: Page;
let errors: string[] = [];
const children: ChildProcess[] = [];

/** A run folder as `train` writes it: config.json (game, agent, seed) and metrics.jsonl lines. */
function writeRun(name: string, o: { game: string; agent: string; seed: number; lines: string[] }): void {
  mkdirSync(join(runs, name), { recursive: true });
  writeFileSync(join(runs, name, 'config.json'), JSON.stringify({ format: 'npcforge-run', version: 1, game: o.game, agent: o.agent, run: { seed: o.seed } }));
  writeFileSync(join(runs, name, 'metrics.jsonl'), o.lines.join('\n') + '\n');
}

const seedCurve = (seed: number, i: number): number => 1 - Math.exp(-i / 10) + 0.1 * seed;

type CurvesHook = { curves(): { metric: string | null; runs: Array<{ name: string; points: number; lastStep: number | null; lastValue: number | null; nonNumeric: number; nulls: number; badLines: number; loading: boolean; status: string | null }>; legend: string[]; band: boolean; drawnPoints: number } };
type Hook = { npcforgeViewer: CurvesHook };
const curves = (): Promise<ReturnType<CurvesHook['curves']>> => page.evaluate(() => (window as unknown as Hook).npcforgeViewer.curves());
const statusOf = (run: string): Promise<string | null> => page.evaluate((r) => document.querySelector(`#runs li[data-run="${r}"] .run-status`)?.textContent ?? null, run);

/** Starts `npcforge train catch` into the runs folder; resolves with the child and its run folder name once it exists. */
async function startTrain(steps: number, seed: number): Promise<{ child: ChildProcess; run: string }> {
  const cfg = join(tmp, `cfg-${seed}.json`);
  writeFileSync(cfg, JSON.stringify({ logEvery: 200, evalEvery: 3000, evalEpisodes: 1, learningStarts: 100, batchSize: 16, bufferSize: 5000, checkpointEvery: 100000 }));
  const before = new Set(readdirSync(runs));
  const child = spawn(process.execPath, [CLI, 'train', 'catch', '--steps', String(steps), '--seed', String(seed), '--out', runs, '--config', cfg, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const fresh = readdirSync(runs).filter((n) => !before.has(n) && n.includes(`__s${seed}__`));
    if (fresh.length) return { child, run: fresh[0]! };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`train did not create its run folder: ${stderr}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

beforeAll(async () => {
  mkdirSync(runs, { recursive: true });
  for (const seed of [1, 2, 3]) {
    // Seed 3 logs on another step grid (every 1500 steps from 500) than seeds 1 and 2 (every 1000).
    const steps = seed === 3 ? Array.from({ length: 20 }, (_, i) => 500 + i * 1500) : Array.from({ length: 30 }, (_, i) => (i + 1) * 1000);
    writeRun(`catch__dqn__s${seed}__20260101-000000`, { game: 'catch', agent: 'dqn', seed, lines: steps.map((s, i) => JSON.stringify({ step: s, mean_return_100: seedCurve(seed, i), eval_return: i % 5 === 4 ? seedCurve(seed, i) : null, loss: 1 / (i + 1) })) });
  }
  writeRun('breakout__ppo__s1__20260101-000000', { game: 'minatar/breakout', agent: 'ppo', seed: 1, lines: [JSON.stringify({ step: 100, mean_return_100: 2 })] });
  // Bad input: non-numeric values of every kind, an unreadable line, and a half-written last line.
  const bad = [
    JSON.stringify({ step: 1, loss: 0.5 }),
    JSON.stringify({ step: 2, loss: 'high' }),
    JSON.stringify({ step: 3, loss: null }),
    '{"step":4,"loss":NaN}',
    '{"step":5,"loss":Infinity}',
    '{"step":6,"loss":-Infinity}',
    JSON.stringify({ step: 7, loss: { value: 1 } }),
    JSON.stringify({ step: 8, loss: [1, 2] }),
    JSON.stringify({ step: 9, loss: true }),
    'this is not json',
    JSON.stringify({ step: 10, loss: 0.25 }),
  ];
  mkdirSync(join(runs, 'bad-values'));
  writeFileSync(join(runs, 'bad-values', 'metrics.jsonl'), bad.join('\n') + '\n');
  // A long file (the benchmark `view-curves` runs 1M lines): 200,000 lines of the runner's shape.
  mkdirSync(join(runs, 'long-run'));
  const long: string[] = [];
  for (let i = 1; i <= 200_000; i++) long.push(JSON.stringify({ step: i * 10, episodes: i, mean_return_100: Math.sin(i / 5000), eval_return: i % 1000 === 0 ? Math.cos(i / 5000) : null, loss: 1 / i, epsilon: 0.1, updates: i, env_steps_per_s: 1000, wall_time_s: i / 100 }));
  writeFileSync(join(runs, 'long-run', 'metrics.jsonl'), long.join('\n') + '\n');
  // Being written: status.json of this (live) process, and a last line cut mid-way.
  mkdirSync(join(runs, 'half-written'));
  writeFileSync(join(runs, 'half-written', 'metrics.jsonl'), JSON.stringify({ step: 1, loss: 1 }) + '\n' + '{"step":2,"lo');
  writeFileSync(join(runs, 'half-written', 'status.json'), JSON.stringify({ format: 'npcforge-run-status', version: 1, state: 'running', pid: process.pid, host: (await import('node:os')).hostname(), startedAt: new Date().toISOString(), endedAt: null, reason: null }));

  const assets = join(tmp, 'assets');
  const { bundle } = (await import(join(ROOT, 'scripts', 'bundle-viewer.mjs'))) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
  await bundle(ROOT, { outDir: assets });
  server = await startViewerServer({ root: runs, assetsDir: assets, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  errors = collectPageErrors(page);
  await page.goto(server.url);
  await page.evaluate(() => (window as any).npcforgeViewer.ready);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('learning curves in Chromium', () => {
  it('compares the three seeds of one game/agent: band and mean drawn, legend lists three runs', async () => {
    await page.click('#runs li[data-run="catch__dqn__s1__20260101-000000"] a');
    await page.click('#btn-all-seeds');
    const names = [1, 2, 3].map((s) => `catch__dqn__s${s}__20260101-000000`);
    await expect.poll(async () => (await curves()).runs.map((r) => r.points)).toEqual([30, 30, 20]);
    await page.selectOption('#metric', 'mean_return_100');
    await expect.poll(async () => (await curves()).band).toBe(true);
    const c = await curves();
    expect(c.metric).toBe('mean_return_100');
    expect(c.legend).toEqual(names);
    expect(await page.locator('#curve-legend .legend-entry .legend-name').allTextContents()).toEqual([...names, 'mean, min-max band']);
    expect(await page.locator('#curve-svg polygon.band').count()).toBeGreaterThan(0);
    expect(await page.locator('#curve-svg polyline.smooth').count()).toBe(3);
    expect(await page.locator('#curve-svg polyline.raw').count()).toBe(3);
    expect(await page.locator('#curve-svg polyline.mean').count()).toBeGreaterThan(0);
    expect(await page.textContent('#curve-svg .x-title')).toBe('step');
    expect(await page.textContent('#curve-svg .y-title')).toBe('mean_return_100');
    // The deep link names the metric and the runs.
    expect(decodeURIComponent(await page.evaluate(() => location.hash))).toBe(`#compare/mean_return_100/${names.join(',')}`);
    // Hover: the step under the cursor and one value per run.
    const box = (await page.locator('#curve-svg').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await expect.poll(() => page.isVisible('#curve-hover')).toBe(true);
    expect(await page.locator('#curve-hover .hover-row').count()).toBe(3);
    expect(await page.textContent('#curve-hover .hover-step')).toMatch(/^step \d+/);
    // Smoothing 0: the smoothed line's last point is the raw last value (seed 1: 1 - e^-2.9 + 0.1).
    await page.locator('#smoothing').fill('0');
    await page.mouse.move(box.x + box.width - 14, box.y + box.height * 0.5);
    await expect.poll(() => page.textContent('#curve-hover')).toContain(`${(1 - Math.exp(-2.9) + 0.1).toFixed(3)} (raw ${(1 - Math.exp(-2.9) + 0.1).toFixed(3)})`);
  });

  it('opens a compare view from its deep link, and filters the run list by game and agent', async () => {
    await page.evaluate(() => {
      location.hash = '#compare/loss/catch__dqn__s2__20260101-000000,breakout__ppo__s1__20260101-000000';
    });
    await expect.poll(async () => (await curves()).legend).toEqual(['catch__dqn__s2__20260101-000000', 'breakout__ppo__s1__20260101-000000']);
    expect((await curves()).metric).toBe('loss');
    await page.selectOption('#filter-agent', 'ppo');
    expect(await page.locator('#runs li a').allTextContents()).toEqual(['breakout__ppo__s1__20260101-000000']);
    await page.selectOption('#filter-agent', '');
    await page.selectOption('#filter-game', 'catch');
    expect(await page.locator('#runs li a').allTextContents()).toEqual([1, 2, 3].map((s) => `catch__dqn__s${s}__20260101-000000`));
    expect(await page.locator('#filter-game option').allTextContents()).toEqual(['all games', 'catch', 'minatar/breakout']);
    await page.selectOption('#filter-game', '');
    await page.click('#btn-only-run');
  });

  it('skips and counts non-numeric values; keeps a half-written last line until it is complete', async () => {
    await page.evaluate(() => {
      location.hash = '#compare/loss/bad-values';
    });
    await expect.poll(async () => (await curves()).runs[0]?.points).toBe(2);
    const bad = (await curves()).runs[0]!;
    // 'high', NaN, Infinity, -Infinity, an object, an array, true: 7; null is counted apart (not measured).
    expect(bad).toMatchObject({ name: 'bad-values', points: 2, nonNumeric: 7, nulls: 1, badLines: 1, lastStep: 10, lastValue: 0.25 });
    expect(await page.textContent('#curve-note')).toMatch(/2 points, 1 unreadable line skipped, 7 non-numeric values skipped/);

    // A live run's heartbeat is its status.json's mtime: fresh now, however long the earlier tests took.
    const now = new Date();
    utimesSync(join(runs, 'half-written', 'status.json'), now, now);
    await page.evaluate(() => (window as any).npcforgeViewer.poll());
    await page.evaluate(() => {
      location.hash = '#compare/loss/half-written';
    });
    await expect.poll(async () => (await curves()).runs[0]?.points).toBe(1);
    expect((await curves()).runs[0]).toMatchObject({ badLines: 0, status: 'running' });
    appendFileSync(join(runs, 'half-written', 'metrics.jsonl'), 'ss":2}\n' + JSON.stringify({ step: 3, loss: 3 }) + '\n');
    await page.evaluate(() => (window as any).npcforgeViewer.poll());
    await expect.poll(async () => (await curves()).runs[0]).toMatchObject({ points: 3, badLines: 0, lastStep: 3, lastValue: 3 });
  });

  it('draws a 200,000-line file downsampled, with every point read', async () => {
    await page.evaluate(() => {
      location.hash = '#compare/loss/long-run';
    });
    await expect.poll(async () => (await curves()).runs[0]?.points, { timeout: 60_000 }).toBe(200_000);
    await expect.poll(async () => (await curves()).runs[0]?.loading).toBe(false);
    const c = await curves();
    expect(c.runs[0]).toMatchObject({ lastStep: 2_000_000, badLines: 0 });
    // Raw and smoothed lines, min and max per pixel column: at most 2 x 2 x 644 points.
    expect(c.drawnPoints).toBeGreaterThan(100);
    expect(c.drawnPoints).toBeLessThanOrEqual(4 * 644);
    await page.selectOption('#metric', 'eval_return');
    await expect.poll(async () => (await curves()).runs[0]).toMatchObject({ points: 200, nulls: 199_800 });
  });

  it('shows a run trained while the page is open: it appears, its curve grows, then it shows finished', async () => {
    // Long enough (~10 s on an idle machine) for several of the page's 2 s polls.
    const { child, run } = await startTrain(24_000, 11);
    await expect.poll(() => page.locator('#runs li a').allTextContents(), { timeout: 30_000 }).toContain(run);
    await page.click(`#runs li[data-run="${run}"] a`);
    // Untick the runs of the earlier deep links: the chart shows the selected run.
    await page.click('#btn-only-run');
    await expect.poll(async () => (await curves()).runs[0]?.name).toBe(run);
    await page.selectOption('#metric', 'mean_return_100').catch(() => undefined);
    // Point counts and listed evaluation episodes seen while the page stays open (no reload).
    const seen: number[] = [];
    const episodes: number[] = [];
    await expect
      .poll(
        async () => {
          const p = (await curves()).runs[0]?.points ?? 0;
          if (!seen.includes(p)) seen.push(p);
          const e = await page.locator('#episodes li').count();
          if (!episodes.includes(e)) episodes.push(e);
          return seen.filter((n) => n > 0).length >= 2 && episodes.length >= 2;
        },
        { timeout: 90_000, interval: 300 },
      )
      .toBe(true);
    expect(await statusOf(run)).toMatch(/running|finished/);
    await new Promise<void>((ok) => (child.exitCode !== null ? ok() : child.once('exit', () => ok())));
    expect(child.exitCode).toBe(0);
    await expect.poll(() => statusOf(run), { timeout: 15_000 }).toBe('finished');
    await expect.poll(async () => (await curves()).runs[0]?.lastStep, { timeout: 15_000 }).toBe(24_000);
    // All eight evaluations' episodes (every 3,000 steps) listed in the end.
    await expect.poll(() => page.locator('#episodes li').count(), { timeout: 15_000 }).toBe(8);
  }, 300_000);

  it('shows a SIGKILLed training as interrupted', async () => {
    const { child, run } = await startTrain(10_000_000, 12);
    await expect.poll(() => statusOf(run), { timeout: 60_000 }).toBe('running');
    child.kill('SIGKILL');
    await new Promise<void>((ok) => (child.exitCode !== null || child.signalCode !== null ? ok() : child.once('exit', () => ok())));
    await expect.poll(() => statusOf(run), { timeout: 15_000 }).toBe('interrupted');
  });

  it('keeps the parsed metrics of the plotted run and of at most four others (eight were plotted)', async () => {
    const kept = (): Promise<number> => page.evaluate(() => (window as unknown as { npcforgeViewer: { curves(): { keptRuns: number } } }).npcforgeViewer.curves().keptRuns);
    await expect.poll(kept).toBe(5);
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
