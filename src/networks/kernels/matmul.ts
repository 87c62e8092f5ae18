/**
 * BatchMatMul for the `wasm` backend. The stock kernel takes XNNPACK's fast path only for a single
 * product without transposes; it caches the packed right operand by tensor id, which pays off for
 * weights but costs a fresh packing (~30-40 ns per element here) for every other right operand.
 * Every other case (transposed operands: each dense backward pass; batched products: attention)
 * runs a naive loop near 0.3-1 GFLOP/s. Here:
 * - single products with transposes are rewritten as a fast-path product, either as asked
 *   (out = A B) or mirrored (out^T = B^T A^T), whichever moves and packs fewer elements: a dense
 *   layer's input gradient dY W^T becomes (W dY^T)^T, which packs the small dY instead of W;
 * - a fresh right operand (every weight matrix after an optimizer step) is not packed when that
 *   costs more than mirroring: x W becomes (W^T x^T)^T, packing the small x^T, with W^T made once
 *   per weight tensor and kept while the weight lives (a training step uses each weight in
 *   several products, the Q-target pass and the forward pass among them). Packing the Nature
 *   net's 3136x512 weight took ~15 ms per step; transposing it takes ~4 ms with tfjs's Transpose,
 *   well under 1 ms with ours (simd.ts). A weight that keeps being
 *   used (a target network, acting between updates) is packed after all, once: on its second use
 *   in a single-row product, or its fourth in any, as XNNPACK's cached product is then fastest;
 * - batches that share one B are folded into the rows of one product;
 * - batches with their own B (attention) stay on the stock loop: for attention-sized slices
 *   (32x16) one fast-path product per slice (operator creation + packing) and a JavaScript loop
 *   both measured slower than it.
 */
import * as tf from '@tensorflow/tfjs';
import type { StockKernels } from './conv.js';
import { swap02 } from './simd.js';
import { TILE_M, TILE_N, gemmKernels } from './gemm.js';
import { CALL, type Program, emitGemm, gemm, gemmThreads, runPrograms, splitRange } from './gemm-pool.js';
import { broadcastRows } from './conv-gemm.js';
import { KernelArgs, WasmBackend, WasmKernelFunc, disposeAll, offsetOf } from './wasm-util.js';

/** Relative cost of packing one element of a fresh right operand vs transposing one element. */
const PACK_COST = 4;
/** Products with fewer rows than this are taken as inference, where a weight is worth packing. */
const FEW_ROWS = 8;
/**
 * Fresh right operands smaller than this are always packed: packing runs from cache then (a
 * 1024x128 weight packed in 1.4 ms vs 1.6 ms mirrored; 3136x512: 17 ms packed vs 10 ms mirrored).
 */
const MIRROR_MIN_ELEMENTS = 1 << 18;
/** Mirrored uses after which a right operand counts as long-lived and is packed. */
const LONG_LIVED_USES = 3;

/** Right operands already packed by XNNPACK (its cache is keyed by tensor, freed with it). */
const packed = new WeakSet<object>();
/** Transposes of right operands, by the operand's data id; dropped once the operand is gone. */
const transposedB = new Map<object, { t: tf.TensorInfo; uses: number }>();

/** Frees transposes whose operand has been disposed. */
function sweep(backend: WasmBackend): void {
  for (const [id, e] of transposedB) {
    if (!backend.dataIdMap.has(id)) {
      backend.disposeData(e.t.dataId);
      transposedB.delete(id);
    }
  }
}

/** Forgets every kept transpose (the backend is being torn down or the kernels removed). */
export function clearTransposeCache(backend: WasmBackend): void {
  for (const e of transposedB.values()) if (backend.dataIdMap.has(e.t.dataId)) backend.disposeData(e.t.dataId);
  transposedB.clear();
}

function info(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: 'float32' };
}

/** [batch, rows, cols] -> [batch, cols, rows]: our SIMD transpose where it applies, else the C++ Transpose. */
function transpose3(stock: StockKernels, backend: WasmBackend, t: tf.TensorInfo, batch: number, rows: number, cols: number): tf.TensorInfo {
  const fast = batch === 1 ? swap02(backend, t, rows, 1, cols, [1, cols, rows]) : undefined;
  return fast ?? stock.transpose({ inputs: { x: info(t, [batch, rows, cols]) }, backend, attrs: { perm: [0, 2, 1] } });
}

/** One fast-path product: a [rows, k] times b [k, cols], both row-major and untransposed. */
function fast(stock: StockKernels, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, rows: number, k: number, cols: number): tf.TensorInfo {
  return stock.batchMatMul({ inputs: { a: info(a, [1, rows, k]), b: info(b, [1, k, cols]) }, backend, attrs: { transposeA: false, transposeB: false } });
}

