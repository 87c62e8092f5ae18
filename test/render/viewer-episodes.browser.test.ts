/**
 * Browser tests (real Chromium) of what `npcforge view` shows besides a runs folder: a folder
 * written by `npcforge record --out <dir>` (the real commands: a tiny `train`, then `record`, then
 * `view <dir>` as a child process), a single `.npcep` file, switching between a broken and a good
 * episode (canvas pixels checked both ways), and the empty state of an empty runs folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../bench/browser-page.js';
import { readEpisodeFile } from '../../src/replay/episodes/index.js';
import { compareEpisodeNames } from '../../src/render/server.js';
import type { RgbFrame } from '../../src/envs/env.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcview-eps-'));
const recorded = join(tmp, 'recorded');
const children: ChildProcess[] = [];
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Starts the real `npcforge view <path> --port 0` and resolves with the URL it prints. */
function view(path: string): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'view', path, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((ok, no) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => no(new Error(`npcforge view exited with ${code}: ${err}`)));
  });
}

/** The game on the page's canvas, sampled at the centre of every scaled source pixel. */
async function canvasFrame(p: Page, width: number, height: number, scale: number): Promise<RgbFrame> {
  const values = await p.evaluate(
    ({ width, height, s }) => {
      const c = document.querySelector('#stage canvas') as HTMLCanvasElement;
      const off = document.createElement('canvas');
      off.width = c.width;
      off.height = c.height;
      const ctx = off.getContext('2d')!;
      ctx.drawImage(c, 0, 0);
      const img = ctx.getImageData(0, 0, c.width, c.height).data;
      const out: number[] = [];
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
        const i = ((y * s + (s >> 1)) * c.width + x * s + (s >> 1)) * 4;
        out.push(img[i]!, img[i + 1]!, img[i + 2]!);
      }
      return out;
    },
    { width, height, s: scale },
  );
  return { width, height, data: Uint8Array.from(values) };
}

function differingPixels(a: RgbFrame, b: RgbFrame): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 3) if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) n++;
  return n;
}

const status = (): Promise<{ episode: string; step: number; scale: number } | null> => page.evaluate(() => (window as any).npcforgeViewer.status());
const pageState = (): Promise<{ view: string; run: string; error: string | null }> => page.evaluate(() => (window as any).npcforgeViewer.page());

