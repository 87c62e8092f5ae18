/**
 * Saliency maps of a CNN policy for one observation: which input pixels the chosen output (the
 * Q-value or logit of an action, or the value) depends on. Two methods:
 * - `gradient`: |d output / d input|, reduced over channels (max or sum) (Simonyan et al. 2014).
 * - `perturbation` (Greydanus et al. 2018, "Visualizing and Understanding Atari Agents"): for each
 *   grid point p (every `stride` pixels) the input is blurred around p,
 *   x' = x (1 - M_p) + A(x) M_p, with M_p a Gaussian mask of `maskSigma` centred on p and A(x) the
 *   input blurred with a Gaussian of `blurSigma`; the score is S(p) = 1/2 (f(x) - f(x'))^2.
 * The one implementation the viewer (in the browser) and Node share: plain tfjs ops for the
 * network, plain loops for masks and blur, so that both compute the same numbers on the same
 * backend. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { shapeSize, writeNetworkInput, type PolicyFile } from './policy-file.js';

export type SaliencyMethod = 'gradient' | 'perturbation';

/** The networks a map is computed from: a bundle's policy network and, when it has one, its critic. A loaded `Policy` is one. */
export interface SaliencyNetwork {
  /** The bundle's policy.json. */
  file: PolicyFile;
  /** The policy network (Q-values or logits first). */
  model: tf.LayersModel;
  /** The critic (observation -> [value], `loadValueModel`), or null/absent. */
  valueModel?: tf.LayersModel | null;
}

/** The network output a map explains: the Q-value or logit of one action, or the value. */
export type SaliencyTarget = { kind: 'action'; action: number } | { kind: 'value' };

/** How the gradient method folds the channels of |gradient| into one value per pixel. */
export type ChannelReduce = 'max' | 'sum';

export interface GradientSaliencyOptions {
  method: 'gradient';
  /** Per pixel: the largest |gradient| over channels (default) or their sum. */
  reduce?: ChannelReduce;
}

export interface PerturbationSaliencyOptions {
  method: 'perturbation';
  /** Pixels between grid points (Greydanus: 5 on 84x84; default scaled to the input, at least 1). */
  stride?: number;
  /** Standard deviation of the Gaussian mask around each grid point, in pixels (Greydanus: 5 on 84x84). */
  maskSigma?: number;
  /** Standard deviation of the blur that replaces the masked region, in pixels (Greydanus: 3 on 84x84). */
  blurSigma?: number;
  /** Perturbed inputs per forward pass (default 32). */
  batch?: number;
}

export type SaliencyOptions = GradientSaliencyOptions | PerturbationSaliencyOptions;

/** A saliency map over the observation's pixel grid. */
export interface SaliencyMap {
  method: SaliencyMethod;
  /** The observation's height and width (pixels of the network input). */
  height: number;
  width: number;
  /** Grid points per column and row: the input size for `gradient`, ceil(size / stride) for `perturbation`. */
  rows: number;
  cols: number;
  /** Input pixels between grid points (1 for `gradient`): grid point (r, c) sits at pixel (r * stride, c * stride). */
  stride: number;
  /** Raw scores, row-major (`rows * cols`). */
  raw: Float32Array;
  /** `raw / max(raw)`, in [0, 1] (all 0 when every score is 0). */
  values: Float32Array;
  /** The largest raw score. */
  peak: number;
  /** The explained output at the unperturbed input. */
  output: number;
  /** `gradient` only: the signed gradient of the output, one value per input value (`[H, W, C]`, row-major). */
  gradient?: Float32Array;
}

const isConv = (name: string): boolean => /^(Conv2D|DepthwiseConv2D|SeparableConv2D)$/.test(name);

/** Whether the model, nested models included, has a 2-D convolution layer. */
function hasConvolution(model: tf.LayersModel): boolean {
  return model.layers.some((l) => isConv(l.getClassName()) || ((l as unknown as tf.LayersModel).layers !== undefined && hasConvolution(l as unknown as tf.LayersModel)));
}

/**
 * Why saliency maps cannot be computed for this bundle, as one line for the viewer's panel, or
 * null when they can: a feed-forward CNN on an `[H, W, C]` observation with a Discrete Q or
 * logits output.
 */
export function saliencyUnsupported(file: PolicyFile, model: tf.LayersModel): string | null {
  if (file.observation.dict) return 'the policy reads a Dict observation; saliency maps need an image observation [H, W, C]';
  if (file.observation.shape.length !== 3) return `the policy reads a flat observation of shape [${file.observation.shape.join(', ')}] (an MLP policy); saliency maps need a CNN policy on an image observation [H, W, C]`;
  if (!hasConvolution(model)) return 'the policy has no convolution layer (an MLP policy); saliency maps need a CNN policy';
  if (file.recurrentState) return 'the policy is recurrent (LSTM); its maps would depend on the state carried from earlier frames, which the viewer does not replay';
  if (file.output !== 'q' && file.output !== 'logits') return `the policy outputs a continuous action (${file.output}); saliency maps need Q-values or action logits`;
  if (file.action && file.action.type !== 'Discrete') return `the policy has a ${file.action.type} action; saliency maps need a Discrete action`;
  return null;
}