/** Products with fewer multiply-adds than this stay on XNNPACK (call overheads dominate). */
const MIN_TILED_WORK = 1 << 15;

/**
 * One product out = opA(A) opB(B) as a kernel receives it: A is [batchA, m, k] (or [batchA, k, m]
 * with ta), B is [k, n] (or [n, k] with tb), per batch entry or shared.
 */
interface Product {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  /** A, B stored transposed. */
  ta: boolean;
  tb: boolean;
  /** Entries of A's batch. */
  batchA: number;
  m: number;
  k: number;
  n: number;
}

/**
 * out[rows, n] = opA(A) opB(B) on our FMA product (gemm.ts), which reads A in either layout but
 * needs the right operand k-major ([K, N] row-major). So:
 * - B untransposed: as asked, no copies;
 * - B and A transposed: out^T = B_stored A_stored (B's rows are the left operand's rows, A is
 *   [K, M]: k-major), then out^T transposed back (rows * n floats);
 * - only B transposed (a dense layer's input gradient dY W^T): either transpose B (k * n floats)
 *   or A and the result (rows * k + rows * n), whichever moves fewer floats.
 * `initial` (a [n] bias) pre-fills the rows and is added to. Undefined when the tiles do not fit
 * (rows or n not multiples of 4 or 8 in the orientation used) or the product is small; the
 * caller then uses the XNNPACK path.
 */
function tiled(backend: WasmBackend, product: Product, initial?: tf.TensorInfo): tf.TensorInfo | undefined {
  const { a, b, ta, tb, batchA, m, k, n } = product;
  const rows = batchA * m;
  if ((ta && batchA !== 1) || rows * n * k < MIN_TILED_WORK) return undefined;
  const g = gemmKernels(backend);
  const fits = (mm: number, nn: number) => mm % TILE_M === 0 && nn % TILE_N === 0;
  const asked = (left: tf.TensorInfo, leftRowMajor: boolean, right: tf.TensorInfo): tf.TensorInfo => {
    const out = backend.makeOutput([rows, n], 'float32');
    if (initial !== undefined) broadcastRows(backend, g, offsetOf(backend, initial), offsetOf(backend, out), rows, n);
    gemm(backend, leftRowMajor, rows, n, k, offsetOf(backend, left), leftRowMajor ? k * 4 : rows * 4, offsetOf(backend, right), n * 4, offsetOf(backend, out), n * 4, initial !== undefined);
    return out;
  };
  /** out^T [n, rows] = B_stored [n, k] (row-major) times aT [k, rows], then transposed back. */
  const mirrored = (aT: tf.TensorInfo): tf.TensorInfo | undefined => {
    const outT = backend.makeOutput([n, rows], 'float32');
    gemm(backend, true, n, rows, k, offsetOf(backend, b), k * 4, offsetOf(backend, aT), rows * 4, offsetOf(backend, outT), rows * 4, false);
    const out = swap02(backend, outT, n, 1, rows, [rows, n]);
    disposeAll(backend, outT);
    return out;
  };
  if (!tb) return fits(rows, n) && (initial === undefined || n % 4 === 0) ? asked(a, !ta, b) : undefined;
  if (initial !== undefined) return undefined;
  if (ta) return fits(n, rows) && n % 4 === 0 ? mirrored(a) : undefined;
  if (k * n <= rows * k + rows * n) {
    if (!fits(rows, n) || k % 4 !== 0) return undefined;
    const bT = swap02(backend, b, n, 1, k, [k, n])!;
    const out = asked(a, true, bT);
    disposeAll(backend, bT);
    return out;
  }
  if (!fits(n, rows) || k % 4 !== 0 || n % 4 !== 0) return undefined;
  const aT = swap02(backend, a, rows, 1, k, [k, rows])!;
  const out = mirrored(aT);
  disposeAll(backend, aT);
  return out;
}

/**
 * Batches with their own B per entry (attention: scores Q Kᵀ, then weights times V) on our
 * product, one call per entry, entries split over threads when the batch is large enough. With B
 * transposed, each entry's B is transposed first (attention's entries are small: 32x16 here).
 * Stock wasm runs these in a naive loop (~1 GFLOP/s): 7-8.5 ms per product for the reference
 * Transformer block (128 entries of 32x32x16). Undefined when the tiles do not fit.
 */
