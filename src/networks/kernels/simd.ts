/**
 * A small WebAssembly SIMD module of our own that works directly on the tfjs `wasm` backend's heap
 * (it imports the backend's memory). JavaScript loops over heap views run one scalar at a time
 * (~11 ns per element for an Adam step here); f32x4 code on the same memory does four lanes per
 * instruction at memory speed. The module is written in wat/simd.wat (compiled at build time), and
 * every f32x4 operation is IEEE single precision, so results equal those of the tfjs ops they
 * replace bit for bit.
 *
 * Functions (pointers are byte offsets into the heap, `n` counts floats and must be a multiple of 4;
 * callers do the remainder):
 * - adam(n, w, g, m, v, wOut, mOut, vOut, beta1, 1-beta1, beta2, 1-beta2, stepSize, epsilon)
 * - rmsprop(n, w, g, sq, mean, mom, wOut, sqOut, meanOut, momOut, decay, 1-decay, lr, epsilon, momentum, hasMomentum)
 * - swap02 / swap01(src, dst, A, B, C): the transposes our kernels need ([A,B,C] -> [C,B,A] and
 *   -> [B,A,C]); tfjs's own Transpose does ~2.5 ns per element here with per-element index math.
 * - colsum(src, dst, R, C): sums over the leading axis (bias gradients), which tfjs's Sum does by
 *   transposing the input first.
 */
import type * as tf from '@tensorflow/tfjs';
import { type HeapModule, kernelInstance } from './modules.js';
import { type WasmBackend, offsetOf } from './wasm-util.js';

/** The module's exports. */
export interface SimdKernels {
  swap02(src: number, dst: number, a: number, b: number, c: number): void;
  swap01(src: number, dst: number, a: number, b: number, c: number): void;
  colsum(src: number, dst: number, rows: number, cols: number): void;
  adam(n: number, w: number, g: number, m: number, v: number, wOut: number, mOut: number, vOut: number, b1: number, c1: number, b2: number, c2: number, lr: number, eps: number): void;
  rmsprop(
    n: number,
    w: number,
    g: number,
    sq: number,
    mean: number,
    mom: number,
    wOut: number,
    sqOut: number,
    meanOut: number,
    momOut: number,
    decay: number,
    c: number,
    lr: number,
    eps: number,
    momentum: number,
    hasMomentum: number,
  ): void;
}

/** The compiled module and its instance on the backend's heap (built once per heap; gemm-pool.ts gives workers the module). */
export function simdInstance(backend: WasmBackend): HeapModule<SimdKernels> {
  return kernelInstance<SimdKernels, 'simd'>(backend, 'simd', 'default');
}

/** Our SIMD functions bound to the backend's heap. */
export function simdKernels(backend: WasmBackend): SimdKernels {
  return simdInstance(backend).kernels;
}

/**
 * [A, B, C] -> [C, B, A] of a float32 tensor with our SIMD transpose, as a tensor of `shape`; or
 * undefined when A or C is not a multiple of 4 (the caller uses tfjs's Transpose).
 */
export function swap02(backend: WasmBackend, t: tf.TensorInfo, a: number, b: number, c: number, shape: number[]): tf.TensorInfo | undefined {
  if (t.dtype !== 'float32' || a % 4 !== 0 || c % 4 !== 0 || a * b * c === 0) return undefined;
  const out = backend.makeOutput(shape, 'float32');
  simdKernels(backend).swap02(offsetOf(backend, t), offsetOf(backend, out), a, b, c);
  return out;
}

/** [A, B, C] -> [B, A, C] of a float32 tensor, as a tensor of `shape`; undefined when C is not a multiple of 4. */
export function swap01(backend: WasmBackend, t: tf.TensorInfo, a: number, b: number, c: number, shape: number[]): tf.TensorInfo | undefined {
  if (t.dtype !== 'float32' || c % 4 !== 0 || a * b * c === 0) return undefined;
  const out = backend.makeOutput(shape, 'float32');
  simdKernels(backend).swap01(offsetOf(backend, t), offsetOf(backend, out), a, b, c);
  return out;
}
