// Bundles the arena page (examples/arena) for the browser into dist/arena/: app.js (pixi, the
// arena rules and @npcforge/runtime with the tfjs parts it uses), index.html and a copy of the
// npc/ policy bundle, so the folder is self-contained (serve it and open index.html).
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePage } from './page-bundle.mjs';

/** Builds dist/arena (or `outDir`). */
export async function bundle(root, { outDir = join(root, 'dist', 'arena'), minify = true } = {}) {
  const dir = join(root, 'examples', 'arena');
  await bundlePage('bundle-arena', join(dir, 'main.ts'), join(outDir, 'app.js'), { minify });
  await cp(join(dir, 'index.html'), join(outDir, 'index.html'));
  await cp(join(dir, 'npc'), join(outDir, 'npc'), { recursive: true });
  return outDir;
}
