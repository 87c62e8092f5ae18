/**
 * Our own single-precision matrix product for the tfjs `wasm` backend, as a WebAssembly SIMD module
 * assembled here (wasm-asm.ts). XNNPACK's wasm build, which the stock kernels use, multiplies with
 * separate f32x4 mul and add and re-packs every new right operand; here:
 * - 4x8 register tiles (8 f32x4 accumulators) with fused multiply-add (relaxed SIMD's
 *   `f32x4.relaxed_madd`, which V8 lowers to `vfmadd231ps` on x64 with FMA). Node 20 has relaxed
 *   SIMD behind `--experimental-wasm-relaxed-simd`, which `enableRelaxedSimd()` sets at start-up;
 *   where the module does not validate with it, the same code is assembled with mul + add.
 *   Measured in one tile with data in L1 here: 34-38 GFLOP/s with FMA, 19 without, against
 *   12-17 GFLOP/s that the stock kernels reach on the Nature net's products.
 * - No packing: both operands are read in place, so weights changed by every optimizer step cost
 *   nothing extra. The right operand must be "k-major" (row k holds the 8 columns of a tile next to
 *   each other: a row-major [K, N] matrix); the left operand either k-major too (`gemmK`: [K, M],
 *   4 rows of a tile are 4 adjacent floats, loaded as one vector and broadcast lane by lane) or
 *   row-major (`gemmR`: [M, K], each of the 4 rows broadcast from its own pointer).
 * - The tile loops run inside the module (one call per product or per chunk of one).
 *
 * Shapes: M a multiple of 4 and N of 8 (callers check and otherwise use the stock path), K >= 1.
 * TurboFan keeps the 8 accumulators, 2 right-operand vectors and the broadcast in registers for
 * this tile; wider tiles (6x8, 4x12) spilled and ran slower, as did unrolling k.
 */
import v8 from 'node:v8';
import { I32, V128, doWhile, fadd, fmul, imul, op, section, shl2, shuffle32, str, uleb, vec } from './wasm-asm.js';
import { type HeapModule, type WasmBackend, heapModule } from './wasm-util.js';

/** Rows and columns of one register tile. */
export const TILE_M = 4;
export const TILE_N = 8;

const vload = (offset: number) => [...op.simd(0x00), 0x04, ...uleb(offset)];
const vstore = (offset: number) => [...op.simd(0x0b), 0x04, ...uleb(offset)];
const splatLoad = [...op.simd(0x09), 0x02, 0x00]; // v128.load32_splat
const relaxedMadd = op.simd(0x105);
const zero = [...op.simd(0x0c), ...Array<number>(16).fill(0)];
const i32load = [0x28, 0x02, 0x00];
const isub = [0x6b];

/**
 * gemmK / gemmR(mt, nt, k, a, aTile, aK, b, bTile, bK, c, ldc, acc), all i32 (pointers and strides
 * in bytes): for tiles i < mt, j < nt, C[4i.., 8j..] (=|+=) sum over k of A-tile x B-tile, where
 * - B's tile j starts at b + j*bTile and steps bK per k (8 floats at each step);
 * - gemmK: A's tile i starts at a + i*aTile and steps aK per k (4 floats at each step);
 *   gemmR: A's tile i starts at a + i*aTile, its rows aK apart, k contiguous (4 bytes per step);
 * - C's tile starts at c + 4i*ldc + 32j, rows ldc apart; acc != 0 adds to C instead of overwriting.
 */
