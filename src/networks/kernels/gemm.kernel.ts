/** The matrix product module (wat/gemm.wat; gemm.ts says why it exists and how it is called). */
import type { KernelConfig } from './kernel-config.js';

export const kernel = {
  wat: 'gemm.wat',
  variants: {
    // acc += x * y as one fused multiply-add (relaxed SIMD; V8 lowers it to vfmadd231ps on x64).
    fma: { madd: (acc, x, y) => `(local.set ${acc} (f32x4.relaxed_madd (local.get ${x}) (local.get ${y}) (local.get ${acc})))` },
    // The same with a separate multiply and add, for engines that do not validate relaxed SIMD.
    'mul-add': { madd: (acc, x, y) => `(local.set ${acc} (f32x4.add (f32x4.mul (local.get ${x}) (local.get ${y})) (local.get ${acc})))` },
  },
} as const satisfies KernelConfig;
