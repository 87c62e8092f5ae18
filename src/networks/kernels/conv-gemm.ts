/**
 * Convolutions (forward, filter gradient, input gradient) as our FMA matrix product (gemm.ts) over
 * im2col chunks. For P = batch * out-pixels, Kf = kh * kw * inChannels and the filter as [Kf, Co]:
 * - forward:  y[P, Co]   = cols[P, Kf] W[Kf, Co]          (cols row-major: gemmR)
 * - filter:   dW[Kf, Co] = cols[P, Kf]^T dy[P, Co]         (cols k-major: gemmK, summed over chunks)
 * - input:    dcols[P, Kf] = dy[P, Co] W^T, then col2im    (W^T is [Co, Kf], small)
 * Pixels are taken in chunks whose cols (~256 KB) stay in L2 between the gather and the product, so
 * no whole im2col matrix is ever written (the Nature net's first layer would need 13 MB). One gather
 * plan per geometry lists, for each pixel, the byte offset of each input run it reads: a filter row
 * (kw * Ci contiguous floats) when no column of the layer is padded, else one tap (Ci floats); -1
 * for runs in the padding. col2im adds the same runs back with that plan.
 *
 * Applies to NHWC float32 convolutions without dilation whose runs are a multiple of 4 floats,
 * with P a multiple of 4 and, per product, Co a multiple of 8 (forward, filter) or Kf a multiple of
 * 8 (input). The callers fall back to the XNNPACK-based kernels otherwise (e.g. acting on 1 frame
 * with a 7x7 output).
 */
import * as tf from '@tensorflow/tfjs';
import { type GemmKernels, TILE_N } from './gemm.js';
import { CALL, type Program, emitGemm, gemmThreads, runPrograms, splitRange } from './gemm-pool.js';
import { swap02 } from './simd.js';
import { WasmBackend, disposeAll, f32, i32, offsetOf } from './wasm-util.js';

/**
 * Multiply-adds under which a convolution stays on XNNPACK: acting on one MinAtar frame (37 K)
 * took about 20% fewer env steps per second on ours, whose per-call set-up (plan lookup, programs)
 * outweighs the product there.
 */
const MIN_CONV_WORK = 1 << 18;

/** Floats of im2col a chunk holds (256 KB). */
const CHUNK_FLOATS = 1 << 16;

/** The geometry of one convolution, as our kernels need it. */
export interface ConvGeometry {
  info: tf.backend_util.Conv2DInfo;
  /** Floats per gathered run: kw * Ci (unpadded columns) or Ci. */
  run: number;
  /** Runs per output pixel: kh or kh * kw. */
  runsPerPixel: number;
  /** Output pixels over the batch. */
  pixels: number;
  /** kh * kw * Ci. */
  kf: number;
}

/** The geometry when our product applies, else undefined. */
export function convGeometry(info: tf.backend_util.Conv2DInfo, dtype: tf.DataType, dilations: unknown, dataFormat: unknown): ConvGeometry | undefined {
  if (dtype !== 'float32' || (dataFormat ?? 'NHWC') !== 'NHWC') return undefined;
  if (dilations !== undefined && !tf.backend_util.tupleValuesAreOne(dilations as number | [number, number])) return undefined;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const { batchSize, outHeight, outWidth, filterHeight: kh, filterWidth: kw, inChannels: ci, inWidth, strideWidth } = info;
  const pixels = batchSize * outHeight * outWidth;
  if (pixels % 4 !== 0 || pixels === 0) return undefined;
  if (pixels * kh * kw * ci * info.outChannels < MIN_CONV_WORK) return undefined;
  const columnsUnpadded = info.padInfo.left === 0 && (outWidth - 1) * strideWidth + kw <= inWidth;
  const run = columnsUnpadded ? kw * ci : ci;
  if (run % 4 !== 0) return undefined;
  return { info, run, runsPerPixel: columnsUnpadded ? kh : kh * kw, pixels, kf: kh * kw * ci };
}

/** Gather plans by geometry (int32 byte offsets into the input image batch, -1 in the padding). */
const plans = new Map<string, tf.TensorInfo>();

/** Frees the kept plans (the kernels are being removed). */
export function clearGatherPlans(backend: WasmBackend): void {
  for (const t of plans.values()) if (backend.dataIdMap.has(t.dataId)) backend.disposeData(t.dataId);
  plans.clear();
}

