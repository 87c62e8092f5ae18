// Writes test/fixtures/kernels/modules.json: every WebAssembly module variant our kernels can load
// (each kernel, each variant, for a private and for a shared heap), with its bytes' SHA-256 and the
// bytes themselves (base64, so a failing comparison can say where the modules differ). The test
// test/networks/kernel-modules.test.ts holds the compiled .wat modules to it.
// Run: node scripts/kernel-bytes.mjs (rebuilds dist/ first when it is stale).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
buildIfStale(root);
const gemm = await import(join(root, 'dist/src/networks/kernels/gemm.js'));
const simd = await import(join(root, 'dist/src/networks/kernels/simd.js'));

/** name -> bytes, for every module variant the hand assembler builds. */
const variants = {};
for (const shared of [false, true]) {
  const memory = shared ? 'shared' : 'private';
  variants[`gemm.fma.${memory}`] = gemm.assemble(shared, true);
  variants[`gemm.mul-add.${memory}`] = gemm.assemble(shared, false);
  variants[`simd.default.${memory}`] = simd.assemble(shared);
}

const modules = {};
for (const name of Object.keys(variants).sort()) {
  const bytes = Buffer.from(variants[name]);
  modules[name] = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), base64: bytes.toString('base64') };
}
const out = join(root, 'test/fixtures/kernels/modules.json');
writeFileSync(out, `${JSON.stringify({ format: 'npcforge-kernel-modules', version: 1, modules }, null, 2)}\n`);
console.log(`wrote ${out}: ${Object.keys(modules).length} modules`);
