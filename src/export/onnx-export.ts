/**
 * ONNX export of a policy: the tfjs LayersModel of a bundle (the one `loadPolicy` runs) translated
 * layer by layer into an ONNX graph (opset 13) that computes what the runtime computes from an
 * observation: the input normalisation and scaling, the network, then the reading of its output
 * (softmax per MultiDiscrete part, Gaussian mean clipped, SAC's squashed mean) and the greedy action.
 *
 * Layout: the graph input `obs` is the runtime's observation, float32 [N, ...observation.shape]
 * (NHWC for images, as tfjs). Convolutions run in ONNX's NCHW: the graph transposes once before the
 * first convolution and once back before anything that reads the channels-last order (Flatten,
 * Reshape, Dense), so the Dense weights keep the order they were trained in.
 *
 * The LSTM is written as its unrolled cell (MatMul, Split, Sigmoid/Tanh) rather than the ONNX LSTM
 * op: the gate order and state layout are then explicit, and runtimes without an LSTM kernel (or
 * with a different one) run it as plain arithmetic.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, UnsupportedLayerError, describe, formatError } from '../errors.js';
import { npcforgeVersion } from '../version.js';
import type { PolicyFile } from '../runtime/policy-file.js';
import { loadPolicy } from '../runtime/load-policy.js';
import { ONNX_IR_VERSION, OnnxAttributeType, OnnxDataType, encodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto.js';

/** Opset of the default ONNX domain the graphs use (Softmax over one axis, Split/Unsqueeze/Slice with tensor inputs). */
export const ONNX_OPSET = 13;
/** File name of the ONNX model in a bundle folder. */
export const ONNX_FILE = 'policy.onnx';
/** Name of the batch dimension in the graph's inputs and outputs. */
const BATCH = 'N';

/** Layer classes the exporter translates (the error for any other names this list). */
export const ONNX_LAYERS = ['InputLayer', 'Conv2D', 'Dense', 'Flatten', 'Reshape', 'Cropping2D', 'Concatenate', 'LSTM', 'Activation', 'Dropout', 'Model', 'Functional', 'Sequential'] as const;
const ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'hardSigmoid', 'softmax'] as const;

/**
 * A tensor of the graph being built. `shape` is the tfjs shape without the batch dimension
 * (channels last); `nchw` marks a 4-D value that is stored channels first (a convolution output).
 */
interface Value {
  name: string;
  shape: number[];
  nchw: boolean;
}

const attrInt = (name: string, i: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i });
const attrInts = (name: string, ints: number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints });
const attrFloat = (name: string, f: number): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOAT, f });

/** Little-endian bytes of float32 values (the spec's raw_data encoding on any host). */
function floatBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

/** Nodes and initialisers of one graph, with unique value names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();
  /** NHWC copies of channels-first values, made once per value. */
  private readonly nhwc = new Map<string, Value>();

  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_');
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): void {
    this.used.add(name);
  }

  /** Adds a node; returns its output names (`outputs`: how many, or the exact names). */
  node(opType: string, inputs: string[], attribute: OnnxAttribute[] = [], outputs: number | string[] = 1, base = opType): string[] {
    const out = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, k) => this.unique(`${base}${outputs > 1 ? `_${k}` : ''}`)) : outputs;
    this.nodes.push({ input: inputs, output: out, name: this.unique(`node/${base}`), opType, attribute });
    return out;
  }

  floats(base: string, values: ArrayLike<number>, dims: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, dataType: OnnxDataType.FLOAT, rawData: floatBytes(values) });
    return name;
  }

  ints(base: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, dataType: OnnxDataType.INT64, rawData: int64Bytes(values) });
    return name;
  }

  /** `v` in channels-last order (a Transpose for a convolution output, made once). */
  asNhwc(v: Value): Value {
    if (!v.nchw) return v;
    const cached = this.nhwc.get(v.name);
    if (cached) return cached;
    const [name] = this.node('Transpose', [v.name], [attrInts('perm', [0, 2, 3, 1])], 1, `${v.name}_nhwc`);
    const out = { name: name!, shape: v.shape, nchw: false };
    this.nhwc.set(v.name, out);
    return out;
  }
}

