/**
 * Browser tests of the viewer's saliency panel (issue 19): real Chromium against the real server.
 * A MinAtar Freeway CNN Q-policy with fixed weights (seeded initialisers) is exported as a bundle
 * into a run folder and plays an episode recorded with its observations; the page's maps for a
 * frame must equal the Node computation of the same code on the same observation within 1e-4.
 * Runs without a usable policy (none, an MLP, a corrupt bundle) or episodes without observations
 * must say so in the panel.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../bench/browser-page.js';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { basicPolicyFile, writePolicyBundle } from '../../src/export/export-policy.js';
import { buildQNetwork } from '../../src/networks/builders.js';
import { recordPolicyEpisode } from '../../src/replay/episodes/record-policy.js';
import { readEpisodeFile } from '../../src/replay/episodes/read-file.js';
import type { RecordedEpisode } from '../../src/replay/episodes/reader.js';
import { startViewerServer, type ViewerServer } from '../../src/render/server.js';
import type { SaliencyRequest, SaliencyState } from '../../src/render/app/saliency-host.js';
import { loadPolicy, loadValueModel } from '../../src/runtime/load-policy.js';
import type { Policy } from '../../src/runtime/policy.js';
import { computeSaliency, type SaliencyOptions, type SaliencyTarget } from '../../src/runtime/saliency.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Freeway: episodes end by the time limit only, so a fixed-weight policy plays all 40 steps.
const GAME = 'minatar/freeway';
const tmp = mkdtempSync(join(tmpdir(), 'npcview-sal-'));
const runs = join(tmp, 'runs');
let server: ViewerServer;
let browser: Browser;
let page: Page;
let policy: Policy;
/** An actor-critic bundle (logits + critic) of hand-made CNNs, and its critic. */
let pg: Policy;
let critic: tf.LayersModel;
let episode: RecordedEpisode;
const pageErrors: string[] = [];

/** Records one greedy episode of `policy` on Freeway into runs/<run>/episodes/<name>.npcep. */
async function record(run: string, name: string, observations: boolean, p: Policy): Promise<string> {
  const env = make<Uint8Array, number>(GAME, { maxEpisodeSteps: 40 });
  try {
    const f = await recordPolicyEpisode({ env, dir: join(runs, run, 'episodes'), name, seed: 3, observations, policy: async (obs) => ({ action: (await p.act(obs)).action as number }) });
    return f.path;
  } finally {
    env.close();
  }
}

async function saliency(request: SaliencyRequest): Promise<SaliencyState> {
  return page.evaluate((r) => (window as any).npcforgeViewer.saliency(r), request);
}

async function open(hash: string, episodeName: string, step: number): Promise<void> {
  const run = decodeURIComponent(hash.slice(1).split('/')[0]!);
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForFunction(({ run, episodeName, step }) => {
    const s = (window as any).npcforgeViewer?.status();
    return s && s.run === run && s.episode === episodeName && s.step === step;
  }, { run, episodeName, step });
}

/** The same map in Node: the same observation (read from the same file), the same code, the cpu backend. */
async function nodeMap(frame: number, target: SaliencyTarget, options: SaliencyOptions): Promise<Float32Array> {
  const map = await computeSaliency(policy, episode.observation(frame)!, target, options);
  return map.values;
}

