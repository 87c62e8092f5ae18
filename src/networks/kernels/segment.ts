/** UnsortedSegmentSum for the `wasm` backend: the gradient of `gather` and of embedding lookups. */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, WasmKernelFunc, f32, i32 } from './wasm-util.js';

/** out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as in TensorFlow. */
export const unsortedSegmentSum: WasmKernelFunc = ({ inputs, backend, attrs }: KernelArgs) => {
  const x = inputs.x!;
  const ids = inputs.segmentIds!;
  const numSegments = attrs.numSegments as number;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  const inner = x.shape.slice(ids.shape.length);
  const innerSize = tf.util.sizeFromShape(inner);
  const out = backend.makeOutput([numSegments, ...inner], x.dtype);
  const dst = x.dtype === 'float32' ? f32(backend, out) : i32(backend, out);
  const src = x.dtype === 'float32' ? f32(backend, x) : i32(backend, x);
  const seg = i32(backend, ids);
  dst.fill(0);
  for (let i = 0; i < seg.length; i++) {
    const s = seg[i]!;
    if (s < 0 || s >= numSegments) continue;
    let d = s * innerSize;
    let j = i * innerSize;
    const end = j + innerSize;
    while (j < end) dst[d++]! += src[j++]!;
  }
  return out;
};