function unsupported(layer: tf.layers.Layer, what: string, fix = 'export a network made of the listed layers, or train with a supported encoder'): never {
  throw new UnsupportedLayerError(formatError('export --format onnx', `a layer ONNX export supports (${ONNX_LAYERS.join(', ')}; activations ${ACTIVATIONS.join(', ')})`, `layer "${layer.name}" (${layer.getClassName()})${what ? `: ${what}` : ''}`, fix));
}

type LayerConfig = Record<string, unknown>;

/** Applies a Keras activation by name to `v`; returns the result. */
function activation(g: GraphBuilder, layer: tf.layers.Layer, name: unknown, v: Value): Value {
  const op = (opType: string, attrs: OnnxAttribute[] = [], x = v): Value => ({ name: g.node(opType, [x.name], attrs, 1, `${layer.name}/${opType}`)[0]!, shape: x.shape, nchw: x.nchw });
  switch (name ?? 'linear') {
    case 'linear':
      return v;
    case 'relu':
      return op('Relu');
    case 'tanh':
      return op('Tanh');
    case 'sigmoid':
      return op('Sigmoid');
    // Keras hard sigmoid: clip(0.2 x + 0.5, 0, 1), ONNX HardSigmoid with these constants.
    case 'hardSigmoid':
      return op('HardSigmoid', [attrFloat('alpha', 0.2), attrFloat('beta', 0.5)]);
    case 'softmax':
      return op('Softmax', [attrInt('axis', -1)], g.asNhwc(v));
    default:
      return unsupported(layer, `activation ${describe(name)}`);
  }
}

/** The values of a layer's weights, in `getWeights()` order. */
async function weightsOf(layer: tf.layers.Layer): Promise<{ shape: number[]; data: Float32Array }[]> {
  return Promise.all(layer.getWeights().map(async (w) => ({ shape: [...w.shape], data: (await w.data()) as Float32Array })));
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

async function convConv2D(g: GraphBuilder, layer: tf.layers.Layer, cfg: LayerConfig, x: Value): Promise<Value> {
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') unsupported(layer, `dataFormat ${describe(cfg.dataFormat)} (channelsLast only)`);
  if (x.shape.length !== 3) unsupported(layer, `an input of shape [${x.shape}] (want [H, W, C])`);
  const [kernel, bias] = await weightsOf(layer);
  const [kh, kw, cin, cout] = kernel!.shape as [number, number, number, number];
  const [sh, sw] = cfg.strides as [number, number];
  const [dh, dw] = (cfg.dilationRate as [number, number] | undefined) ?? [1, 1];
  const [H, W] = x.shape as [number, number, number];
  const effH = (kh - 1) * dh + 1;
  const effW = (kw - 1) * dw + 1;
  let outH: number;
  let outW: number;
  let pads = [0, 0, 0, 0];
  if (cfg.padding === 'valid') {
    outH = Math.floor((H - effH) / sh) + 1;
    outW = Math.floor((W - effW) / sw) + 1;
  } else if (cfg.padding === 'same') {
    // TensorFlow's "same": the odd pixel of padding goes after (bottom/right).
    outH = Math.ceil(H / sh);
    outW = Math.ceil(W / sw);
    const padH = Math.max((outH - 1) * sh + effH - H, 0);
    const padW = Math.max((outW - 1) * sw + effW - W, 0);
    pads = [Math.floor(padH / 2), Math.floor(padW / 2), padH - Math.floor(padH / 2), padW - Math.floor(padW / 2)];
  } else {
    return unsupported(layer, `padding ${describe(cfg.padding)} (valid or same)`);
  }
  // tfjs kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw].
  const w = new Float32Array(kernel!.data.length);
  for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + y) * kw + xx] = kernel!.data[((y * kw + xx) * cin + i) * cout + o]!;
  const inputs = [x.nchw ? x.name : g.node('Transpose', [x.name], [attrInts('perm', [0, 3, 1, 2])], 1, `${layer.name}/nchw`)[0]!, g.floats(`${layer.name}/kernel`, w, [cout, cin, kh, kw])];
  if (bias) inputs.push(g.floats(`${layer.name}/bias`, bias.data, [cout]));
  const [y] = g.node('Conv', inputs, [attrInts('kernel_shape', [kh, kw]), attrInts('strides', [sh, sw]), attrInts('dilations', [dh, dw]), attrInts('pads', pads), attrInt('group', 1)], 1, `${layer.name}/Conv`);
  return activation(g, layer, cfg.activation, { name: y!, shape: [outH, outW, cout], nchw: true });
}

