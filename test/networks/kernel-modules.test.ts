/**
 * Our WebAssembly modules as modules: the .wat sources compile to the bytes of the hand-assembled
 * modules they replaced (test/fixtures/kernels/modules.json), the run-time registry loads exactly
 * those bytes, and the matrix product, instantiated on its own memory, agrees with a naive loop
 * in both variants (fused multiply-add, and mul + add for engines without relaxed SIMD).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without type declarations.
import { compileKernels, expandTemplate } from '../../scripts/build-kernels.mjs';
import { SeededRng } from '../../src/envs/rng.js';
import { type GemmKernels, TILE_M, TILE_N, enableRelaxedSimd, gemmVariant } from '../../src/networks/kernels/gemm.js';
import { heapKind, kernelInstance, kernelModuleBytes } from '../../src/networks/kernels/modules.js';
import type { SimdKernels } from '../../src/networks/kernels/simd.js';
import type { WasmBackend } from '../../src/networks/kernels/wasm-util.js';
import type { HeapKind } from '../../src/networks/kernels/kernel-config.js';

interface FixtureModule {
  size: number;
  sha256: string;
  base64: string;
}
interface Compiled {
  kernel: string;
  variant: string;
  heap: HeapKind;
  bytes: Uint8Array;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/kernels/modules.json', import.meta.url), 'utf8')) as { format: string; version: number; modules: Record<string, FixtureModule> };
// Before any module is compiled: the fma variant needs V8's relaxed SIMD (a flag on Node 20).
beforeAll(() => enableRelaxedSimd());

const keyOf = (m: { kernel: string; variant: string; heap: string }) => `${m.kernel}.${m.variant}.${m.heap}`;

/** "" when equal, else where the bytes first differ (a bare hash mismatch says nothing). */
function firstDifference(got: Uint8Array, want: Uint8Array): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  if (i === got.length && i === want.length) return '';
  const hex = (b: Uint8Array) => Buffer.from(b.subarray(i, i + 8)).toString('hex');
  return `byte ${i} of ${got.length} (want ${want.length}): ${hex(got)} vs ${hex(want)}`;
}

describe('kernel modules: .wat sources against the hand-assembled bytes', () => {
  let compiled: Compiled[];
  beforeAll(async () => {
    compiled = (await compileKernels()) as Compiled[];
  });

  it('the fixture lists exactly the variants the build compiles', () => {
    expect(fixture.format).toBe('npcforge-kernel-modules');
    expect(compiled.map(keyOf).sort()).toEqual(Object.keys(fixture.modules).sort());
    expect(Object.keys(fixture.modules)).toEqual(
      expect.arrayContaining(['gemm.fma.private', 'gemm.fma.shared', 'gemm.mul-add.private', 'gemm.mul-add.shared', 'simd.default.private', 'simd.default.shared']),
    );
  });

  it('every module compiled from .wat is byte-identical to the fixture', () => {
    for (const m of compiled) {
      const want = fixture.modules[keyOf(m)]!;
      const wantBytes = Buffer.from(want.base64, 'base64');
      expect(createHash('sha256').update(wantBytes).digest('hex'), `${keyOf(m)}: fixture hash`).toBe(want.sha256);
      expect(firstDifference(m.bytes, wantBytes), keyOf(m)).toBe('');
    }
  });

  it('the run-time registry loads the same bytes (generated/modules.ts is current)', () => {
    for (const m of compiled) {
      const loaded = kernelModuleBytes(m.kernel as 'gemm', m.variant as 'fma', m.heap);
      expect(firstDifference(loaded, m.bytes), keyOf(m)).toBe('');
    }
  });
});

