// Bundles the pong-vs-ONNX-NPC page (examples/pong-onnx) into `outDir`: app.js (onnxruntime-web's
// wasm build, games/pong), index.html, and onnxruntime-web's WebAssembly files under ort/ so the
// page loads them from its own server (no CDN). onnxruntime-web is a devDependency and its wasm is
// ~12 MB, so this page is not one of the package's bundle-*.mjs builds; build it by hand with
//   node scripts/page-pong-onnx.mjs [outDir]     (default dist/pong-onnx)
// and serve it beside the bundle under npc/ (startNpcPlayServer with pageDir, as test/export/pong-onnx.browser.test.ts).
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePage } from './page-bundle.mjs';

/** The runtime files onnxruntime-web's wasm build fetches at start. */
const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

/** Builds the page into `outDir`; returns it. */
export async function bundle(root, { outDir, minify = true }) {
  const dir = join(root, 'examples', 'pong-onnx');
  await bundlePage('bundle-pong-onnx', join(dir, 'main.ts'), join(outDir, 'app.js'), { minify });
  await copyFile(join(dir, 'index.html'), join(outDir, 'index.html'));
  const ortDist = dirname(createRequire(join(root, 'package.json')).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  await mkdir(join(outDir, 'ort'), { recursive: true });
  for (const f of ORT_FILES) await copyFile(join(ortDist, f), join(outDir, 'ort', f));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = resolve(process.argv[2] ?? join(root, 'dist', 'pong-onnx'));
  await bundle(root, { outDir });
  process.stdout.write(`pong ONNX page built in ${outDir}\n`);
}
