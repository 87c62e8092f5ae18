/**
 * `npm run bench -- view-curves [--lines 1000000] [--runs 1] [--json out]`: the viewer's
 * learning-curve panel on metrics.jsonl files of `--lines` lines shaped like the runner's (~230
 * bytes each), in real Chromium against the real server, opened by its compare deep link. Reports
 * time to the first curve drawn and to the last line read, the longest main-thread task seen by a
 * PerformanceObserver('longtask') while loading (the page's responsiveness; page start-up's own
 * long task reported apart), the longest redraw, the JS heap (CDP
 * Performance.getMetrics) and the parsed columns' bytes (typed arrays, outside the JS heap), the
 * points drawn; then the time to redraw after moving the smoothing slider. The browser test runs
 * the same panel on 200,000 lines for what it does; the figures live here.
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { startViewerServer } from '../src/render/server.js';
import { collectPageErrors, launchChromium } from './browser-page.js';
import { numberFlag, printTable, repoRoot, writeJson, type Bench, type BenchArgs } from './harness.js';

/** Writes a metrics.jsonl of `lines` lines as the runner writes them (eval_return every 50th line, null between). */
async function writeMetrics(path: string, lines: number, seed: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let block = '';
  for (let i = 1; i <= lines; i++) {
    const line = JSON.stringify({ step: i * 100, episodes: i * 3, mean_return_100: Math.tanh(i / 200_000) + 0.05 * Math.sin(i / 97 + seed), eval_return: i % 50 === 0 ? Math.tanh(i / 200_000) + seed * 0.01 : null, loss: 0.5 / Math.sqrt(i) + 0.01 * ((i * 7919 + seed) % 13), epsilon: Math.max(0.01, 1 - i / 10_000), updates: i * 25, env_steps_per_s: 1200 + (i % 17), updates_per_s: 300 + (i % 11), wall_time_s: i * 0.08, tensors: 26 }) + '\n';
    block += line;
    bytes += line.length;
    if (block.length > 1 << 20) {
      if (!out.write(block)) await new Promise<void>((ok) => out.once('drain', () => ok()));
      block = '';
    }
  }
  out.write(block);
  await new Promise<void>((ok) => out.end(() => ok()));
  return bytes;
}

interface Result {
  lines: number;
  runs: number;
  fileMB: number;
  firstCurveMs: number;
  allReadMs: number;
  /** Long tasks (> 50 ms) from the start of the metrics load to the last line read. */
  longestTaskMs: number;
  longTasks: number;
  /** The longest task before it (page start-up), for comparison. */
  startupTaskMs: number;
  maxDrawMs: number;
  jsHeapMB: number;
  columnMB: number;
  drawnPoints: number;
  smoothingRedrawMs: number;
  loadAvg1: number;
  errors: string[];
}

