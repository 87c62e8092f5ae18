// Bundles the pong-vs-NPC page (examples/pong) for the browser into dist/pong-npc/: app.js
// (tfjs, pixi, games/pong and npcforge/runtime) and index.html. platform 'browser' makes esbuild
// fail on any Node built-in reaching the bundle.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Builds dist/pong-npc (or `outDir`). */
export async function bundle(root, { outDir = join(root, 'dist', 'pong-npc'), minify = true } = {}) {
  const esbuild = await import('esbuild');
  const dir = join(root, 'examples', 'pong');
  await mkdir(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(dir, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const builtins = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:'));
  if (builtins.length) throw new Error(`bundle-pong-npc: Node built-ins in the browser bundle: ${builtins.join(', ')}`);
  await copyFile(join(dir, 'index.html'), join(outDir, 'index.html'));
  return outDir;
}