async function convDense(g: GraphBuilder, layer: tf.layers.Layer, cfg: LayerConfig, input: Value): Promise<Value> {
  const x = g.asNhwc(input);
  const [kernel, bias] = await weightsOf(layer);
  const [inSize, units] = kernel!.shape as [number, number];
  const k = g.floats(`${layer.name}/kernel`, kernel!.data, [inSize, units]);
  const b = bias ? g.floats(`${layer.name}/bias`, bias.data, [units]) : null;
  const shape = [...x.shape.slice(0, -1), units];
  let y: string;
  if (x.shape.length === 1) {
    y = g.node('Gemm', b ? [x.name, k, b] : [x.name, k], [], 1, `${layer.name}/Gemm`)[0]!;
  } else {
    // Keras applies Dense to the last axis of a higher-rank input: MatMul broadcasts the same way.
    y = g.node('MatMul', [x.name, k], [], 1, `${layer.name}/MatMul`)[0]!;
    if (b) y = g.node('Add', [y, b], [], 1, `${layer.name}/Add`)[0]!;
  }
  return activation(g, layer, cfg.activation, { name: y, shape, nchw: false });
}

/** Keras LSTM (gates i, f, c, o along the 4H axis) as its unrolled cell over the input's time steps. */
async function convLstm(g: GraphBuilder, layer: tf.layers.Layer, cfg: LayerConfig, ins: Value[]): Promise<Value[]> {
  if (cfg.goBackwards || cfg.stateful) unsupported(layer, cfg.goBackwards ? 'goBackwards' : 'stateful');
  if (ins.length !== 1 && ins.length !== 3) unsupported(layer, `${ins.length} inputs (want the sequence, optionally with the initial h and c)`);
  const x = g.asNhwc(ins[0]!);
  if (x.shape.length !== 2) unsupported(layer, `an input of shape [${x.shape}] (want [time, features])`);
  const [T, I] = x.shape as [number, number];
  const H = cfg.units as number;
  const [kernel, recurrent, bias] = await weightsOf(layer);
  const K = g.floats(`${layer.name}/kernel`, kernel!.data, [I, 4 * H]);
  const R = g.floats(`${layer.name}/recurrent_kernel`, recurrent!.data, [H, 4 * H]);
  const B = cfg.useBias === false ? null : g.floats(`${layer.name}/bias`, bias!.data, [4 * H]);
  const split = g.ints(`${layer.name}/split`, [H, H, H, H]);
  const step = (t: number): string => g.node('Gather', [x.name, g.ints(`${layer.name}/t${t}`, [t], [])], [attrInt('axis', 1)], 1, `${layer.name}/x${t}`)[0]!;
  let h: string;
  let c: string;
  if (ins.length === 3) {
    h = g.asNhwc(ins[1]!).name;
    c = g.asNhwc(ins[2]!).name;
  } else {
    // Zero state with the input's batch size: x_0 times a zero matrix.
    const zero = g.floats(`${layer.name}/zero`, new Float32Array(I * H), [I, H]);
    h = g.node('MatMul', [step(0), zero], [], 1, `${layer.name}/h0`)[0]!;
    c = h;
  }
  const act = (name: unknown, v: string): string => activation(g, layer, name, { name: v, shape: [H], nchw: false }).name;
  const outputs: string[] = [];
  for (let t = 0; t < T; t++) {
    const xt = step(t);
    const xk = g.node('Gemm', B ? [xt, K, B] : [xt, K], [], 1, `${layer.name}/xK${t}`)[0]!;
    const hr = g.node('MatMul', [h, R], [], 1, `${layer.name}/hR${t}`)[0]!;
    const z = g.node('Add', [xk, hr], [], 1, `${layer.name}/z${t}`)[0]!;
    const [zi, zf, zc, zo] = g.node('Split', [z, split], [attrInt('axis', 1)], 4, `${layer.name}/gates${t}`);
    const i = act(cfg.recurrentActivation, zi!);
    const f = act(cfg.recurrentActivation, zf!);
    const cand = act(cfg.activation, zc!);
    const o = act(cfg.recurrentActivation, zo!);
    const fc = g.node('Mul', [f, c], [], 1, `${layer.name}/fc${t}`)[0]!;
    const ig = g.node('Mul', [i, cand], [], 1, `${layer.name}/ig${t}`)[0]!;
    c = g.node('Add', [fc, ig], [], 1, `${layer.name}/c${t}`)[0]!;
    h = g.node('Mul', [o, act(cfg.activation, c)], [], 1, `${layer.name}/h${t}`)[0]!;
    outputs.push(h);
  }
  let out: Value = { name: h, shape: [H], nchw: false };
  if (cfg.returnSequences) {
    const axis = g.ints(`${layer.name}/time_axis`, [1]);
    const steps = outputs.map((o, t) => g.node('Unsqueeze', [o, axis], [], 1, `${layer.name}/seq${t}`)[0]!);
    out = { name: g.node('Concat', steps, [attrInt('axis', 1)], 1, `${layer.name}/seq`)[0]!, shape: [T, H], nchw: false };
  }
  return cfg.returnState ? [out, { name: h, shape: [H], nchw: false }, { name: c, shape: [H], nchw: false }] : [out];
}

