// Bundles the replay viewer app (src/render/app) for the browser into dist/viewer/.
// platform 'browser' makes esbuild fail on any Node built-in reaching the bundle.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Builds dist/viewer (or `outDir`): app.js, index.html, app.css. */
export async function bundle(root, { outDir = join(root, 'dist', 'viewer'), minify = true } = {}) {
  const esbuild = await import('esbuild');
  const appDir = join(root, 'src', 'render', 'app');
  await mkdir(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(appDir, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await copyFile(join(appDir, 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(appDir, 'app.css'), join(outDir, 'app.css'));
  return outDir;
}
