/**
 * A fast path for networks that are a plain chain of Conv2D (ReLU) / Flatten / Dense (ReLU or
 * linear) layers, such as the MinAtar, Nature and MLP Q-networks: the forward pass and the
 * gradients as direct tfjs ops, without the Layers graph walk and without tfjs's gradient tape.
 *
 * Why: on the MinAtar DQN (a 1,600 x 128 dense layer, batch 32) the kernels are about half of an
 * update's CPU; the rest is tfjs bookkeeping per op, and the Layers call plus the tape (recording,
 * pruning with `getFilteredNodesXToY`, one closure per gradient) were the largest part of it.
 *
 * Same numbers: each function runs the same kernels, in the same order, on the same inputs as
 * `model.apply` (inference: fused conv/matmul with bias and activation) and as `tf.variableGrads`
 * over `model.apply(x, { training: true })` (with a tape, tfjs computes a ReLU layer unfused:
 * product, bias add, ReLU; and differentiates it as ReLU (dy * step(z)), add (sum over the
 * broadcast axes) and product; a linear Dense stays one fused product with its own gradient).
 * The results are bit-identical, which test/networks/chain.test.ts checks against the Layers
 * model on wasm and cpu. Anything else (other layers, activations, data formats, no bias,
 * dilation, non-trainable weights) gets `null` from `chainOf`, and the caller keeps the Layers path.
 */
import * as tf from '@tensorflow/tfjs';

/** One layer of a chain. `kernel` and `bias` are the layer's variables (read at each call: they are assigned in place). */
export type ChainLayer =
  | { kind: 'conv2d'; kernel: tf.Variable; bias: tf.Variable; strides: [number, number]; pad: 'valid' | 'same' }
  | { kind: 'flatten' }
  | { kind: 'dense'; kernel: tf.Variable; bias: tf.Variable; relu: boolean };

/** A model as a chain of layers (see the file comment). */
export interface Chain {
  readonly layers: readonly ChainLayer[];
}

interface LayerConfigView {
  activation?: string;
  useBias?: boolean;
  dataFormat?: string;
  dilationRate?: number | number[];
  padding?: string;
  strides?: number | number[];
}

const pair = (v: number | number[] | undefined, fallback: number): [number, number] => (v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0]!, v[1] ?? v[0]!]);

/**
 * The chain of `model` when every layer after the input is a Conv2D with ReLU, a Flatten or a
 * Dense with ReLU or no activation, each fed by the one before, all weights trainable; else null.
 */
export function chainOf(model: tf.LayersModel): Chain | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const layers: ChainLayer[] = [];
  let prev: tf.SymbolicTensor = model.inputs[0]!;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1 || layer.input !== prev) return null;
    const cfg = layer.getConfig() as LayerConfigView;
    const weights = layer.weights;
    if (weights.some((w) => !w.trainable)) return null;
    const vars = (): [tf.Variable, tf.Variable] | null => {
      if (cfg.useBias !== true || weights.length !== 2) return null;
      return [weights[0]!.read() as tf.Variable, weights[1]!.read() as tf.Variable];
    };
    if (cls === 'Conv2D') {
      const v = vars();
      const dil = pair(cfg.dilationRate, 1);
      if (!v || cfg.activation !== 'relu' || (cfg.dataFormat ?? 'channelsLast') !== 'channelsLast' || dil[0] !== 1 || dil[1] !== 1) return null;
      if (cfg.padding !== 'valid' && cfg.padding !== 'same') return null;
      layers.push({ kind: 'conv2d', kernel: v[0], bias: v[1], strides: pair(cfg.strides, 1), pad: cfg.padding });
    } else if (cls === 'Flatten') {
      if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return null;
      layers.push({ kind: 'flatten' });
    } else if (cls === 'Dense') {
      const v = vars();
      if (!v || (cfg.activation !== 'relu' && cfg.activation !== 'linear') || v[0].shape.length !== 2) return null;
      layers.push({ kind: 'dense', kernel: v[0], bias: v[1], relu: cfg.activation === 'relu' });
    } else {
      return null;
    }
    prev = layer.output as tf.SymbolicTensor;
  }
  if (prev !== model.outputs[0] || layers.length === 0) return null;
  // A dense layer needs a 2D input: a rank > 2 tensor reaching it unflattened takes Layers' own reshaping path.
  let rank = model.inputs[0]!.shape.length;
  for (const l of layers) {
    if (l.kind === 'flatten') rank = 2;
    else if (l.kind === 'dense' && rank !== 2) return null;
    else if (l.kind === 'conv2d' && rank !== 4) return null;
  }
  return { layers };
}

/** The chain's output for `x` in inference mode, as `model.apply(x)` computes it. Call inside tidy. */
export function chainForward(chain: Chain, x: tf.Tensor): tf.Tensor {
  let h = x;
  for (const l of chain.layers) {
    if (l.kind === 'flatten') h = tf.reshape(h, [h.shape[0]!, h.size / h.shape[0]!]);
    else if (l.kind === 'conv2d') h = tf.fused.conv2d({ x: h as tf.Tensor4D, filter: l.kernel as tf.Tensor4D, strides: l.strides, pad: l.pad, dataFormat: 'NHWC', dilations: [1, 1], bias: l.bias, activation: 'relu' });
    else h = tf.fused.matMul({ a: h as tf.Tensor2D, b: l.kernel as tf.Tensor2D, transposeA: false, transposeB: false, bias: l.bias, activation: l.relu ? 'relu' : 'linear' });
  }
  return h;
}

