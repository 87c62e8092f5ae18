// Bundles src/runtime for the browser into dist/runtime/npcforge-runtime.js with tfjs left external
// (the embedding game brings its own). platform 'browser' makes esbuild fail on any Node built-in
// reaching the bundle; the Node-only file reader is behind a non-literal dynamic import.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Builds dist/runtime/npcforge-runtime.js (or `outFile`); returns its path and size in bytes. */
export async function bundle(root, { outFile = join(root, 'dist', 'runtime', 'npcforge-runtime.js'), minify = true } = {}) {
  const esbuild = await import('esbuild');
  await mkdir(join(outFile, '..'), { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(root, 'src', 'runtime', 'index.ts')],
    outfile: outFile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['@tensorflow/tfjs'],
    minify,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const nodeBuiltins = inputs.filter((f) => f.startsWith('node:'));
  if (nodeBuiltins.length) throw new Error(`bundle-runtime: Node built-ins in the browser bundle: ${nodeBuiltins.join(', ')}`);
  return { path: outFile, bytes: (await stat(outFile)).size, inputs };
}
