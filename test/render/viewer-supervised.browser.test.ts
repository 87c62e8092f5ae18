/**
 * Browser test (real Chromium) of the supervised run page: runs made in the test by the real
 * `npcforge fit` and `npcforge evaluate` (a tiny image set and a tiny text set), listed as
 * supervised, each page showing evaluation.json's confusion matrix, per-class table and
 * misclassified examples (images drawn from their inline pixels, texts quoted).
 */
import sharp from 'sharp';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../bench/browser-page.js';
import { startViewerServer, type ViewerServer } from '../../src/render/server.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcview-sup-'));
const runs = join(tmp, 'runs');
let server: ViewerServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

interface Evaluation {
  classes: string[];
  confusion: number[][];
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  misclassified: Array<{ true: string; predicted: string; file?: string; text?: string; image?: { width: number; height: number; channels: number; pixels: string } }>;
}
const evaluation = (run: string): Evaluation => JSON.parse(readFileSync(join(runs, run, 'evaluation.json'), 'utf8')) as Evaluation;

/** A 4x4 grey image of one value. */
const grey = (path: string, value: number): Promise<unknown> => sharp(Buffer.alloc(16, value), { raw: { width: 4, height: 4, channels: 1 } }).png().toFile(path);

async function cli(argv: string[]): Promise<void> {
  const r = await runCli(argv);
  expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(0);
}

async function openRun(run: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, `#${run}`);
  await page.waitForFunction((run) => {
    const s = (window as any).npcforgeViewer.supervised();
    return s && s.run === run;
  }, run);
}

