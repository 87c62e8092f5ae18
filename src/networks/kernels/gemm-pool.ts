/**
 * Threads for our product (gemm.ts). A product, or a convolution's chunks, is written as one
 * "program" per thread: a flat list of calls into the gemm module, `[fn, argc, ...args]` each.
 * The calling thread runs program 0 itself; each pool worker runs its own on an instance of the
 * same module over the same shared heap. Programs write disjoint outputs (rows or columns of a
 * product, pixels of a convolution, a partial filter gradient per thread), so no locking is
 * needed beyond the hand-off.
 *
 * The hand-off is a SharedArrayBuffer per worker: [sequence, done, length, failed, program...].
 * The caller stores the program, bumps the sequence and notifies; the worker runs the program,
 * stores the sequence in `done` and notifies. Both sides spin briefly before blocking in
 * Atomics.wait, because a product takes 0.05-5 ms and a futex wake-up costs tens of microseconds;
 * they block rather than spin on, so an idle pool costs nothing on a busy machine (XNNPACK's own
 * pool spins, which is why it is kept at one thread).
 *
 * It needs the heap to be a shared memory: the threaded tfjs wasm build, which initBackend loads
 * when more than one thread is asked for.
 */
import { Worker } from 'node:worker_threads';
import { type GemmKernels, TILE_M, TILE_N, gemmInstance } from './gemm.js';
import { type SimdKernels, simdInstance, simdKernels } from './simd.js';
import { type WasmBackend, heapMemory } from './wasm-util.js';

/** Call ids in a program, in the order of `callTable()`. */
export const CALL = { gemmK: 0, gemmR: 1, gather: 2, addRuns: 3, adam: 4, rmsprop: 5, swap02: 6 } as const;

/** A thread's list of calls: [fn, argc, ...args] repeated. */
export type Program = number[];

/** Header ints before a worker's program. */
const HEADER = 4;
/** Ints a worker's program may hold (longer programs run on the calling thread). */
const CAPACITY = 1 << 16;
/** A worker silent this long is taken as gone (the caller cannot see its exit while blocked). */
const STALL_MS = 60_000;
/** Atomics.load polls before blocking. */
const SPINS = 20000;

/** The int32 bits of a float32: how float arguments travel in a program (see callTable). */
export function floatBits(x: number): number {
  bitsF32[0] = x;
  return bitsI32[0]!;
}
const bitsF32 = new Float32Array(1);
const bitsI32 = new Int32Array(bitsF32.buffer);

/**
 * The functions a program's call ids index, over the product module `g` and the SIMD module `s`
 * (simd.ts). Programs hold int32s, so the optimizer steps' float arguments arrive as their bits
 * and are turned back here. Workers build the same table from this function's source.
 */
function callTable(g: GemmKernels, s: SimdKernels): Array<(...args: number[]) => void> {
  const f = new Float32Array(1);
  const i = new Int32Array(f.buffer);
  const fl = (bits: number): number => {
    i[0] = bits;
    return f[0]!;
  };
  return [
    g.gemmK,
    g.gemmR,
    g.gather,
    g.addRuns,
    (...a: number[]) => s.adam(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, fl(a[8]!), fl(a[9]!), fl(a[10]!), fl(a[11]!), fl(a[12]!), fl(a[13]!)),
    (...a: number[]) =>
      s.rmsprop(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, fl(a[10]!), fl(a[11]!), fl(a[12]!), fl(a[13]!), fl(a[14]!), a[15]!),
    s.swap02,
  ];
}

/** Runs a program's calls in order. Also the worker's loop body (its source is this function's). */
function execute(fns: Array<(...args: number[]) => void>, prog: ArrayLike<number>, start: number, end: number): void {
  let i = start;
  while (i < end) {
    const fn = prog[i]!;
    const argc = prog[i + 1]!;
    const args: number[] = [];
    for (let j = 0; j < argc; j++) args.push(prog[i + 2 + j]!);
    fns[fn]!(...args);
    i += 2 + argc;
  }
}

// Loaded with dynamic import so that it runs whether Node evaluates it as CommonJS or as an ES
// module (eval workers inherit --input-type from the parent).
const WORKER_SOURCE = `
import('node:worker_threads').then(({ workerData, parentPort }) => {
  const { module, simdModule, memory, sab, spins, header } = workerData;
  const g = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const s = new WebAssembly.Instance(simdModule, { env: { memory } }).exports;
  const fns = (${callTable.toString()})(g, s);
  const execute = ${execute.toString()};
  const ctrl = new Int32Array(sab);
  let seen = 0;
  parentPort.postMessage('ready');
  for (;;) {
    for (let s = 0; s < spins && Atomics.load(ctrl, 0) === seen; s++);
    if (Atomics.load(ctrl, 0) === seen) Atomics.wait(ctrl, 0, seen);
    seen = Atomics.load(ctrl, 0);
    try {
      execute(fns, ctrl, header, header + ctrl[2]);
    } catch (err) {
      ctrl[3] = 1;
    }
    Atomics.store(ctrl, 1, seen);
    Atomics.notify(ctrl, 1);
  }
});
`;