function batched(backend: WasmBackend, product: Product): tf.TensorInfo | undefined {
  const { a, b, ta, tb, batchA: batch, m, k, n } = product;
  const work = batch * m * n * k;
  if (m % TILE_M !== 0 || n % TILE_N !== 0 || work < MIN_TILED_WORK || (tb && k % 4 !== 0)) return undefined;
  const out = backend.makeOutput([batch, m, n], 'float32');
  const bT = tb ? backend.makeOutput([batch, k, n], 'float32') : undefined;
  const [ap, bp, op] = [offsetOf(backend, a), offsetOf(backend, bT ?? b), offsetOf(backend, out)];
  const src = offsetOf(backend, b);
  const programs = splitRange(batch, gemmThreads(backend, work)).map(([e0, e1]) => {
    const prog: Program = [];
    for (let e = e0; e < e1; e++) {
      if (tb) prog.push(CALL.swap02, 5, src + e * n * k * 4, bp + e * k * n * 4, n, 1, k);
      emitGemm(prog, !ta, m, n, k, ap + e * m * k * 4, ta ? m * 4 : k * 4, bp + e * k * n * 4, n * 4, op + e * m * n * 4, n * 4, false);
    }
    return prog;
  });
  runPrograms(backend, programs);
  if (bT !== undefined) disposeAll(backend, bT);
  return out;
}

/**
 * out[M,N] = opA(A) opB(B) for one product (A's batch folded into M when B is shared).
 * Plan 1 packs opB(B) [K,N]; plan 2 computes out^T = opB(B)^T opA(A)^T and packs opA(A)^T [K,M].
 */
function single(stock: StockKernels, backend: WasmBackend, product: Product): tf.TensorInfo {
  const { a, b, ta, tb, batchA, m, k, n } = product;
  const rows = batchA * m;
  const ours = tiled(backend, product);
  if (ours !== undefined) return ours;
  if (!ta && !tb) return untransposed(stock, backend, a, b, rows, k, n);
  // A's batch can only be folded into rows when A is untransposed or has batch 1.
  const foldable = !ta || batchA === 1;
  const plan1 = (ta ? rows * k : 0) + (tb ? k * n : 0) + PACK_COST * k * n;
  const plan2 = (tb ? 0 : k * n) + (ta ? 0 : rows * k) + PACK_COST * k * rows + rows * n;
  const temps: tf.TensorInfo[] = [];
  let out: tf.TensorInfo;
  if (plan2 < plan1 && foldable) {
    const bT = tb ? b : transpose3(stock, backend, b, 1, k, n);
    const aT = ta ? a : transpose3(stock, backend, a, 1, rows, k);
    if (bT !== b) temps.push(bT);
    if (aT !== a) temps.push(aT);
    const outT = fast(stock, backend, bT, aT, n, k, rows);
    temps.push(outT);
    out = transpose3(stock, backend, outT, 1, n, rows);
  } else {
    const a2 = ta ? transpose3(stock, backend, a, batchA, k, m) : a;
    const b2 = tb ? transpose3(stock, backend, b, 1, n, k) : b;
    if (a2 !== a) temps.push(a2);
    if (b2 !== b) temps.push(b2);
    out = fast(stock, backend, a2, b2, rows, k, n);
  }
  disposeAll(backend, ...temps);
  return out;
}

/**
 * Whether out = A B should be computed mirrored through a kept B^T (see the file comment). When
 * not, B counts as packed from now on (the caller hands it to XNNPACK) and any kept B^T is freed.
 */
function mirrorB(backend: WasmBackend, b: tf.TensorInfo, rows: number, k: number, n: number): boolean {
  sweep(backend);
  const kept = transposedB.get(b.dataId);
  const asked = PACK_COST * k * n;
  const mirrored = (kept === undefined ? k * n : 0) + rows * k + PACK_COST * k * rows + rows * n;
  const longLived = kept !== undefined && (rows < FEW_ROWS || kept.uses >= LONG_LIVED_USES);
  if (packed.has(b.dataId) || longLived || k * n < MIRROR_MIN_ELEMENTS || asked <= mirrored) {
    packed.add(b.dataId);
    if (kept !== undefined) {
      backend.disposeData(kept.t.dataId);
      transposedB.delete(b.dataId);
    }
    return false;
  }
  return true;
}

/** out[rows, n] = (B^T A^T)^T with B^T made once per B and kept. */
function mirroredProduct(stock: StockKernels, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, rows: number, k: number, n: number): tf.TensorInfo {
  let e = transposedB.get(b.dataId);
  if (e === undefined) {
    e = { t: transpose3(stock, backend, b, 1, k, n), uses: 0 };
    transposedB.set(b.dataId, e);
  }
  e.uses++;
  const aT = transpose3(stock, backend, a, 1, rows, k);
  const outT = fast(stock, backend, e.t, aT, n, k, rows);
  const out = transpose3(stock, backend, outT, 1, n, rows);
  disposeAll(backend, aT, outT);
  return out;
}

