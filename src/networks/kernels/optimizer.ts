/**
 * One fused optimizer step over all variables for the `wasm` backend (`SlotOptimizer.apply`).
 * Written with tfjs ops, Adam is ~10 element-wise kernels per variable, each a full pass over the
 * heap and a fresh allocation: 31 ms per Nature DQN step (1.7 M weights), more than a sixth of the
 * step. Here each variable is read once and its new value and slots written once, four lanes at a
 * time by our SIMD module (simd.ts); the last n % 4 elements in JavaScript. With a thread pool
 * (gemm-pool.ts) large variables are split into one element range per thread. Every intermediate is
 * rounded to float32 where the op version rounds it (each op's output), so the result is the same
 * as the op version's, not just close.
 *
 * Inputs: `w<i>`, `g<i>` and `s<i>_<j>` (slot j of variable i) for i < attrs.count. Outputs, per
 * variable in order: the new value, then its new slots. All outputs are fresh tensors: updating in
 * place would change data that other tensors may share (tfjs `clone` shares data) and that
 * XNNPACK caches packed copies of by tensor id.
 */
import * as tf from '@tensorflow/tfjs';
import { CALL, type Program, floatBits, gemmThreads, runPrograms, splitRange } from './gemm-pool.js';
import { KernelArgs, WasmKernelFunc, f32, offsetOf } from './wasm-util.js';

/**
 * Elements from which a step is split over threads (a variable of this size is split itself).
 * The step is memory-bound (seven float streams), so below this the hand-off costs more than it saves.
 */
const PARALLEL_MIN_ELEMENTS = 1 << 18;

/** Name of the kernel (registered for `wasm` only; other backends use the op version). */
export const SLOT_UPDATE = 'NpcforgeSlotUpdate';

