/**
 * Convolution gradients for the `wasm` backend. Stock tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter at all and a naive-loop Conv2DBackpropInput (~1.3 GFLOP/s); both are
 * rewritten here in terms of the backend's XNNPACK forward convolution and matrix product.
 */
import * as tf from '@tensorflow/tfjs';
import { swap01, swap02 } from './simd.js';
import { gemmKernels } from './gemm.js';
import { convGeometry, gemmConvFilterGrad, gemmConvInputGrad } from './conv-gemm.js';
import { KernelArgs, WasmBackend, WasmKernelFunc, disposeAll, f32, i32, offsetOf } from './wasm-util.js';

/** Stock kernels captured before ours are registered (ours call into them). */
export interface StockKernels {
  conv2d: WasmKernelFunc;
  transpose: WasmKernelFunc;
  slice: WasmKernelFunc;
  reverse: WasmKernelFunc;
  batchMatMul: WasmKernelFunc;
}

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): tf.backend_util.Conv2DInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
  if (dataFormat !== 'channelsLast') throw new Error(`wasm conv gradient supports NHWC only, got ${String(attrs.dataFormat)}`);
  const dilations = attrs.dilations as number | [number, number] | undefined;
  if (dilations !== undefined && !tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error('wasm conv gradient: dilations > 1 are not supported in gradients (as in tfjs core)');
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    dataFormat,
  );
}

/** Stock stride-1, undilated NHWC conv2d of `x` by `filter` with explicit [top, bottom, left, right] padding. */
function stride1Conv(stock: StockKernels, backend: WasmBackend, x: tf.TensorInfo, filter: tf.TensorInfo, pad: [number, number, number, number]): tf.TensorInfo {
  return stock.conv2d({
    inputs: { x, filter },
    backend,
    attrs: { strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]], dataFormat: 'NHWC', dimRoundingMode: undefined },
  });
}

/**
 * dW[kh,kw,ci,co] = sum over n,oh,ow of x[n, oh*s+kh-pad, ow*s+kw-pad, ci] * dy[n,oh,ow,co]: a forward
 * convolution of x (batch and channels swapped: [Ci,H,W,N]) with dy as the filter ([OH,OW,N,Co]),
 * stride 1 and dilation = the forward stride; its output [Ci,KH,KW,Co] is transposed back.
 */
export function makeConv2DBackpropFilter(stock: StockKernels): WasmKernelFunc {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const x = inputs.x!;
    const dy = inputs.dy!;
    const filterShape = attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, attrs);
    const geo = convGeometry(info, x.dtype, attrs.dilations, attrs.dataFormat);
    const viaGemm = geo === undefined || dy.dtype !== 'float32' ? undefined : gemmConvFilterGrad(backend, x, dy, geo);
    if (viaGemm !== undefined) return viaGemm;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const { top, left } = info.padInfo;
    // Rows of padded input the products touch; anything below/right of them must be cut off
    // (negative padding), anything missing is zero padding.
    const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
    const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
    const useH = Math.min(h, needH - top);
    const useW = Math.min(w, needW - left);
    const bottom = needH - top - useH;
    const right = needW - left - useW;
    const temps: tf.TensorInfo[] = [];
    let xs = x;
    if (useH < h || useW < w) {
      xs = stock.slice({ inputs: { x }, backend, attrs: { begin: [0, 0, 0, 0], size: [n, useH, useW, c] } });
      temps.push(xs);
    }
    const [, oh, ow, co] = dy.shape as [number, number, number, number];
    const xt =
      swap02(backend, xs, n, useH * useW, c, [c, useH, useW, n]) ?? stock.transpose({ inputs: { x: xs }, backend, attrs: { perm: [3, 1, 2, 0] } });
    const dyt = swap01(backend, dy, n, oh * ow, co, [oh, ow, n, co]) ?? stock.transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
    temps.push(xt, dyt);
    const r = stock.conv2d({
      inputs: { x: xt, filter: dyt },
      backend,
      attrs: {
        strides: [1, 1],
        dilations: [info.strideHeight, info.strideWidth],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
      },
    });
    temps.push(r);
    const [kh, kw] = [filterShape[0]!, filterShape[1]!];
    const out = swap01(backend, r, c, kh * kw, co, [kh, kw, c, co]) ?? stock.transpose({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } });
    disposeAll(backend, ...temps);
    return out;
  };
}

/**
 * dx for a convolution. Stride 1 where dy covers most of the input: a forward convolution of dy
 * with the filter rotated 180 degrees and in/out channels swapped. Other strides: one phase
 * convolution (phaseInput). Otherwise (and where the phase padding does not fit): dcol = dy @ W^T
 * on the XNNPACK matmul path, then col2im (scatter-add of each column back to the input pixels it
 * came from; SIMD when the channels are a multiple of 4).
 */