describe('module registry', () => {
  /** A stand-in for the tfjs wasm backend: all the registry reads is its heap memory. */
  const onMemory = (memory: WebAssembly.Memory) => ({ wasm: { wasmMemory: memory } }) as unknown as WasmBackend;

  it('compiles one instance per heap, kernel and variant, on that heap', () => {
    const one = onMemory(new WebAssembly.Memory({ initial: 1 }));
    const two = onMemory(new WebAssembly.Memory({ initial: 1 }));
    const fma = kernelInstance<GemmKernels, 'gemm'>(one, 'gemm', 'fma');
    expect(kernelInstance<GemmKernels, 'gemm'>(one, 'gemm', 'fma')).toBe(fma);
    expect(kernelInstance<GemmKernels, 'gemm'>(one, 'gemm', 'mul-add')).not.toBe(fma);
    expect(kernelInstance<GemmKernels, 'gemm'>(two, 'gemm', 'fma')).not.toBe(fma);
    expect(kernelInstance<SimdKernels, 'simd'>(one, 'simd', 'default').kernels.colsum).toBeTypeOf('function');
  });

  it('a shared heap (the threaded build) gets the modules that import a shared memory', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const backend = onMemory(memory);
    expect(heapKind(backend)).toBe('shared');
    expect(heapKind(onMemory(new WebAssembly.Memory({ initial: 1 })))).toBe('private');
    const simd = kernelInstance<SimdKernels, 'simd'>(backend, 'simd', 'default').kernels;
    // colsum of a [2, 4] matrix, in place on the shared heap.
    const heap = new Float32Array(memory.buffer);
    heap.set([1, 2, 3, 4, 10, 20, 30, 40], 4);
    simd.colsum(16, 64, 2, 4);
    expect(Array.from(heap.subarray(16, 20))).toEqual([11, 22, 33, 44]);
  });
});

describe('kernel templates', () => {
  const template = '(module {{memory}} (func {{madd $a $b $c}}))';
  const madd = (a: string, b: string, c: string) => `(${a} ${b} ${c})`;

  it('fills text and function placeholders', () => {
    expect(expandTemplate(template, { memory: 'M', madd }, 't')).toBe('(module M (func ($a $b $c)))');
  });

  it('rejects a missing substitution, an unused one and arguments to a text placeholder', () => {
    expect(() => expandTemplate(template, { madd }, 't.wat')).toThrow(/expected a substitution for \{\{memory\}\} in t\.wat/);
    expect(() => expandTemplate(template, { memory: 'M', madd, extra: 'x' }, 't')).toThrow(/received unused extra/);
    expect(() => expandTemplate(template, { memory: 'M', madd: 'text' }, 't')).toThrow(/\{\{madd\}\} without arguments/);
  });
});

/** A GEMM module instantiated on a memory of its own, with a bump allocator over it. */
function gemmOnOwnMemory(variant: 'fma' | 'mul-add'): { g: GemmKernels; f32: () => Float32Array; alloc: (floats: number) => number } {
  enableRelaxedSimd();
  const memory = new WebAssembly.Memory({ initial: 16 });
  const module = new WebAssembly.Module(kernelModuleBytes('gemm', variant, 'private'));
  const g = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmKernels;
  let next = 64;
  return {
    g,
    f32: () => new Float32Array(memory.buffer),
    alloc: (floats) => {
      const at = next;
      next += Math.ceil((floats * 4) / 16) * 16 + 16;
      if (next > memory.buffer.byteLength) throw new Error('test memory too small');
      return at;
    },
  };
}

interface Case {
  m: number;
  n: number;
  k: number;
  rowMajorA: boolean;
  accumulate: boolean;
}

/**
 * C = (C0 +) A B by the module and by a naive loop. A is [M, K] row-major or [K, M] k-major, every
 * operand with padded rows (strides wider than the matrix), C0 random. The naive loop sums in
 * float32 in the module's order (k ascending, then C0 added): mul + add must match it exactly.
 */
