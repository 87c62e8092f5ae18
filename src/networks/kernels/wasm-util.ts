/**
 * Narrow typed view of the tfjs `wasm` backend internals our kernels use, and helpers around them.
 * These are internal APIs of @tensorflow/tfjs-backend-wasm 4.22.0 (pinned in package.json); the
 * start-up self-test in `backend.ts` checks that they still behave before our kernels are trusted.
 */
import * as tf from '@tensorflow/tfjs';

/** Bookkeeping entry the wasm backend keeps per tensor data id. */
export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

/** The subset of Emscripten module members our kernels touch. */
export interface WasmModule {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  HEAP32: Int32Array;
  cwrap(name: string, ret: null | string, args: string[]): (...args: unknown[]) => unknown;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}

/** The subset of `BackendWasm` our kernels touch. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): WasmTensorData; has(dataId: object): boolean; delete(dataId: object): void };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/** Arguments every kernel function receives. */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}

export type WasmKernelFunc = (args: KernelArgs) => tf.TensorInfo;

/** Looks up a kernel currently registered for `wasm` (stock or ours). */
export function wasmKernel(name: string): WasmKernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  return k.kernelFunc as unknown as WasmKernelFunc;
}

/** Float32 view of a tensor's data on the wasm heap. Re-take it after any allocation (the heap may grow). */
export function f32(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, tf.util.sizeFromShape(t.shape));
}

/** Int32 view of a tensor's data on the wasm heap. */
export function i32(backend: WasmBackend, t: tf.TensorInfo): Int32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Int32Array(backend.wasm.HEAPU8.buffer, memoryOffset, tf.util.sizeFromShape(t.shape));
}

/** Id the C++ side knows a tensor by. */
export function cppId(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).id;
}

/**
 * Registers a tensor that aliases `size` floats of existing heap memory at byte `offset`, so the
 * C++ kernels can read or write a slice without a copy. Release it with `releaseView`, never
 * `disposeData` (that would free memory the view does not own).
 */
export function makeView(backend: WasmBackend, shape: number[], offset: number): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32', offset);
}

/** Forgets a view made by `makeView` without freeing the memory it aliases. */
export function releaseView(backend: WasmBackend, view: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}

/** Byte offset of a tensor's data on the heap. */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** Frees intermediates a kernel made (each exactly once). */
export function disposeAll(backend: WasmBackend, ...infos: tf.TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** The backend's heap memory (the single-threaded build exports it; the threaded one exposes it). */
export function heapMemory(backend: WasmBackend): WebAssembly.Memory {
  const m = backend.wasm as unknown as { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
  const mem = m.wasmMemory ?? m.asm?.memory;
  if (!(mem instanceof WebAssembly.Memory)) throw new Error('tfjs wasm backend: heap memory not found (tfjs-backend-wasm internals changed?)');
  return mem;
}