/** out = A B for a fresh or packed B: as asked, or mirrored through a kept B^T when cheaper. */
function untransposed(stock: StockKernels, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, rows: number, k: number, n: number): tf.TensorInfo {
  return mirrorB(backend, b, rows, k, n) ? mirroredProduct(stock, backend, a, b, rows, k, n) : fast(stock, backend, a, b, rows, k, n);
}

/** Element-wise stock kernels the fused product applies after a mirrored product. */
export interface FusedTail {
  add: WasmKernelFunc;
  /** By tfjs fused activation name; others (prelu) go to the stock fused kernel. */
  activations: Record<string, { kernel: WasmKernelFunc; attrs?: (a: Record<string, unknown>) => Record<string, unknown> }>;
}

/**
 * _FusedMatMul (tfjs-layers' Dense: x W + bias, activation). The stock kernel packs every fresh
 * weight like BatchMatMul does (~15 ms per step for the Nature net's 3136x512 layer): when the
 * mirrored product pays, it is used, then the bias and activation are applied by the stock
 * element-wise kernels; otherwise the stock kernel runs unchanged.
 */
export function makeFusedMatMul(stock: StockKernels, stockFused: WasmKernelFunc, tail: FusedTail): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a!;
    const b = inputs.b!;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    const act = activation === 'linear' ? undefined : tail.activations[activation];
    const simple = a.dtype === 'float32' && b.dtype === 'float32' && attrs.transposeA !== true && attrs.transposeB !== true && inputs.preluActivationWeights == null;
    if (!simple || (activation !== 'linear' && act === undefined)) return stockFused(args);
    const ar = a.shape.length;
    const br = b.shape.length;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const [m, k, n] = [a.shape[ar - 2]!, a.shape[ar - 1]!, b.shape[br - 1]!];
    if (tf.util.sizeFromShape(b.shape.slice(0, -2)) !== 1 || b.shape[br - 2] !== k) return stockFused(args);
    const bias = inputs.bias ?? undefined;
    const biasFolds = bias !== undefined && bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === n;
    let out = tiled(backend, { a, b, ta: false, tb: false, batchA, m, k, n }, biasFolds ? bias : undefined);
    const biasDone = out !== undefined && biasFolds;
    if (out === undefined) {
      if (!mirrorB(backend, b, batchA * m, k, n)) return stockFused(args);
      out = mirroredProduct(stock, backend, a, b, batchA * m, k, n);
    }
    out.shape = [...a.shape.slice(0, -2), m, n];
    if (inputs.bias != null && !biasDone) {
      const biased = tail.add({ inputs: { a: out, b: inputs.bias }, backend, attrs: {} });
      disposeAll(backend, out);
      out = biased;
    }
    if (act !== undefined) {
      const activated = act.kernel({ inputs: { x: out }, backend, attrs: act.attrs?.(attrs) ?? {} });
      disposeAll(backend, out);
      out = activated;
    }
    return out;
  };
}

/** Builds our BatchMatMul on top of the stock kernels. */
export function makeBatchMatMul(stock: StockKernels): WasmKernelFunc {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const a = inputs.a!;
    const b = inputs.b!;
    const ta = attrs.transposeA === true;
    const tb = attrs.transposeB === true;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock.batchMatMul({ inputs, backend, attrs });
    const ar = a.shape.length;
    const br = b.shape.length;
    const m = ta ? a.shape[ar - 1]! : a.shape[ar - 2]!;
    const k = ta ? a.shape[ar - 2]! : a.shape[ar - 1]!;
    const kb = tb ? b.shape[br - 1]! : b.shape[br - 2]!;
    const n = tb ? b.shape[br - 2]! : b.shape[br - 1]!;
    if (k !== kb) {
      throw new Error(`matMul: inner shapes ${k} and ${kb} of tensors with shapes ${a.shape} and ${b.shape} (transposeA=${ta}, transposeB=${tb}) must match`);
    }
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
    let out: tf.TensorInfo;
    if (batchB === 1) out = single(stock, backend, { a, b, ta, tb, batchA, m, k, n });
    else {
      const perEntry = batchA === batchB && tf.util.arraysEqual(a.shape.slice(0, -2), b.shape.slice(0, -2)) ? batched(backend, { a, b, ta, tb, batchA, m, k, n }) : undefined;
      if (perEntry === undefined) return stock.batchMatMul({ inputs, backend, attrs });
      out = perEntry;
    }
    out.shape = outShape;
    return out;
  };
}