export function makeConv2DBackpropInput(stock: StockKernels): WasmKernelFunc {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const dy = inputs.dy!;
    const filter = inputs.filter!;
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs);
    const geo = convGeometry(info, dy.dtype, attrs.dilations, attrs.dataFormat);
    const viaGemm = geo === undefined || filter.dtype !== 'float32' ? undefined : gemmConvInputGrad(backend, dy, filter, geo);
    if (viaGemm !== undefined) return viaGemm;
    const { top, left } = info.padInfo;
    // Padding of dy for the full correlation with the rotated filter, chosen so the output has
    // exactly the input's height and width.
    const padTop = info.filterHeight - 1 - top;
    const padLeft = info.filterWidth - 1 - left;
    const padBottom = info.inHeight - info.outHeight + top;
    const padRight = info.inWidth - info.outWidth + left;
    // A 'valid' stride-1 convolution's full correlation multiplies over the whole padded input
    // (H*W outputs), dy W^T only over dy's pixels: for the Nature conv3 (9x9 -> 7x7) that is 65%
    // more products, and col2im with the SIMD scatter measured 10.9 vs 13.8 ms CPU.
    const col2imCheaper = info.inChannels % 4 === 0 && info.inHeight * info.inWidth >= 1.25 * info.outHeight * info.outWidth;
    if (!col2imCheaper && info.strideHeight === 1 && info.strideWidth === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
      const rev = stock.reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } });
      const wt = stock.transpose({ inputs: { x: rev }, backend, attrs: { perm: [0, 1, 3, 2] } });
      const out = stride1Conv(stock, backend, dy, wt, [padTop, padBottom, padLeft, padRight]);
      disposeAll(backend, rev, wt);
      return out;
    }
    if (info.strideHeight === 1 && info.strideWidth === 1) return col2imInput(stock, backend, dy, filter, info);
    return phaseInput(stock, backend, dy, filter, info) ?? col2imInput(stock, backend, dy, filter, info);
  };
}

/**
 * dx for strides > 1 as one stride-1 convolution ("sub-pixel" decomposition). With
 * iy + top = s*u + r, dx[iy] = sum_j dy[u - j] W[r + s*j]: for each residue r a small correlation
 * of dy with the taps r, r+s, ... of the filter. All s*s residues become output channels of one
 * XNNPACK convolution (filter [J, J, Co, s*s*Ci], J = ceil(k/s), missing taps zero), whose output
 * [N, U, V, (ry, rx, ci)] is then interleaved into dx. It multiplies a little more than
 * dy W^T + col2im (zero taps, the border of the grid) but has no scatter-add pass: for the Nature
 * conv2 input gradient it measured 13.3 ms CPU vs 15.5 for col2im with the SIMD scatter (and 22 ms
 * for the earlier JS col2im). Returns undefined when the padding does not fit (dy would need
 * cropping); the caller then uses col2im.
 */
function phaseInput(
  stock: StockKernels,
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo | undefined {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const { top, left } = info.padInfo;
  const jh = Math.ceil(kh / sh);
  const jw = Math.ceil(kw / sw);
  const uMin = Math.floor(top / sh);
  const vMin = Math.floor(left / sw);
  const nu = Math.floor((h - 1 + top) / sh) - uMin + 1;
  const nv = Math.floor((w - 1 + left) / sw) - vMin + 1;
  const padTop = jh - 1 - uMin;
  const padLeft = jw - 1 - vMin;
  const padBottom = nu - oh - padTop + jh - 1;
  const padRight = nv - ow - padLeft + jw - 1;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) return undefined;
  const phases = sh * sw;
  const outC = phases * ci;
  const f = backend.makeOutput([jh, jw, co, outC], 'float32');
  {
    const src = f32(backend, filter);
    const dst = f32(backend, f);
    dst.fill(0);
    // f[ty, tx, o, (ry, rx, c)] = W[ry + s*(J-1-ty), rx + s*(J-1-tx), c, o]
    for (let ty = 0; ty < jh; ty++) {
      for (let ry = 0; ry < sh; ry++) {
        const ky = ry + sh * (jh - 1 - ty);
        if (ky >= kh) continue;
        for (let tx = 0; tx < jw; tx++) {
          for (let rx = 0; rx < sw; rx++) {
            const kx = rx + sw * (jw - 1 - tx);
            if (kx >= kw) continue;
            const phase = ry * sw + rx;
            for (let c = 0; c < ci; c++) {
              const from = ((ky * kw + kx) * ci + c) * co;
              let to = ((ty * jw + tx) * co) * outC + phase * ci + c;
              for (let o = 0; o < co; o++, to += outC) dst[to] = src[from + o]!;
            }
          }
        }
      }
    }
  }
  const y = stride1Conv(stock, backend, dy, f, [padTop, padBottom, padLeft, padRight]);
  const out = backend.makeOutput([n, h, w, ci], 'float32');
  const src = f32(backend, y);
  const dx = f32(backend, out);
  // dx[b, iy, ix, c] = y[b, u - uMin, v - vMin, (ry, rx, c)] with iy + top = s*u + ry, ix + left = s*v + rx.
  for (let b = 0; b < n; b++) {
    for (let iy = 0; iy < h; iy++) {
      const u = Math.floor((iy + top) / sh);
      const ry = iy + top - u * sh;
      const rowBase = ((b * nu + (u - uMin)) * nv) * outC + ry * sw * ci;
      let dst = ((b * h + iy) * w) * ci;
      for (let ix = 0; ix < w; ix++) {
        const v = Math.floor((ix + left) / sw);
        const rx = ix + left - v * sw;
        let from = rowBase + (v - vMin) * outC + rx * ci;
        const end = dst + ci;
        while (dst < end) dx[dst++] = src[from++]!;
      }
    }
  }
  disposeAll(backend, f, y);
  return out;
}