export const bench: Bench = {
  description: 'viewer curves on a metrics.jsonl of --lines lines (default 1M) in Chromium: first curve, all read, longest task, memory',
  async run(args: BenchArgs): Promise<Result> {
    const lines = numberFlag(args, 'lines', 1_000_000);
    const nRuns = numberFlag(args, 'runs', 1);
    const tmp = mkdtempSync(join(tmpdir(), 'npcforge-view-curves-'));
    let browser: Browser | null = null;
    try {
      const root = join(tmp, 'runs');
      const names: string[] = [];
      let bytes = 0;
      for (let r = 0; r < nRuns; r++) {
        const name = `catch__dqn__s${r}__20260101-000000`;
        mkdirSync(join(root, name), { recursive: true });
        bytes += await writeMetrics(join(root, name, 'metrics.jsonl'), lines, r);
        names.push(name);
      }
      const { bundle } = (await import(pathToFileURL(join(repoRoot(), 'scripts', 'bundle-viewer.mjs')).href)) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
      const assets = await bundle(repoRoot(), { outDir: join(tmp, 'assets') });
      const server = await startViewerServer({ root, assetsDir: assets, port: 0 });
      try {
        browser = await launchChromium();
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors = collectPageErrors(page);
        // Registered before the app's script runs: every long task of the page load and the parse.
        await page.addInitScript(() => {
          const w = window as unknown as { longTasks: number[]; taskStarts: number[] };
          w.longTasks = [];
          w.taskStarts = [];
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) w.longTasks.push(e.duration), w.taskStarts.push(e.startTime);
          }).observe({ type: 'longtask', buffered: true });
        });
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Performance.enable');
        const t0 = Date.now();
        await page.goto(`${server.url}#compare/loss/${names.join(',')}`);
        type Status = { firstCurveMs: number | null; drawnPoints: number; maxDrawMs: number; loadStartMs: number; runs: Array<{ points: number; loading: boolean; columnBytes: number }> };
        const status = (): Promise<Status> => page.evaluate(() => (window as unknown as { npcforgeViewer: { curves(): Status } }).npcforgeViewer.curves());
        await page.waitForFunction(() => (window as unknown as { npcforgeViewer?: { curves(): Status } }).npcforgeViewer?.curves().firstCurveMs != null, undefined, { timeout: 600_000, polling: 50 });
        const firstWall = Date.now() - t0;
        await page.waitForFunction((n) => {
          const c = (window as unknown as { npcforgeViewer: { curves(): Status } }).npcforgeViewer.curves();
          return c.runs.length === n.runs && c.runs.every((r) => r.points === n.lines && !r.loading);
        }, { lines, runs: nRuns }, { timeout: 1_200_000, polling: 100 });
        const allReadMs = Date.now() - t0;
        // Let the final draw land.
        await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
        const s = await status();
        const { durations, starts } = await page.evaluate(() => {
          const w = window as unknown as { longTasks: number[]; taskStarts: number[] };
          return { durations: w.longTasks, starts: w.taskStarts };
        });
        // Start-up (bundle, Pixi and WebGL set-up) is not the metrics load: split the tasks at the load's start.
        const tasks = durations.filter((_, i) => starts[i]! >= s.loadStartMs);
        const startup = durations.filter((_, i) => starts[i]! < s.loadStartMs);
        const metrics = (await cdp.send('Performance.getMetrics')).metrics;
        const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
        // Smoothing slider moved: time until the redraw is on screen.
        const smoothingRedrawMs = await page.evaluate(
          () =>
            new Promise<number>((ok) => {
              const slider = document.getElementById('smoothing') as HTMLInputElement;
              const t = performance.now();
              slider.value = '0.9';
              slider.dispatchEvent(new Event('input'));
              requestAnimationFrame(() => requestAnimationFrame(() => ok(performance.now() - t)));
            }),
        );
        const result: Result = {
          lines,
          runs: nRuns,
          fileMB: bytes / 2 ** 20,
          firstCurveMs: s.firstCurveMs ?? firstWall,
          allReadMs,
          longestTaskMs: tasks.length ? Math.max(...tasks) : 0,
          longTasks: tasks.length,
          startupTaskMs: startup.length ? Math.max(...startup) : 0,
          maxDrawMs: s.maxDrawMs,
          jsHeapMB: heap / 2 ** 20,
          columnMB: s.runs.reduce((n, r) => n + r.columnBytes, 0) / 2 ** 20,
          drawnPoints: s.drawnPoints,
          smoothingRedrawMs,
          loadAvg1: loadavg()[0]!,
          errors,
        };
        printTable(
          ['lines x runs', 'file MB', 'first curve ms', 'all read ms', 'longest task ms', 'long tasks', 'start-up task ms', 'longest draw ms', 'JS heap MB', 'columns MB', 'points drawn', 'smoothing redraw ms', 'load avg'],
          [[`${lines.toLocaleString('en-US')} x ${nRuns}`, result.fileMB.toFixed(0), result.firstCurveMs.toFixed(0), String(allReadMs), result.longestTaskMs.toFixed(0), String(result.longTasks), result.startupTaskMs.toFixed(0), result.maxDrawMs.toFixed(0), result.jsHeapMB.toFixed(0), result.columnMB.toFixed(0), String(result.drawnPoints), smoothingRedrawMs.toFixed(0), result.loadAvg1.toFixed(2)]],
        );
        if (errors.length) process.stdout.write(`page errors: ${errors.join(' | ')}\n`);
        writeJson(args, 'view-curves', result);
        return result;
      } finally {
        await server.close();
      }
    } finally {
      await browser?.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
