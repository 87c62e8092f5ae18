// Bundles the replay viewer app (src/render/app) for the browser into dist/viewer/.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePage } from './page-bundle.mjs';

/** Builds dist/viewer (or `outDir`): app.js, saliency.js, index.html, app.css. */
export async function bundle(root, { outDir = join(root, 'dist', 'viewer'), minify = true } = {}) {
  const appDir = join(root, 'src', 'render', 'app');
  await bundlePage('bundle-viewer', join(appDir, 'main.ts'), join(outDir, 'app.js'), { minify });
  // The saliency panel carries TensorFlow.js: its own file, which app.js loads only when saliency is switched on.
  await bundlePage('bundle-viewer', join(appDir, 'saliency.ts'), join(outDir, 'saliency.js'), { minify });
  await copyFile(join(appDir, 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(appDir, 'app.css'), join(outDir, 'app.css'));
  return outDir;
}