/** Why `target` cannot be explained with these networks (one line), or null. */
export function saliencyTargetUnsupported(net: SaliencyNetwork, target: SaliencyTarget): string | null {
  const file = net.file;
  if (target.kind === 'value') return file.output === 'q' || net.valueModel ? null : 'the bundle has no value model (exported before bundles carried the critic, or a recurrent policy): pick the action output, or export the run again';
  const n = file.actions.length;
  return Number.isInteger(target.action) && target.action >= 0 && target.action < n ? null : `action ${describe(target.action)} is not one of the policy's ${n} actions`;
}

/** The network input (normalised and scaled as when acting) of one stored observation. */
export function saliencyInput(file: PolicyFile, obs: ArrayLike<number>): Float32Array {
  const size = shapeSize(file.observation.shape);
  if (!obs || typeof obs.length !== 'number' || obs.length !== size) {
    throw new SpaceMismatchError(formatError('saliency', `an observation of ${size} values (policy observation.shape [${file.observation.shape.join(', ')}])`, `${describe(obs)}${obs && typeof obs.length === 'number' ? ` with ${obs.length} values` : ''}`, 'record the episode from this run (npcforge record <game> --policy <run>)'));
  }
  const out = new Float32Array(size);
  writeNetworkInput(file, obs, out);
  return out;
}

/**
 * The explained output per batch row, `[N]`: the Q-value or logit of the target action (raw, not
 * softmaxed), or the value: the critic's where the bundle has one, else max_a Q(s, a) (Q
 * policies). Runs inside the caller's tidy / grad.
 */
function targetOutput(net: SaliencyNetwork, x: tf.Tensor, target: SaliencyTarget): tf.Tensor1D {
  if (target.kind === 'value' && net.valueModel) return tf.reshape(net.valueModel.apply(x, { training: false }) as tf.Tensor, [-1]) as tf.Tensor1D;
  const out = net.model.apply(x, { training: false }) as tf.Tensor | tf.Tensor[];
  const first = (Array.isArray(out) ? out[0]! : out) as tf.Tensor2D;
  return (target.kind === 'value' ? tf.max(first, 1) : tf.reshape(tf.slice(first, [0, target.action], [-1, 1]), [-1])) as tf.Tensor1D;
}

/** Defaults of the perturbation method for an input of `height` x `width`: Greydanus' 84x84 values scaled to the input, at least 1 pixel. */
export function defaultPerturbation(height: number, width: number): Required<Omit<PerturbationSaliencyOptions, 'method'>> {
  const f = Math.min(height, width) / 84;
  return { stride: Math.max(1, Math.round(5 * f)), maskSigma: Math.max(1, 5 * f), blurSigma: Math.max(1, 3 * f), batch: 32 };
}

/**
 * The saliency map of a bundle's networks (`net`: a loaded `Policy`, plus its critic for value
 * maps of actor-critics) for one stored observation `obs` (the preprocessed observation the
 * policy read, before scaling). Checks the bundle and the target first (InvalidConfigError naming
 * the reason). Tensors are freed before it returns; the caller keeps owning the models.
 */
export async function computeSaliency(net: SaliencyNetwork, obs: ArrayLike<number>, target: SaliencyTarget, options: SaliencyOptions): Promise<SaliencyMap> {
  const file = net.file;
  const problem = saliencyUnsupported(file, net.model) ?? saliencyTargetUnsupported(net, target);
  if (problem) throw new InvalidConfigError(formatError('saliency', 'a feed-forward CNN policy with Q-values or logits and an output it has', problem, 'pick another output, or train a CNN policy'));
  const input = saliencyInput(file, obs);
  const [H, W, C] = file.observation.shape as [number, number, number];
  return options.method === 'gradient' ? gradientMap(net, input, [H, W, C], target, options.reduce ?? 'max') : perturbationMap(net, input, [H, W, C], target, options);
}

async function gradientMap(net: SaliencyNetwork, input: Float32Array, [H, W, C]: [number, number, number], target: SaliencyTarget, reduce: ChannelReduce): Promise<SaliencyMap> {
  if (reduce !== 'max' && reduce !== 'sum') throw new InvalidConfigError(formatError('saliency', "reduce 'max' or 'sum'", describe(reduce), "pass reduce: 'max'"));
  const { grad, out } = tf.tidy(() => {
    const x = tf.tensor4d(input, [1, H, W, C]);
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(targetOutput(net, v, target)))(x);
    return { grad, out: value };
  });
  const gradient = (await grad.data()) as Float32Array;
  const output = (await out.data())[0]!;
  grad.dispose();
  out.dispose();
  const raw = new Float32Array(H * W);
  for (let p = 0; p < H * W; p++) {
    let acc = 0;
    for (let c = 0; c < C; c++) {
      const g = Math.abs(gradient[p * C + c]!);
      acc = reduce === 'max' ? Math.max(acc, g) : acc + g;
    }
    raw[p] = acc;
  }
  return { method: 'gradient', height: H, width: W, rows: H, cols: W, stride: 1, ...normalise(raw), output, gradient: Float32Array.from(gradient) };
}

