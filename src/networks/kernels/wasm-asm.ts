/**
 * A minimal WebAssembly assembler: the opcodes and module sections our hand-built SIMD modules
 * (simd.ts, gemm.ts) use, so they need no toolchain. Only what those modules emit is here.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function str(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Instruction emitters (only what the functions below use). */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  ltU: [0x49],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  simd: (code: number) => [0xfd, ...uleb(code)],
};
export const load = [...op.simd(0x00), 0x02, 0x00]; // v128.load align=4 offset=0
export const store = [...op.simd(0x0b), 0x02, 0x00];
export const splat = op.simd(0x13);
export const fsqrt = op.simd(0xe3);
export const fadd = op.simd(0xe4);
export const fsub = op.simd(0xe5);
export const fmul = op.simd(0xe6);
export const fdiv = op.simd(0xe7);
export const fmax = op.simd(0xe9);

export const imul = [0x6c];
export const shl2 = [...op.i32(2), 0x74];

/** i8x16.shuffle picking 32-bit lanes (0-3 from the first operand, 4-7 from the second). */
export function shuffle32(lanes: [number, number, number, number]): number[] {
  return [...op.simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];
}

/** do { body } while (++counter < limit), counting by `step`. */
export function doWhile(counter: number, step: number, limit: number, body: number[]): number[] {
  return [...op.i32(0), ...op.set(counter), ...op.loop, ...body, ...op.get(counter), ...op.i32(step), ...op.add, ...op.tee(counter), ...op.get(limit), ...op.ltU, ...op.brIf(0), ...op.end];
}

