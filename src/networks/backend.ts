/**
 * Compute backend selection. Picks the fastest tfjs backend present: `tensorflow` (tfjs-node-gpu
 * with a CUDA device, then tfjs-node) -> `wasm` with the project's kernels -> `cpu`.
 * `NPCFORGE_BACKEND=<name>` forces one. See docs/backend.md.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendError, InvalidConfigError, describe, formatError } from '../errors.js';
import { enableWasmThreads } from './wasm-threads.js';
import { WASM_KERNEL_NAMES, registerCpuKernels, registerWasmKernels, unregisterWasmKernels } from './kernels/index.js';
import { gemmThreads, setGemmThreads, startGemmPool } from './kernels/gemm-pool.js';
import type { WasmBackend } from './kernels/wasm-util.js';
import { SlotOptimizer } from './optimizers.js';

/**
 * tfjs console messages that say nothing our users can act on (the suite's and the CLI's stderr
 * should carry our lines only):
 * - the Orthogonal initialiser's "Slowness may result" for matrices over 2,000 elements: it fires for
 *   every LSTM/GRU recurrent kernel of 23 units or more and for each reload of such a model. The
 *   values are kept (seeded runs stay bit-identical); its cost is a one-off at build time.
 * - tfjs-layers' "non-serializable keyword arguments" when a layer is called with tensors as
 *   arguments (an LSTM's initial state in the exported policy graph): those tensors are inputs of
 *   the model, rebuilt on load, so nothing is lost.
 */
const TFJS_NOISE = [/^Orthogonal initializer is being called on a matrix with more than \d+ \(\d+\) elements/, /^Layer \S+ was passed non-serializable keyword arguments/];

let tfjsQuiet = false;

/**
 * Silences tfjs's own console chatter, once per process: PROD mode turns off tfjs's `warn`/`log`
 * helpers (the "Hi, looks like you are running TensorFlow.js in Node.js" banner, printed when the
 * cpu backend first stores a tensor in Node: we run cpu or wasm on purpose and say which), and the
 * two direct `console.warn` calls listed in TFJS_NOISE are dropped. Everything else passes.
 */
export function quietTfjs(): void {
  if (tfjsQuiet) return;
  tfjsQuiet = true;
  tf.env().set('PROD', true);
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && TFJS_NOISE.some((re) => re.test(args[0] as string))) return;
    warn(...args);
  };
}
// On import: tensors are made (and these messages printed) before any initBackend call in some paths.
quietTfjs();

/** Default thread count cap: each product is split statically, so more threads gain less and less. */
export const DEFAULT_MAX_THREADS = 4;

/** Backends `initBackend` can select. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /** Backend to try first; falls through the usual order if it is unavailable. `NPCFORGE_BACKEND` wins over it. */
  prefer?: BackendName;
  /**
   * Threads our wasm products use (count, >= 1; this thread included). Default:
   * `NPCFORGE_WASM_THREADS`, else the cores available, at most DEFAULT_MAX_THREADS. More than 1
   * loads tfjs's threaded wasm build (for its shared heap) and starts our pool of workers
   * (kernels/gemm-pool.ts); products under ~8 M multiply-adds stay on one thread (docs/backend.md).
   */
  threads?: number;
  /** When true, nothing is written to stderr (the choice is still returned). Default false. */
  quiet?: boolean;
}

/** What `initBackend` settled on. */
export interface BackendInfo {
  /** The tfjs backend in use. */
  name: BackendName;
  /** For `tensorflow`: whether it is the CUDA build. */
  gpu: boolean;
  /** Kernels of ours registered on it. */
  kernels: string[];
  /** Threads our wasm products use, this one included (1 without a pool; 0 when not wasm). */
  threads: number;
  /** Why a faster backend was skipped, in order tried. */
  skipped: string[];
}

let pending: Promise<BackendInfo> | undefined;
let current: BackendInfo | undefined;

/**
 * Selects and initialises the compute backend once per process and returns its name. Later calls
 * return the first call's result whatever their options (the backend is process-wide).
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendName> {
  pending ??= select(options).then((info) => {
    current = info;
    if (options.quiet !== true) {
      const extra = info.name === 'wasm' ? ` (our kernels: ${info.kernels.length}, threads: ${info.threads})` : info.gpu ? ' (CUDA)' : '';
      process.stderr.write(`npcforge: compute backend ${info.name}${extra}\n`);
    }
    return info;
  });
  try {
    return (await pending).name;
  } catch (err) {
    pending = undefined;
    throw err;
  }
}

/** Details of the backend chosen by `initBackend` (undefined before it resolved). */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

function envThreads(): number | undefined {
  const raw = process.env.NPCFORGE_WASM_THREADS;
  return raw === undefined || raw === '' ? undefined : Number(raw);
}

