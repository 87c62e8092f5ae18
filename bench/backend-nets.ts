/**
 * The four reference networks of the backend benchmark and tests (issue 3), written with plain tfjs
 * ops and explicit weights so the same weights can be built on any backend and compared:
 * MinAtar DQN (conv16 3x3 + dense128 on 10x10x4), Nature DQN (84x84x4), LSTM 128 units over 16
 * steps, and one Transformer block (d64, 4 heads, seq 32, token embedding). Each trains with Adam
 * on the Huber loss of Q(s, a) against fixed targets, like a DQN update, through the project's
 * `SlotOptimizer` (what the DQN agent trains with; PyTorch's Adam defaults: betas 0.9/0.999, eps 1e-8).
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '../src/envs/rng.js';
import { selectActionValues } from '../src/networks/select.js';
import { SlotOptimizer } from '../src/networks/optimizers.js';

export const NET_NAMES = ['minatar', 'nature', 'lstm', 'transformer'] as const;
export type NetName = (typeof NET_NAMES)[number];

/** A built network with its optimiser and one fixed training batch. */
export interface BenchNet {
  name: NetName;
  /** Trainable variables, in a fixed order. */
  variables: tf.Variable[];
  /** One Adam step on the fixed batch; returns the loss. */
  trainStep(): number;
  /** Gradients of the loss on the fixed batch, in `variables` order (caller owns them). */
  gradients(): tf.Tensor[];
  /** Greedy action for one observation (batch 1). */
  act(): number;
  dispose(): void;
}

/** Sizes of a network's training batch. */
export interface NetSizes {
  /** Training batch (sequences for the LSTM). */
  batch: number;
  /** Number of actions of the Q head. */
  actions: number;
}

export const DEFAULT_SIZES: Record<NetName, NetSizes> = {
  minatar: { batch: 32, actions: 6 },
  nature: { batch: 32, actions: 6 },
  lstm: { batch: 16, actions: 6 },
  transformer: { batch: 32, actions: 6 },
};

const LSTM_STEPS = 16;
const LSTM_FEATURES = 32;
const LSTM_UNITS = 128;
const TF_SEQ = 32;
const TF_DIM = 64;
const TF_HEADS = 4;
const TF_FFN = 256;
const TF_VOCAB = 500;

function uniform(rng: SeededRng, n: number, limit: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.random() * 2 - 1) * limit;
  return out;
}

/** Glorot-uniform weight of the given shape from `rng` (same numbers on every backend). */
function weight(rng: SeededRng, shape: number[], fanIn: number, fanOut: number): tf.Variable {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = uniform(rng, tf.util.sizeFromShape(shape), limit);
  return tf.tidy(() => tf.variable(tf.tensor(values, shape)));
}

function bias(n: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros([n])));
}

interface Spec {
  vars: tf.Variable[];
  forward(x: tf.Tensor, batch: number): tf.Tensor2D;
  input: tf.Tensor;
  single: tf.Tensor;
}