function expectClose(page: number[], node: Float32Array): void {
  expect(page).toHaveLength(node.length);
  // A map worth comparing: normalised to a peak of 1, with cells that differ.
  expect(Math.max(...page)).toBe(1);
  expect(new Set(page.map((v) => v.toFixed(3))).size).toBeGreaterThan(5);
  let worst = 0;
  page.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - node[i]!))));
  expect(worst).toBeLessThan(1e-4);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  const assets = join(tmp, 'assets');
  const { bundle } = (await import(join(ROOT, 'scripts', 'bundle-viewer.mjs'))) as { bundle: (root: string, o: { outDir: string }) => Promise<string> };
  await bundle(ROOT, { outDir: assets });
  const env = make<Uint8Array, number>(GAME);
  const shape = env.observationSpace.toJSON() as { shape: number[] };
  const actions = [...env.spec.actionNames];
  env.close();
  // A CNN Q-network with fixed (seeded) weights: the MinAtar encoder the DQN presets use.
  const model = buildQNetwork({ inputShape: shape.shape, numActions: actions.length, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 11 });
  const cnnDir = join(runs, 'cnn-run', 'policy');
  await writePolicyBundle(cnnDir, basicPolicyFile({ game: GAME, observation: { shape: shape.shape, dtype: 'uint8' }, actions }), model);
  model.dispose();
  policy = await loadPolicy(cnnDir);
  episode = readEpisodeFile(await record('cnn-run', 'greedy', true, policy));
  expect(episode.frameCount).toBe(41);
  // The same episode without observations; and in runs without a usable policy.
  await record('cnn-run', 'no-obs', false, policy);
  for (const run of ['mlp-run', 'bare-run', 'corrupt-run', 'pg-run', 'other-game-run']) {
    mkdirSync(join(runs, run, 'episodes'), { recursive: true });
    copyFileSync(join(runs, 'cnn-run', 'episodes', 'greedy.npcep'), join(runs, run, 'episodes', 'greedy.npcep'));
  }
  const flat = shape.shape.reduce((a, b) => a * b, 1);
  const mlp = tf.sequential({ layers: [tf.layers.dense({ inputShape: [flat], units: 16, activation: 'relu' }), tf.layers.dense({ units: actions.length })] });
  await writePolicyBundle(join(runs, 'mlp-run', 'policy'), basicPolicyFile({ game: GAME, observation: { shape: [flat], dtype: 'uint8' }, actions }), mlp);
  mlp.dispose();
  // An actor-critic bundle as `export` writes one for ppo: logits, and the critic as value.json.
  const actor = buildQNetwork({ inputShape: shape.shape, numActions: actions.length, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 21 });
  const value = buildQNetwork({ inputShape: shape.shape, numActions: 1, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 22 });
  const pgDir = join(runs, 'pg-run', 'policy');
  await writePolicyBundle(pgDir, { ...basicPolicyFile({ game: GAME, agent: 'ppo', output: 'logits', observation: { shape: shape.shape, dtype: 'uint8' }, actions }), valueModel: { topology: 'value.json' } }, actor, value);
  actor.dispose();
  value.dispose();
  pg = await loadPolicy(pgDir);
  critic = (await loadValueModel(pgDir, pg.file))!;
  const other = buildQNetwork({ inputShape: shape.shape, numActions: actions.length, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 23 });
  await writePolicyBundle(join(runs, 'other-game-run', 'policy'), basicPolicyFile({ game: 'minatar/asterix', observation: { shape: shape.shape, dtype: 'uint8' }, actions }), other);
  other.dispose();
  mkdirSync(join(runs, 'corrupt-run', 'policy'));
  writeFileSync(join(runs, 'corrupt-run', 'policy', 'policy.json'), '{"format": "npcforge-policy", "version": 2, \n TOP-SECRET');
  server = await startViewerServer({ root: runs, assetsDir: assets, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url + '#cnn-run/greedy/0');
  await page.waitForFunction(() => (window as any).npcforgeViewer?.status()?.episode === 'greedy');
}, 120_000);

