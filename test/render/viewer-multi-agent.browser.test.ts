/**
 * Browser tests of multi-agent episodes in the replay viewer (real Chromium, playwright-core,
 * against the real server): a two-agent pong episode and a tag episode show one panel per agent
 * (name, controller, action, reward, return, value, bars), the frames play as in single-agent
 * episodes, stepping changes the bars; a self-play run's `elo` (present only where it was
 * measured) plots. No console errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '../../bench/browser-page.js';
import '../../games/index.js';
import { makeMultiAgent } from '../../src/envs/multi/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import type { RgbFrame } from '../../src/envs/env.js';
import { RecordEpisode, RecordMultiAgentEpisode } from '../../src/replay/episodes/index.js';
import { make } from '../../src/envs/registry.js';
import { startViewerServer, type ViewerServer } from '../../src/render/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcview-ma-'));
const runs = join(tmp, 'runs');
let server: ViewerServer;
let browser: Browser;
let page: Page;
let errors: string[] = [];

interface Rec {
  frames: RgbFrame[];
  actions: Array<Record<string, number>>;
  rewards: Array<Record<string, number>>;
  names: Record<string, string[]>;
}

/**
 * Records one episode of `game` with random moves; agents in `probs` get action probabilities
 * and a value that change every step, agents in `q` Q-values.
 */
function record(game: string, seed: number, o: { options?: Record<string, unknown>; probs?: string[]; q?: string[]; learner: string; controllers: Record<string, string> }): Rec {
  const env = makeMultiAgent<Uint8Array, number>(game, o.options ?? {});
  const rec = new RecordMultiAgentEpisode(env, { dir: join(runs, 'selfplay-run', 'episodes'), name: () => `${game}-s${seed}`, learner: o.learner, controllers: o.controllers });
  const rng = new SeededRng(seed);
  const out: Rec = { frames: [], actions: [], rewards: [], names: env.spec.actionNames };
  rec.reset({ seed });
  out.frames.push(env.render!());
  for (let t = 0; rec.agents.length > 0; t++) {
    const actions = Object.fromEntries(rec.agents.map((a) => [a, rng.int(0, env.spec.actionNames[a]!.length)]));
    for (const a of o.probs ?? []) {
      const n = env.spec.actionNames[a]!.length;
      const raw = Array.from({ length: n }, (_, i) => 1 + ((t + i * 3) % 7));
      const sum = raw.reduce((x, y) => x + y, 0);
      rec.annotateNext(a, { probs: raw.map((x) => x / sum), value: Math.sin(t / 5) });
    }
    for (const a of o.q ?? []) rec.annotateNext(a, { q: Array.from({ length: env.spec.actionNames[a]!.length }, (_, i) => Math.cos(t / 4 + i)) });
    const r = rec.step(actions);
    out.actions.push(actions);
    out.rewards.push(r.rewards);
    out.frames.push(env.render!());
  }
  rec.close();
  return out;
}

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
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
        const i = ((y * s + (s >> 1)) * c.width + x * s + (s >> 1)) * 4;
        out.push(img[i]!, img[i + 1]!, img[i + 2]!);
      }
      return out;
    },
    { width, height },
  );
  return { width, height, data: Uint8Array.from(values) };
}

const same = (a: RgbFrame, b: RgbFrame): boolean => Buffer.from(a.data).equals(Buffer.from(b.data));

async function open(hash: string, episode: string, step: number): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForFunction(({ episode, step }) => {
    const s = (window as any).npcforgeViewer?.status();
    return s && s.episode === episode && s.step === step;
  }, { episode, step });
}

/** What the agent panels show: per panel its name, controller, action, reward, return, value and bar numbers. */
async function panels(): Promise<Array<{ name: string; controller: string; rows: Record<string, string>; bars: string[]; chosen: string[]; title: string }>> {
  return page.$$eval('#ov-agents .agent-panel', (els) =>
    els.map((p) => ({
      name: p.querySelector('.agent-name')!.textContent!,
      controller: p.querySelector('.agent-controller')!.textContent!,
      rows: Object.fromEntries(Array.from(p.querySelectorAll('.row')).map((r) => [r.querySelector('.label')!.textContent!, r.querySelector('.value')!.textContent!])),
      bars: Array.from(p.querySelectorAll('.bar .num')).map((n) => n.textContent!),
      chosen: Array.from(p.querySelectorAll('.bar.chosen .name')).map((n) => n.textContent!),
      title: p.querySelector('.bars-title')!.textContent!,
    })),
  );
}

let pong: Rec;
let tag: Rec;
const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(3));