beforeAll(async () => {
  // Images: dark and bright. The test split holds each look under both labels, so any model makes
  // mistakes there (the same pixels get the same prediction): misclassified examples are certain.
  const img = join(tmp, 'images');
  for (const [c, value] of [['dark', 20], ['bright', 230]] as const) {
    mkdirSync(join(img, 'train', c), { recursive: true });
    mkdirSync(join(img, 'test', c), { recursive: true });
    for (let i = 0; i < 4; i++) await grey(join(img, 'train', c, `${i}.png`), value + i);
    await grey(join(img, 'test', c, 'a.png'), value);
    await grey(join(img, 'test', c, 'b.png'), 250 - value);
  }
  const txt = join(tmp, 'texts');
  const sentences = { good: ['a great fun film', 'great acting and fun', 'loved it great', 'fun and great'], bad: ['a dull boring film', 'boring and dull', 'hated it dull', 'dull and boring'] };
  for (const [c, list] of Object.entries(sentences)) {
    mkdirSync(join(txt, 'train', c), { recursive: true });
    mkdirSync(join(txt, 'test', c), { recursive: true });
    list.forEach((s, i) => writeFileSync(join(txt, 'train', c, `${i}.txt`), s));
    writeFileSync(join(txt, 'test', c, 'a.txt'), 'great fun');
    writeFileSync(join(txt, 'test', c, 'b.txt'), 'dull "boring" <b>film</b>');
  }
  await cli(['fit', 'image', '--data', img, '--epochs', '2', '--batch-size', '2', '--val', '0.25', '--out', join(runs, 'img-run')]);
  await cli(['evaluate', join(runs, 'img-run')]);
  await cli(['fit', 'text', '--data', txt, '--epochs', '2', '--batch-size', '2', '--val', '0.25', '--out', join(runs, 'txt-run')]);
  await cli(['evaluate', join(runs, 'txt-run')]);
  // A copy whose evaluation.json is half-written, and a fit run not evaluated yet.
  cpSync(join(runs, 'img-run'), join(runs, 'img-half'), { recursive: true });
  const ev = readFileSync(join(runs, 'img-run', 'evaluation.json'));
  writeFileSync(join(runs, 'img-half', 'evaluation.json'), ev.subarray(0, ev.length >> 1));
  cpSync(join(runs, 'img-run'), join(runs, 'img-noeval'), { recursive: true });
  rmSync(join(runs, 'img-noeval', 'evaluation.json'));
  // An RL run next to them.
  mkdirSync(join(runs, 'rl-run'));
  writeFileSync(join(runs, 'rl-run', 'metrics.jsonl'), '{"step":1000,"mean_return":0.5}\n{"step":2000,"mean_return":0.7}\n');
  const assets = join(tmp, 'assets');
  const { bundle } = (await import(join(ROOT, 'scripts', 'bundle-viewer.mjs'))) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
  await bundle(ROOT, { outDir: assets });
  server = await startViewerServer({ root: runs, assetsDir: assets, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  await page.evaluate(() => (window as any).npcforgeViewer.ready);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('supervised run page', () => {
  it('lists fit runs as supervised, RL runs as before', async () => {
    expect(await page.locator('#runs li a').allTextContents()).toEqual(['img-half', 'img-noeval', 'img-run', 'rl-run', 'txt-run']);
    expect(await page.locator('#runs li.supervised a').allTextContents()).toEqual(['img-half', 'img-noeval', 'img-run', 'txt-run']);
    expect(await page.locator('#runs li .meta').nth(3).textContent()).toBe('0 episodes, metrics');
    expect(await page.locator('#runs li .meta').nth(2).textContent()).toBe('finished supervised (fit), metrics');
  });

  it('an image run: curves per epoch, the confusion matrix of evaluation.json with class names on both axes, per-class metrics, misclassified images', async () => {
    await openRun('img-run');
    const ev = evaluation('img-run');
    expect((await page.evaluate(() => (window as any).npcforgeViewer.page())).view).toBe('supervised');
    expect(await page.isHidden('#rl-view')).toBe(true);
    const st = await page.evaluate(() => (window as any).npcforgeViewer.supervised());
    expect(st.classes).toEqual(ev.classes);
    expect(st.confusion).toEqual(ev.confusion);
    expect(st.mode).toBe('counts');
    // The cells as drawn: counts, rows = true class, columns = predicted class.
    expect(await page.locator('#confusion th.pred').allTextContents()).toEqual(ev.classes);
    expect(await page.locator('#confusion th.true').allTextContents()).toEqual(ev.classes);
    expect((await page.locator('#confusion td.cell').allTextContents()).map(Number)).toEqual(ev.confusion.flat());
    // Row-normalised: each row's cells are its fractions.
    await page.click('.sup-modes button[data-mode="normalised"]');
    const texts = await page.locator('#confusion td.cell').allTextContents();
    const k = ev.classes.length;
    ev.confusion.forEach((row, t) => {
      const total = row.reduce((a, b) => a + b, 0);
      row.forEach((n, p) => expect(texts[t * k + p]).toBe(`${((n / total) * 100).toFixed(1)}%`));
    });
    expect((await page.evaluate(() => (window as any).npcforgeViewer.supervised())).mode).toBe('normalised');
    // Per-class table.
    const rows = await page.locator('#per-class tr').evaluateAll((trs) => trs.slice(1).map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    expect(rows).toEqual(ev.classes.map((c) => [c, ev.per_class[c]!.precision.toFixed(3), ev.per_class[c]!.recall.toFixed(3), ev.per_class[c]!.f1.toFixed(3), String(ev.per_class[c]!.support)]));
    // Train and validation curves of loss and accuracy.
    expect(await page.locator('.sup-chart figcaption').allTextContents()).toEqual(['loss', 'accuracy']);
    expect(await page.locator('.sup-chart polyline[data-series="train"]').count()).toBe(2);
    expect(await page.locator('.sup-chart polyline[data-series="validation"]').count()).toBe(2);
    expect((await page.getAttribute('.sup-chart polyline[data-series="train"]', 'points'))!.split(' ')).toHaveLength(2);
    // Misclassified: every off-diagonal sample (4 test images, at least 2 wrong), each image drawn from its pixels.
    const wrong = ev.confusion.flatMap((row, t) => row.filter((_, p) => p !== t)).reduce((a, b) => a + b, 0);
    expect(wrong).toBeGreaterThanOrEqual(2);
    expect(ev.misclassified).toHaveLength(wrong);
    expect(await page.locator('#misclassified canvas').count()).toBe(wrong);
    const first = ev.misclassified[0]!;
    // The test images are uniform: the inline pixels are that one value (as the model saw it).
    const value = { 'dark/a.png': 20, 'dark/b.png': 230, 'bright/a.png': 230, 'bright/b.png': 20 }[first.file!]!;
    const { width, height, channels } = first.image!;
    // The run's image format (28 x 28 grey by default): the 4 x 4 files resized, as the model saw them.
    expect([width, height, channels]).toEqual([28, 28, 1]);
    expect([...Buffer.from(first.image!.pixels, 'base64')]).toEqual(new Array(width * height).fill(value));
    const drawn = await page.locator('#misclassified canvas').first().evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
    expect(drawn).toEqual(Array.from({ length: width * height }, () => [value, value, value, 255]).flat());
    expect(await page.locator('#misclassified figcaption .sup-true').first().textContent()).toBe(first.true);
    expect(await page.locator('#misclassified figcaption .sup-pred').first().textContent()).toBe(first.predicted);
    // NPCFORGE_SUPERVISED_SCREENSHOT=<file.png> writes a screenshot of this fixture.
    const shot = process.env.NPCFORGE_SUPERVISED_SCREENSHOT;
    if (shot) {
      await page.click('.sup-modes button[data-mode="counts"]');
      await page.screenshot({ path: shot, fullPage: true });
    }
  });

  it('a text run: the misclassified texts quoted as written', async () => {
    await openRun('txt-run');
    const ev = evaluation('txt-run');
    const st = await page.evaluate(() => (window as any).npcforgeViewer.supervised());
    expect(st.confusion).toEqual(ev.confusion);
    expect((await page.locator('#confusion td.cell').allTextContents()).map(Number)).toEqual(ev.confusion.flat());
    expect(ev.misclassified.length).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#misclassified blockquote').allTextContents()).toEqual(ev.misclassified.map((m) => m.text));
    expect(await page.locator('#misclassified canvas').count()).toBe(0);
  });

  it('a half-written evaluation.json: the curves still show, with one line saying what is wrong', async () => {
    await openRun('img-half');
    const st = await page.evaluate(() => (window as any).npcforgeViewer.supervised());
    expect(st.confusion).toBeNull();
    expect(st.problems).toEqual([expect.stringMatching(/^evaluation\.json: not valid JSON \(\d+ bytes; half-written\?\)$/)]);
    expect(await page.locator('.sup-problem').allTextContents()).toEqual(st.problems);
    expect(await page.locator('.sup-chart').count()).toBe(2);
    await openRun('img-noeval');
    expect(await page.textContent('.sup-note')).toMatch(/^No evaluation yet: run `npcforge evaluate <run>`/);
  });

  it('back to an RL run: the player and its curve again', async () => {
    await page.evaluate(() => {
      location.hash = '#rl-run';
    });
    await page.waitForFunction(() => (window as any).npcforgeViewer.page().view === 'player');
    expect(await page.isHidden('#supervised')).toBe(true);
    expect(await page.isVisible('#curve')).toBe(true);
    await expect.poll(() => page.textContent('#curve-note')).toMatch(/2 points/);
  });

  it('raised no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
