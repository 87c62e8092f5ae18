/**
 * Kernels that only copy (Slice, SplitV, Unpack, GatherV2) for the `wasm` backend. The stock ones
 * compute an index per element: 10 ns per float here. Measured with the reference nets (50 calls
 * each): an embedding gather of 1,024 rows of 64 from a 500-row table 4.9 ms, splitting a
 * [1024, 192] projection into q, k, v 2.5 ms, unstacking an LSTM's [16, 16, 512] input per step
 * 2.2 ms. Here each contiguous run is one `copyWithin` on the heap (a memmove).
 *
 * float32, int32 and bool tensors (the heap's three layouts); anything else goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, WasmBackend, WasmKernelFunc } from './wasm-util.js';

type Heap = Float32Array | Int32Array | Uint8Array;

/**
 * The whole heap typed for the tensor's dtype, and the tensor's first element in it; undefined for
 * dtypes we do not copy. Both ends of every copy are on this one heap, so a run is a `copyWithin`
 * (a memmove, no subarray objects).
 */
function view(backend: WasmBackend, t: tf.TensorInfo): { heap: Heap; at: number } | undefined {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  const buf = backend.wasm.HEAPU8.buffer;
  if (t.dtype === 'float32') return { heap: new Float32Array(buf), at: memoryOffset / 4 };
  if (t.dtype === 'int32') return { heap: new Int32Array(buf), at: memoryOffset / 4 };
  if (t.dtype === 'bool') return { heap: new Uint8Array(buf), at: memoryOffset };
  return undefined;
}

function copyable(t: tf.TensorInfo): boolean {
  return t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool';
}

/**
 * out = x[begin : begin + size] (begin and size already normalised). The trailing dimensions the
 * slice covers whole are copied as one run per index of the leading ones.
 */
function sliceInto(backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  // Views only after makeOutput, which may grow (and detach) the heap.
  const src = view(backend, x)!;
  const dst = view(backend, out)!;
  const heap = src.heap;
  const shape = x.shape;
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape);
  // The run: dimension `k` and everything after it; dims after k are covered whole.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k] && begin[k] === 0) k--;
  const inner = k + 1 < rank ? strides[k]! : 1;
  const run = size[k]! * inner;
  const count = total / run;
  const idx = new Array<number>(k).fill(0);
  let base = 0;
  for (let d = 0; d <= k; d++) base += begin[d]! * (d < rank - 1 ? strides[d]! : 1);
  for (let c = 0; c < count; c++) {
    let from = src.at + base;
    for (let d = 0; d < k; d++) from += idx[d]! * strides[d]!;
    heap.copyWithin(dst.at + c * run, from, from + run);
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function makeSlice(stock: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x!;
    if (!copyable(x) || x.shape.length === 0) return stock(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs.begin as number[], args.attrs.size as number[]) as [number[], number[]];
    return sliceInto(args.backend, x, begin, size);
  };
}

export function makeSplitV(stock: WasmKernelFunc): WasmKernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.x!;
    if (!copyable(x)) return stock(args);
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs.numOrSizeSplits as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const size = [...x.shape];
    return sizes.map((s) => {
      size[axis] = s;
      // Copies: the output keeps the shape array it is given.
      const out = sliceInto(args.backend, x, [...begin], [...size]);
      begin[axis]! += s;
      return out;
    });
  }) as unknown as WasmKernelFunc;
}

export function makeUnpack(stock: WasmKernelFunc): WasmKernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.value!;
    if (!copyable(x)) return stock(args);
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const num = x.shape[axis]!;
    const begin = new Array<number>(x.shape.length).fill(0);
    const size = [...x.shape];
    size[axis] = 1;
    const outShape = x.shape.filter((_, d) => d !== axis);
    return Array.from({ length: num }, (_, i) => {
      begin[axis] = i;
      const out = sliceInto(args.backend, x, [...begin], [...size]);
      out.shape = [...outShape];
      return out;
    });
  }) as unknown as WasmKernelFunc;
}

/** GatherV2 without batch dimensions: out[o, i, s] = x[o, indices[i], s]. Out-of-range indices throw, as on cpu. */
export function makeGather(stock: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const batchDims = (args.attrs.batchDims as number | undefined) ?? 0;
    if (!copyable(x) || indices.dtype !== 'int32' || batchDims !== 0) return stock(args);
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as unknown as tf.Tensor, indices as unknown as tf.Tensor, axis, 0);
    const out = args.backend.makeOutput(info.outputShape, x.dtype);
    const src = view(args.backend, x)!;
    const dst = view(args.backend, out)!;
    const idv = view(args.backend, indices)!;
    const ids = idv.heap.subarray(idv.at, idv.at + tf.util.sizeFromShape(indices.shape));
    const heap = src.heap;
    const { outerSize, dimSize, sliceSize } = info;
    let to = dst.at;
    for (let o = 0; o < outerSize; o++) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (id < 0 || id >= dimSize) {
          args.backend.disposeData(out.dataId);
          throw new Error(`GatherV2: the index value ${id} is not in [0, ${dimSize - 1}]`);
        }
        const from = src.at + (o * dimSize + id) * sliceSize;
        heap.copyWithin(to, from, from + sliceSize);
        to += sliceSize;
      }
    }
    return out;
  };
}