beforeAll(async () => {
  const assets = join(tmp, 'assets');
  const { bundle } = (await import(join(ROOT, 'scripts', 'bundle-viewer.mjs'))) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
  await bundle(ROOT, { outDir: assets });
  pong = record('pong', 3, { options: { maxSteps: 120 }, probs: ['right'], q: ['left'], learner: 'right', controllers: { right: 'runs/pong-sp:40000', left: 'runs/pong-sp:20000' } });
  tag = record('tag', 4, { options: { maxSteps: 40 }, probs: ['evader'], q: ['chaser_0'], learner: 'evader', controllers: { chaser_0: 'runs/tag-sp:4000', chaser_1: 'random', evader: 'runs/tag-sp:8000' } });
  const tagFile = readFileSync(join(runs, 'selfplay-run', 'episodes', 'tag-s4.npcep'));
  writeFileSync(join(runs, 'selfplay-run', 'episodes', 'tag-cut.npcep'), tagFile.subarray(0, Math.floor(tagFile.length * 0.6)));
  // A self-play run's metrics: `elo` only on the lines where it was measured (after the first rated episode).
  const lines = Array.from({ length: 12 }, (_, i) => ({ step: (i + 1) * 1000, mean_return: i / 10, opponent: 'latest', pool_size: 1 + (i >> 2), ...(i >= 3 && i % 2 === 1 ? { elo: 1200 + 10 * i } : {}) }));
  writeFileSync(join(runs, 'selfplay-run', 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  // A single-agent episode in the same run (pong vs the bot is one in a real self-play run).
  const single = new RecordEpisode(make<unknown, number>('catch'), { dir: join(runs, 'selfplay-run', 'episodes'), name: () => 'catch-s1' });
  single.reset({ seed: 1 });
  for (let t = 0; ; t++) {
    single.annotateNext({ q: [t, 1, 2] });
    if (single.step(t % 3).terminated) break;
  }
  single.close();
  server = await startViewerServer({ root: runs, assetsDir: assets, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  errors = collectPageErrors(page);
  await page.goto(server.url + '#selfplay-run/pong-s3/0');
  await page.waitForFunction(() => (window as any).npcforgeViewer?.status()?.episode === 'pong-s3');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('multi-agent episodes in the viewer (Chromium)', () => {
  it('pong, both paddles agents: one panel per agent with its controller, action, Q-value or probability bars; the frame drawn', async () => {
    const k = 7;
    await open(`#selfplay-run/pong-s3/${k}`, 'pong-s3', k);
    expect(await page.textContent('#title')).toMatch(/pong \(2 agents\), seed 3, \d+ steps, returns right -?\d+, left -?\d+/);
    expect(await page.isHidden('#ov-single')).toBe(true);
    expect(await page.isHidden('#ov-single-bars')).toBe(true);
    const p = await panels();
    expect(p.map((x) => [x.name, x.controller])).toEqual([
      ['right', 'runs/pong-sp:40000 (learner)'],
      ['left', 'runs/pong-sp:20000'],
    ]);
    expect(p[0]!.title).toBe('action probabilities');
    expect(p[1]!.title).toBe('Q-values');
    expect(p.map((x) => x.bars.length)).toEqual([3, 3]);
    expect(p[0]!.chosen).toEqual([pong.names.right![pong.actions[k]!.right!]]);
    expect(p[1]!.chosen).toEqual([pong.names.left![pong.actions[k]!.left!]]);
    expect(p[0]!.rows.action).toBe(pong.names.right![pong.actions[k]!.right!]);
    expect(p[0]!.rows.value).toBe(Math.sin(k / 5).toFixed(3));
    expect(p[1]!.rows.value).toBe('-');
    const ref = pong.frames[k]!;
    expect(same(await canvasFrame(page, ref.width, ref.height), ref)).toBe(true);
  });

  it('tag: three panels, the annotated agents with bars; stepping changes the bars, actions, rewards and the frame', async () => {
    const k = 5;
    await open(`#selfplay-run/tag-s4/${k}`, 'tag-s4', k);
    const before = await panels();
    expect(before.map((x) => x.name)).toEqual(['chaser_0', 'chaser_1', 'evader']);
    expect(before.map((x) => x.controller)).toEqual(['runs/tag-sp:4000', 'random', 'runs/tag-sp:8000 (learner)']);
    expect(before.map((x) => x.bars.length)).toEqual([5, 0, 5]);
    expect(before.map((x) => x.title)).toEqual(['Q-values', '', 'action probabilities']);
    for (const [i, a] of ['chaser_0', 'chaser_1', 'evader'].entries()) {
      expect(before[i]!.rows.action).toBe(tag.names[a]![tag.actions[k]![a]!]);
      expect(before[i]!.rows.reward).toBe(fmt(tag.rewards[k - 1]![a]!));
      expect(before[i]!.rows.return).toBe(fmt(tag.rewards.slice(0, k).reduce((s, r) => s + r[a]!, 0)));
    }
    await page.locator('body').click({ position: { x: 5, y: 990 } });
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => (window as any).npcforgeViewer.status().step === 6);
    const after = await panels();
    expect(after[0]!.bars).not.toEqual(before[0]!.bars);
    expect(after[2]!.bars).not.toEqual(before[2]!.bars);
    expect(after[0]!.chosen).toEqual([tag.names.chaser_0![tag.actions[6]!.chaser_0!]]);
    expect(after[2]!.rows.value).toBe(Math.sin(6 / 5).toFixed(3));
    expect(after[2]!.chosen).toEqual([tag.names.evader![tag.actions[6]!.evader!]]);
    const ref = tag.frames[6]!;
    expect(same(await canvasFrame(page, ref.width, ref.height), ref)).toBe(true);
    // The last frame: no agent acts any more.
    await page.evaluate(() => (window as any).npcforgeViewer.seek(1e9));
    const end = await panels();
    expect(end.map((x) => x.rows.action)).toEqual(['(episode over)', '(episode over)', '(episode over)']);
    const last = tag.actions.length - 1;
    const caught = tag.rewards[last]!.evader === -1;
    expect(end.map((x) => x.rows.status)).toEqual(new Array(3).fill(caught ? 'terminated' : 'truncated'));
    expect(before.map((x) => x.rows.status)).toEqual(['running', 'running', 'running']);
    expect(end.map((x) => x.bars.length)).toEqual([0, 0, 0]);
    expect(await page.textContent('#ov-status')).toMatch(/^(terminated|truncated)$/);
  });

  it('plays a multi-agent episode like any other: play runs through the frames', async () => {
    await open('#selfplay-run/tag-s4/0', 'tag-s4', 0);
    await page.evaluate(() => (document.querySelector('#btn-play') as HTMLButtonElement).click());
    await page.waitForFunction(() => (window as any).npcforgeViewer.status().step >= 4);
    await page.evaluate(() => (document.querySelector('#btn-play') as HTMLButtonElement).click());
    const k = (await page.evaluate(() => (window as any).npcforgeViewer.status().step)) as number;
    const ref = tag.frames[k]!;
    expect(same(await canvasFrame(page, ref.width, ref.height), ref)).toBe(true);
    expect((await panels())[2]!.bars).toHaveLength(k < tag.actions.length ? 5 : 0);
  });

  it('a single-agent episode after a multi-agent one shows the single-agent overlay again', async () => {
    await open('#selfplay-run/tag-s4/3', 'tag-s4', 3);
    expect(await page.isVisible('#ov-agents')).toBe(true);
    await open('#selfplay-run/catch-s1/2', 'catch-s1', 2);
    expect(await page.isHidden('#ov-agents')).toBe(true);
    expect(await page.isVisible('#ov-single')).toBe(true);
    expect(await page.textContent('#ov-bars-title')).toBe('Q-values');
    expect(await page.locator('#ov-bars .bar').count()).toBe(3);
  });

  it('plots elo of a self-play run at the steps where it was measured', async () => {
    await expect.poll(() => page.locator('#metric option').allTextContents()).toContain('elo');
    await page.selectOption('#metric', 'elo');
    const points = (await page.getAttribute('#curve-svg polyline', 'points'))!.trim().split(' ');
    // Lines 4, 6, 8, 10 and 12 have it: 5 points at steps 4000 ... 12000, no values carried in between.
    expect(points).toHaveLength(5);
    expect(await page.textContent('#curve-note')).toMatch(/^elo vs step: 5 points/);
  });

  it('a truncated multi-agent file shows one readable error, and the next episode clears it', async () => {
    await page.evaluate(() => {
      location.hash = '#selfplay-run/tag-cut/0';
    });
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(/^Could not open episode "tag-cut" of run "selfplay-run": \[readEpisode tag-cut\.npcep\] expected .*; fix: /);
    expect(await page.locator('#ov-agents .agent-panel').count()).toBe(0);
    await open('#selfplay-run/tag-s4/2', 'tag-s4', 2);
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.locator('#ov-agents .agent-panel').count()).toBe(3);
  });

  it('raised no console errors', () => {
    expect(errors).toEqual([]);
  });
});
