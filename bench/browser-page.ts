/**
 * Opens a benchmark page in real Chromium (playwright-core, /usr/bin/chromium or
 * NPCFORGE_CHROMIUM): bundles `entry` with esbuild into `dir`, serves `dir` on loopback, and
 * waits until the page defines `ready` on globalThis. Shared by the runtime benchmarks.
 */
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

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
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.NPCFORGE_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
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
