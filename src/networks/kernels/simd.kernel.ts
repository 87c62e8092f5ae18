/** The element-wise SIMD module (wat/simd.wat; simd.ts says what each function is for). */
import type { KernelConfig } from './kernel-config.js';

export const kernel = {
  wat: 'simd.wat',
  // One variant: every operation is IEEE single precision, with nothing engine-dependent to choose.
  variants: { default: {} },
} as const satisfies KernelConfig;