interface PoolWorker {
  worker: Worker;
  ctrl: Int32Array;
}

/** Our worker threads on one heap. */
export class GemmPool {
  private readonly workers: PoolWorker[] = [];
  private readonly fns: Array<(...args: number[]) => void>;
  private failed: Error | undefined;

  private constructor(fns: Array<(...args: number[]) => void>) {
    this.fns = fns;
  }

  /**
   * Starts threads - 1 workers and resolves once each has its instance (a worker cannot start
   * while the caller blocks in Atomics.wait, so the pool is only used once they are ready).
   */
  static async start(backend: WasmBackend, threads: number): Promise<GemmPool> {
    const memory = heapMemory(backend);
    const { module } = gemmInstance(backend);
    const simd = simdInstance(backend);
    const pool = new GemmPool(localTable(backend));
    const ready: Array<Promise<void>> = [];
    for (let t = 1; t < threads; t++) {
      const sab = new SharedArrayBuffer((HEADER + CAPACITY) * 4);
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, simdModule: simd.module, memory, sab, spins: SPINS, header: HEADER } });
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`exited with code ${code} before it was ready`)));
        }),
      );
      worker.on('error', (err) => {
        pool.failed = err;
      });
      pool.workers.push({ worker, ctrl: new Int32Array(sab) });
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      pool.close();
      throw err;
    }
    // Idle workers must not keep the process alive (unref'd only now: before, nothing else would
    // keep the event loop running until they report ready).
    for (const w of pool.workers) w.worker.unref();
    return pool;
  }

  /** Threads a product may be split over (this one included). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Runs program t on thread t (0: the caller) and returns when all are done. */
  run(programs: Program[]): void {
    if (this.failed !== undefined) throw new Error(`npcforge gemm worker failed: ${this.failed.message}`);
    const started: Array<{ w: PoolWorker; seq: number }> = [];
    for (let t = 1; t < programs.length; t++) {
      const prog = programs[t]!;
      const w = this.workers[t - 1];
      if (w === undefined || prog.length > CAPACITY) {
        execute(this.fns, prog, 0, prog.length);
        continue;
      }
      if (prog.length === 0) continue;
      w.ctrl.set(prog, HEADER);
      w.ctrl[2] = prog.length;
      const seq = Atomics.add(w.ctrl, 0, 1) + 1;
      Atomics.notify(w.ctrl, 0);
      started.push({ w, seq });
    }
    const own = programs[0] ?? [];
    execute(this.fns, own, 0, own.length);
    for (const { w, seq } of started) {
      for (let s = 0; s < SPINS && Atomics.load(w.ctrl, 1) !== seq; s++);
      const since = Date.now();
      while (Atomics.load(w.ctrl, 1) !== seq) {
        Atomics.wait(w.ctrl, 1, Atomics.load(w.ctrl, 1), 1000);
        if (Date.now() - since > STALL_MS) throw new Error(`npcforge gemm worker: no answer in ${STALL_MS / 1000} s (worker gone?)`);
      }
      if (w.ctrl[3] !== 0) {
        w.ctrl[3] = 0;
        throw new Error('npcforge gemm worker: a call failed (out-of-bounds heap access?)');
      }
    }
  }

  /** Stops the workers. */
  close(): void {
    for (const w of this.workers) void w.worker.terminate();
    this.workers.length = 0;
  }
}

/** Threads our products use (at most the pool's; 1 = the calling thread only). */
let wanted = 1;
const pools = new WeakMap<WebAssembly.Memory, GemmPool>();

/**
 * Starts a pool of `threads` threads (this one included) on the backend's heap, which must be
 * shared (the threaded wasm build). Resolves to the threads products will use.
 */
export async function startGemmPool(backend: WasmBackend, threads: number): Promise<number> {
  const memory = heapMemory(backend);
  if (threads > 1 && typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer && !pools.has(memory)) {
    pools.set(memory, await GemmPool.start(backend, threads));
  }
  wanted = Math.min(threads, pools.get(memory)?.threads ?? 1);
  return wanted;
}

/** Limits products to `threads` threads (at most the pool's); 1 runs them on the calling thread. */
export function setGemmThreads(threads: number): void {
  wanted = threads;
}

/** The pool for this backend's heap, or undefined when products run on the calling thread only. */
export function gemmPool(backend: WasmBackend): GemmPool | undefined {
  if (wanted <= 1) return undefined;
  return pools.get(heapMemory(backend));
}

/**
 * Multiply-adds from which a product is split over threads. Waking a blocked worker and waiting
 * for it costs tens of microseconds; below this (~0.3 ms of work on one thread) splitting measured
 * slower: the MinAtar net's products (2-7 M multiply-adds) took 1.3 ms per step on one thread and
 * 2.6 ms split over two.
 */