/** col2im scatter plans (dx byte offset per dy-pixel and filter tap, -1 in the padding) by geometry. */
const plans = new Map<string, tf.TensorInfo>();

/** Frees the kept col2im plans (the kernels are being removed). */
export function clearCol2imPlans(backend: WasmBackend): void {
  for (const t of plans.values()) if (backend.dataIdMap.has(t.dataId)) backend.disposeData(t.dataId);
  plans.clear();
}

function col2imPlan(backend: WasmBackend, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const key = [n, h, w, ci, oh, ow, kh, kw, info.strideHeight, info.strideWidth, top, left].join(',');
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = backend.makeOutput([n * oh * ow * kh * kw], 'int32');
    const view = i32(backend, plan);
    let at = 0;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          for (let fy = 0; fy < kh; fy++) {
            const iy = y * info.strideHeight - top + fy;
            for (let fx = 0; fx < kw; fx++) {
              const ix = x * info.strideWidth - left + fx;
              view[at++] = iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : ((b * h + iy) * w + ix) * ci * 4;
            }
          }
        }
      }
    }
    plans.set(key, plan);
  }
  return plan;
}

function col2imInput(
  stock: StockKernels,
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const k = kh * kw * ci;
  const p = n * oh * ow;
  const wT = stock.transpose({ inputs: { x: { dataId: filter.dataId, shape: [k, co], dtype: 'float32' } }, backend, attrs: { perm: [1, 0] } });
  const dcol = stock.batchMatMul({
    inputs: { a: { dataId: dy.dataId, shape: [1, p, co], dtype: 'float32' }, b: { dataId: wT.dataId, shape: [1, co, k], dtype: 'float32' } },
    backend,
    attrs: { transposeA: false, transposeB: false },
  });
  const out = backend.makeOutput([n, h, w, ci], 'float32');
  if (ci % 4 === 0) {
    const plan = col2imPlan(backend, info);
    f32(backend, out).fill(0);
    gemmKernels(backend).addRuns(offsetOf(backend, dcol), offsetOf(backend, out), offsetOf(backend, plan), p * kh * kw, ci);
    disposeAll(backend, wT, dcol);
    return out;
  }
  // Views are taken after the last allocation: makeOutput may grow (and detach) the heap.
  const dx = f32(backend, out);
  const cols = f32(backend, dcol);
  dx.fill(0);
  const { top, left } = info.padInfo;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  let src = 0;
  for (let b = 0; b < n; b++) {
    const imgBase = b * h * w * ci;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        for (let fy = 0; fy < kh; fy++) {
          const iy = y * sh - top + fy;
          if (iy < 0 || iy >= h) {
            src += kw * ci;
            continue;
          }
          const rowBase = imgBase + iy * w * ci;
          for (let fx = 0; fx < kw; fx++) {
            const ix = x * sw - left + fx;
            if (ix < 0 || ix >= w) {
              src += ci;
              continue;
            }
            let dst = rowBase + ix * ci;
            const end = src + ci;
            while (src < end) dx[dst++]! += cols[src++]!;
          }
        }
      }
    }
  }
  disposeAll(backend, wT, dcol);
  return out;
}