function gemmBody(rowMajorA: boolean, fma: boolean): { locals: number[][]; code: number[] } {
  const [mt, nt, k, a, aTile, aK, b, bTile, bK, c, ldc, accFlag] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [i, j, ap, bp, cp, kk, p1, p2, p3] = [12, 13, 14, 15, 16, 17, 18, 19, 20];
  const accBase = 21;
  const acc = (r: number, v: number) => accBase + 2 * r + v;
  const [b0, b1, av, t] = [29, 30, 31, 32];
  const rowPtr = [ap, p1, p2, p3];
  const madd = (r: number, v: number) =>
    fma
      ? [...op.get(t), ...op.get(v === 0 ? b0 : b1), ...op.get(acc(r, v)), ...relaxedMadd, ...op.set(acc(r, v))]
      : [...op.get(t), ...op.get(v === 0 ? b0 : b1), ...fmul, ...op.get(acc(r, v)), ...fadd, ...op.set(acc(r, v))];
  const step: number[] = [...op.get(bp), ...vload(0), ...op.set(b0), ...op.get(bp), ...vload(16), ...op.set(b1)];
  if (rowMajorA) {
    for (let r = 0; r < TILE_M; r++) step.push(...op.get(rowPtr[r]!), ...splatLoad, ...op.set(t), ...madd(r, 0), ...madd(r, 1));
    for (const p of rowPtr) step.push(...op.get(p), ...op.i32(4), ...op.add, ...op.set(p));
  } else {
    step.push(...op.get(ap), ...vload(0), ...op.set(av));
    for (let r = 0; r < TILE_M; r++) step.push(...op.get(av), ...op.get(av), ...shuffle32([r, r, r, r]), ...op.set(t), ...madd(r, 0), ...madd(r, 1));
    step.push(...op.get(ap), ...op.get(aK), ...op.add, ...op.set(ap));
  }
  step.push(...op.get(bp), ...op.get(bK), ...op.add, ...op.set(bp));
  const tile: number[] = [];
  for (let r = 0; r < TILE_M; r++) for (let v = 0; v < 2; v++) tile.push(...zero, ...op.set(acc(r, v)));
  tile.push(...op.get(a), ...op.get(i), ...op.get(aTile), ...imul, ...op.add, ...op.set(ap));
  if (rowMajorA) {
    tile.push(...op.get(ap), ...op.get(aK), ...op.add, ...op.tee(p1), ...op.get(aK), ...op.add, ...op.tee(p2), ...op.get(aK), ...op.add, ...op.set(p3));
  }
  tile.push(...op.get(b), ...op.get(j), ...op.get(bTile), ...imul, ...op.add, ...op.set(bp));
  tile.push(...op.get(k), ...op.set(kk));
  tile.push(...op.loop, ...step, ...op.get(kk), ...op.i32(1), ...isub, ...op.tee(kk), ...op.brIf(0), ...op.end);
  // cp = c + 4i*ldc + 32j
  tile.push(...op.get(c), ...op.get(i), ...op.i32(4), ...imul, ...op.get(ldc), ...imul, ...op.add, ...op.get(j), ...op.i32(32), ...imul, ...op.add, ...op.set(cp));
  const addC: number[] = [];
  for (let r = 0; r < TILE_M; r++) {
    for (let v = 0; v < 2; v++) addC.push(...op.get(acc(r, v)), ...op.get(cp), ...op.get(ldc), ...op.i32(r), ...imul, ...op.add, ...vload(16 * v), ...fadd, ...op.set(acc(r, v)));
  }
  tile.push(...op.get(accFlag), ...op.if, ...addC, ...op.end);
  for (let r = 0; r < TILE_M; r++) {
    for (let v = 0; v < 2; v++) tile.push(...op.get(cp), ...op.get(acc(r, v)), ...vstore(16 * v));
    tile.push(...op.get(cp), ...op.get(ldc), ...op.add, ...op.set(cp));
  }
  const code = doWhile(i, 1, mt, doWhile(j, 1, nt, tile));
  return { locals: [[...uleb(9), I32], [...uleb(12), V128]], code };
}

/**
 * gather(src, dst, plan, count, len, planStep): for i < count, dst[i*len .. +len] = the len floats at
 * src + plan[i] bytes, or zeros where plan[i] < 0 (im2col: one run per output pixel and filter row
 * or tap; len a multiple of 4, count > 0). The plan pointer advances planStep bytes per run (0
 * repeats one run: a bias broadcast into every row).
 */
function gatherBody(): { locals: number[][]; code: number[] } {
  const [src, dst, plan, count, len, planStep] = [0, 1, 2, 3, 4, 5];
  const [i, from, end] = [6, 7, 8];
  const zeros = 9;
  const copy = [
    ...op.get(dst), ...op.get(len), ...op.i32(2), 0x74, ...op.add, ...op.set(end),
    ...op.get(plan), ...i32load, ...op.tee(from), ...op.i32(0), 0x4e, // i32.ge_s
    ...op.if,
    ...op.get(src), ...op.get(from), ...op.add, ...op.set(from),
    ...op.loop,
    ...op.get(dst), ...op.get(from), ...vload(0), ...vstore(0),
    ...op.get(from), ...op.i32(16), ...op.add, ...op.set(from),
    ...op.get(dst), ...op.i32(16), ...op.add, ...op.tee(dst), ...op.get(end), ...op.ltU, ...op.brIf(0),
    ...op.end,
    0x05, // else
    ...op.loop,
    ...op.get(dst), ...op.get(zeros), ...vstore(0),
    ...op.get(dst), ...op.i32(16), ...op.add, ...op.tee(dst), ...op.get(end), ...op.ltU, ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...op.get(plan), ...op.get(planStep), ...op.add, ...op.set(plan),
  ];
  return { locals: [[...uleb(3), I32], [...uleb(1), V128]], code: doWhile(i, 1, count, copy) };
}