afterAll(async () => {
  policy?.dispose();
  pg?.dispose();
  critic?.dispose();
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('saliency overlay in Chromium', () => {
  it('draws the gradient map of the action taken, equal to the Node computation within 1e-4', async () => {
    const frame = 7;
    await open('#cnn-run/greedy/7', 'greedy', frame);
    const s = await saliency({ enabled: true, method: 'gradient', output: 'action', opacity: 0.8 });
    expect(s.status, s.message).toBe('ready');
    expect(s.map!.frame).toBe(frame);
    expect(s.map!.action).toBe(episode.actions[frame]);
    expect([s.map!.rows, s.map!.cols, s.map!.stride]).toEqual([10, 10, 1]);
    expectClose(s.map!.values, await nodeMap(frame, { kind: 'action', action: episode.actions[frame]! }, { method: 'gradient' }));
    // The overlay is drawn over the frame: the most salient cell is tinted, at the frame's scale
    // (observation cell (r, c) covers frame pixels of the 8-pixel MinAtar cell (r, c)).
    const peak = s.map!.values.indexOf(1);
    const drawn = await page.evaluate((peak) => {
      const c = document.getElementById('saliency-canvas') as HTMLCanvasElement;
      const scale = (window as any).npcforgeViewer.status().scale as number;
      const cell = 8 * scale;
      const x = (peak % 10) * cell + cell / 2;
      const y = Math.floor(peak / 10) * cell + cell / 2;
      return { hidden: c.hidden, width: c.width, alpha: c.getContext('2d')!.getImageData(x, y, 1, 1).data[3]!, stage: (document.querySelector('#stage canvas') as HTMLCanvasElement).width };
    }, peak);
    expect(drawn.hidden).toBe(false);
    expect(drawn.width).toBe(drawn.stage);
    expect(drawn.alpha).toBeGreaterThanOrEqual(Math.floor(0.8 * 255) - 1);
    // Seeking recomputes for the new frame.
    await open('#cnn-run/greedy/8/saliency-gradient-action', 'greedy', 8);
    const next = await saliency({});
    expect(next.map!.frame).toBe(8);
    expectClose(next.map!.values, await nodeMap(8, { kind: 'action', action: episode.actions[8]! }, { method: 'gradient' }));
  });

  it('computes the Greydanus perturbation map on demand, for the action and for the value', async () => {
    await open('#cnn-run/greedy/5', 'greedy', 5);
    const idle = await saliency({ enabled: true, method: 'perturbation', output: 'action' });
    expect(idle.status).toBe('idle');
    expect(await page.locator('#sal-compute').isVisible()).toBe(true);
    const s = await saliency({ compute: true });
    expect(s.status, s.message).toBe('ready');
    expect(s.map!.rows * s.map!.cols).toBe(100);
    expectClose(s.map!.values, await nodeMap(5, { kind: 'action', action: episode.actions[5]! }, { method: 'perturbation' }));
    const v = await saliency({ output: 'value', compute: true });
    expect(v.map!.action).toBeNull();
    expectClose(v.map!.values, await nodeMap(5, { kind: 'value' }, { method: 'perturbation' }));
  });

  it('explains an actor-critic\'s logit and its critic\'s value (policy-gradient bundles)', async () => {
    await open('#pg-run/greedy/4', 'greedy', 4);
    const v = await saliency({ enabled: true, method: 'gradient', output: 'value' });
    expect(v.status, v.message).toBe('ready');
    expect(v.message).toMatch(/of the value \(critic\) at frame 4/);
    expectClose(v.map!.values, (await computeSaliency({ file: pg.file, model: pg.model, valueModel: critic }, episode.observation(4)!, { kind: 'value' }, { method: 'gradient' })).values);
    const a = await saliency({ output: 'action' });
    expect(a.message).toMatch(/of the logit of /);
    expectClose(a.map!.values, (await computeSaliency(pg, episode.observation(4)!, { kind: 'action', action: episode.actions[4]! }, { method: 'gradient' })).values);
  });

  it('opens from a deep link with saliency on', async () => {
    await page.goto(server.url + '#cnn-run/greedy/3/saliency-gradient-value');
    await page.waitForFunction(() => (window as any).npcforgeViewer?.status()?.step === 3);
    await expect.poll(async () => (await saliency({})).map?.frame, { timeout: 20_000 }).toBe(3);
    const s = await saliency({});
    expect([s.enabled, s.method, s.output]).toEqual([true, 'gradient', 'value']);
    expectClose(s.map!.values, await nodeMap(3, { kind: 'value' }, { method: 'gradient' }));
    expect(await page.evaluate(() => location.hash)).toBe('#cnn-run/greedy/3/saliency-gradient-value');
  });

  it('says why there is no map: no observations, no exported policy, an MLP policy, another game\'s policy, a corrupt bundle', async () => {
    const cases: Array<[string, RegExp]> = [
      ['#cnn-run/no-obs/2', /Episode no-obs stores no observations: record episodes of this run with `npcforge record minatar\/freeway --policy runs\/cnn-run`/],
      ['#bare-run/greedy/2', /Run bare-run has no exported policy: run `npcforge export runs\/bare-run`/],
      ['#mlp-run/greedy/2', /No saliency for run mlp-run: the policy reads a flat observation of shape \[700\] \(an MLP policy\)/],
      ['#other-game-run/greedy/2', /^Episode greedy is a minatar\/freeway episode; the policy of run other-game-run plays minatar\/asterix\.$/],
      ['#corrupt-run/greedy/2', /^The policy bundle of corrupt-run cannot be loaded: \[[^\]]+\] expected .*; fix: /],
    ];
    for (const [hash, message] of cases) {
      const ep = hash.slice(1).split('/')[1];
      await open(hash, ep!, 2);
      const s = await saliency({ enabled: true, method: 'gradient', output: 'action' });
      expect(s.status).toMatch(/^(unavailable|error)$/);
      expect(s.message).toMatch(message);
      expect(s.message.split('\n')).toHaveLength(1);
      expect(s.message).not.toContain('TOP-SECRET');
      expect(s.map).toBeNull();
      expect(await page.locator('#sal-note').textContent()).toBe(s.message);
      expect(await page.evaluate(() => (document.getElementById('saliency-canvas') as HTMLCanvasElement).hidden)).toBe(true);
    }
    expect(pageErrors).toEqual([]);
  });
});
