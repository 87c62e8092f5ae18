/**
 * How a WebAssembly module of ours is written: one `.wat` template under `wat/` and, per variant,
 * what fills its `{{placeholders}}`. scripts/build-kernels.mjs reads each `<name>.kernel.ts`
 * (one config per file, exported as `kernel`), compiles every variant for a private and for a
 * shared heap with wabt, and writes the bytes to `generated/modules.ts`; `modules.ts` loads them.
 */

/**
 * What replaces one placeholder: text for `{{name}}`, or a function of the placeholder's
 * whitespace-separated arguments for `{{name arg ...}}` (local names, e.g. `{{madd $acc $x $y}}`).
 */
export type Substitution = string | ((...args: string[]) => string);

/** One kernel module: its template and its variants. */
export interface KernelConfig {
  /** File name of the template under src/networks/kernels/wat/. */
  wat: string;
  /**
   * Variant name -> placeholder name -> substitution. Every variant fills every placeholder of the
   * template; `memory` is reserved: the build fills it with the heap import (private or shared).
   */
  variants: Record<string, Record<string, Substitution>>;
}

/** The heap a module is compiled for: tfjs's single-threaded build, or the threaded one's shared memory. */
export type HeapKind = 'private' | 'shared';