function validate(options: InitBackendOptions): BackendName | undefined {
  const problems: string[] = [];
  const env = process.env.NPCFORGE_BACKEND;
  let forced: BackendName | undefined;
  if (env !== undefined && env !== '') {
    if ((BACKEND_NAMES as readonly string[]).includes(env)) forced = env as BackendName;
    else problems.push(formatError('Backend', `NPCFORGE_BACKEND one of ${BACKEND_NAMES.join(', ')}`, describe(env), 'unset it or use one of those names'));
  }
  if (options.prefer !== undefined && !(BACKEND_NAMES as readonly string[]).includes(options.prefer)) {
    problems.push(formatError('Backend', `prefer one of ${BACKEND_NAMES.join(', ')}`, describe(options.prefer), 'pass one of those names or omit it'));
  }
  const envT = envThreads();
  if (envT !== undefined && !(Number.isInteger(envT) && envT >= 1)) {
    problems.push(formatError('Backend', 'NPCFORGE_WASM_THREADS an integer >= 1', describe(process.env.NPCFORGE_WASM_THREADS), 'unset it or set 1, 2, ...'));
  }
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    problems.push(formatError('Backend', 'threads an integer >= 1', describe(options.threads), 'pass 1 or more, or omit it'));
  }
  if (problems.length > 0) throw new InvalidConfigError(problems.join('\n'));
  return forced;
}

async function select(options: InitBackendOptions): Promise<BackendInfo> {
  const forced = validate(options);
  const skipped: string[] = [];
  const order: BackendName[] = forced !== undefined ? [forced] : [...BACKEND_NAMES];
  if (forced === undefined && options.prefer !== undefined) order.unshift(options.prefer);
  for (const name of [...new Set(order)]) {
    try {
      const info = await tryBackend(name, options, skipped);
      if (info !== undefined) return info;
    } catch (err) {
      if (forced !== undefined) {
        throw new BackendError(
          formatError('Backend', `NPCFORGE_BACKEND=${forced} to initialise`, firstLine(err), 'install it (docs/backend.md) or unset NPCFORGE_BACKEND'),
          { cause: err },
        );
      }
      skipped.push(`${name}: ${firstLine(err)}`);
    }
  }
  throw new BackendError(formatError('Backend', 'a usable tfjs backend', skipped.join('; '), 'reinstall @tensorflow/tfjs'));
}

async function tryBackend(name: BackendName, options: InitBackendOptions, skipped: string[]): Promise<BackendInfo | undefined> {
  if (name === 'tensorflow') {
    const gpu = await importNative(skipped);
    if (gpu === undefined) throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node could be loaded');
    if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") failed');
    return { name, gpu, kernels: [], threads: 0, skipped };
  }
  if (name === 'wasm') {
    const threads = options.threads ?? envThreads() ?? Math.min(os.availableParallelism(), DEFAULT_MAX_THREADS);
    setWasmPaths(wasmDistDir());
    let restore: (() => void) | undefined;
    if (threads > 1) {
      // The threaded build, for its shared heap: our products run on our own pool (it blocks when
      // idle); XNNPACK's pool, which spins, stays at one thread.
      restore = enableWasmThreads(1);
      setThreadsCount(1);
    }
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    } finally {
      restore?.();
    }
    if (threads > 1) unrefPoolWorkers();
    registerWasmKernels();
    let gemmThreadCount = 1;
    try {
      gemmThreadCount = await startGemmPool(tf.backend() as unknown as WasmBackend, threads);
    } catch (err) {
      process.stderr.write(`npcforge: warning: the wasm thread pool did not start (${firstLine(err)}); using 1 thread\n`);
    }
    const problem = await selfTest();
    if (problem !== undefined) {
      unregisterWasmKernels();
      process.stderr.write(`npcforge: warning: wasm kernels failed their self-test (${problem}); using cpu\n`);
      skipped.push(`wasm: self-test failed: ${problem}`);
      await tf.setBackend('cpu');
      registerCpuKernels();
      return { name: 'cpu', gpu: false, kernels: ['Conv2DBackpropFilter'], threads: 0, skipped };
    }
    return { name, gpu: false, kernels: [...WASM_KERNEL_NAMES], threads: gemmThreadCount, skipped };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
  registerCpuKernels();
  return { name, gpu: false, kernels: ['Conv2DBackpropFilter'], threads: 0, skipped };
}

/**
 * XNNPACK's pool threads live as long as the backend, and Emscripten keeps a Node worker
 * referenced while its thread runs: without this a script using threads never exits.
 */
function unrefPoolWorkers(): void {
  const pthreads = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers: Array<{ unref?(): void }>; unusedWorkers: Array<{ unref?(): void }> } } }).wasm?.PThread;
  if (pthreads === undefined) return;
  for (const w of [...pthreads.runningWorkers, ...pthreads.unusedWorkers]) w.unref?.();
}

