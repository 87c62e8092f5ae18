/**
 * Makes the tfjs-backend-wasm thread pool start in Node. tfjs 4.22 keeps it off there
 * (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired false for Node) because its pthread workers are
 * created from blob: URLs, which Node's worker_threads reject, and XNNPACK's pool is capped at
 * half the logical cores (1 on a 2-core machine). Here the worker script is written to a temporary
 * .cjs file and handed out instead of the blob URL; inside the worker, the main script is loaded
 * from the package file; the core count is raised for the moment the pool is created.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Prepares the threaded wasm build for `threads` threads; call before the wasm backend initialises. */
export function enableWasmThreads(threads: number): () => void {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const { wasmWorkerContents } = require(join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const mainScript = join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  // The worker receives the main script as a Blob and would turn it into a blob: URL; point that
  // at the package's copy of the same script instead. Newlines inside string literals of the
  // worker source must stay escaped (tfjs does the same before making its Blob).
  const prelude = `URL.createObjectURL=()=>${JSON.stringify(mainScript)};URL.revokeObjectURL=()=>{};\n`;
  const source = prelude + wasmWorkerContents.replace(/\n/g, '\\n');
  // Named by content, so every process shares one file and none has to clean up after itself.
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const workerFile = join(os.tmpdir(), `npcforge-wasm-worker-${hash}.cjs`);
  if (!existsSync(workerFile)) {
    const partial = `${workerFile}.${process.pid}.tmp`;
    writeFileSync(partial, source);
    renameSync(partial, workerFile);
  }
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob) => (obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : createObjectURL(obj));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const cpus = os.cpus;
  os.cpus = () => {
    const real = cpus.call(os);
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
  };
  return () => {
    os.cpus = cpus;
  };
}
