/**
 * Browser tests of the replay viewer: real Chromium (playwright-core, headless, SwiftShader WebGL)
 * against the real server, on runs recorded in the test. One browser launch for the whole file.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../bench/browser-page.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import type { Env, RgbFrame } from '../../src/envs/env.js';
import { EpisodeFileWriter, RecordEpisode } from '../../src/replay/episodes/index.js';
import { startViewerServer, type ViewerServer } from '../../src/render/server.js';
import { GridGame, fakeAnnotation } from '../replay/episodes/grid-game.js';
import { TANK_ACTIONS } from '../../games/tank/tank.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const tmp = mkdtempSync(join(tmpdir(), 'npcview-'));
const runs = join(tmp, 'runs');
let server: ViewerServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

interface Rec {
  name: string;
  frames: Map<number, RgbFrame>;
  actions: number[];
  rewards: number[];
  actionNames: string[];
}

/** Records one episode into runs/<run>/episodes, keeping the Node-rendered frames listed in `keep` (all when omitted). */
function recordEpisode(env: Env<unknown, number>, run: string, name: string, seed: number, opts: { steps?: number; keep?: number[]; annotate?: 'q' | 'probs'; policy?: (t: number) => number } = {}): Rec {
  const rng = new SeededRng(seed);
  const nA = env.spec.actionNames.length;
  const keep = opts.keep ? new Set(opts.keep) : null;
  const rec: Rec = { name, frames: new Map(), actions: [], rewards: [], actionNames: env.spec.actionNames };
  const wrapper = new RecordEpisode(env, { dir: join(runs, run, 'episodes'), name: () => name });
  wrapper.reset({ seed });
  if (!keep || keep.has(0)) rec.frames.set(0, env.render!());
  for (let t = 0; t < (opts.steps ?? 1e9); t++) {
    const a = opts.policy ? opts.policy(t) : rng.int(0, nA);
    if (opts.annotate) {
      const f = fakeAnnotation(t, nA, rng);
      wrapper.annotateNext(opts.annotate === 'q' ? { q: f.q } : { probs: f.probs, value: f.value });
    }
    const r = wrapper.step(a);
    rec.actions.push(a);
    rec.rewards.push(r.reward);
    if (!keep || keep.has(t + 1)) rec.frames.set(t + 1, env.render!());
    if (r.terminated || r.truncated) break;
  }
  wrapper.close();
  return rec;
}

/** The game as shown on the page's canvas, sampled at the centre of every scaled source pixel. */
async function canvasFrame(p: Page, width: number, height: number): Promise<RgbFrame> {
  const values = await p.evaluate(
    ({ width, height }) => {
      const c = document.querySelector('#stage canvas') as HTMLCanvasElement;
      const s = (window as any).npcforgeViewer.status().scale as number;
      const off = document.createElement('canvas');
      off.width = c.width;
      off.height = c.height;
      const ctx = off.getContext('2d')!;
      ctx.drawImage(c, 0, 0);
      const img = ctx.getImageData(0, 0, c.width, c.height).data;
      const out: number[] = [];
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = ((y * s + (s >> 1)) * c.width + x * s + (s >> 1)) * 4;
          out.push(img[i]!, img[i + 1]!, img[i + 2]!);
        }
      }
      return out;
    },
    { width, height },
  );
  return { width, height, data: Uint8Array.from(values) };
}

function differingPixels(a: RgbFrame, b: RgbFrame): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 3) if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) n++;
  return n;
}

async function open(hash: string, episode: string, step: number): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForFunction(({ episode, step }) => {
    const s = (window as any).npcforgeViewer?.status();
    return s && s.episode === episode && s.step === step;
  }, { episode, step });
}

let catchRec: Rec;
let catchRec2: Rec;
let cartRec: Rec;
let gridRec: Rec;
let pixelFrames: Map<number, RgbFrame>;
const PIXEL_STEPS = 2000;
const PIXEL_CHECKS = [0, 31, 32, 33, 1000, 1999, 2000];

