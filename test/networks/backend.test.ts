import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendError, InvalidConfigError } from '../../src/errors.js';

type BackendModule = typeof import('../../src/networks/backend.js');

/** A fresh copy of backend.ts (its once-per-process state reset); tfjs itself stays shared. */
async function freshBackendModule(): Promise<BackendModule> {
  vi.resetModules();
  return import('../../src/networks/backend.js');
}

afterEach(() => {
  delete process.env.NPCFORGE_BACKEND;
  vi.restoreAllMocks();
});

describe('initBackend', () => {
  it('picks wasm with our kernels on this machine (tfjs-node absent or broken), logs once, is idempotent', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const m = await freshBackendModule();
    expect(await m.initBackend()).toBe('wasm');
    expect(await m.initBackend({ prefer: 'cpu' })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const info = m.backendInfo()!;
    expect(info.kernels).toEqual([
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'BatchMatMul',
      'UnsortedSegmentSum',
      'Identity',
      'NpcforgeSlotUpdate',
      'Conv2D',
      'FusedConv2D',
      'Sum',
      'Cast',
      '_FusedMatMul',
      'Slice',
      'SplitV',
      'Unpack',
      'GatherV2',
    ]);
    expect(info.skipped.some((s) => s.includes('tfjs-node'))).toBe(true);
    const logs = writes.filter((w) => w.includes('compute backend'));
    // Default threads: the cores available, at most 4 (NPCFORGE_WASM_THREADS overrides).
    const threads = process.env.NPCFORGE_WASM_THREADS ? Number(process.env.NPCFORGE_WASM_THREADS) : Math.min(os.availableParallelism(), 4);
    expect(info.threads).toBe(threads);
    expect(logs).toEqual([`npcforge: compute backend wasm (our kernels: 15, threads: ${threads})\n`]);
  });

  it('runs a conv gradient (missing on stock wasm) after init', async () => {
    const m = await freshBackendModule();
    await m.initBackend({ quiet: true });
    const g = tf.tidy(() => tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 5, 5, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')))(tf.ones([3, 3, 1, 1])));
    expect(Array.from(await g.data())).toEqual(new Array(9).fill(9));
    g.dispose();
  });

  it('NPCFORGE_BACKEND=cpu forces cpu (with the filter-gradient fix)', async () => {
    process.env.NPCFORGE_BACKEND = 'cpu';
    const m = await freshBackendModule();
    expect(await m.initBackend({ quiet: true, prefer: 'wasm' })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(m.backendInfo()!.kernels).toEqual(['Conv2DBackpropFilter']);
    const { unregisterCpuKernels } = await import('../../src/networks/kernels/index.js');
    unregisterCpuKernels();
  });

  it('prefer: cpu is honoured when nothing is forced', async () => {
    const m = await freshBackendModule();
    expect(await m.initBackend({ quiet: true, prefer: 'cpu' })).toBe('cpu');
    const { unregisterCpuKernels } = await import('../../src/networks/kernels/index.js');
    unregisterCpuKernels();
  });

  it('NPCFORGE_BACKEND=tensorflow fails with BackendError when tfjs-node cannot load', async () => {
    process.env.NPCFORGE_BACKEND = 'tensorflow';
    const m = await freshBackendModule();
    const err = await m.initBackend({ quiet: true }).catch((e: unknown) => e);
    // The fresh module graph has its own copy of the error classes: compare by name.
    expect((err as Error).name).toBe(BackendError.name);
    expect((err as Error).message).toMatch(/^\[Backend\] expected NPCFORGE_BACKEND=tensorflow to initialise, received .*; fix: /);
  });

  it('rejects bad NPCFORGE_BACKEND, prefer and threads, reporting every field', async () => {
    process.env.NPCFORGE_BACKEND = 'gpu';
    const m = await freshBackendModule();
    const err = await m.initBackend({ quiet: true, prefer: 'tpu' as never, threads: 0 }).catch((e: unknown) => e);
    expect((err as Error).name).toBe(InvalidConfigError.name);
    const msg = (err as Error).message;
    expect(msg).toContain('[Backend] expected NPCFORGE_BACKEND one of tensorflow, wasm, cpu, received "gpu"');
    expect(msg).toContain('expected prefer one of');
    expect(msg).toContain('expected threads an integer >= 1, received 0');
  });
});
