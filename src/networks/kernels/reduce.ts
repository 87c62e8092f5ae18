/**
 * Sum and Cast for the `wasm` backend, for the two cases a train step hits on every layer.
 * - Sum over leading axes (every bias gradient: dy summed over batch, height, width): the stock
 *   kernel first transposes the reduced axes innermost (a full copy of dy), then sums; here one
 *   SIMD pass adds the rows into the output. Other reductions go to the stock kernel.
 * - Cast to the dtype the tensor already has (the ReLU gradient casts its float32 mask to
 *   float32): the stock kernel copies; tensor data is immutable, so the output shares it, as
 *   Identity does.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd.js';
import { KernelArgs, WasmKernelFunc, offsetOf } from './wasm-util.js';

/** Wraps the stock Sum with the leading-axes SIMD path. */
export function makeSum(stockSum: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const cols = tf.util.sizeFromShape(x.shape.slice(axes.length));
    if (x.dtype !== 'float32' || !leading || cols % 4 !== 0 || rows === 0 || cols === 0) return stockSum(args);
    const kept = x.shape.slice(axes.length);
    const shape = attrs.keepDims === true ? [...new Array<number>(axes.length).fill(1), ...kept] : kept;
    const out = backend.makeOutput(shape, 'float32');
    simdKernels(backend).colsum(offsetOf(backend, x), offsetOf(backend, out), rows, cols);
    return out;
  };
}

/** Wraps the stock Cast: same-dtype casts share the input's data. */
export function makeCast(stockCast: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x!;
    if (args.attrs.dtype !== x.dtype || x.dtype === 'string') return stockCast(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