function convSpec(rng: SeededRng, nature: boolean, sizes: NetSizes): Spec {
  const vars: tf.Variable[] = [];
  const [h, w, c] = nature ? [84, 84, 4] : [10, 10, 4];
  const convs = nature
    ? [
        { k: 8, s: 4, out: 32 },
        { k: 4, s: 2, out: 64 },
        { k: 3, s: 1, out: 64 },
      ]
    : [{ k: 3, s: 1, out: 16 }];
  let inC = c;
  let side = h;
  const convVars: Array<[tf.Variable, tf.Variable, number]> = [];
  for (const cv of convs) {
    const wv = weight(rng, [cv.k, cv.k, inC, cv.out], cv.k * cv.k * inC, cv.k * cv.k * cv.out);
    const bv = bias(cv.out);
    convVars.push([wv, bv, cv.s]);
    vars.push(wv, bv);
    side = Math.floor((side - cv.k) / cv.s) + 1;
    inC = cv.out;
  }
  const flat = side * side * inC;
  const hidden = nature ? 512 : 128;
  const w1 = weight(rng, [flat, hidden], flat, hidden);
  const b1 = bias(hidden);
  const w2 = weight(rng, [hidden, sizes.actions], hidden, sizes.actions);
  const b2 = bias(sizes.actions);
  vars.push(w1, b1, w2, b2);
  const forward = (x: tf.Tensor, batch: number): tf.Tensor2D => {
    let y = x as tf.Tensor4D;
    for (const [wv, bv, s] of convVars) y = tf.relu(tf.add(tf.conv2d(y, wv as tf.Tensor4D, s, "valid"), bv)) as tf.Tensor4D;
    const f = tf.reshape(y, [batch, flat]) as tf.Tensor2D;
    const hdn = tf.relu(tf.add(tf.matMul(f, w1), b1)) as tf.Tensor2D;
    return tf.add(tf.matMul(hdn, w2), b2) as tf.Tensor2D;
  };
  return {
    vars,
    forward,
    input: tf.tensor4d(uniform(rng, sizes.batch * h * w * c, 1).map(Math.abs), [sizes.batch, h, w, c]),
    single: tf.tensor4d(uniform(rng, h * w * c, 1).map(Math.abs), [1, h, w, c]),
  };
}

function lstmSpec(rng: SeededRng, sizes: NetSizes): Spec {
  const wx = weight(rng, [LSTM_FEATURES, 4 * LSTM_UNITS], LSTM_FEATURES, 4 * LSTM_UNITS);
  const wh = weight(rng, [LSTM_UNITS, 4 * LSTM_UNITS], LSTM_UNITS, 4 * LSTM_UNITS);
  const b = bias(4 * LSTM_UNITS);
  const wq = weight(rng, [LSTM_UNITS, sizes.actions], LSTM_UNITS, sizes.actions);
  const bq = bias(sizes.actions);
  const forward = (x: tf.Tensor, batch: number): tf.Tensor2D => {
    const steps = x.shape[1]!;
    // Input projection of all steps in one product (as cuDNN and PyTorch do), then the recurrence.
    const xw = tf.reshape(tf.matMul(tf.reshape(x, [batch * steps, LSTM_FEATURES]), wx), [batch, steps, 4 * LSTM_UNITS]);
    const xs = tf.unstack(xw, 1);
    let hState = tf.zeros([batch, LSTM_UNITS]) as tf.Tensor2D;
    let cState = tf.zeros([batch, LSTM_UNITS]) as tf.Tensor2D;
    for (const xt of xs) {
      const z = tf.add(tf.add(xt, tf.matMul(hState, wh)), b);
      const [i, f, g, o] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      cState = tf.add(tf.mul(tf.sigmoid(f), cState), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
      hState = tf.mul(tf.sigmoid(o), tf.tanh(cState)) as tf.Tensor2D;
    }
    return tf.add(tf.matMul(hState, wq), bq) as tf.Tensor2D;
  };
  return {
    vars: [wx, wh, b, wq, bq],
    forward,
    input: tf.tensor3d(uniform(rng, sizes.batch * LSTM_STEPS * LSTM_FEATURES, 1), [sizes.batch, LSTM_STEPS, LSTM_FEATURES]),
    single: tf.tensor3d(uniform(rng, LSTM_STEPS * LSTM_FEATURES, 1), [1, LSTM_STEPS, LSTM_FEATURES]),
  };
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
}

function transformerSpec(rng: SeededRng, sizes: NetSizes): Spec {
  const d = TF_DIM;
  const hd = d / TF_HEADS;
  const emb = weight(rng, [TF_VOCAB, d], TF_VOCAB, d);
  const pos = weight(rng, [TF_SEQ, d], TF_SEQ, d);
  const g1 = tf.tidy(() => tf.variable(tf.ones([d])));
  const be1 = bias(d);
  const wqkv = weight(rng, [d, 3 * d], d, 3 * d);
  const bqkv = bias(3 * d);
  const wo = weight(rng, [d, d], d, d);
  const bo = bias(d);
  const g2 = tf.tidy(() => tf.variable(tf.ones([d])));
  const be2 = bias(d);
  const wf1 = weight(rng, [d, TF_FFN], d, TF_FFN);
  const bf1 = bias(TF_FFN);
  const wf2 = weight(rng, [TF_FFN, d], TF_FFN, d);
  const bf2 = bias(d);
  const wq = weight(rng, [d, sizes.actions], d, sizes.actions);
  const bq = bias(sizes.actions);
  const forward = (tokens: tf.Tensor, batch: number): tf.Tensor2D => {
    const t = TF_SEQ;
    const x0 = tf.add(tf.reshape(tf.gather(emb, tf.reshape(tokens, [batch * t])), [batch, t, d]), pos);
    const h1 = tf.reshape(layerNorm(x0, g1, be1), [batch * t, d]);
    const qkv = tf.add(tf.matMul(h1, wqkv), bqkv);
    const heads = (part: tf.Tensor) => tf.transpose(tf.reshape(part, [batch, t, TF_HEADS, hd]), [0, 2, 1, 3]);
    const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)));
    const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [batch * t, d]);
    const x1 = tf.add(tf.reshape(x0, [batch * t, d]), tf.add(tf.matMul(ctx, wo), bo));
    const h2 = layerNorm(x1, g2, be2);
    const ff = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(h2, wf1), bf1)), wf2), bf2);
    const x2 = tf.reshape(tf.add(x1, ff), [batch, t, d]);
    return tf.add(tf.matMul(tf.mean(x2, 1), wq), bq) as tf.Tensor2D;
  };
  const tok = (n: number) => Int32Array.from({ length: n }, () => rng.int(0, TF_VOCAB));
  return {
    vars: [emb, pos, g1, be1, wqkv, bqkv, wo, bo, g2, be2, wf1, bf1, wf2, bf2, wq, bq],
    forward,
    input: tf.tensor2d(tok(sizes.batch * TF_SEQ), [sizes.batch, TF_SEQ], 'int32'),
    single: tf.tensor2d(tok(TF_SEQ), [1, TF_SEQ], 'int32'),
  };
}

