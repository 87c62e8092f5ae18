/**
 * `npm run bench -- arena-page`: the examples/arena page in real Chromium (headless, SwiftShader
 * WebGL), N NPCs (default 12) from the one committed policy through `policy.controller()`, the
 * player on autopilot: frame times over `--seconds` (default 10) after a second of warm-up, per
 * tfjs backend (webgl, cpu). Prints fps, median/p95/max frame time, actBatch calls and catches;
 * `--json out`. Frame rate is a speed figure: it lives here, and the browser test
 * (test/examples/arena.browser.test.ts) runs the same page for what it does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { decodePath, sendFile, startLocalServer } from '../src/render/static-files.js';
import { collectPageErrors, launchChromium } from './browser-page.js';
import { numberFlag, printTable, writeJson, type Bench, type BenchArgs, repoRoot } from './harness.js';

/** `window.arenaDemo` of examples/arena/main.ts. */
export interface ArenaDemoState {
  ready: boolean;
  error: string | null;
  backend: string;
  npcCount: number;
  decisionPeriod: number;
  frameTimes: number[];
  catches: number;
  batches: number;
  decisions: number[];
  startDistance: number;
  meanDistance: number;
}

export interface ArenaPageRun {
  demo: ArenaDemoState;
  /** Frame intervals (ms) inside the measured window. */
  frames: number[];
  errors: string[];
  fps: number;
  median: number;
  p95: number;
  max: number;
}

export interface ArenaPage {
  run(o: { backend: string; npcs: number; seconds: number; warmupSeconds?: number }): Promise<ArenaPageRun>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.bin': 'application/octet-stream' };


/** Bundles the arena page (as scripts/bundle-arena.mjs builds dist/arena), serves it on loopback and starts Chromium. */
export async function openArenaPage(root = repoRoot()): Promise<ArenaPage> {
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-arena-page-'));
  const { bundle } = (await import(pathToFileURL(join(root, 'scripts', 'bundle-arena.mjs')).href)) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
  const pageDir = await bundle(root, { outDir: join(tmp, 'arena') });
  const server = await startLocalServer({
    component: 'arena page',
    host: '127.0.0.1',
    port: 0,
    handle: async (req, res, head) => {
      const seg = decodePath(req.url ?? '/');
      const path = join(pageDir, ...(seg[0] === '' ? ['index.html'] : seg));
      await sendFile(res, { root: pageDir, path, type: TYPES[extname(path)] ?? 'application/octet-stream', head });
    },
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
  } catch (err) {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const b = browser;
  return {
    run: (o) => runPage(b, server.url, o),
    close: async () => {
      await b.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function runPage(browser: Browser, url: string, o: { backend: string; npcs: number; seconds: number; warmupSeconds?: number }): Promise<ArenaPageRun> {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  try {
    await page.goto(`${url}?autopilot=1&npcs=${o.npcs}&backend=${o.backend}`);
    await page.waitForFunction(() => {
      const d = (globalThis as unknown as { arenaDemo?: ArenaDemoState }).arenaDemo;
      return d !== undefined && (d.error !== null || (d.ready && d.batches > 0));
    }, undefined, { timeout: 60_000 });
    await page.waitForTimeout((o.warmupSeconds ?? 1) * 1000);
    const from = await page.evaluate(() => (globalThis as unknown as { arenaDemo: ArenaDemoState }).arenaDemo.frameTimes.length);
    await page.waitForTimeout(o.seconds * 1000);
    const demo = await page.evaluate(() => structuredClone((globalThis as unknown as { arenaDemo: ArenaDemoState }).arenaDemo));
    if (demo.error) errors.push(demo.error);
    // Whole frames inside the window (the rAF loop keeps running while we read).
    const frames: number[] = [];
    let total = 0;
    for (const t of demo.frameTimes.slice(from)) {
      if (total + t > o.seconds * 1000) break;
      frames.push(t);
      total += t;
    }
    const sorted = [...frames].sort((a, b) => a - b);
    const fps = frames.length ? (1000 * frames.length) / total : 0;
    return { demo, frames, errors, fps, median: quantile(sorted, 0.5) ?? NaN, p95: quantile(sorted, 0.95) ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
  } finally {
    await page.close();
  }
}

/** One line of figures for a run. */
export function describeArenaRun(r: ArenaPageRun): string {
  const d = r.demo;
  return `arena page, tfjs ${d.backend}, ${d.npcCount} NPCs, decision every ${d.decisionPeriod} frames: ${r.frames.length} frames in ${(r.frames.reduce((a, b) => a + b, 0) / 1000).toFixed(2)} s = ${r.fps.toFixed(1)} fps; frame time median ${r.median.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms, max ${r.max.toFixed(2)} ms; ${d.batches} actBatch calls, decisions per NPC ${Math.min(...d.decisions)}..${Math.max(...d.decisions)}; ${d.catches} catches`;
}

async function run(args: BenchArgs): Promise<unknown> {
  const npcs = Math.round(numberFlag(args, 'npcs', 12));
  const seconds = numberFlag(args, 'seconds', 10);
  const page = await openArenaPage();
  const rows: Record<string, unknown>[] = [];
  try {
    for (const backend of ['webgl', 'cpu']) {
      const r = await page.run({ backend, npcs, seconds });
      if (r.errors.length) throw new Error(`arena page on ${backend}: ${r.errors.join('; ')}`);
      process.stdout.write(`${describeArenaRun(r)}\n`);
      rows.push({ backend: r.demo.backend, npcs: r.demo.npcCount, decision_period: r.demo.decisionPeriod, frames: r.frames.length, fps: r.fps, median_ms: r.median, p95_ms: r.p95, max_ms: r.max, batches: r.demo.batches, catches: r.demo.catches });
    }
  } finally {
    await page.close();
  }
  const { loadavg } = await import('node:os');
  process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  printTable(
    ['backend', 'NPCs', 'frames', 'fps', 'median ms', 'p95 ms', 'max ms', 'actBatch calls', 'catches'],
    rows.map((r) => [String(r.backend), String(r.npcs), String(r.frames), (r.fps as number).toFixed(1), (r.median_ms as number).toFixed(2), (r.p95_ms as number).toFixed(2), (r.max_ms as number).toFixed(2), String(r.batches), String(r.catches)]),
  );
  writeJson(args, 'arena-page', { rows, loadavg: loadavg() });
  return rows;
}

export const bench: Bench = { description: 'the examples/arena page in Chromium: fps and frame times with 12 NPCs from one policy (webgl, cpu)', run };