/**
 * addRuns(src, dst, plan, count, len): for i < count, if plan[i] >= 0,
 * dst[plan[i] bytes .. + len floats] += src[i*len .. (i+1)*len] (col2im's scatter-add; len a
 * multiple of 4, count > 0). `plan` holds byte offsets into dst, -1 for taps in the padding.
 */
function addRunsBody(): { locals: number[][]; code: number[] } {
  const [src, dst, plan, count, len] = [0, 1, 2, 3, 4];
  const [i, c, psrc, pplan, d] = [5, 6, 7, 8, 9];
  const code = [
    ...op.get(src), ...op.set(psrc),
    ...op.get(plan), ...op.set(pplan),
    ...doWhile(i, 1, count, [
      ...op.get(pplan), 0x28, 0x02, 0x00, // i32.load align=4
      ...op.tee(d),
      ...op.i32(0),
      0x4e, // i32.ge_s
      ...op.if,
      ...op.get(dst), ...op.get(d), ...op.add, ...op.set(d),
      ...doWhile(c, 4, len, [
        ...op.get(d), ...op.get(d), ...vload(0), ...op.get(psrc), ...vload(0), ...fadd, ...vstore(0),
        ...op.get(d), ...op.i32(16), ...op.add, ...op.set(d),
        ...op.get(psrc), ...op.i32(16), ...op.add, ...op.set(psrc),
      ]),
      0x05, // else
      ...op.get(psrc), ...op.get(len), ...shl2, ...op.add, ...op.set(psrc),
      ...op.end,
      ...op.get(pplan), ...op.i32(4), ...op.add, ...op.set(pplan),
    ]),
  ];
  return { locals: [[...uleb(5), I32]], code };
}

export function assemble(shared: boolean, fma: boolean): Uint8Array<ArrayBuffer> {
  const gemmType = [0x60, ...vec(Array(12).fill([I32])), 0x00];
  const gatherType = [0x60, ...vec(Array(6).fill([I32])), 0x00];
  const addRunsType = [0x60, ...vec(Array(5).fill([I32])), 0x00];
  const limits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const funcs = [gemmBody(false, fma), gemmBody(true, fma), gatherBody(), addRunsBody()];
  const code = funcs.map((f) => {
    const body = [...vec(f.locals), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([gemmType, gatherType, addRunsType])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]])),
    ...section(3, vec([uleb(0), uleb(0), uleb(1), uleb(2)])),
    ...section(7, vec([[...str('gemmK'), 0x00, 0], [...str('gemmR'), 0x00, 1], [...str('gather'), 0x00, 2], [...str('addRuns'), 0x00, 3]])),
    ...section(10, vec(code)),
  ]);
}

/** The module's exports (see gemmBody and gatherBody for the arguments). */
export interface GemmKernels {
  gemmK(mt: number, nt: number, k: number, a: number, aTile: number, aK: number, b: number, bTile: number, bK: number, c: number, ldc: number, acc: number): void;
  gemmR(mt: number, nt: number, k: number, a: number, aTile: number, aK: number, b: number, bTile: number, bK: number, c: number, ldc: number, acc: number): void;
  gather(src: number, dst: number, plan: number, count: number, len: number, planStep: number): void;
  addRuns(src: number, dst: number, plan: number, count: number, len: number): void;
}

let relaxedTried = false;

/**
 * Turns on V8's relaxed SIMD (Node 20: behind a flag; on by default from V8 11.4). Harmless when
 * already on; must run before our module is compiled.
 */
export function enableRelaxedSimd(): void {
  if (relaxedTried) return;
  relaxedTried = true;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Not V8 or flags locked: the module is assembled without FMA.
  }
}

/** Whether our product uses fused multiply-add (set once the module is first built). */
export let gemmUsesFma = false;

/** The bytes of the module for a memory (shared or not), with FMA when the engine accepts it. */
export function gemmModuleBytes(shared: boolean): { bytes: Uint8Array<ArrayBuffer>; fma: boolean } {
  enableRelaxedSimd();
  const withFma = assemble(shared, true);
  if (WebAssembly.validate(withFma)) return { bytes: withFma, fma: true };
  return { bytes: assemble(shared, false), fma: false };
}

const instances = new WeakMap<WebAssembly.Memory, HeapModule<GemmKernels>>();

/** The compiled module and its instance on the backend's heap (built once per heap). */
export function gemmInstance(backend: WasmBackend): HeapModule<GemmKernels> {
  return heapModule(backend, instances, (shared) => {
    const { bytes, fma } = gemmModuleBytes(shared);
    gemmUsesFma = fma;
    return bytes;
  });
}

/** Our product functions bound to the backend's heap. */
export function gemmKernels(backend: WasmBackend): GemmKernels {
  return gemmInstance(backend).kernels;
}
