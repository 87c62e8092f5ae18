/**
 * The project's kernels for the tfjs `wasm` backend, registered under the stock kernel names.
 * Why each exists is written next to it; docs/backend.md has the overview.
 */
import * as tf from '@tensorflow/tfjs';
import { StockKernels, clearCol2imPlans, makeConv2DBackpropFilter, makeConv2DBackpropInput } from './conv.js';
import { type FusedTail, clearTransposeCache, makeBatchMatMul, makeFusedMatMul } from './matmul.js';
import { clearFilterCache, makeConv } from './conv-forward.js';
import { clearGatherPlans, clearZeroPlan } from './conv-gemm.js';
import { closeGemmPool } from './gemm-pool.js';
import { makeCast, makeSum } from './reduce.js';
import { identity } from './identity.js';
import { SLOT_UPDATE, slotUpdate } from './optimizer.js';
import { unsortedSegmentSum } from './segment.js';
import { makeGather, makeSlice, makeSplitV, makeUnpack } from './copy.js';
import { WasmBackend, WasmKernelFunc, wasmKernel } from './wasm-util.js';

export { registerCpuKernels, unregisterCpuKernels } from './cpu-conv.js';

/** Names of the kernels we register for `wasm` (replacing the stock one where there is one). */
export const WASM_KERNEL_NAMES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'BatchMatMul',
  'UnsortedSegmentSum',
  'Identity',
  SLOT_UPDATE,
  'Conv2D',
  'FusedConv2D',
  'Sum',
  'Cast',
  '_FusedMatMul',
  'Slice',
  'SplitV',
  'Unpack',
  'GatherV2',
] as const;

let stock: StockKernels | undefined;
let stockFusedConv2D: WasmKernelFunc | undefined;
let stockSum: WasmKernelFunc | undefined;
let stockCast: WasmKernelFunc | undefined;
let stockFusedMatMul: WasmKernelFunc | undefined;
/** The stock kernel each of ours replaced (undefined where stock wasm had none). */
const replaced = new Map<string, tf.KernelConfig | undefined>();
let registered = false;

/**
 * Registers our kernels for `wasm`. Call after the wasm backend is initialised (the stock kernels'
 * set-up runs then, and ours call into them). Idempotent.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  stockFusedConv2D ??= wasmKernel('FusedConv2D');
  stockSum ??= wasmKernel('Sum');
  stockCast ??= wasmKernel('Cast');
  stockFusedMatMul ??= wasmKernel('_FusedMatMul');
  stock ??= {
    conv2d: wasmKernel('Conv2D'),
    transpose: wasmKernel('Transpose'),
    slice: wasmKernel('Slice'),
    reverse: wasmKernel('Reverse'),
    batchMatMul: wasmKernel('BatchMatMul'),
  };
  const tail: FusedTail = {
    add: wasmKernel('Add'),
    activations: {
      relu: { kernel: wasmKernel('Relu') },
      relu6: { kernel: wasmKernel('Relu6') },
      sigmoid: { kernel: wasmKernel('Sigmoid') },
      elu: { kernel: wasmKernel('Elu') },
      leakyrelu: { kernel: wasmKernel('LeakyRelu'), attrs: (a) => ({ alpha: a.leakyreluAlpha }) },
    },
  };
  const ours: Record<(typeof WASM_KERNEL_NAMES)[number], WasmKernelFunc> = {
    Conv2DBackpropFilter: makeConv2DBackpropFilter(stock),
    Conv2DBackpropInput: makeConv2DBackpropInput(stock),
    BatchMatMul: makeBatchMatMul(stock),
    UnsortedSegmentSum: unsortedSegmentSum,
    Identity: identity,
    [SLOT_UPDATE]: slotUpdate,
    Conv2D: makeConv(stock.conv2d, tail),
    FusedConv2D: makeConv(stockFusedConv2D!, tail),
    Sum: makeSum(stockSum!),
    Cast: makeCast(stockCast!),
    _FusedMatMul: makeFusedMatMul(stock, stockFusedMatMul!, tail),
    Slice: makeSlice(stock.slice),
    SplitV: makeSplitV(wasmKernel('SplitV')),
    Unpack: makeUnpack(wasmKernel('Unpack')),
    GatherV2: makeGather(wasmKernel('GatherV2')),
  };
  for (const [name, fn] of Object.entries(ours)) {
    const old = tf.getKernel(name, 'wasm');
    replaced.set(name, old);
    if (old !== undefined) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
  registered = true;
}

/** Puts the stock kernels back (the benchmark uses it to time stock `wasm`; the self-test on failure). */
export function unregisterWasmKernels(): void {
  if (!registered) return;
  const backend = tf.findBackend('wasm') as unknown as WasmBackend | null;
  if (backend !== null) {
    clearTransposeCache(backend);
    clearFilterCache(backend);
    clearCol2imPlans(backend);
    clearGatherPlans(backend);
    clearZeroPlan(backend);
    closeGemmPool(backend);
  }
  for (const [name, old] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    if (old !== undefined) tf.registerKernel(old);
  }
  replaced.clear();
  registered = false;
}

/** Whether our kernels are currently registered for `wasm`. */
export function wasmKernelsRegistered(): boolean {
  return registered;
}