/** What the backward pass of one layer needs from the forward pass. */
export type Saved =
  | { kind: 'flatten'; inShape: number[] }
  /** Conv2D or ReLU Dense: the layer input and the pre-activation (product + bias). */
  | { kind: 'unfused'; x: tf.Tensor; z: tf.Tensor }
  /** Linear Dense: its input. */
  | { kind: 'linear'; x: tf.Tensor };

/** What `chainTrainForward` recorded for `chainBackward` (tensors of the enclosing tidy). */
export interface ChainTape {
  readonly saved: readonly Saved[];
}

/**
 * The training-mode forward pass (as tfjs computes it under a gradient tape: ReLU layers
 * unfused) and what the backward pass needs. Call inside tidy, with `chainBackward` in the same one.
 */
export function chainTrainForward(chain: Chain, x: tf.Tensor): { y: tf.Tensor; tape: ChainTape } {
  const saved: Saved[] = [];
  let h = x;
  for (const l of chain.layers) {
    if (l.kind === 'flatten') {
      saved.push({ kind: 'flatten', inShape: h.shape });
      h = tf.reshape(h, [h.shape[0]!, h.size / h.shape[0]!]);
    } else if (l.kind === 'conv2d') {
      const z = tf.add(tf.conv2d(h as tf.Tensor4D, l.kernel as tf.Tensor4D, l.strides, l.pad, 'NHWC', [1, 1]), l.bias);
      saved.push({ kind: 'unfused', x: h, z });
      h = tf.relu(z);
    } else if (l.relu) {
      const z = tf.add(tf.matMul(h, l.kernel, false, false), l.bias);
      saved.push({ kind: 'unfused', x: h, z });
      h = tf.relu(z);
    } else {
      saved.push({ kind: 'linear', x: h });
      h = tf.fused.matMul({ a: h as tf.Tensor2D, b: l.kernel as tf.Tensor2D, transposeA: false, transposeB: false, bias: l.bias, activation: 'linear' });
    }
  }
  return { y: h, tape: { saved } };
}

/**
 * Gradients of every variable of the chain (keyed by variable name, as `tf.variableGrads` returns
 * them) given `dy`, the loss's gradient at the output of `chainTrainForward`. Call inside tidy.
 */
export function chainBackward(chain: Chain, tape: ChainTape, dy: tf.Tensor): tf.NamedTensorMap {
  const grads: tf.NamedTensorMap = {};
  for (let i = chain.layers.length - 1; i >= 0; i--) {
    const l = chain.layers[i]!;
    const s = tape.saved[i]!;
    // The first layer's input is the observation: like the tape, compute no gradient for it.
    const needDx = i > 0;
    if (l.kind === 'flatten') {
      dy = tf.reshape(dy, (s as Extract<Saved, { kind: 'flatten' }>).inShape);
    } else if (s.kind === 'linear') {
      // tfjs's fused matMul gradient: products of 3D views, bias gradient summed over the batch.
      const l2 = l as Extract<ChainLayer, { kind: 'dense' }>;
      const [k, n] = l2.kernel.shape as [number, number];
      const b = s.x.shape[0]!;
      const dy3 = tf.reshape(dy, [1, b, n]);
      grads[l2.kernel.name] = tf.reshape(tf.matMul(tf.reshape(s.x, [1, b, k]), dy3, true, false), [k, n]);
      grads[l2.bias.name] = tf.reshape(tf.sum(dy3, [0, 1]), l2.bias.shape);
      if (needDx) dy = tf.reshape(tf.matMul(dy3, tf.reshape(l2.kernel, [1, k, n]), false, true), s.x.shape);
    } else if (s.kind === 'unfused') {
      // ReLU, then the bias add (the bias gradient sums over every axis but the last), then the product.
      const dz = tf.mul(dy, tf.cast(tf.step(s.z), 'float32'));
      const biasAxes = s.z.shape.slice(0, -1).map((_, j) => j);
      const layer = l as Extract<ChainLayer, { kind: 'conv2d' | 'dense' }>;
      grads[layer.bias.name] = tf.reshape(tf.sum(dz, biasAxes), layer.bias.shape);
      if (layer.kind === 'dense') {
        grads[layer.kernel.name] = tf.matMul(s.x, dz, true, false);
        if (needDx) dy = tf.matMul(dz, layer.kernel, false, true);
      } else {
        const attrs = { strides: layer.strides, pad: layer.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        grads[layer.kernel.name] = tf.engine().runKernel('Conv2DBackpropFilter', { x: s.x, dy: dz }, { ...attrs, filterShape: layer.kernel.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
        if (needDx) dy = tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: layer.kernel }, { ...attrs, inputShape: s.x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
      }
    }
  }
  return grads;
}

/**
 * The training-mode loss and its gradients for every variable of the chain (keyed by variable
 * name): `loss` maps the chain's output to a scalar and may `tf.keep` tensors it wants to outlive
 * the call. Its few small ops still go through the tape; the gradient at the output is what the
 * full tape passes down. Call inside tidy; the caller owns what it keeps.
 */
export function chainGrads(chain: Chain, x: tf.Tensor, loss: (y: tf.Tensor) => tf.Scalar): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const { y, tape } = chainTrainForward(chain, x);
  const { value, grad } = tf.valueAndGrad(loss)(y);
  return { value, grads: chainBackward(chain, tape, grad) };
}
