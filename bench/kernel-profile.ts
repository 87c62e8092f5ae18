/**
 * Per-kernel timing for the backend benchmark (`--profile`): every kernel registered for a backend
 * is re-registered wrapped in a wall-clock timer for the duration of a run, then put back. Only for
 * synchronous backends (wasm, cpu), where a kernel's work is done when its function returns. Our
 * kernels call the stock ones directly (not through the registry), so nothing is counted twice.
 */
import * as tf from '@tensorflow/tfjs';

/** Time spent in one kernel (optionally one input-shape signature of it) over the profiled steps. */
export interface KernelTime {
  /** Kernel name, plus input shapes and strides in detailed mode. */
  key: string;
  /** Calls per step. */
  calls: number;
  /** Milliseconds per step. */
  ms: number;
}

/** Result of profiling `steps` calls of a function. */
export interface KernelProfile {
  /** Mean wall ms per step (all of it, kernels or not). */
  stepMs: number;
  /** Sum of kernel times per step; `stepMs - kernelMs` is tfjs engine and JS overhead. */
  kernelMs: number;
  kernels: KernelTime[];
}

function signature(name: string, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown> | undefined): string {
  const entries = Object.entries(inputs).filter(([, t]) => t !== undefined && t !== null);
  // Kernels with many inputs (the fused optimizer step) are named by count, not by every shape.
  const shapes = entries.length > 4 ? `${entries.length} inputs` : entries.map(([k, t]) => `${k}[${t.shape.join('x')}]`).join(' ');
  const extra: string[] = [];
  if (attrs?.strides !== undefined) extra.push(`s${String(attrs.strides)}`);
  if (attrs?.transposeA === true) extra.push('tA');
  if (attrs?.transposeB === true) extra.push('tB');
  return `${name} ${shapes}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** Wraps every kernel of `backendName` in a timer adding into `totals`; returns the function that puts the originals back. */
function timeKernels(backendName: string, detailed: boolean, totals: Map<string, { calls: number; ms: number }>): () => void {
  const originals = tf.getKernelsForBackend(backendName);
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    const inner = k.kernelFunc;
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: { inputs: Record<string, tf.TensorInfo>; attrs?: Record<string, unknown> }) => {
        const t0 = performance.now();
        const out = (inner as (a: unknown) => unknown)(args);
        const dt = performance.now() - t0;
        const key = detailed ? signature(k.kernelName, args.inputs, args.attrs) : k.kernelName;
        const e = totals.get(key) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += dt;
        totals.set(key, e);
        return out;
      }) as unknown as tf.KernelFunc,
    });
  }
  return () => {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  };
}

function summarize(totals: Map<string, { calls: number; ms: number }>, wall: number, steps: number): KernelProfile {
  const kernels = [...totals.entries()]
    .map(([key, e]) => ({ key, calls: e.calls / steps, ms: e.ms / steps }))
    .sort((a, b) => b.ms - a.ms);
  return { stepMs: wall / steps, kernelMs: kernels.reduce((s, k) => s + k.ms, 0), kernels };
}

/**
 * Runs `f` `steps` times (after `warmup` untimed calls) with every kernel of `backendName` timed;
 * `detailed` splits each kernel by input shapes. Kernels are restored afterwards even on error.
 */
export function profileKernels(backendName: string, f: () => unknown, options: { steps: number; warmup?: number; detailed?: boolean }): KernelProfile {
  for (let i = 0; i < (options.warmup ?? 3); i++) f();
  const totals = new Map<string, { calls: number; ms: number }>();
  const restore = timeKernels(backendName, options.detailed === true, totals);
  let wall = 0;
  try {
    const t0 = performance.now();
    for (let i = 0; i < options.steps; i++) f();
    wall = performance.now() - t0;
  } finally {
    restore();
  }
  return summarize(totals, wall, options.steps);
}

/** `profileKernels` for a step that awaits (an agent's `observe` reads its metrics back); each call is awaited before the next. */
export async function profileKernelsAsync(backendName: string, f: () => Promise<unknown>, options: { steps: number; warmup?: number; detailed?: boolean }): Promise<KernelProfile> {
  for (let i = 0; i < (options.warmup ?? 3); i++) await f();
  const totals = new Map<string, { calls: number; ms: number }>();
  const restore = timeKernels(backendName, options.detailed === true, totals);
  let wall = 0;
  try {
    const t0 = performance.now();
    for (let i = 0; i < options.steps; i++) await f();
    wall = performance.now() - t0;
  } finally {
    restore();
  }
  return summarize(totals, wall, options.steps);
}

/** Prints a profile as a table: ms per step, share of the step, calls per step. */
export function printProfile(title: string, p: KernelProfile, limit = 40): void {
  console.log(`${title}: ${p.stepMs.toFixed(2)} ms per step, ${p.kernelMs.toFixed(2)} ms in kernels, ${(p.stepMs - p.kernelMs).toFixed(2)} ms elsewhere (engine, JS)`);
  const width = Math.max(6, ...p.kernels.slice(0, limit).map((k) => k.key.length));
  console.log(`${'kernel'.padEnd(width)}  ${'ms/step'.padStart(8)}  ${'share'.padStart(6)}  ${'calls'.padStart(6)}`);
  for (const k of p.kernels.slice(0, limit)) {
    console.log(`${k.key.padEnd(width)}  ${k.ms.toFixed(3).padStart(8)}  ${((100 * k.ms) / p.stepMs).toFixed(1).padStart(5)}%  ${k.calls.toFixed(0).padStart(6)}`);
  }
  if (p.kernels.length > limit) console.log(`(${p.kernels.length - limit} more, ${p.kernels.slice(limit).reduce((s, k) => s + k.ms, 0).toFixed(3)} ms)`);
}
