// Bundles the pong-vs-NPC page (examples/pong) for the browser into dist/pong-npc/: app.js
// (tfjs, pixi, games/pong and npcforge/runtime) and index.html.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePage } from './page-bundle.mjs';

/** Builds dist/pong-npc (or `outDir`). */
export async function bundle(root, { outDir = join(root, 'dist', 'pong-npc'), minify = true } = {}) {
  const dir = join(root, 'examples', 'pong');
  await bundlePage('bundle-pong-npc', join(dir, 'main.ts'), join(outDir, 'app.js'), { minify });
  await copyFile(join(dir, 'index.html'), join(outDir, 'index.html'));
  return outDir;
}
