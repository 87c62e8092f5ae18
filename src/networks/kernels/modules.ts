/**
 * Our WebAssembly modules at run time: the bytes compiled at build time from wat/*.wat
 * (scripts/build-kernels.mjs -> generated/modules.ts), and the one registry of their instances:
 * one compiled module and instance per heap, kernel and variant, on the tfjs `wasm` backend's memory.
 */
import { type HeapBytes, KERNEL_MODULES } from './generated/modules.js';
import type { HeapKind } from './kernel-config.js';
import { type WasmBackend, heapMemory } from './wasm-util.js';

type Modules = typeof KERNEL_MODULES;
/** A kernel module (a `<name>.kernel.ts`). */
export type KernelName = keyof Modules;
/** A variant of a kernel module (a key of its config's `variants`). */
export type KernelVariant<N extends KernelName> = keyof Modules[N] & string;

/** The compiled bytes of one variant of a module, for a private or a shared heap. */
export function kernelModuleBytes<N extends KernelName>(name: N, variant: KernelVariant<N>, heap: HeapKind): Uint8Array<ArrayBuffer> {
  const base64 = (KERNEL_MODULES[name][variant] as HeapBytes)[heap];
  return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
}

/** Whether the backend's heap is the threaded build's shared memory (a module must then import it as shared). */
export function heapKind(backend: WasmBackend): HeapKind {
  const memory = heapMemory(backend);
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'private';
}

/** A module of ours compiled for one heap, and its instance on that heap. */
export interface HeapModule<K> {
  kernels: K;
  /** The compiled module: gemm-pool.ts instantiates it again in each worker on the same heap. */
  module: WebAssembly.Module;
}

/** heap -> kernel -> variant -> its module and instance (nested maps: a lookup allocates nothing). */
const registry = new WeakMap<WebAssembly.Memory, Map<KernelName, Map<string, HeapModule<unknown>>>>();

/**
 * The module `name` in `variant` compiled and instantiated on the backend's heap, once per heap.
 * `K` is the type of its exports (the caller's interface for that module).
 */
export function kernelInstance<K, N extends KernelName = KernelName>(backend: WasmBackend, name: N, variant: KernelVariant<N>): HeapModule<K> {
  const memory = heapMemory(backend);
  let kernels = registry.get(memory);
  if (kernels === undefined) {
    kernels = new Map();
    registry.set(memory, kernels);
  }
  let variants = kernels.get(name);
  if (variants === undefined) {
    variants = new Map();
    kernels.set(name, variants);
  }
  let entry = variants.get(variant);
  if (entry === undefined) {
    const module = new WebAssembly.Module(kernelModuleBytes(name, variant, heapKind(backend)));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    entry = { kernels: instance.exports, module };
    variants.set(variant, entry);
  }
  return entry as HeapModule<K>;
}
