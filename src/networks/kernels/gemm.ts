/**
 * Our own single-precision matrix product for the tfjs `wasm` backend, as a WebAssembly SIMD module
 * written in wat/gemm.wat (its variants in gemm.kernel.ts, compiled at build time). XNNPACK's wasm
 * build, which the stock kernels use, multiplies with separate f32x4 mul and add and re-packs every
 * new right operand; here:
 * - 4x8 register tiles (8 f32x4 accumulators) with fused multiply-add (relaxed SIMD's
 *   `f32x4.relaxed_madd`, which V8 lowers to `vfmadd231ps` on x64 with FMA). Node 20 has relaxed
 *   SIMD behind `--experimental-wasm-relaxed-simd`, which `enableRelaxedSimd()` sets at start-up;
 *   where the module does not validate with it, the `mul-add` variant (mul + add) is loaded.
 *   Measured in one tile with data in L1 here: 34-38 GFLOP/s with FMA, 19 without, against
 *   12-17 GFLOP/s that the stock kernels reach on the Nature net's products.
 * - No packing: both operands are read in place, so weights changed by every optimizer step cost
 *   nothing extra. The right operand must be "k-major" (row k holds the 8 columns of a tile next to
 *   each other: a row-major [K, N] matrix); the left operand either k-major too (`gemmK`: [K, M],
 *   4 rows of a tile are 4 adjacent floats, loaded as one vector and broadcast lane by lane) or
 *   row-major (`gemmR`: [M, K], each of the 4 rows broadcast from its own pointer).
 * - The tile loops run inside the module (one call per product or per chunk of one).
 *
 * Shapes: M a multiple of 4 and N of 8 (callers check and otherwise use the stock path), K >= 1.
 * TurboFan keeps the 8 accumulators, 2 right-operand vectors and the broadcast in registers for
 * this tile; wider tiles (6x8, 4x12) spilled and ran slower, as did unrolling k.
 */
import v8 from 'node:v8';
import type { HeapKind } from './kernel-config.js';
import { type HeapModule, heapKind, kernelInstance, kernelModuleBytes } from './modules.js';
import type { WasmBackend } from './wasm-util.js';

/** Rows and columns of one register tile. */
export const TILE_M = 4;
export const TILE_N = 8;

/** The module's exports (wat/gemm.wat documents the arguments; pointers and strides in bytes). */
export interface GemmKernels {
  gemmK(mt: number, nt: number, k: number, a: number, aTile: number, aK: number, b: number, bTile: number, bK: number, c: number, ldc: number, acc: number): void;
  gemmR(mt: number, nt: number, k: number, a: number, aTile: number, aK: number, b: number, bTile: number, bK: number, c: number, ldc: number, acc: number): void;
  gather(src: number, dst: number, plan: number, count: number, len: number, planStep: number): void;
  addRuns(src: number, dst: number, plan: number, count: number, len: number): void;
}

let relaxedTried = false;

/**
 * Turns on V8's relaxed SIMD (Node 20: behind a flag; on by default from V8 11.4). Harmless when
 * already on; must run before our module is compiled.
 */
export function enableRelaxedSimd(): void {
  if (relaxedTried) return;
  relaxedTried = true;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Not V8 or flags locked: the `mul-add` variant is loaded.
  }
}

/** Whether our product uses fused multiply-add (set once the module is first loaded). */
export let gemmUsesFma = false;

/** The variant this engine runs: `fma` where relaxed SIMD validates, else `mul-add`. */
export function gemmVariant(heap: HeapKind): 'fma' | 'mul-add' {
  enableRelaxedSimd();
  return WebAssembly.validate(kernelModuleBytes('gemm', 'fma', heap)) ? 'fma' : 'mul-add';
}

/** The chosen variant per heap kind (validating costs a compile). */
const chosen = new Map<HeapKind, 'fma' | 'mul-add'>();

/** The compiled module and its instance on the backend's heap (built once per heap). */
export function gemmInstance(backend: WasmBackend): HeapModule<GemmKernels> {
  const heap = heapKind(backend);
  let variant = chosen.get(heap);
  if (variant === undefined) {
    variant = gemmVariant(heap);
    chosen.set(heap, variant);
  }
  gemmUsesFma = variant === 'fma';
  return kernelInstance<GemmKernels, 'gemm'>(backend, 'gemm', variant);
}

/** Our product functions bound to the backend's heap. */
export function gemmKernels(backend: WasmBackend): GemmKernels {
  return gemmInstance(backend).kernels;
}