function runCase(variant: 'fma' | 'mul-add', c: Case, seed: number): { got: Float32Array; exact: Float32Array; scale: Float32Array } {
  const { m, n, k, rowMajorA, accumulate } = c;
  const rng = new SeededRng(seed);
  const { g, f32, alloc } = gemmOnOwnMemory(variant);
  const aRows = rowMajorA ? m : k;
  const aCols = rowMajorA ? k : m;
  const aStride = aCols + 4;
  const bStride = n + 8;
  const cStride = n + 8;
  const a = alloc(aRows * aStride);
  const b = alloc(k * bStride);
  const cp = alloc(m * cStride);
  const mem = f32();
  for (let i = 0; i < aRows * aStride; i++) mem[a / 4 + i] = rng.random() * 2 - 1;
  for (let i = 0; i < k * bStride; i++) mem[b / 4 + i] = rng.random() * 2 - 1;
  for (let i = 0; i < m * cStride; i++) mem[cp / 4 + i] = rng.random() * 2 - 1;
  const A = (r: number, kk: number) => mem[a / 4 + (rowMajorA ? r * aStride + kk : kk * aStride + r)]!;
  const B = (kk: number, col: number) => mem[b / 4 + kk * bStride + col]!;
  const C0 = (r: number, col: number) => mem[cp / 4 + r * cStride + col]!;
  const exact = new Float32Array(m * n);
  const scale = new Float32Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let col = 0; col < n; col++) {
      let s = 0;
      let abs = 0;
      for (let kk = 0; kk < k; kk++) {
        s = Math.fround(s + Math.fround(A(r, kk) * B(kk, col)));
        abs += Math.abs(A(r, kk) * B(kk, col));
      }
      if (accumulate) s = Math.fround(s + C0(r, col));
      exact[r * n + col] = s;
      scale[r * n + col] = abs + (accumulate ? Math.abs(C0(r, col)) : 0);
    }
  }
  const aTile = rowMajorA ? TILE_M * aStride * 4 : TILE_M * 4;
  const call = rowMajorA ? g.gemmR : g.gemmK;
  call(m / TILE_M, n / TILE_N, k, a, aTile, aStride * 4, b, TILE_N * 4, bStride * 4, cp, cStride * 4, accumulate ? 1 : 0);
  const out = f32();
  const got = new Float32Array(m * n);
  for (let r = 0; r < m; r++) for (let col = 0; col < n; col++) got[r * n + col] = out[cp / 4 + r * cStride + col]!;
  // The padding right of C's rows is not written.
  for (let r = 0; r < m; r++) for (let col = n; col < cStride; col++) expect(out[cp / 4 + r * cStride + col]).toBe(C0(r, col));
  return { got, exact, scale };
}

/** Edge sizes: one tile, an odd number of tiles, k = 1, odd, a tile + 1 and past the 256 slice. */
const CASES: Case[] = [];
for (const [m, n] of [
  [TILE_M, TILE_N],
  [3 * TILE_M, 5 * TILE_N],
  [9 * TILE_M, TILE_N],
  [TILE_M, 7 * TILE_N],
] as const) {
  for (const k of [1, 7, TILE_M + 1, TILE_N + 1, 257]) {
    for (const rowMajorA of [false, true]) CASES.push({ m, n, k, rowMajorA, accumulate: (m + k) % 2 === 1 });
  }
}
CASES.push({ m: 2 * TILE_M, n: 2 * TILE_N, k: 33, rowMajorA: true, accumulate: true }, { m: 2 * TILE_M, n: 2 * TILE_N, k: 33, rowMajorA: false, accumulate: false });
const name = (c: Case) => `${c.rowMajorA ? 'gemmR' : 'gemmK'} ${c.m}x${c.k} . ${c.k}x${c.n}${c.accumulate ? ' +C' : ''}`;

describe('gemm module against a naive loop', () => {
  it('this Node runs the fused multiply-add variant', () => {
    expect(gemmVariant('private')).toBe('fma');
    expect(gemmVariant('shared')).toBe('fma');
  });

  it('both variants validate; mul-add needs no relaxed SIMD', () => {
    for (const heap of ['private', 'shared'] as const) {
      expect(WebAssembly.validate(kernelModuleBytes('gemm', 'mul-add', heap))).toBe(true);
      expect(WebAssembly.validate(kernelModuleBytes('gemm', 'fma', heap))).toBe(true);
    }
    // The only difference of the variants is the multiply-add: relaxed SIMD's opcode (0xfd 0x105).
    const has = (b: Uint8Array) => Buffer.from(b).includes(Buffer.from([0xfd, 0x85, 0x02]));
    expect(has(kernelModuleBytes('gemm', 'fma', 'private'))).toBe(true);
    expect(has(kernelModuleBytes('gemm', 'mul-add', 'private'))).toBe(false);
  });

  it.each(CASES.map((c, i) => [name(c), c, i] as const))('fma: %s', (_, c, i) => {
    const { got, exact, scale } = runCase('fma', c, 100 + i);
    for (let e = 0; e < got.length; e++) expect(Math.abs(got[e]! - exact[e]!), `element ${e}`).toBeLessThanOrEqual(1e-6 * scale[e]! + 1e-7);
  });

  it.each(CASES.map((c, i) => [name(c), c, i] as const))('mul-add: %s equals the float32 loop bit for bit, and fma within rounding', (_, c, i) => {
    const plain = runCase('mul-add', c, 100 + i);
    expect(Array.from(plain.got)).toEqual(Array.from(plain.exact));
    const fused = runCase('fma', c, 100 + i);
    for (let e = 0; e < plain.got.length; e++) expect(Math.abs(fused.got[e]! - plain.got[e]!)).toBeLessThanOrEqual(1e-6 * plain.scale[e]! + 1e-7);
  });
});