/** Translates one layer applied to `ins`; returns its outputs in tensor-index order. */
async function convLayer(g: GraphBuilder, layer: tf.layers.Layer, ins: Value[]): Promise<Value[]> {
  if (layer instanceof tf.LayersModel) return convModel(g, layer, ins);
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as LayerConfig;
  const one = (): Value => {
    if (ins.length !== 1) unsupported(layer, `${ins.length} inputs (want 1)`);
    return ins[0]!;
  };
  switch (cls) {
    case 'InputLayer':
    case 'Dropout':
      // Dropout is the identity when acting.
      return [one()];
    case 'Conv2D':
      return [await convConv2D(g, layer, cfg, one())];
    case 'Dense':
      return [await convDense(g, layer, cfg, one())];
    case 'Activation':
      return [activation(g, layer, cfg.activation, one())];
    case 'Flatten': {
      const x = g.asNhwc(one());
      return [{ name: g.node('Flatten', [x.name], [attrInt('axis', 1)], 1, `${layer.name}/Flatten`)[0]!, shape: [size(x.shape)], nchw: false }];
    }
    case 'Reshape': {
      const x = g.asNhwc(one());
      const target = [...(cfg.targetShape as number[])];
      const unknown = target.indexOf(-1);
      if (unknown >= 0) target[unknown] = size(x.shape) / -size(target);
      if (!target.every((d) => Number.isInteger(d) && d > 0) || size(target) !== size(x.shape)) unsupported(layer, `targetShape ${describe(cfg.targetShape)} for an input of shape [${x.shape}]`);
      // -1 for the batch: the only dimension left to infer.
      const shape = g.ints(`${layer.name}/shape`, [-1, ...target]);
      return [{ name: g.node('Reshape', [x.name, shape], [], 1, `${layer.name}/Reshape`)[0]!, shape: target, nchw: false }];
    }
    case 'Cropping2D': {
      if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') unsupported(layer, `dataFormat ${describe(cfg.dataFormat)} (channelsLast only)`);
      const x = g.asNhwc(one());
      const [[top, bottom], [left, right]] = cfg.cropping as [[number, number], [number, number]];
      const [H, W, C] = x.shape as [number, number, number];
      const y = g.node('Slice', [x.name, g.ints(`${layer.name}/starts`, [top, left]), g.ints(`${layer.name}/ends`, [H - bottom, W - right]), g.ints(`${layer.name}/axes`, [1, 2])], [], 1, `${layer.name}/Slice`)[0]!;
      return [{ name: y, shape: [H - top - bottom, W - left - right, C], nchw: false }];
    }
    case 'Concatenate': {
      const xs = ins.map((v) => g.asNhwc(v));
      const rank = xs[0]!.shape.length;
      const a = (cfg.axis as number | undefined) ?? -1;
      // Keras counts the batch axis: axis -1 is the last feature axis, axis k >= 1 is feature axis k - 1.
      const featureAxis = a < 0 ? rank + a : a - 1;
      if (featureAxis < 0 || featureAxis >= rank || xs.some((v) => v.shape.length !== rank)) unsupported(layer, `axis ${describe(cfg.axis)} over inputs of ranks ${xs.map((v) => v.shape.length).join(', ')}`);
      const shape = [...xs[0]!.shape];
      shape[featureAxis] = xs.reduce((s, v) => s + v.shape[featureAxis]!, 0);
      return [{ name: g.node('Concat', xs.map((v) => v.name), [attrInt('axis', featureAxis + 1)], 1, `${layer.name}/Concat`)[0]!, shape, nchw: false }];
    }
    case 'LSTM':
      return convLstm(g, layer, cfg, ins);
    default:
      return unsupported(layer, '');
  }
}

