/**
 * Forward convolution for the `wasm` backend, for the one shape class where XNNPACK is slow: few
 * input channels with a large strided kernel (the Nature DQN's first layer: 4 channels, 8x8,
 * stride 4). XNNPACK then gathers 4-float runs per kernel tap (12 GFLOP/s here). Space-to-depth
 * turns it into the same product with s*s times the channels and a (k/s)x(k/s) kernel at stride 1:
 * xs[n, a, b, (ry, rx, c)] = x[n, s*a + ry, s*b + rx, c] and
 * ws[jy, jx, (ry, rx, c), o] = W[s*jy + ry, s*jx + rx, c, o]; measured 16.9 -> 12.6 ms CPU for
 * that layer at batch 32. Every other convolution goes to the stock kernel unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, WasmBackend, WasmKernelFunc, disposeAll, f32, offsetOf } from './wasm-util.js';
import { simdKernels } from './simd.js';
import { convGeometry, gemmConvForward } from './conv-gemm.js';
import type { FusedTail } from './matmul.js';

/** Input channels up to which space-to-depth is used (measured on 4; XNNPACK is fine from 32). */
const MAX_CHANNELS = 8;

/** Rearranged filters by the original filter's data id; dropped once the filter is gone. */
const keptFilters = new Map<object, tf.TensorInfo>();

function sweep(backend: WasmBackend): void {
  for (const [id, t] of keptFilters) {
    if (!backend.dataIdMap.has(id)) {
      backend.disposeData(t.dataId);
      keptFilters.delete(id);
    }
  }
}

/** Forgets every kept filter (the kernels are being removed). */
export function clearFilterCache(backend: WasmBackend): void {
  for (const t of keptFilters.values()) if (backend.dataIdMap.has(t.dataId)) backend.disposeData(t.dataId);
  keptFilters.clear();
}

/** The stride when space-to-depth applies to this convolution, else undefined. */
function s2dStride(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: Record<string, unknown>): number | undefined {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4) return undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return undefined;
  const dil = attrs.dilations as number | [number, number] | undefined;
  if (dil !== undefined && !tf.backend_util.tupleValuesAreOne(dil)) return undefined;
  const [, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw] = filter.shape as [number, number, number, number];
  const strides = attrs.strides as number | [number, number];
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  if (sh !== sw || sh < 2 || c > MAX_CHANNELS || (sh * c) % 4 !== 0) return undefined;
  const s = sh;
  if (kh % s !== 0 || kw % s !== 0 || h % s !== 0 || w % s !== 0) return undefined;
  // Only unpadded ('valid' or all-zero explicit) convolutions: the rearranged input has no border.
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], s, 1, attrs.pad as 'valid', attrs.dimRoundingMode as 'floor' | undefined);
  const p = info.padInfo;
  return p.top === 0 && p.left === 0 && p.bottom === 0 && p.right === 0 ? s : undefined;
}

/** xs[n, a, b, (ry, rx, c)] = x[n, s*a + ry, s*b + rx, c] via one SIMD block swap per output row. */
function spaceToDepth(backend: WasmBackend, x: tf.TensorInfo, s: number): tf.TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const hb = h / s;
  const wb = w / s;
  const out = backend.makeOutput([n, hb, wb, s * s * c], 'float32');
  const simd = simdKernels(backend);
  const src = offsetOf(backend, x);
  const dst = offsetOf(backend, out);
  // Each block of s input rows [ry, b, (rx, c)] becomes one output row [b, ry, (rx, c)].
  const block = s * w * c * 4;
  for (let r = 0; r < n * hb; r++) simd.swap01(src + r * block, dst + r * block, s, wb, s * c);
  return out;
}

/** ws[jy, jx, (ry, rx, c), o] = W[s*jy + ry, s*jx + rx, c, o]. */
function rearrangeFilter(backend: WasmBackend, filter: tf.TensorInfo, s: number): tf.TensorInfo {
  const [kh, kw, c, co] = filter.shape as [number, number, number, number];
  const jh = kh / s;
  const jw = kw / s;
  const out = backend.makeOutput([jh, jw, s * s * c, co], 'float32');
  const src = f32(backend, filter);
  const dst = f32(backend, out);
  const run = c * co;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const to = ((Math.floor(ky / s) * jw + Math.floor(kx / s)) * s * s + (ky % s) * s + (kx % s)) * run;
      dst.set(src.subarray((ky * kw + kx) * run, (ky * kw + kx + 1) * run), to);
    }
  }
  return out;
}

/**
 * Our product (conv-gemm.ts) where it applies, with FusedConv2D's bias folded in and its activation
 * applied by the stock element-wise kernel; else the space-to-depth rewrite; else the stock kernel.
 */
function gemmForward(args: KernelArgs, tail: FusedTail): tf.TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const x = inputs.x!;
  const filter = inputs.filter!;
  if (x.shape.length !== 4 || filter.dtype !== 'float32' || inputs.preluActivationWeights != null) return undefined;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const act = activation === 'linear' ? undefined : tail.activations[activation];
  if (activation !== 'linear' && act === undefined) return undefined;
  const dilations = attrs.dilations as number | [number, number] | undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides as [number, number],
    dilations ?? 1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
  const geo = convGeometry(info, x.dtype, dilations, attrs.dataFormat);
  if (geo === undefined) return undefined;
  const out = gemmConvForward(backend, x, filter, geo, inputs.bias ?? undefined);
  if (out === undefined || act === undefined) return out;
  const activated = act.kernel({ inputs: { x: out }, backend, attrs: act.attrs?.(attrs) ?? {} });
  disposeAll(backend, out);
  return activated;
}

/** Wraps a stock forward convolution (Conv2D or FusedConv2D): our product, space-to-depth, or stock. */
export function makeConv(stockConv: WasmKernelFunc, tail: FusedTail): WasmKernelFunc {
  return (args: KernelArgs) => {
    const viaGemm = gemmForward(args, tail);
    if (viaGemm !== undefined) return viaGemm;
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const filter = inputs.filter!;
    const s = s2dStride(x, filter, attrs);
    if (s === undefined) return stockConv(args);
    sweep(backend);
    let ws = keptFilters.get(filter.dataId);
    if (ws === undefined) {
      ws = rearrangeFilter(backend, filter, s);
      keptFilters.set(filter.dataId, ws);
    }
    const xs = spaceToDepth(backend, x, s);
    const out = stockConv({ inputs: { ...inputs, x: xs, filter: ws }, backend, attrs: { ...attrs, strides: [1, 1], pad: 'valid', dilations: [1, 1] } });
    disposeAll(backend, xs);
    return out;
  };
}