export const PARALLEL_MIN_WORK = 1 << 23;

/** Threads a product of `work` multiply-adds is split over on this backend (1 without a pool). */
export function gemmThreads(backend: WasmBackend, work = Infinity): number {
  return work < PARALLEL_MIN_WORK ? 1 : Math.min(wanted, gemmPool(backend)?.threads ?? 1);
}

const localTables = new WeakMap<WebAssembly.Memory, Array<(...args: number[]) => void>>();

/** The call table of this thread's instances (built once per heap: products run on every act and train step). */
function localTable(backend: WasmBackend): Array<(...args: number[]) => void> {
  const memory = heapMemory(backend);
  let fns = localTables.get(memory);
  if (fns === undefined) {
    fns = callTable(gemmInstance(backend).kernels, simdKernels(backend));
    localTables.set(memory, fns);
  }
  return fns;
}

/** Products (or convolutions) run on our product so far, and how many of them were split over threads. */
export const gemmStats = { runs: 0, split: 0 };

/** Runs the programs: on the pool when there is one, else one after another on this thread. */
export function runPrograms(backend: WasmBackend, programs: Program[]): void {
  gemmStats.runs++;
  if (programs.filter((p) => p.length > 0).length > 1) gemmStats.split++;
  const pool = gemmPool(backend);
  if (pool !== undefined) {
    pool.run(programs);
    return;
  }
  const fns = localTable(backend);
  for (const p of programs) execute(fns, p, 0, p.length);
}

/** Stops the pool of this backend's heap (the kernels are being removed). */
export function closeGemmPool(backend: WasmBackend): void {
  const memory = heapMemory(backend);
  pools.get(memory)?.close();
  pools.delete(memory);
}

/** Depth of one pass over C: the k-slices of both operands that one pass reads stay in L2. */
const GEMM_KC = 256;

/**
 * Appends C[M, N] (=|+=) A B to a program, with the layouts of gemmK (`rowMajorA` false: A is
 * [K, M] with rows aK bytes apart) or gemmR (true: A is [M, K] with rows aK bytes apart), B [K, N]
 * with rows bK bytes apart, C rows ldc bytes apart; pointers in bytes. K is cut into slices of
 * GEMM_KC so that each pass reuses cached slices instead of streaming whole operands from memory
 * once per tile row (the Nature net's 3136x512 product ran at 12 GFLOP/s unsliced, 21-26 sliced).
 */
export function emitGemm(prog: Program, rowMajorA: boolean, m: number, n: number, k: number, a: number, aK: number, b: number, bK: number, c: number, ldc: number, accumulate: boolean): void {
  const aTile = rowMajorA ? TILE_M * aK : TILE_M * 4;
  for (let k0 = 0; k0 < k; k0 += GEMM_KC) {
    const kc = Math.min(GEMM_KC, k - k0);
    const aAt = rowMajorA ? a + 4 * k0 : a + k0 * aK;
    prog.push(rowMajorA ? CALL.gemmR : CALL.gemmK, 12, m / TILE_M, n / TILE_N, kc, aAt, aTile, aK, b + k0 * bK, TILE_N * 4, bK, c, ldc, accumulate || k0 > 0 ? 1 : 0);
  }
}

/** Splits `count` units into `parts` contiguous ranges as even as possible: [start, end) each. */
export function splitRange(count: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = 0; t < parts; t++) out.push([Math.floor((count * t) / parts), Math.floor((count * (t + 1)) / parts)]);
  return out;
}

/** One product (as emitGemm) split over the pool's threads by tile rows or tile columns, whichever has more. */
export function gemm(backend: WasmBackend, rowMajorA: boolean, m: number, n: number, k: number, a: number, aK: number, b: number, bK: number, c: number, ldc: number, accumulate: boolean): void {
  const mt = m / TILE_M;
  const nt = n / TILE_N;
  const parts = Math.min(gemmThreads(backend, m * n * k), Math.max(mt, nt));
  const programs = splitRange(mt >= nt ? mt : nt, parts).map(([t0, t1]) => {
    const prog: Program = [];
    if (t1 === t0) return prog;
    if (mt >= nt) {
      const aAt = rowMajorA ? a + t0 * TILE_M * aK : a + t0 * TILE_M * 4;
      emitGemm(prog, rowMajorA, (t1 - t0) * TILE_M, n, k, aAt, aK, b, bK, c + t0 * TILE_M * ldc, ldc, accumulate);
    } else {
      emitGemm(prog, rowMajorA, m, (t1 - t0) * TILE_N, k, a, aK, b + t0 * TILE_N * 4, bK, c + t0 * TILE_N * 4, ldc, accumulate);
    }
    return prog;
  });
  runPrograms(backend, programs);
}