/** A long CartPole episode of full-resolution (not blocky) frames, stepped past the pole's fall. */
function recordPixelEpisode(path: string): Map<number, RgbFrame> {
  const env = make<Float32Array, number>('cartpole', { maxEpisodeSteps: null, orderEnforcing: false });
  env.reset({ seed: 4 });
  const keep = new Map<number, RgbFrame>();
  const w = new EpisodeFileWriter({ path, compressionLevel: 6 });
  let inner: any = env;
  while (inner.env) inner = inner.env;
  w.begin({ game: { id: 'cartpole', options: env.spec.options ?? {}, maxEpisodeSteps: null }, seed: 4, resetOptions: null, stateBeforeReset: null, stateAtReset: inner.getState(), actionNames: env.spec.actionNames, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, env.render!());
  keep.set(0, env.render!());
  for (let t = 0; t < PIXEL_STEPS; t++) {
    const a = Math.floor(t / 3) % 2;
    const r = env.step(a);
    const frame = env.render!();
    if (PIXEL_CHECKS.includes(t + 1)) keep.set(t + 1, frame);
    w.step({ action: a, reward: r.reward, terminated: r.terminated, truncated: false, frame });
  }
  w.finish();
  return keep;
}
/** A Box (pendulum) or MultiDiscrete (tank) episode in runs/control-run, with its actions and frames. */
function recordControl(game: 'pendulum' | 'tank', seed: number, steps: number): { actions: Array<Float32Array | Int32Array>; frames: RgbFrame[] } {
  const env = make<unknown, Float32Array | Int32Array>(game);
  const rng = new SeededRng(seed);
  const rec = new RecordEpisode(env, { dir: join(runs, 'control-run', 'episodes'), name: () => `${game}-s${seed}` });
  const out = { actions: [] as Array<Float32Array | Int32Array>, frames: [] as RgbFrame[] };
  rec.reset({ seed });
  out.frames.push(env.render!());
  for (let t = 0; t < steps; t++) {
    // Tank: also the agent's probabilities per flat action name, so the bars mark one choice per part.
    if (game === 'tank') rec.annotateNext({ probs: Array.from({ length: 10 }, (_, i) => (i % 3) / 3), value: 0.5 });
    // Pendulum: a torque sweeping the bounds [-2, 2], both signs.
    const a = game === 'pendulum' ? Float32Array.of(2 * Math.sin(t / 3)) : (env.actionSpace.sample(rng) as Int32Array);
    const r = rec.step(a);
    out.actions.push(a);
    out.frames.push(env.render!());
    if (r.terminated || r.truncated) break;
  }
  rec.close();
  return out;
}
let pendulumRec: ReturnType<typeof recordControl>;
let tankRec: ReturnType<typeof recordControl>;
const GRID_STEPS = 10_000;
const GRID_CHECKS = [0, 1, 63, 64, 65, 4097, 9999, 10_000];

beforeAll(async () => {
  const assets = join(tmp, 'assets');
  const { bundle } = (await import(join(ROOT, 'scripts', 'bundle-viewer.mjs'))) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
  await bundle(ROOT, { outDir: assets });
  catchRec = recordEpisode(make('catch'), 'catch-run', 'catch-s1', 1, { annotate: 'q' });
  catchRec2 = recordEpisode(make('catch'), 'catch-run', 'catch-s2', 2, { annotate: 'q' });
  cartRec = recordEpisode(make('cartpole'), 'cartpole-run', 'cartpole-s3', 3, { annotate: 'probs', policy: (t) => (t % 4 < 2 ? 0 : 1) });
  gridRec = recordEpisode(new GridGame() as unknown as Env<unknown, number>, 'grid-run', 'long', 5, { steps: GRID_STEPS, keep: GRID_CHECKS });
  pendulumRec = recordControl('pendulum', 2, 40);
  tankRec = recordControl('tank', 3, 30);
  pixelFrames = recordPixelEpisode(join(runs, 'cartpole-run', 'episodes', 'long-pixels.npcep'));
  const good = readFileSync(join(runs, 'catch-run', 'episodes', 'catch-s1.npcep'));
  writeFileSync(join(runs, 'catch-run', 'episodes', 'corrupt.npcep'), good.subarray(0, Math.floor(good.length / 2)));
  const curve = (i: number, phase: number): number => 1 - 2 * Math.exp(-i / 7) + 0.12 * Math.sin(i * 1.7 + phase);
  const metrics = Array.from({ length: 30 }, (_, i) => JSON.stringify({ step: (i + 1) * 1000, episodes: i * 10, mean_return: curve(i, 0), eval_return: curve(i, 1), loss: 1 / (i + 1) }));
  writeFileSync(join(runs, 'catch-run', 'metrics.jsonl'), [...metrics.slice(0, 10), 'not json', ...metrics.slice(10)].join('\n') + '\n');
  mkdirSync(join(runs, 'empty-run'));
  // Sparse files past the page's limits: an episode over MAX_EPISODE_BYTES, metrics of 65 MiB
  // (30 good lines, then zeros without a line end: one line far over the parser's line limit).
  mkdirSync(join(runs, 'big-run', 'episodes'), { recursive: true });
  writeFileSync(join(runs, 'big-run', 'episodes', 'huge.npcep'), good);
  truncateSync(join(runs, 'big-run', 'episodes', 'huge.npcep'), 257 * 1024 * 1024);
  writeFileSync(join(runs, 'big-run', 'metrics.jsonl'), metrics.join('\n') + '\n');
  appendFileSync(join(runs, 'big-run', 'metrics.jsonl'), 'x');
  truncateSync(join(runs, 'big-run', 'metrics.jsonl'), 65 * 1024 * 1024);
  server = await startViewerServer({ root: runs, assetsDir: assets, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url + '#catch-run/catch-s1/0');
  await page.waitForFunction(() => (window as any).npcforgeViewer?.status()?.episode === 'catch-s1');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('replay viewer in Chromium', () => {
  it('lists the runs and the episodes of the selected run', async () => {
    await expect.poll(() => page.locator('#runs li a').allTextContents()).toEqual(['big-run', 'cartpole-run', 'catch-run', 'control-run', 'empty-run', 'grid-run']);
    await expect.poll(() => page.locator('#episodes li a').allTextContents()).toEqual(['catch-s1', 'catch-s2', 'corrupt']);
  });

  it('draws the game on the canvas: ball and paddle colours where the game put them', async () => {
    const ref = catchRec.frames.get(0)!;
    const shown = await canvasFrame(page, ref.width, ref.height);
    expect(differingPixels(shown, ref)).toBe(0);
    const env = make('catch');
    env.reset({ seed: 1 });
    let inner: any = env;
    while (inner.env) inner = inner.env;
    const { ballX, paddleX } = inner.getState().game as { ballX: number; paddleX: number };
    const at = (cx: number, cy: number): number[] => {
      const i = ((cy * 8 + 4) * ref.width + cx * 8 + 4) * 3;
      return Array.from(shown.data.subarray(i, i + 3));
    };
    expect(at(ballX, 0)).toEqual([255, 220, 60]);
    expect(at(paddleX, 9)).toEqual([80, 160, 255]);
    const colours = new Set<number>();
    for (let i = 0; i < shown.data.length; i += 3) colours.add((shown.data[i]! << 16) | (shown.data[i + 1]! << 8) | shown.data[i + 2]!);
    expect(colours.size).toBe(3);
  });

  it('a deep link to step k shows frame k and the recorded action', async () => {
    const k = Math.floor(cartRec.actions.length / 2);
    expect(cartRec.actions.length).toBeGreaterThan(20);
    await open(`#cartpole-run/cartpole-s3/${k}`, 'cartpole-s3', k);
    const ref = cartRec.frames.get(k)!;
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height), ref)).toBe(0);
    expect(await page.textContent('#ov-action')).toBe(cartRec.actionNames[cartRec.actions[k]!]);
    expect(await page.textContent('#ov-return')).toBe(String(cartRec.rewards.slice(0, k).reduce((a, b) => a + b, 0)));
    expect(await page.textContent('#ov-bars-title')).toBe('action probabilities');
    expect(await page.locator('#ov-bars .bar').count()).toBe(2);
    expect(await page.locator('#ov-bars .bar.chosen .name').textContent()).toBe(cartRec.actionNames[cartRec.actions[k]!]);
    expect(await page.textContent('#ov-value')).not.toBe('-');
  });

  it('scrubbing and the keyboard move to the right frames', async () => {
    await page.locator('#scrub').evaluate((el: HTMLInputElement) => {
      el.value = '5';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const ref5 = cartRec.frames.get(5)!;
    expect(differingPixels(await canvasFrame(page, ref5.width, ref5.height), ref5)).toBe(0);
    expect(await page.textContent('#ov-action')).toBe(cartRec.actionNames[cartRec.actions[5]!]);
    await page.locator('body').click({ position: { x: 5, y: 880 } });
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowLeft');
    expect(await page.evaluate(() => (window as any).npcforgeViewer.status().step)).toBe(6);
    const ref6 = cartRec.frames.get(6)!;
    expect(differingPixels(await canvasFrame(page, ref6.width, ref6.height), ref6)).toBe(0);
    expect(page.url()).toMatch(/#cartpole-run\/cartpole-s3\/6$/);
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    expect(await page.evaluate(() => (window as any).npcforgeViewer.status().speed)).toBe(4);
    for (let i = 0; i < 8; i++) await page.keyboard.press('-');
    expect(await page.evaluate(() => (window as any).npcforgeViewer.status().speed)).toBe(0.25);
    for (let i = 0; i < 10; i++) await page.keyboard.press('+');
    expect(await page.evaluate(() => (window as any).npcforgeViewer.status().speed)).toBe(8);
    for (let i = 0; i < 3; i++) await page.keyboard.press('-');
    await page.keyboard.press('Home');
    await page.keyboard.press(' ');
    expect(await page.evaluate(() => (window as any).npcforgeViewer.status().playing)).toBe(true);
    await page.waitForFunction(() => (window as any).npcforgeViewer.status().step >= 3);
    await page.keyboard.press(' ');
    const paused = await page.evaluate(() => (window as any).npcforgeViewer.status());
    expect(paused.playing).toBe(false);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as any).npcforgeViewer.status().step)).toBe(paused.step);
  });

  it('a Box action (pendulum): one number and one bar per dimension, the bar spanning the bounds with 0 marked', async () => {
    const k = 12;
    const torque = pendulumRec.actions[k]![0]!;
    expect(torque).toBeLessThan(0);
    await open(`#control-run/pendulum-s2/${k}`, 'pendulum-s2', k);
    const ref = pendulumRec.frames[k]!;
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height), ref)).toBe(0);
    expect(await page.textContent('#ov-action')).toBe(torque.toFixed(3));
    expect(await page.locator('#ov-act .act-dim').count()).toBe(1);
    expect(await page.textContent('#ov-act .act-dim .name')).toBe('torque');
    expect(await page.textContent('#ov-act .act-dim .num')).toBe(torque.toFixed(3));
    // Bounds [-2, 2]: 0 sits mid-track; a negative torque fills leftwards from it.
    const geometry = async (): Promise<{ zero: number; left: number; width: number; track: number }> =>
      page.evaluate(() => {
        const track = document.querySelector('#ov-act .act-dim .track')!.getBoundingClientRect();
        const zero = document.querySelector('#ov-act .act-dim .zero')!.getBoundingClientRect();
        const fill = document.querySelector('#ov-act .act-dim .fill')!.getBoundingClientRect();
        return { zero: zero.left - track.left, left: fill.left - track.left, width: fill.width, track: track.width };
      });
    const g = await geometry();
    expect(g.zero / g.track).toBeCloseTo(0.5, 2);
    expect((g.left + g.width) / g.track).toBeCloseTo(0.5, 2);
    expect(g.width / g.track).toBeCloseTo(Math.abs(torque) / 4, 2);
    // A positive torque a few steps on fills rightwards from 0.
    const k2 = 8;
    const t2 = pendulumRec.actions[k2]![0]!;
    expect(t2).toBeGreaterThan(0);
    await page.evaluate((k) => (window as any).npcforgeViewer.seek(k), k2);
    expect(await page.textContent('#ov-action')).toBe(t2.toFixed(3));
    const g2 = await geometry();
    expect(g2.left / g2.track).toBeCloseTo(0.5, 2);
    expect(g2.width / g2.track).toBeCloseTo(t2 / 4, 2);
    expect(await page.locator('#ov-bars .bar').count()).toBe(0);
    // The last frame has no action.
    await page.evaluate(() => (window as any).npcforgeViewer.seek(1e9));
    expect(await page.textContent('#ov-action')).toBe('(episode over)');
    expect(await page.locator('#ov-act .act-dim').count()).toBe(0);
  });

  it('a MultiDiscrete action (tank): one label per part from the game\'s action names, one chosen bar per part', async () => {
    const k = 6;
    const row = Array.from(tankRec.actions[k]!);
    const parts = [TANK_ACTIONS.slice(0, 5), TANK_ACTIONS.slice(5, 8), TANK_ACTIONS.slice(8)];
    await open(`#control-run/tank-s3/${k}`, 'tank-s3', k);
    const ref = tankRec.frames[k]!;
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height), ref)).toBe(0);
    expect(await page.textContent('#ov-action')).toBe(row.map((v, i) => parts[i]![v]).join(', '));
    expect(await page.locator('#ov-act .act-part .name').allTextContents()).toEqual(['move', 'turret', 'fire']);
    expect(await page.locator('#ov-act .act-part .label').allTextContents()).toEqual(row.map((v, i) => parts[i]![v]!.split(':')[1]));
    expect(await page.textContent('#ov-bars-title')).toBe('action probabilities');
    expect(await page.locator('#ov-bars .bar').count()).toBe(10);
    expect(await page.locator('#ov-bars .bar.chosen .name').allTextContents()).toEqual(row.map((v, i) => parts[i]![v]));
    expect(await page.textContent('#ov-value')).toBe('0.500');
  });

  it('a corrupt file shows a readable error and the rest keeps working', async () => {
    await page.evaluate(() => {
      location.hash = '#catch-run/corrupt/0';
    });
    await page.waitForSelector('#error:not([hidden])');
    const message = await page.textContent('#error');
    expect(message).toMatch(/Could not open episode "corrupt" of run "catch-run"/);
    expect(message).toMatch(/\[readEpisode corrupt\.npcep\] expected .*; fix: /);
    await open('#catch-run/catch-s2/4', 'catch-s2', 4);
    expect(await page.isHidden('#error')).toBe(true);
    const ref = catchRec2.frames.get(4)!;
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height), ref)).toBe(0);
    expect(await page.textContent('#ov-action')).toBe(catchRec2.actionNames[catchRec2.actions[4]!]);
    expect(await page.textContent('#ov-bars-title')).toBe('Q-values');
  });

  it('refuses an episode over the size limit before downloading it, and streams a 65 MiB metrics.jsonl whose last line never ends', async () => {
    await page.evaluate(() => {
      location.hash = '#big-run/huge/0';
    });
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(/Could not open episode "huge" of run "big-run": the episode file is larger than the viewer reads \(268435456 bytes\)/);
    await expect.poll(() => page.textContent('#curve-note'), { timeout: 60_000 }).toMatch(/: 30 points, 1 unreadable line skipped$/);
    // Another step than the previous test left in the address (the page keeps it there), so the hash changes.
    await open('#catch-run/catch-s2/3', 'catch-s2', 3);
    expect(await page.isHidden('#error')).toBe(true);
    await expect.poll(() => page.textContent('#curve-note')).toMatch(/30 points, 1 unreadable line skipped/);
  });

  it('plots the learning curve of metrics.jsonl with a choice of fields', async () => {
    await expect.poll(() => page.locator('#metric option').allTextContents()).toEqual(['episodes', 'mean_return', 'eval_return', 'loss']);
    expect(await page.inputValue('#metric')).toBe('eval_return');
    const points = await page.getAttribute('#curve-svg polyline', 'points');
    expect(points!.trim().split(' ')).toHaveLength(30);
    expect(await page.textContent('#curve-note')).toMatch(/30 points, 1 unreadable line skipped/);
    await page.selectOption('#metric', 'loss');
    expect(await page.textContent('#curve-note')).toMatch(/^loss vs step/);
  });

  it('seeks anywhere in a 10,000-step episode (frames checked; timing logged)', async () => {
    await open('#grid-run/long/0', 'long', 0);
    for (const k of GRID_CHECKS) {
      await page.evaluate((k) => (window as any).npcforgeViewer.seek(k), k);
      const ref = gridRec.frames.get(k)!;
      expect(differingPixels(await canvasFrame(page, ref.width, ref.height), ref)).toBe(0);
    }
    await timeSeeks('10,000-step 80x80 grid episode', GRID_STEPS);
    await open('#cartpole-run/long-pixels/0', 'long-pixels', 0);
    for (const k of PIXEL_CHECKS) {
      await page.evaluate((k) => (window as any).npcforgeViewer.seek(k), k);
      const ref = pixelFrames.get(k)!;
      expect(differingPixels(await canvasFrame(page, ref.width, ref.height), ref)).toBe(0);
    }
    await timeSeeks('2,000-step 150x100 CartPole episode (full-resolution frames, K = 32)', PIXEL_STEPS);
    const shot = process.env.NPCFORGE_VIEWER_SCREENSHOT;
    if (shot) {
      await open('#catch-run/catch-s1/5', 'catch-s1', 5);
      await page.screenshot({ path: shot });
    }
  });

  async function timeSeeks(label: string, steps: number): Promise<void> {
    const { out: times, parts } = await page.evaluate((n) => {
      const v = (window as any).npcforgeViewer;
      let x = 12345;
      const out: number[] = [];
      const parts: Array<[number, number]> = [];
      for (let i = 0; i < 200; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const k = x % (n + 1);
        const t0 = performance.now();
        v.seek(k);
        // gl.finish waits for the (software) GPU, so the figure includes the draw.
        v.finish();
        out.push(performance.now() - t0);
        const ls = v.status().lastSeek;
        parts.push([ls.decodeMs, ls.drawMs]);
      }
      return { out, parts };
    }, steps);
    const sorted = [...times].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
    console.log(`[viewer seek] ${label}: decode median ${med(parts.map((p) => p[0])).toFixed(2)} ms, texture+render median ${med(parts.map((p) => p[1])).toFixed(2)} ms`);
    console.log(`[viewer seek] ${label}, 200 random seeks incl. decode, texture upload, render and gl.finish: median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms`);
    expect(times).toHaveLength(200);
  }

  it('raised no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
