/**
 * Opens a benchmark page in real Chromium (playwright-core, /usr/bin/chromium or
 * NPCFORGE_CHROMIUM): bundles `entry` with esbuild into `dir`, serves `dir` on loopback, and
 * waits until the page defines `ready` on globalThis. Shared by the runtime benchmarks.
 */
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/** Debian's Chromium (or NPCFORGE_CHROMIUM), headless, WebGL through SwiftShader. */
export const CHROMIUM_PATH = process.env.NPCFORGE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Starts Chromium for the browser tests and benchmarks. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Collects the page's console errors and uncaught exceptions into the returned array, as they happen. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

export interface BenchPage {
  page: Page;
  /** `http://127.0.0.1:<port>/`: files of `dir` (bundles written there load from `${base}<name>/`). */
  base: string;
  close(): Promise<void>;
}

export async function openBenchPage(entry: string, dir: string, ready: string): Promise<BenchPage> {
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [entry], outfile: join(dir, 'page.js'), bundle: true, format: 'esm', platform: 'browser', minify: true, logLevel: 'error' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>');
  const server = createServer((req, res) => {
    const p = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]!));
    if (!existsSync(p) || p.endsWith('/')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': p.endsWith('.js') ? 'text/javascript' : p.endsWith('.html') ? 'text/html' : 'application/octet-stream' });
    createReadStream(p).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const browser = await launchChromium();
  const close = async (): Promise<void> => {
    await browser.close();
    server.close();
  };
  try {
    const page = await browser.newPage();
    await page.goto(`${base}index.html`);
    await page.waitForFunction((name) => name in globalThis, ready);
    return { page, base, close };
  } catch (err) {
    await close();
    throw err;
  }
}
