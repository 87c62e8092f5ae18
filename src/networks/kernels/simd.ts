/**
 * A small WebAssembly SIMD module of our own that works directly on the tfjs `wasm` backend's heap
 * (it imports the backend's memory). JavaScript loops over heap views run one scalar at a time
 * (~11 ns per element for an Adam step here); f32x4 code on the same memory does four lanes per
 * instruction at memory speed. The module is assembled here from opcodes (no toolchain needed),
 * and every f32x4 operation is IEEE single precision, so results equal those of the tfjs ops they
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
import { F32, I32, V128, doWhile, fadd, fdiv, fmax, fmul, fsqrt, fsub, imul, load, op, section, shl2, shuffle32, splat, store, str, uleb, vec } from './wasm-asm.js';
import { type HeapModule, type WasmBackend, heapModule, offsetOf } from './wasm-util.js';

/** v128.load from (param `ptr` + local `i`). */
function loadAt(ptr: number, i: number): number[] {
  return [...op.get(ptr), ...op.get(i), ...op.add, ...load];
}

/** v128.store of the instructions in `value` to (param `ptr` + local `i`). */
function storeAt(ptr: number, i: number, value: number[]): number[] {
  return [...op.get(ptr), ...op.get(i), ...op.add, ...value, ...store];
}