/** Builds a network on the current backend; the same seed gives the same weights and batch everywhere. */
export function buildNet(name: NetName, options: { seed?: number; sizes?: Partial<NetSizes>; learningRate?: number } = {}): BenchNet {
  const sizes = { ...DEFAULT_SIZES[name], ...options.sizes };
  const rng = new SeededRng(options.seed ?? 1);
  const spec =
    name === 'minatar' ? convSpec(rng, false, sizes) : name === 'nature' ? convSpec(rng, true, sizes) : name === 'lstm' ? lstmSpec(rng, sizes) : transformerSpec(rng, sizes);
  const actions = tf.tensor1d(Int32Array.from({ length: sizes.batch }, () => rng.int(0, sizes.actions)), 'int32');
  const targets = tf.tensor1d(uniform(rng, sizes.batch, 1));
  const optimizer = new SlotOptimizer({ kind: 'adam', learningRate: options.learningRate ?? 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, spec.vars);
  const lossFn = (): tf.Scalar => {
    const q = spec.forward(spec.input, sizes.batch);
    return tf.losses.huberLoss(targets, selectActionValues(q, actions)) as tf.Scalar;
  };
  return {
    name,
    variables: spec.vars,
    trainStep(): number {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn, spec.vars);
        optimizer.apply(spec.vars.map((v) => grads[v.name]!));
        return value;
      });
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    },
    gradients(): tf.Tensor[] {
      const { value, grads } = tf.variableGrads(lossFn, spec.vars);
      value.dispose();
      return spec.vars.map((v) => grads[v.name]!);
    },
    act(): number {
      const a = tf.tidy(() => tf.argMax(spec.forward(spec.single, 1), 1));
      const v = a.dataSync()[0]!;
      a.dispose();
      return v;
    },
    dispose(): void {
      optimizer.dispose();
      tf.dispose([...spec.vars, spec.input, spec.single, actions, targets]);
    },
  };
}