async function openHash(hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

let episodes: string[];
/** `npcforge view <recorded>`, started once. */
let folderUrl: string;

beforeAll(async () => {
  // A run made by the real CLI (a few hundred steps: what matters is that it is a run record can play).
  const cfg = join(tmp, 'tiny.json');
  writeFileSync(cfg, JSON.stringify({ learningStarts: 40, batchSize: 8, evalEvery: 100, evalEpisodes: 1, logEvery: 100, checkpointEvery: 100 }));
  const train = await runCli(['train', 'catch', '--steps', '200', '--config', cfg, '--out', join(tmp, 'runs'), '--no-progress']);
  expect(train.code, train.err).toBe(0);
  const run = join(tmp, 'runs', readdirSync(join(tmp, 'runs'))[0]!);
  const rec = await runCli(['record', 'catch', '--policy', run, '--episodes', '3', '--seed', '8', '--out', recorded]);
  expect(rec.code, rec.err).toBe(0);
  episodes = readdirSync(recorded).filter((f) => f.endsWith('.npcep')).map((f) => f.slice(0, -'.npcep'.length));
  expect(episodes).toHaveLength(3);
  // A broken file among them: a good one without its last bytes (the end record).
  const good = readFileSync(join(recorded, `${episodes[0]}.npcep`));
  writeFileSync(join(recorded, 'broken.npcep'), good.subarray(0, good.length - 20));
  folderUrl = await view(recorded);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

describe('npcforge view <folder of .npcep files>', () => {
  it('lists a folder written by `record --out <dir>` as one run: episodes by step then index, return and length from each file', async () => {
    await page.goto(folderUrl);
    await page.evaluate(() => (window as any).npcforgeViewer.ready);
    expect(await page.locator('#runs li a').allTextContents()).toEqual(['recorded']);
    const names = [...episodes, 'broken'].sort(compareEpisodeNames);
    // No learning-curve panel for a folder of episodes (it has no metrics).
    await page.waitForSelector('#curve', { state: 'hidden' });
    await expect.poll(() => page.locator('#episodes li a').allTextContents()).toEqual(names);
    const metas = await page.locator('#episodes li .meta').allTextContents();
    for (const [i, n] of names.entries()) {
      if (n === 'broken') {
        expect(metas[i]).toBe('unreadable: no end record (the recording did not finish or the file was cut)');
        continue;
      }
      const ep = readEpisodeFile(join(recorded, `${n}.npcep`));
      expect(metas[i]).toMatch(new RegExp(`^${ep.stepCount} steps, return ${ep.returns[ep.stepCount]}(, truncated)? · `));
    }
    // NPCFORGE_EPISODES_SCREENSHOT=<file.png> writes a screenshot of this fixture.
    const shot = process.env.NPCFORGE_EPISODES_SCREENSHOT;
    if (shot) {
      await openHash(`#recorded/${names.find((n) => n !== 'broken')}/5`);
      await page.waitForFunction(() => (window as any).npcforgeViewer.status()?.step === 5);
      await page.screenshot({ path: shot });
    }
  });

  it('switching good -> broken clears the frame; broken -> good clears the error and draws the good frame', async () => {
    const good = episodes[1]!;
    const ep = readEpisodeFile(join(recorded, `${good}.npcep`));
    const k = Math.min(3, ep.stepCount);
    await page.goto(`${folderUrl}#recorded/${good}/${k}`);
    await page.waitForFunction(({ good, k }) => {
      const s = (window as any).npcforgeViewer.status();
      return s && s.episode === good && s.step === k;
    }, { good, k });
    const scale = (await status())!.scale;
    const ref = ep.frame(k);
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height, scale), ref)).toBe(0);
    // A frame of catch is never all black (the paddle is always drawn), so "all black" means cleared.
    const black: RgbFrame = { width: ref.width, height: ref.height, data: new Uint8Array(ref.data.length) };
    expect(differingPixels(ref, black)).toBeGreaterThan(0);

    await openHash('#recorded/broken/0');
    await page.waitForFunction(() => (window as any).npcforgeViewer.page().error !== null);
    expect((await pageState()).error).toMatch(/^Could not open episode "broken" of run "recorded": \[readEpisode broken\.npcep\] expected /);
    expect(await status()).toBeNull();
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height, scale), black)).toBe(0);
    expect(await page.textContent('#ov-step')).toBe('-');
    expect(await page.textContent('#title')).toBe('recorded / broken');

    const k2 = Math.min(2, ep.stepCount);
    await openHash(`#recorded/${good}/${k2}`);
    await page.waitForFunction(({ good, k2 }) => {
      const s = (window as any).npcforgeViewer.status();
      return s && s.episode === good && s.step === k2;
    }, { good, k2 });
    expect((await pageState()).error).toBeNull();
    expect(await page.isHidden('#error')).toBe(true);
    const ref2 = ep.frame(k2);
    expect(differingPixels(await canvasFrame(page, ref2.width, ref2.height, scale), ref2)).toBe(0);
    expect(await page.textContent('#ov-step')).toBe(`${k2} / ${ep.frameCount - 1}`);
  });

  it('a single .npcep file opens straight into its episode, and nothing else is listed', async () => {
    const name = episodes[2]!;
    const url = await view(join(recorded, `${name}.npcep`));
    await page.goto(url);
    await page.waitForFunction((name) => (window as any).npcforgeViewer?.status()?.episode === name, name);
    expect(await page.locator('#runs li a').allTextContents()).toEqual([name]);
    expect(await page.locator('#episodes li a').allTextContents()).toEqual([name]);
    const ep = readEpisodeFile(join(recorded, `${name}.npcep`));
    const ref = ep.frame(0);
    expect(differingPixels(await canvasFrame(page, ref.width, ref.height, (await status())!.scale), ref)).toBe(0);
    expect(page.url()).toMatch(new RegExp(`#${name}/${name}/0$`));
  });
});

describe('an empty runs folder', () => {
  it('shows what to run instead of a bare page', async () => {
    const empty = join(tmp, 'empty-runs');
    mkdirSync(empty);
    const url = await view(empty);
    await page.goto(url);
    await page.evaluate(() => (window as any).npcforgeViewer.ready);
    expect((await pageState()).view).toBe('empty');
    expect(await page.isVisible('#empty')).toBe(true);
    expect(await page.isHidden('#rl-view')).toBe(true);
    const text = (await page.textContent('#empty'))!;
    expect(text).toContain('The folder "empty-runs" holds no runs yet.');
    expect(await page.locator('#empty code').allTextContents()).toEqual(['npx npcforge train catch', 'npx npcforge record catch --episodes 3 --out episodes/catch', 'npx npcforge view runs']);
    // A first run appears (a training just started): the page leaves the empty state by itself.
    mkdirSync(join(empty, 'first-run', 'episodes'), { recursive: true });
    writeFileSync(join(empty, 'first-run', 'episodes', `${episodes[0]}.npcep`), readFileSync(join(recorded, `${episodes[0]}.npcep`)));
    await page.waitForFunction(() => (window as any).npcforgeViewer?.page().view === 'player', undefined, { timeout: 30_000 });
    await expect.poll(() => page.locator('#runs li a').allTextContents()).toEqual(['first-run']);
    expect(await page.isHidden('#empty')).toBe(true);
  });

  it('raised no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