/** A counted loop over byte offsets i = 0, 16, ... < 4 * n (param 0), with `body` inside. */
function loop4(i: number, end: number, body: number[]): number[] {
  return [
    ...op.get(0),
    ...op.i32(2),
    0x74, // i32.shl
    ...op.set(end),
    ...op.i32(0),
    ...op.set(i),
    ...op.block,
    ...op.get(i),
    ...op.get(end),
    0x4f, // i32.ge_u
    ...op.brIf(0),
    ...op.loop,
    ...body,
    ...op.get(i),
    ...op.i32(16),
    ...op.add,
    ...op.tee(i),
    ...op.get(end),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
}

function splatParam(param: number, local: number): number[] {
  return [...op.get(param), ...splat, ...op.set(local)];
}

/** Adam: params 0..13 as in the file comment; locals i, end, then v128 b1 c1 b2 c2 lr eps g m v. */
function adamBody(): { locals: number[][]; code: number[] } {
  const [i, end] = [14, 15];
  const [b1, c1, b2, c2, lr, eps, g, m, v] = [16, 17, 18, 19, 20, 21, 22, 23, 24];
  const code = [
    ...splatParam(8, b1),
    ...splatParam(9, c1),
    ...splatParam(10, b2),
    ...splatParam(11, c2),
    ...splatParam(12, lr),
    ...splatParam(13, eps),
    ...loop4(i, end, [
      ...loadAt(2, i),
      ...op.set(g),
      // m = m * b1 + g * (1 - b1)
      ...loadAt(3, i),
      ...op.get(b1),
      ...fmul,
      ...op.get(g),
      ...op.get(c1),
      ...fmul,
      ...fadd,
      ...op.set(m),
      // v = v * b2 + g^2 * (1 - b2)
      ...loadAt(4, i),
      ...op.get(b2),
      ...fmul,
      ...op.get(g),
      ...op.get(g),
      ...fmul,
      ...op.get(c2),
      ...fmul,
      ...fadd,
      ...op.set(v),
      ...storeAt(6, i, op.get(m)),
      ...storeAt(7, i, op.get(v)),
      // w = w - lr * (m / (sqrt(v) + eps))
      ...storeAt(5, i, [...loadAt(1, i), ...op.get(lr), ...op.get(m), ...op.get(v), ...fsqrt, ...op.get(eps), ...fadd, ...fdiv, ...fmul, ...fsub]),
    ]),
  ];
  return { locals: [[...uleb(2), I32], [...uleb(9), V128]], code };
}

/** Centred RMSProp: params 0..15 as in the file comment; locals i, end, then v128 d c lr eps mu g sq mean upd zero. */
function rmspropBody(): { locals: number[][]; code: number[] } {
  const [i, end] = [16, 17];
  const [d, c, lr, eps, mu, g, sq, mean, upd, zero] = [18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
  const code = [
    ...splatParam(10, d),
    ...splatParam(11, c),
    ...splatParam(12, lr),
    ...splatParam(13, eps),
    ...splatParam(14, mu),
    ...loop4(i, end, [
      ...loadAt(2, i),
      ...op.set(g),
      // sq = sq * d + g^2 * (1 - d)
      ...loadAt(3, i),
      ...op.get(d),
      ...fmul,
      ...op.get(g),
      ...op.get(g),
      ...fmul,
      ...op.get(c),
      ...fmul,
      ...fadd,
      ...op.set(sq),
      // mean = mean * d + g * (1 - d)
      ...loadAt(4, i),
      ...op.get(d),
      ...fmul,
      ...op.get(g),
      ...op.get(c),
      ...fmul,
      ...fadd,
      ...op.set(mean),
      ...storeAt(7, i, op.get(sq)),
      ...storeAt(8, i, op.get(mean)),
      // upd = lr * (g / (sqrt(relu(sq - mean^2)) + eps))
      ...op.get(lr),
      ...op.get(g),
      ...op.get(sq),
      ...op.get(mean),
      ...op.get(mean),
      ...fmul,
      ...fsub,
      ...op.get(zero),
      ...fmax,
      ...fsqrt,
      ...op.get(eps),
      ...fadd,
      ...fdiv,
      ...fmul,
      ...op.set(upd),
      // with momentum: mom = mom * mu + upd; upd = mom
      ...op.get(15),
      ...op.if,
      ...loadAt(5, i),
      ...op.get(mu),
      ...fmul,
      ...op.get(upd),
      ...fadd,
      ...op.set(upd),
      ...storeAt(9, i, op.get(upd)),
      ...op.end,
      ...storeAt(6, i, [...loadAt(1, i), ...op.get(upd), ...fsub]),
    ]),
  ];
  return { locals: [[...uleb(2), I32], [...uleb(10), V128]], code };
}

/**
 * swap02(src, dst, A, B, C): dst[c][b][a] = src[a][b][c] (floats; A and C multiples of 4, all > 0),
 * by 4x4 blocks held in registers. A 2-D transpose is B = 1; tfjs perm [3,1,2,0] of NHWC is
 * A = N, B = H*W, C = channels.
 */
function swap02Body(): { locals: number[][]; code: number[] } {
  const [src, dst, A, B, C] = [0, 1, 2, 3, 4];
  const [b, a, c, sIn, sOut, pin, pout] = [5, 6, 7, 8, 9, 10, 11];
  const [r0, r1, r2, r3, t0, t1, t2, t3] = [12, 13, 14, 15, 16, 17, 18, 19];
  const at = (ptr: number, stride: number, times: number) => [...op.get(ptr), ...op.get(stride), ...op.i32(times), ...imul, ...op.add];
  const code = [
    // sIn = B*C*4 bytes between rows a and a+1; sOut = B*A*4 between rows c and c+1.
    ...op.get(B), ...op.get(C), ...imul, ...shl2, ...op.set(sIn),
    ...op.get(B), ...op.get(A), ...imul, ...shl2, ...op.set(sOut),
    ...doWhile(b, 1, B, [
      ...doWhile(a, 4, A, [
        ...op.get(src), ...op.get(a), ...op.get(B), ...imul, ...op.get(b), ...op.add, ...op.get(C), ...imul, ...shl2, ...op.add, ...op.set(pin),
        ...op.get(dst), ...op.get(b), ...op.get(A), ...imul, ...op.get(a), ...op.add, ...shl2, ...op.add, ...op.set(pout),
        ...doWhile(c, 4, C, [
          ...op.get(pin), ...load, ...op.set(r0),
          ...at(pin, sIn, 1), ...load, ...op.set(r1),
          ...at(pin, sIn, 2), ...load, ...op.set(r2),
          ...at(pin, sIn, 3), ...load, ...op.set(r3),
          ...op.get(r0), ...op.get(r1), ...shuffle32([0, 4, 1, 5]), ...op.set(t0),
          ...op.get(r0), ...op.get(r1), ...shuffle32([2, 6, 3, 7]), ...op.set(t1),
          ...op.get(r2), ...op.get(r3), ...shuffle32([0, 4, 1, 5]), ...op.set(t2),
          ...op.get(r2), ...op.get(r3), ...shuffle32([2, 6, 3, 7]), ...op.set(t3),
          ...op.get(pout), ...op.get(t0), ...op.get(t2), ...shuffle32([0, 1, 4, 5]), ...store,
          ...at(pout, sOut, 1), ...op.get(t0), ...op.get(t2), ...shuffle32([2, 3, 6, 7]), ...store,
          ...at(pout, sOut, 2), ...op.get(t1), ...op.get(t3), ...shuffle32([0, 1, 4, 5]), ...store,
          ...at(pout, sOut, 3), ...op.get(t1), ...op.get(t3), ...shuffle32([2, 3, 6, 7]), ...store,
          ...op.get(pin), ...op.i32(16), ...op.add, ...op.set(pin),
          ...at(pout, sOut, 4), ...op.set(pout),
        ]),
      ]),
    ]),
  ];
  return { locals: [[...uleb(7), I32], [...uleb(8), V128]], code };
}

/** swap01(src, dst, A, B, C): dst[b][a][c] = src[a][b][c] (floats; C a multiple of 4, all > 0). tfjs perm [1,2,0,3] of NHWC is A = N, B = H*W. */
function swap01Body(): { locals: number[][]; code: number[] } {
  const [src, dst, A, B, C] = [0, 1, 2, 3, 4];
  const [a, b, c, pin, pout] = [5, 6, 7, 8, 9];
  const code = [
    ...op.get(src), ...op.set(pin),
    ...doWhile(a, 1, A, [
      ...doWhile(b, 1, B, [
        // pout = dst + (b*A + a)*C*4; src rows are read in order.
        ...op.get(dst), ...op.get(b), ...op.get(A), ...imul, ...op.get(a), ...op.add, ...op.get(C), ...imul, ...shl2, ...op.add, ...op.set(pout),
        ...doWhile(c, 4, C, [
          ...op.get(pout), ...op.get(pin), ...load, ...store,
          ...op.get(pin), ...op.i32(16), ...op.add, ...op.set(pin),
          ...op.get(pout), ...op.i32(16), ...op.add, ...op.set(pout),
        ]),
      ]),
    ]),
  ];
  return { locals: [[...uleb(5), I32]], code };
}

/** colsum(src, dst, R, C): dst[c] = sum over r of src[r][c], rows added in order (C a multiple of 4, all > 0). */
function colsumBody(): { locals: number[][]; code: number[] } {
  const [src, dst, R, C] = [0, 1, 2, 3];
  const [r, c, pin, pout] = [4, 5, 6, 7];
  const zero = 8;
  const code = [
    ...op.get(dst), ...op.set(pout),
    ...doWhile(c, 4, C, [...op.get(pout), ...op.get(zero), ...store, ...op.get(pout), ...op.i32(16), ...op.add, ...op.set(pout)]),
    ...op.get(src), ...op.set(pin),
    ...doWhile(r, 1, R, [
      ...op.get(dst), ...op.set(pout),
      ...doWhile(c, 4, C, [
        ...op.get(pout), ...op.get(pout), ...load, ...op.get(pin), ...load, ...fadd, ...store,
        ...op.get(pin), ...op.i32(16), ...op.add, ...op.set(pin),
        ...op.get(pout), ...op.i32(16), ...op.add, ...op.set(pout),
      ]),
    ]),
  ];
  return { locals: [[...uleb(4), I32], [...uleb(1), V128]], code };
}

export function assemble(shared: boolean): Uint8Array<ArrayBuffer> {
  const adamType = [0x60, ...vec([...Array(8).fill([I32]), ...Array(6).fill([F32])]), 0x00];
  const rmsType = [0x60, ...vec([...Array(10).fill([I32]), ...Array(5).fill([F32]), [I32]]), 0x00];
  // Shared memories must be imported as shared with a maximum; 65536 pages is the wasm32 limit.
  const limits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const swapType = [0x60, ...vec(Array(5).fill([I32])), 0x00];
  const colsumType = [0x60, ...vec(Array(4).fill([I32])), 0x00];
  const funcs = [adamBody(), rmspropBody(), swap02Body(), swap01Body(), colsumBody()];
  const code = funcs.map((f) => {
    const body = [...vec(f.locals), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([adamType, rmsType, swapType, colsumType])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]])),
    ...section(3, vec([uleb(0), uleb(1), uleb(2), uleb(2), uleb(3)])),
    ...section(
      7,
      vec([
        [...str('adam'), 0x00, ...uleb(0)],
        [...str('rmsprop'), 0x00, ...uleb(1)],
        [...str('swap02'), 0x00, ...uleb(2)],
        [...str('swap01'), 0x00, ...uleb(3)],
        [...str('colsum'), 0x00, ...uleb(4)],
      ]),
    ),
    ...section(10, vec(code)),
  ]);
}

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

const instances = new WeakMap<WebAssembly.Memory, HeapModule<SimdKernels>>();

/** The compiled module and its instance on the backend's heap (built once per heap; gemm-pool.ts gives workers the module). */
export function simdInstance(backend: WasmBackend): HeapModule<SimdKernels> {
  return heapModule(backend, instances, assemble);
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
