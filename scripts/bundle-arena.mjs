// Bundles the arena page (examples/arena) for the browser into dist/arena/: app.js (tfjs, pixi,
// the arena rules and npcforge/runtime), index.html and a copy of the npc/ policy bundle, so the
// folder is self-contained (serve it and open index.html). platform 'browser' makes esbuild fail
// on any Node built-in reaching the bundle.
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Builds dist/arena (or `outDir`); with `metafileOut`, also writes esbuild's metafile there. */
export async function bundle(root, { outDir = join(root, 'dist', 'arena'), minify = true, metafileOut } = {}) {
  const esbuild = await import('esbuild');
  const dir = join(root, 'examples', 'arena');
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
  if (builtins.length) throw new Error(`bundle-arena: Node built-ins in the browser bundle: ${builtins.join(', ')}`);
  await cp(join(dir, 'index.html'), join(outDir, 'index.html'));
  await cp(join(dir, 'npc'), join(outDir, 'npc'), { recursive: true });
  if (metafileOut) await writeFile(metafileOut, JSON.stringify(result.metafile));
  return outDir;
}