function gatherPlan(backend: WasmBackend, geo: ConvGeometry): tf.TensorInfo {
  const { info, run } = geo;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const key = [n, h, w, ci, oh, ow, kh, kw, sh, sw, top, left, run].join(',');
  let plan = plans.get(key);
  if (plan !== undefined && backend.dataIdMap.has(plan.dataId)) return plan;
  plan = backend.makeOutput([geo.pixels * geo.runsPerPixel], 'int32');
  const view = i32(backend, plan);
  const taps = run === ci ? kw : 1;
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        for (let fy = 0; fy < kh; fy++) {
          const iy = y * sh - top + fy;
          for (let fx = 0; fx < taps; fx++) {
            const ix = x * sw - left + fx;
            view[at++] = iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : ((b * h + iy) * w + ix) * ci * 4;
          }
        }
      }
    }
  }
  plans.set(key, plan);
  return plan;
}

/** Pixels per chunk: a multiple of 4 whose cols fill about CHUNK_FLOATS, and no more than a thread's share. */
function chunkPixels(geo: ConvGeometry, parts: number): number {
  const share = Math.ceil(geo.pixels / parts / 4) * 4;
  return Math.min(share, Math.max(4, Math.floor(CHUNK_FLOATS / geo.kf / 4) * 4));
}

/** An int32 0 on the heap: the plan of a broadcast gather (the bias copied into every row). */
let zeroPlan: tf.TensorInfo | undefined;

function zeroPlanOffset(backend: WasmBackend): number {
  if (zeroPlan === undefined || !backend.dataIdMap.has(zeroPlan.dataId)) {
    zeroPlan = backend.makeOutput([1], 'int32');
    i32(backend, zeroPlan)[0] = 0;
  }
  return offsetOf(backend, zeroPlan);
}

/** Fills `rows` rows of `n` floats at `dst` with the [n] vector at `src` (n a multiple of 4). */
export function broadcastRows(backend: WasmBackend, g: GemmKernels, src: number, dst: number, rows: number, n: number): void {
  g.gather(src, dst, zeroPlanOffset(backend), rows, n, 0);
}

/** Frees the broadcast plan (the kernels are being removed). */
export function clearZeroPlan(backend: WasmBackend): void {
  if (zeroPlan !== undefined && backend.dataIdMap.has(zeroPlan.dataId)) backend.disposeData(zeroPlan.dataId);
  zeroPlan = undefined;
}

/** The pixel ranges (multiples of 4) each thread takes; `unit` keeps ranges whole multiples of it (an image). */
function pixelRanges(geo: ConvGeometry, parts: number, unit: number): Array<[number, number]> {
  const units = geo.pixels / unit;
  const ranges = splitRange(units, Math.min(parts, units)).map(([u0, u1]): [number, number] => [u0 * unit, u1 * unit]);
  return ranges.every(([p0, p1]) => p0 % 4 === 0 && p1 % 4 === 0) ? ranges : [[0, geo.pixels]];
}

/** How one convolution's pixels are shared out: each thread's range, the chunk size, and the chunks' im2col buffer. */
interface Chunking {
  ranges: Array<[number, number]>;
  /** Pixels per chunk. */
  pc: number;
  /** One chunk's cols per thread: [threads, pc, kf]. */
  cols: tf.TensorInfo;
}

/** One chunk of a thread's pixel range, handed to the code that emits its calls. */
interface Chunk {
  prog: Program;
  /** The thread (0: the caller). */
  thread: number;
  /** First pixel of the chunk, and whether it is the first of its thread's range. */
  p0: number;
  first: boolean;
  /** Pixels in the chunk. */
  count: number;
  /** Byte offset of the thread's cols. */
  cols: number;
}

/** Threads take ranges of whole `unit`s of pixels (4, or an image where they must not overlap). */
function chunking(backend: WasmBackend, geo: ConvGeometry, unit: number): Chunking {
  const ranges = pixelRanges(geo, gemmThreads(backend, geo.pixels * geo.kf * geo.info.outChannels), unit);
  const pc = chunkPixels(geo, ranges.length);
  return { ranges, pc, cols: backend.makeOutput([ranges.length * pc * geo.kf], 'float32') };
}

/** Runs one program per thread over its range, chunk by chunk, with the calls `emit` appends per chunk. */
function runChunks(backend: WasmBackend, geo: ConvGeometry, { ranges, pc, cols }: Chunking, emit: (chunk: Chunk) => void): void {
  const programs = ranges.map(([r0, r1], thread) => {
    const prog: Program = [];
    const cp = offsetOf(backend, cols) + thread * pc * geo.kf * 4;
    for (let p0 = r0; p0 < r1; p0 += pc) emit({ prog, thread, p0, first: p0 === r0, count: Math.min(pc, r1 - p0), cols: cp });
    return prog;
  });
  runPrograms(backend, programs);
}

/**
 * y = conv(x, filter) (+ bias when given, a [Co] vector), or undefined when our product does not
 * apply. Activations are the caller's. Threads take contiguous pixel ranges.
 */