/** Loads tfjs-node-gpu (when a CUDA device is visible) or tfjs-node; returns whether it is the GPU build. */
async function importNative(skipped: string[]): Promise<boolean | undefined> {
  // Variable specifiers: both packages are optional and usually absent or broken (their install
  // script downloads libtensorflow); a failed import means "not available".
  const candidates: Array<[string, boolean]> = [];
  if (hasCudaDevice()) candidates.push(['@tensorflow/tfjs-node-gpu', true]);
  candidates.push(['@tensorflow/tfjs-node', false]);
  for (const [spec, gpu] of candidates) {
    try {
      await import(spec);
      return gpu;
    } catch (err) {
      skipped.push(`${spec}: ${firstLine(err)}`);
    }
  }
  return undefined;
}

function hasCudaDevice(): boolean {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return false;
  return existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidia0');
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/** Folder holding the .wasm binaries, resolved from this module (Node does not fetch them by URL). */
function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/** Deterministic test values in [-1, 1) without an RNG (the self-test must not consume one). */
function pattern(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (((i * 7919 + seed * 104729) % 2003) / 1001.5) - 1;
  return out;
}

/**
 * Small conv, matmul, gather and bias gradients and one fused optimizer step on the active wasm
 * backend vs the same on `cpu`.
 */
async function selfTest(): Promise<string | undefined> {
  const optimizerStep = (): Float32Array[] => {
    const v = tf.variable(tf.tensor1d(pattern(10, 6)));
    const g = tf.tensor1d(pattern(10, 7));
    const opt = new SlotOptimizer({ kind: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, [v]);
    opt.apply([g]);
    const out = [v, ...opt.slotTensors()].map((t) => Float32Array.from(t.dataSync()));
    opt.dispose();
    tf.dispose([v, g]);
    return out;
  };
  const compute = (): Float32Array[] => [
    ...optimizerStep(),
    ...tf.tidy(() => {
      const x = tf.tensor4d(pattern(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]);
      const w = tf.tensor4d(pattern(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
      const a = tf.tensor3d(pattern(2 * 5 * 6, 3), [2, 5, 6]);
      const b = tf.tensor3d(pattern(2 * 6 * 70, 4), [2, 70, 6]);
      const ids = tf.tensor1d([0, 2, 2, 1], 'int32');
      const table = tf.tensor2d(pattern(3 * 5, 5), [3, 5]);
      // A few-channel strided conv with a bias: the space-to-depth forward, phase input gradient,
      // SIMD transposes and the leading-axes bias sum.
      const x2 = tf.tensor4d(pattern(4 * 8 * 8 * 4, 8), [4, 8, 8, 4]);
      const w2 = tf.tensor4d(pattern(4 * 4 * 4 * 8, 9), [4, 4, 4, 8]);
      const b2 = tf.tensor1d(pattern(8, 10));
      const f = (xx: tf.Tensor, ww: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor, tt: tf.Tensor, x2x: tf.Tensor, w2w: tf.Tensor, b2b: tf.Tensor) =>
        tf.addN([
          tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'))),
          tf.sum(tf.square(tf.matMul(aa, bb, false, true))),
          tf.sum(tf.square(tf.gather(tt, ids))),
          tf.sum(tf.square(tf.add(tf.conv2d(x2x as tf.Tensor4D, w2w as tf.Tensor4D, 2, 'valid'), b2b))),
        ]);
      const grads = tf.grads(f)([x, w, a, b, table, x2, w2, b2]);
      // A dense product on our FMA product (gemm.ts), forward and both gradients.
      const m1 = tf.tensor2d(pattern(16 * 64, 11), [16, 64]);
      const m2 = tf.tensor2d(pattern(64 * 32, 12), [64, 32]);
      const dense = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q))))([m1, m2]);
      return [...grads, ...dense, tf.matMul(m1, m2)].map((g) => g.dataSync() as Float32Array);
    }),
  ];
  try {
    const got = compute();
    const pooled = poolTest();
    if (pooled !== undefined) return pooled;
    await tf.setBackend('cpu');
    const want = compute();
    for (let i = 0; i < want.length; i++) {
      const err = maxRelError(got[i]!, want[i]!);
      if (!(err <= 1e-4)) return `result ${i} differs from cpu by relative ${err.toExponential(2)}`;
    }
    return undefined;
  } catch (err) {
    return firstLine(err);
  } finally {
    await tf.setBackend('wasm');
  }
}

/** With a thread pool: one product large enough to be split must equal the unsplit one. */
function poolTest(): string | undefined {
  const threads = gemmThreads(tf.backend() as unknown as WasmBackend);
  if (threads <= 1) return undefined;
  const product = () => tf.tidy(() => Float32Array.from(tf.matMul(tf.tensor2d(pattern(64 * 512, 13), [64, 512]), tf.tensor2d(pattern(512 * 256, 14), [512, 256])).dataSync()));
  const split = product();
  setGemmThreads(1);
  let whole: Float32Array;
  try {
    whole = product();
  } finally {
    setGemmThreads(threads);
  }
  const err = maxRelError(split, whole);
  return err <= 1e-6 ? undefined : `a product split over ${threads} threads differs by relative ${err.toExponential(2)}`;
}

/** max |a-b| / max(1, max |b|): relative to the tensor's scale, so near-zero entries do not blow it up. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst / scale;
}
