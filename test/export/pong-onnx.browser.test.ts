/**
 * The committed pong NPC (examples/pong/npc) converted to policy.onnx and played by
 * onnxruntime-web (WebAssembly, its files served by the local server, no network) in real
 * Chromium: the NPC paddle tracks the ball far better than a do-nothing paddle, as in the tfjs
 * page test (pong-npc.browser.test.ts), and the page reports no console errors.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '../../bench/browser-page.js';
import { startNpcPlayServer, type NpcPlayServer } from '../../src/export/play-server.js';
import { bundleToOnnx } from '../../src/export/onnx-export.js';
// @ts-expect-error plain .mjs build helper without type declarations
import { bundle } from '../../scripts/page-pong-onnx.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STEPS = 400;

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-pong-onnx-'));
let server: NpcPlayServer;
let browser: Browser;
const requests: string[] = [];

interface TraceStep {
  ballX: number;
  ballY: number;
  ballVx: number;
  paddleY: number;
  npcAction: number;
}

beforeAll(async () => {
  const npc = join(tmp, 'npc');
  cpSync(join(ROOT, 'examples', 'pong', 'npc'), npc, { recursive: true });
  await bundleToOnnx(npc);
  const pageDir = await bundle(ROOT, { outDir: join(tmp, 'page') });
  server = await startNpcPlayServer({ game: 'pong', bundleDir: npc, root: ROOT, pageDir });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function play(query: string): Promise<{ gap: number; samples: number; actions: Set<number>; errors: string[]; outputs: string[] }> {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  page.on('request', (r) => requests.push(r.url()));
  try {
    await page.goto(`${server.url}?fps=120&seed=4${query}`);
    await page.waitForFunction((n) => {
      const d = (globalThis as unknown as { pongDemo?: { trace: unknown[]; error: string | null } }).pongDemo;
      return d !== undefined && (d.error !== null || d.trace.length >= n);
    }, STEPS, { timeout: 90_000 });
    const { trace, config, error, outputs } = await page.evaluate(() => {
      const d = (globalThis as unknown as { pongDemo: { trace: TraceStep[]; config: { width: number; paddleHeight: number; ballSize: number }; error: string | null; outputs: string[] } }).pongDemo;
      return { trace: d.trace.slice(), config: d.config, error: d.error, outputs: d.outputs };
    });
    if (error) errors.push(error);
    let sum = 0;
    let samples = 0;
    for (const s of trace.slice(0, STEPS)) {
      if (s.ballVx > 0 && s.ballX > config.width / 2) {
        sum += Math.abs(s.paddleY + config.paddleHeight / 2 - (s.ballY + config.ballSize / 2));
        samples++;
      }
    }
    return { gap: sum / samples, samples, actions: new Set(trace.map((s) => s.npcAction)), errors, outputs };
  } finally {
    await page.close();
  }
}

describe('pong vs an ONNX NPC in onnxruntime-web', () => {
  it('loads policy.onnx with onnxruntime-web and the NPC paddle tracks the ball (vs a no-op paddle), without console errors or outside requests', async () => {
    const npc = await play('');
    const noop = await play('&npc=noop');
    process.stdout.write(`pong ONNX NPC tracking over ${STEPS} frames: mean |paddle - ball| ${npc.gap.toFixed(2)} px (${npc.samples} samples) vs no-op ${noop.gap.toFixed(2)} px (${noop.samples})\n`);
    expect(npc.errors).toEqual([]);
    expect(noop.errors).toEqual([]);
    expect(npc.outputs).toEqual(['q', 'action']);
    expect(npc.samples).toBeGreaterThan(50);
    expect(npc.actions.size).toBeGreaterThan(1);
    expect(npc.gap).toBeLessThan(0.5 * noop.gap);
    // onnxruntime-web's files came from the local server.
    expect(requests.some((u) => u.endsWith('/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
    expect(requests.filter((u) => !u.startsWith(server.url))).toEqual([]);
  });
});