/** Attributes of one fused step. */
export type SlotUpdateAttrs =
  | {
      kind: 'adam';
      count: number;
      /** Bias-corrected step size for this step: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
      stepSize: number;
      beta1: number;
      beta2: number;
      epsilon: number;
    }
  | { kind: 'rmsprop-centered'; count: number; learningRate: number; decay: number; momentum: number; epsilon: number };

const fr = Math.fround;

/** Scalar Adam over elements [from, w.length): the remainder after the SIMD part. */
function adamTail(from: number, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, wo: Float32Array, mo: Float32Array, vo: Float32Array, c: Constants): void {
  for (let i = from; i < w.length; i++) {
    const gi = g[i]!;
    const mi = fr(fr(m[i]! * c.b1) + fr(gi * c.c1));
    const vi = fr(fr(v[i]! * c.b2) + fr(fr(gi * gi) * c.c2));
    mo[i] = mi;
    vo[i] = vi;
    wo[i] = w[i]! - fr(c.lr * fr(mi / fr(fr(Math.sqrt(vi)) + c.eps)));
  }
}

/** Scalar centred RMSProp over elements [from, w.length). */
function rmspropTail(from: number, w: Float32Array, g: Float32Array, sq: Float32Array, mean: Float32Array, mom: Float32Array | undefined, wo: Float32Array, sqo: Float32Array, meano: Float32Array, momo: Float32Array | undefined, c: Constants): void {
  for (let i = from; i < w.length; i++) {
    const gi = g[i]!;
    const si = fr(fr(sq[i]! * c.b1) + fr(fr(gi * gi) * c.c1));
    const ai = fr(fr(mean[i]! * c.b1) + fr(gi * c.c1));
    sqo[i] = si;
    meano[i] = ai;
    const centred = fr(si - fr(ai * ai));
    const denom = fr(fr(Math.sqrt(centred > 0 ? centred : 0)) + c.eps);
    let update = fr(c.lr * fr(gi / denom));
    if (mom !== undefined) {
      update = fr(fr(mom[i]! * c.mu) + update);
      momo![i] = update;
    }
    wo[i] = w[i]! - update;
  }
}

/** The step's constants as float32 values (the op version turns each number into a float32 scalar). */
interface Constants {
  /** beta1 (Adam) or decay (RMSProp), and one minus it. */
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  lr: number;
  eps: number;
  mu: number;
}

function constants(a: SlotUpdateAttrs): Constants {
  return a.kind === 'adam'
    ? { b1: fr(a.beta1), c1: fr(1 - a.beta1), b2: fr(a.beta2), c2: fr(1 - a.beta2), lr: fr(a.stepSize), eps: fr(a.epsilon), mu: 0 }
    : { b1: fr(a.decay), c1: fr(1 - a.decay), b2: 0, c2: 0, lr: fr(a.learningRate), eps: fr(a.epsilon), mu: fr(a.momentum) };
}

/** The fused step (see the file comment). */
export const slotUpdate: WasmKernelFunc = ({ inputs, backend, attrs }: KernelArgs) => {
  const a = attrs as unknown as SlotUpdateAttrs;
  const slots = a.kind === 'adam' ? 2 : a.momentum > 0 ? 3 : 2;
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < a.count; i++) {
    const w = inputs[`w${i}`]!;
    const g = inputs[`g${i}`]!;
    if (w.dtype !== 'float32' || g.dtype !== 'float32' || !tf.util.arraysEqual(w.shape, g.shape)) {
      throw new Error(`${SLOT_UPDATE}: variable ${i} (${w.dtype} [${w.shape}]) and its gradient (${g.dtype} [${g.shape}]) must be float32 of one shape`);
    }
    for (let j = 0; j <= slots; j++) outs.push(backend.makeOutput(w.shape, 'float32'));
  }
  const c = constants(a);
  // Per variable: its inputs (value, gradient, slots), its outputs, and its element count.
  const vars = Array.from({ length: a.count }, (_, i) => ({
    ins: [`w${i}`, `g${i}`, ...Array.from({ length: slots }, (_, j) => `s${i}_${j}`)].map((name) => inputs[name]!),
    res: outs.slice(i * (slots + 1), (i + 1) * (slots + 1)),
    n: tf.util.sizeFromShape(inputs[`w${i}`]!.shape),
  }));
  const total = vars.reduce((x, v) => x + v.n, 0);
  const threads = total < PARALLEL_MIN_ELEMENTS ? 1 : gemmThreads(backend);
  const programs: Program[] = Array.from({ length: threads }, () => []);
  const at = (t: tf.TensorInfo) => offsetOf(backend, t);
  const floats = [c.b1, c.c1, c.b2, c.c2, c.lr, c.eps, c.mu].map(floatBits);
  for (const { ins, res, n } of vars) {
    const n4 = n - (n % 4);
    // Large variables are split into one element range per thread, small ones go to thread 0.
    const ranges = n4 >= PARALLEL_MIN_ELEMENTS ? splitRange(n4 / 4, threads).map(([q0, q1]) => [4 * q0, 4 * q1] as const) : [[0, n4] as const];
    ranges.forEach(([e0, e1], t) => {
      if (e1 === e0) return;
      const p = (x: tf.TensorInfo) => at(x) + 4 * e0;
      if (a.kind === 'adam') {
        programs[t]!.push(CALL.adam, 14, e1 - e0, p(ins[0]!), p(ins[1]!), p(ins[2]!), p(ins[3]!), p(res[0]!), p(res[1]!), p(res[2]!), ...floats.slice(0, 6));
      } else {
        const mom = slots === 3;
        const [b1, c1, , , lr, eps, mu] = floats;
        programs[t]!.push(CALL.rmsprop, 16, e1 - e0, p(ins[0]!), p(ins[1]!), p(ins[2]!), p(ins[3]!), mom ? p(ins[4]!) : 0, p(res[0]!), p(res[1]!), p(res[2]!), mom ? p(res[3]!) : 0, b1!, c1!, lr!, eps!, mu!, mom ? 1 : 0);
      }
    });
  }
  runPrograms(backend, programs);
  for (const { ins, res, n } of vars) {
    const n4 = n - (n % 4);
    if (n4 === n) continue;
    // Views only now: makeOutput may have grown (and detached) the heap.
    const iv = ins.map((t) => f32(backend, t));
    const ov = res.map((t) => f32(backend, t));
    if (a.kind === 'adam') adamTail(n4, iv[0]!, iv[1]!, iv[2]!, iv[3]!, ov[0]!, ov[1]!, ov[2]!, c);
    else rmspropTail(n4, iv[0]!, iv[1]!, iv[2]!, iv[3]!, iv[4], ov[0]!, ov[1]!, ov[2]!, ov[3], c);
  }
  return outs as unknown as tf.TensorInfo;
};