export function gemmConvForward(backend: WasmBackend, x: tf.TensorInfo, filter: tf.TensorInfo, geo: ConvGeometry, bias?: tf.TensorInfo): tf.TensorInfo | undefined {
  const co = geo.info.outChannels;
  if (co % TILE_N !== 0) return undefined;
  if (bias !== undefined && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== co || co % 4 !== 0)) return undefined;
  const { info, kf, run, runsPerPixel } = geo;
  const chunks = chunking(backend, geo, 4);
  const plan = gatherPlan(backend, geo);
  const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, co], 'float32');
  const zp = bias === undefined ? 0 : zeroPlanOffset(backend);
  const [xp, wp, yp, pp] = [offsetOf(backend, x), offsetOf(backend, filter), offsetOf(backend, out), offsetOf(backend, plan)];
  runChunks(backend, geo, chunks, ({ prog, p0, count, cols }) => {
    if (bias !== undefined) prog.push(CALL.gather, 6, offsetOf(backend, bias), yp + p0 * co * 4, zp, count, co, 0);
    prog.push(CALL.gather, 6, xp, cols, pp + p0 * runsPerPixel * 4, count * runsPerPixel, run, 4);
    emitGemm(prog, true, count, co, kf, cols, kf * 4, wp, co * 4, yp + p0 * co * 4, co * 4, bias !== undefined);
  });
  disposeAll(backend, chunks.cols);
  return out;
}

/**
 * dW[kh, kw, Ci, Co] = sum over pixels of cols^T dy, or undefined when our product does not apply.
 * Threads take contiguous pixel ranges into their own partial sums, added up at the end.
 */
export function gemmConvFilterGrad(backend: WasmBackend, x: tf.TensorInfo, dy: tf.TensorInfo, geo: ConvGeometry): tf.TensorInfo | undefined {
  const { info, kf, run, runsPerPixel } = geo;
  const co = info.outChannels;
  if (co % TILE_N !== 0 || kf % 4 !== 0) return undefined;
  const chunks = chunking(backend, geo, 4);
  const threads = chunks.ranges.length;
  const plan = gatherPlan(backend, geo);
  const out = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, co], 'float32');
  const partials = threads > 1 ? backend.makeOutput([(threads - 1) * kf * co], 'float32') : undefined;
  const [xp, dyp, pp] = [offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, plan)];
  runChunks(backend, geo, chunks, ({ prog, thread, p0, first, count, cols }) => {
    const wp = thread === 0 ? offsetOf(backend, out) : offsetOf(backend, partials!) + (thread - 1) * kf * co * 4;
    prog.push(CALL.gather, 6, xp, cols, pp + p0 * runsPerPixel * 4, count * runsPerPixel, run, 4);
    emitGemm(prog, false, kf, co, count, cols, kf * 4, dyp + p0 * co * 4, co * 4, wp, co * 4, !first);
  });
  if (partials !== undefined) {
    const dw = f32(backend, out);
    const part = f32(backend, partials);
    const size = kf * co;
    for (let t = 0; t < threads - 1; t++) for (let i = 0; i < size; i++) dw[i]! += part[t * size + i]!;
  }
  disposeAll(backend, chunks.cols, ...(partials === undefined ? [] : [partials]));
  return out;
}

/**
 * dx[N, H, W, Ci] = col2im(dy W^T), or undefined when our product does not apply. Threads take
 * whole images (col2im adds into overlapping pixels only within one image).
 */
export function gemmConvInputGrad(backend: WasmBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, geo: ConvGeometry): tf.TensorInfo | undefined {
  const { info, kf, run, runsPerPixel } = geo;
  const co = info.outChannels;
  if (kf % TILE_N !== 0 || co % 4 !== 0) return undefined;
  const wT = swap02(backend, { dataId: filter.dataId, shape: [kf, co], dtype: 'float32' }, kf, 1, co, [co, kf]);
  if (wT === undefined) return undefined;
  const chunks = chunking(backend, geo, info.outHeight * info.outWidth);
  const plan = gatherPlan(backend, geo);
  const out = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, info.inChannels], 'float32');
  f32(backend, out).fill(0);
  const [dyp, wtp, dxp, pp] = [offsetOf(backend, dy), offsetOf(backend, wT), offsetOf(backend, out), offsetOf(backend, plan)];
  runChunks(backend, geo, chunks, ({ prog, p0, count, cols }) => {
    emitGemm(prog, true, count, kf, co, dyp + p0 * co * 4, co * 4, wtp, kf * 4, cols, kf * 4, false);
    prog.push(CALL.addRuns, 5, cols, dxp, pp + p0 * runsPerPixel * 4, count * runsPerPixel, run);
  });
  disposeAll(backend, chunks.cols, wT);
  return out;
}