/** A normalised 1-D Gaussian kernel of `sigma` (radius ceil(3 sigma)). */
function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/**
 * The input blurred per channel with a Gaussian of `sigma`, separably; at the borders the kernel
 * is renormalised over the pixels inside, so a constant image stays constant (no dark frame).
 */
export function gaussianBlur(x: ArrayLike<number>, [H, W, C]: readonly [number, number, number], sigma: number): Float64Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(H * W * C);
  const out = new Float64Array(H * W * C);
  const pass = (src: ArrayLike<number>, dst: Float64Array, alongRows: boolean): void => {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        for (let c = 0; c < C; c++) {
          let acc = 0;
          let wsum = 0;
          for (let d = -r; d <= r; d++) {
            const yy = alongRows ? y : y + d;
            const xs = alongRows ? xx + d : xx;
            if (yy < 0 || yy >= H || xs < 0 || xs >= W) continue;
            const w = k[d + r]!;
            acc += w * src[(yy * W + xs) * C + c]!;
            wsum += w;
          }
          dst[(y * W + xx) * C + c] = acc / wsum;
        }
      }
    }
  };
  pass(x, tmp, true);
  pass(tmp, out, false);
  return out;
}

async function perturbationMap(net: SaliencyNetwork, input: Float32Array, shape: [number, number, number], target: SaliencyTarget, options: PerturbationSaliencyOptions): Promise<SaliencyMap> {
  const [H, W, C] = shape;
  const d = defaultPerturbation(H, W);
  const stride = options.stride ?? d.stride;
  const maskSigma = options.maskSigma ?? d.maskSigma;
  const blurSigma = options.blurSigma ?? d.blurSigma;
  const batch = options.batch ?? d.batch;
  const bad: string[] = [];
  if (!Number.isInteger(stride) || stride < 1 || stride > Math.max(H, W)) bad.push(`stride=${describe(stride)} (an integer in [1, ${Math.max(H, W)}])`);
  if (!(typeof maskSigma === 'number' && maskSigma > 0 && Number.isFinite(maskSigma))) bad.push(`maskSigma=${describe(maskSigma)} (a positive number of pixels)`);
  if (!(typeof blurSigma === 'number' && blurSigma > 0 && blurSigma <= Math.max(H, W))) bad.push(`blurSigma=${describe(blurSigma)} (a positive number of pixels, at most the input side)`);
  if (!Number.isInteger(batch) || batch < 1 || batch > 1024) bad.push(`batch=${describe(batch)} (an integer in [1, 1024])`);
  if (bad.length) throw new InvalidConfigError(formatError('saliency', 'valid perturbation options', bad.join(', '), 'omit them for the defaults'));
  const blurred = gaussianBlur(input, shape, blurSigma);
  const rows = Math.ceil(H / stride);
  const cols = Math.ceil(W / stride);
  const points = rows * cols;
  const size = H * W * C;
  const base = await evaluate(net, input, 1, shape, target);
  const output = base[0]!;
  const raw = new Float32Array(points);
  const buf = new Float32Array(Math.min(batch, points) * size);
  for (let p0 = 0; p0 < points; p0 += batch) {
    const n = Math.min(batch, points - p0);
    for (let b = 0; b < n; b++) {
      const i = Math.floor((p0 + b) / cols) * stride;
      const j = ((p0 + b) % cols) * stride;
      const off = b * size;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const m = Math.exp(-((y - i) ** 2 + (x - j) ** 2) / (2 * maskSigma * maskSigma));
          const q = (y * W + x) * C;
          for (let c = 0; c < C; c++) buf[off + q + c] = input[q + c]! * (1 - m) + blurred[q + c]! * m;
        }
      }
    }
    const outs = await evaluate(net, buf, n, shape, target);
    for (let b = 0; b < n; b++) raw[p0 + b] = 0.5 * (output - outs[b]!) ** 2;
  }
  return { method: 'perturbation', height: H, width: W, rows, cols, stride, ...normalise(raw), output };
}

/** The explained output for the first `n` inputs of `buf`. */
async function evaluate(net: SaliencyNetwork, buf: Float32Array, n: number, [H, W, C]: [number, number, number], target: SaliencyTarget): Promise<Float32Array> {
  const y = tf.tidy(() => targetOutput(net, tf.tensor4d(buf.subarray(0, n * H * W * C), [n, H, W, C]), target));
  const v = (await y.data()) as Float32Array;
  y.dispose();
  return v;
}

function normalise(raw: Float32Array): { raw: Float32Array; values: Float32Array; peak: number } {
  let peak = 0;
  for (const v of raw) if (v > peak) peak = v;
  const values = new Float32Array(raw.length);
  if (peak > 0) for (let i = 0; i < raw.length; i++) values[i] = raw[i]! / peak;
  return { raw, values, peak };
}
