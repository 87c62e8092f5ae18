// Writes test/fixtures/kernels/modules.json: every WebAssembly module variant our kernels can load
// (each kernel, each variant, for a private and for a shared heap), with its bytes' SHA-256 and the
// bytes themselves (base64, so a failing comparison can say where the modules differ).
// test/networks/kernel-modules.test.ts holds the modules compiled from wat/*.wat to it. The first
// fixture was written from the hand assembler these .wat files replaced (commit bf3bafe); rewrite
// it only for a deliberate change of a kernel, and say so in the commit.
// Run: node scripts/kernel-bytes.mjs
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileKernels } from './build-kernels.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = {};
for (const { kernel, variant, heap, bytes } of (await compileKernels(root)).sort((a, b) => moduleKey(a).localeCompare(moduleKey(b)))) {
  const buf = Buffer.from(bytes);
  modules[moduleKey({ kernel, variant, heap })] = { size: buf.length, sha256: createHash('sha256').update(buf).digest('hex'), base64: buf.toString('base64') };
}
const out = join(root, 'test/fixtures/kernels/modules.json');
writeFileSync(out, `${JSON.stringify({ format: 'npcforge-kernel-modules', version: 1, modules }, null, 2)}\n`);
console.log(`wrote ${out}: ${Object.keys(modules).length} modules`);

/** The fixture's key of a module: kernel.variant.heap. */
function moduleKey({ kernel, variant, heap }) {
  return `${kernel}.${variant}.${heap}`;
}