interface ContainerConfig {
  layers: Array<{ name: string; className: string; inboundNodes: Array<Array<[string, number, number, Record<string, unknown>?]>> }>;
  inputLayers: Array<[string, number, number]>;
  outputLayers: Array<[string, number, number]>;
}

/** Translates a (nested) model applied to `ins`: a Sequential chains its layers, a functional model follows its config's graph. */
async function convModel(g: GraphBuilder, model: tf.LayersModel, ins: Value[]): Promise<Value[]> {
  if (model instanceof tf.Sequential) {
    let x = ins;
    for (const layer of model.layers) if (layer.getClassName() !== 'InputLayer') x = await convLayer(g, layer, x);
    return x;
  }
  const cfg = model.getConfig() as unknown as ContainerConfig;
  const key = (layer: string, tensor: number): string => `${layer}\u0000${tensor}`;
  const values = new Map<string, Value>();
  if (cfg.inputLayers.length !== ins.length) throw new UnsupportedLayerError(formatError('export --format onnx', `model "${model.name}" with ${ins.length} inputs`, `${cfg.inputLayers.length} inputs`, 'export the policy network the runtime runs'));
  cfg.inputLayers.forEach(([name, , t], k) => values.set(key(name, t), ins[k]!));
  const pending = cfg.layers.filter((l) => l.inboundNodes.length > 0);
  // Layers in dependency order: a layer runs once every tensor it reads exists.
  while (pending.length > 0) {
    const k = pending.findIndex((l) => l.inboundNodes[0]!.every(([name, , t]) => values.has(key(name, t))));
    if (k < 0) throw new UnsupportedLayerError(formatError('export --format onnx', 'a network graph whose layers all connect to its inputs', `model "${model.name}" with unconnected layers (${pending.map((l) => l.name).join(', ')})`, 'export the policy network the runtime runs'));
    const spec = pending.splice(k, 1)[0]!;
    const layer = model.getLayer(spec.name);
    if (spec.inboundNodes.length > 1) unsupported(layer, 'applied more than once in one model');
    const inbound = spec.inboundNodes[0]!;
    if (inbound.some(([, , , kwargs]) => kwargs && Object.keys(kwargs).length > 0)) unsupported(layer, 'called with extra arguments (mask, training)');
    const outs = await convLayer(g, layer, inbound.map(([name, , t]) => values.get(key(name, t))!));
    outs.forEach((v, t) => values.set(key(spec.name, t), v));
  }
  return cfg.outputLayers.map(([name, , t]) => {
    const v = values.get(key(name, t));
    if (!v) throw new UnsupportedLayerError(formatError('export --format onnx', `output ${t} of layer "${name}"`, 'a tensor the layer does not produce', 'export the policy network the runtime runs'));
    return v;
  });
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>, docString: string): OnnxValueInfo {
  return { name, docString, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** Names of the recurrent state inputs and outputs: `h_in`/`c_in` -> `h_out`/`c_out` for an LSTM's two slots. */
function stateNames(slots: number): { inputs: string[]; outputs: string[] } {
  if (slots === 2) return { inputs: ['h_in', 'c_in'], outputs: ['h_out', 'c_out'] };
  return { inputs: Array.from({ length: slots }, (_, j) => `state${j}_in`), outputs: Array.from({ length: slots }, (_, j) => `state${j}_out`) };
}

/** Key/value metadata of the model file: what a game needs to feed the graph and read it. */
export function onnxMetadata(policy: PolicyFile): Array<{ key: string; value: string }> {
  const action = policy.action ?? { type: 'Discrete', n: policy.actions.length };
  const entries: Record<string, unknown> = {
    'npcforge.version': npcforgeVersion(),
    'npcforge.game': policy.game.id,
    'npcforge.game_options': policy.game.options,
    'npcforge.agent': policy.agent,
    'npcforge.output': policy.output,
    'npcforge.action_space': action,
    'npcforge.action_names': policy.actions,
    'npcforge.frame': policy.frame,
    'npcforge.preprocess': policy.preprocess,
    'npcforge.observation': { shape: policy.observation.shape, dtype: policy.observation.dtype, layout: policy.observation.shape.length === 3 ? 'NHWC' : policy.observation.shape.length === 1 ? 'flat' : 'row-major', inputScale: policy.inputScale, normalized: !!policy.inputNorm },
    'npcforge.recurrent_state': policy.recurrentState,
    'npcforge.decision_period': policy.decisionPeriod ?? 1,
    // The whole bundle description, so the .onnx alone carries everything policy.json does.
    'npcforge.policy': policy,
  };
  return Object.entries(entries).map(([key, v]) => ({ key, value: typeof v === 'string' ? v : JSON.stringify(v) }));
}

/**
 * The ONNX model of a policy: `model` is the bundle's LayersModel (inputs [obs, ...state], outputs
 * [head, ...state]) and `policy` its policy.json. Inputs: `obs` float32 [N, ...observation.shape]
 * (raw observation values; normalisation and `inputScale` are in the graph), `h_in`/`c_in` [N, H]
 * when recurrent. Outputs by `policy.output`: `q`; `logits` and `probs` (and `logits_k`/`probs_k`
 * per MultiDiscrete part); `mean`; plus `action`, the greedy action (int64 [N], int64 [N, parts] or
 * float32 [N, D]) and `h_out`/`c_out`. Throws UnsupportedLayerError naming a layer it cannot map.
 */
export async function policyToOnnx(policy: PolicyFile, model: tf.LayersModel): Promise<Uint8Array> {
  const g = new GraphBuilder();
  // Graph input and output names first, so no internal value takes one.
  const parts = policy.action?.type === 'MultiDiscrete' ? policy.action.nvec.length : 0;
  const reserved = ['obs', 'q', 'logits', 'probs', 'mean', 'action', ...Array.from({ length: parts }, (_, k) => [`logits_${k}`, `probs_${k}`]).flat()];
  reserved.forEach((n) => g.reserve(n));
  const obsShape = policy.observation.shape;
  const inputs: OnnxValueInfo[] = [valueInfo('obs', OnnxDataType.FLOAT, [BATCH, ...obsShape], `observation after the preprocessing chain (${policy.preprocess.length ? policy.preprocess.map((s) => s.kind).join(' -> ') : 'none'}), raw values, ${obsShape.length === 3 ? 'NHWC' : 'flat'}`)];
  let x: Value = { name: 'obs', shape: [...obsShape], nchw: false };
  const norm = policy.inputNorm;
  if (norm) {
    // As the runtime: clip((x - mean) / sqrt(var + eps), -clip, clip), then the input scale.
    const std = norm.var.map((v) => Math.sqrt(v + norm.epsilon));
    const centred = g.node('Sub', [x.name, g.floats('norm/mean', norm.mean, obsShape)], [], 1, 'norm/centred')[0]!;
    const scaled = g.node('Div', [centred, g.floats('norm/std', std, obsShape)], [], 1, 'norm/scaled')[0]!;
    x = { ...x, name: g.node('Clip', [scaled, g.floats('norm/min', [-norm.clip], []), g.floats('norm/max', [norm.clip], [])], [], 1, 'norm/clipped')[0]! };
  }
  if (policy.inputScale !== 1) x = { ...x, name: g.node('Mul', [x.name, g.floats('input_scale', [policy.inputScale], [])], [], 1, 'scaled_obs')[0]! };
  const slots = policy.recurrentState?.shapes ?? [];
  const names = stateNames(slots.length);
  names.inputs.forEach((n) => g.reserve(n));
  names.outputs.forEach((n) => g.reserve(n));
  const stateIns = slots.map((shape, j) => {
    inputs.push(valueInfo(names.inputs[j]!, OnnxDataType.FLOAT, [BATCH, ...shape], 'recurrent state carried from the previous step (zeros at an episode start)'));
    return { name: names.inputs[j]!, shape: [...shape], nchw: false };
  });
  const outs = await convModel(g, model, [x, ...stateIns]);
  if (outs.length !== 1 + slots.length) throw new InvalidConfigError(formatError('export --format onnx', `a policy network with ${1 + slots.length} outputs (head and recurrent state)`, `${outs.length} outputs`, 'export the policy network the runtime runs'));
  const head = g.asNhwc(outs[0]!);
  const outputs: OnnxValueInfo[] = [];
  const emit = (name: string, value: string, dims: Array<number | string>, doc: string, elemType: number = OnnxDataType.FLOAT): void => {
    g.node('Identity', [value], [], [name], name);
    outputs.push(valueInfo(name, elemType, dims, doc));
  };
  const argmax = (v: string, keepdims: number, base: string): string => g.node('ArgMax', [v], [attrInt('axis', 1), attrInt('keepdims', keepdims), attrInt('select_last_index', 0)], 1, base)[0]!;
  const width = head.shape[0]!;
  const action = policy.action ?? { type: 'Discrete' as const, n: policy.actions.length };
  if (policy.output === 'q') {
    emit('q', head.name, [BATCH, width], 'Q-value per action');
    emit('action', argmax(head.name, 0, 'greedy'), [BATCH], 'greedy action: argmax of q (first on ties)', OnnxDataType.INT64);
  } else if (policy.output === 'logits' && action.type === 'MultiDiscrete') {
    emit('logits', head.name, [BATCH, width], `action logits, the parts' slices in order (nvec ${action.nvec.join(', ')})`);
    const parts = g.node('Split', [head.name, g.ints('nvec', action.nvec)], [attrInt('axis', 1)], action.nvec.length, 'part_logits');
    const probs: string[] = [];
    const picks: string[] = [];
    parts.forEach((part, k) => {
      const p = g.node('Softmax', [part], [attrInt('axis', 1)], 1, `part_probs_${k}`)[0]!;
      emit(`logits_${k}`, part, [BATCH, action.nvec[k]!], `logits of action part ${k}`);
      emit(`probs_${k}`, p, [BATCH, action.nvec[k]!], `probabilities of action part ${k}`);
      probs.push(p);
      picks.push(argmax(p, 1, `greedy_${k}`));
    });
    emit('probs', g.node('Concat', probs, [attrInt('axis', 1)], 1, 'all_probs')[0]!, [BATCH, width], 'every part\'s probabilities, concatenated');
    emit('action', g.node('Concat', picks, [attrInt('axis', 1)], 1, 'greedy')[0]!, [BATCH, action.nvec.length], 'greedy action: argmax per part (first on ties)', OnnxDataType.INT64);
  } else if (policy.output === 'logits') {
    const p = g.node('Softmax', [head.name], [attrInt('axis', 1)], 1, 'softmax')[0]!;
    emit('logits', head.name, [BATCH, width], 'action logits');
    emit('probs', p, [BATCH, width], 'action probabilities (softmax of logits)');
    emit('action', argmax(p, 0, 'greedy'), [BATCH], 'greedy action: argmax of probs (first on ties)', OnnxDataType.INT64);
  } else if (action.type === 'Box') {
    const d = action.low.length;
    const low = g.floats('action_low', action.low, [d]);
    const high = g.floats('action_high', action.high, [d]);
    let mean = head.name;
    let a = head.name;
    if (policy.output === 'squashed-mean') {
      // The SAC actor outputs [mean | raw log-std]; the greedy action is tanh(mean) scaled from [-1, 1] to the bounds.
      mean = g.node('Slice', [head.name, g.ints('mean_start', [0]), g.ints('mean_end', [d]), g.ints('mean_axis', [1])], [], 1, 'mean_slice')[0]!;
      const half = g.floats('action_half_range', action.low.map((lo, i) => (action.high[i]! - lo) / 2), [d]);
      const mid = g.floats('action_mid', action.low.map((lo, i) => (action.high[i]! + lo) / 2), [d]);
      const t = g.node('Tanh', [mean], [], 1, 'squash')[0]!;
      a = g.node('Add', [g.node('Mul', [t, half], [], 1, 'squash_scaled')[0]!, mid], [], 1, 'squash_shifted')[0]!;
    }
    emit('mean', mean, [BATCH, d], policy.output === 'squashed-mean' ? 'Gaussian mean before tanh' : 'Gaussian mean');
    const clipped = g.node('Max', [g.node('Min', [a, high], [], 1, 'below_high')[0]!, low], [], 1, 'clipped')[0]!;
    emit('action', clipped, [BATCH, d], policy.output === 'squashed-mean' ? 'greedy action: tanh(mean) scaled to the bounds, clipped' : 'greedy action: mean clipped to the bounds');
  } else {
    throw new InvalidConfigError(formatError('export --format onnx', 'a policy output the graph can read (q, logits, mean, squashed-mean with a matching action)', `output ${describe(policy.output)} with action ${describe(action.type)}`, 'export the policy with npcforge export'));
  }
  slots.forEach((shape, j) => emit(names.outputs[j]!, g.asNhwc(outs[1 + j]!).name, [BATCH, ...shape], 'recurrent state for the next step'));
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    producerName: 'npcforge',
    producerVersion: npcforgeVersion(),
    docString: `npcforge ${policy.agent} policy for ${policy.game.id}: obs -> ${outputs.map((o) => o.name).join(', ')}`,
    graph: { name: `npcforge_${policy.agent}_${policy.game.id.replace(/[^A-Za-z0-9]/g, '_')}`, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: onnxMetadata(policy),
  });
}

/** Writes `<outDir>/policy.onnx` for a policy and its network; returns the file's bytes. */
export async function writePolicyOnnx(outDir: string, policy: PolicyFile, model: tf.LayersModel): Promise<number> {
  const bytes = await policyToOnnx(policy, model);
  writeFileSync(join(outDir, ONNX_FILE), bytes);
  return bytes.byteLength;
}

/**
 * Writes policy.onnx for an existing tfjs bundle folder (policy.json + model.json + weights.bin),
 * next to its policy.json or into `outDir`. The bundle is read with `loadPolicy`'s checks (it is
 * untrusted). Returns the path written and its bytes.
 */
export async function bundleToOnnx(bundleDir: string, outDir: string = bundleDir): Promise<{ path: string; bytes: number; policy: PolicyFile }> {
  const policy = await loadPolicy(bundleDir);
  try {
    const bytes = await policyToOnnx(policy.file, policy.model);
    const path = join(outDir, ONNX_FILE);
    writeFileSync(path, bytes);
    return { path, bytes: bytes.byteLength, policy: policy.file };
  } finally {
    policy.dispose();
  }
}
