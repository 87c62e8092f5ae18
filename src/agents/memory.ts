/**
 * Rough memory needs of an agent's hyperparameters, estimated from the observation space before
 * anything is allocated, so that `bufferSize: 1e9` or `hidden: [1e6, 1e6]` is refused in one line
 * instead of ending in a V8 out-of-memory abort. Estimates count the big arrays and tensors only
 * (replay memory before bit-packing, parameters with their optimizer slots, one batch of
 * activations), not tfjs's or V8's own overhead: their job is the order of magnitude.
 */
import { Box, type Space } from '../envs/spaces.js';
import { dictLayoutOf } from '../envs/dict-obs.js';
import { autoEncoder, type AutoEncoderOptions } from '../networks/encoders.js';
import { CNN_TORSOS, type CnnKind, type EncoderSpec } from '../networks/specs.js';

/** Bytes one part of an agent will hold, and the config key that drives it. */
export interface MemoryNeed {
  /** The config key to lower (dotted path), e.g. `bufferSize` or `network.hidden`. */
  key: string;
  /** What the bytes are for, e.g. `replay memory`. */
  what: string;
  bytes: number;
  /** Elements of the largest single typed array this part allocates (JS caps one array's length). */
  largestArray?: number;
}

/** What the estimate needs to know about the env. */
export interface MemoryContext {
  observationSpace: Space;
  actionSpace: Space;
  numEnvs: number;
}

/** Shape, bytes per value and action count of a context (vector spaces count as flat). */
export function spaceFacts(ctx: MemoryContext): { shape: number[]; size: number; bytesPerValue: number; numActions: number } {
  const box = ctx.observationSpace as unknown as { shape?: number[]; dtype?: string };
  const shape = Array.isArray(box.shape) && box.shape.length ? [...box.shape] : [1];
  const size = shape.reduce((a, b) => a * b, 1);
  const n = (ctx.actionSpace as unknown as { n?: number }).n;
  return { shape, size, bytesPerValue: box.dtype === 'uint8' ? 1 : 4, numActions: typeof n === 'number' && n > 0 ? n : 1 };
}

/** Parameters, feature width and summed activation widths of an encoder over `shape` (a Dict spec over the keys of `space`'s layout). */
export function encoderSize(spec: EncoderSpec, space: Space, shape: readonly number[]): { params: number; features: number; activations: number } {
  if (spec.kind !== 'dict') return layerSize(spec.kind, shape, spec.kind === 'mlp' ? spec.hidden : []);
  const layout = dictLayoutOf(space);
  let params = 0;
  let features = 0;
  let activations = 0;
  for (const e of layout?.entries ?? []) {
    const sub = spec.keys[e.key];
    if (!sub) continue;
    const k = encoderSize(sub, space, e.shape);
    params += k.params;
    features += k.features;
    activations += k.activations;
  }
  const top = layerSize('mlp', [features], spec.hidden ?? []);
  return { params: params + top.params, features: top.features, activations: activations + top.activations };
}

/** The auto encoder of a space, or an MLP [64, 64] for a space no encoder takes (the agent refuses it later, by name). */
export function autoEncoderOrMlp(space: Space, options: AutoEncoderOptions = {}): EncoderSpec {
  return space instanceof Box ? autoEncoder(space, options) : { kind: 'mlp', hidden: [...(options.mlp?.hidden ?? [64, 64])] };
}

function layerSize(kind: 'mlp' | CnnKind, shape: readonly number[], hidden: readonly number[]): { params: number; features: number; activations: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  if (kind === 'mlp') {
    let params = 0;
    let inputs = size;
    let activations = size;
    for (const h of hidden) {
      params += inputs * h + h;
      activations += h;
      inputs = h;
    }
    return { params, features: inputs, activations };
  }
  // Convolutions with 'valid' padding: [filters, kernel, stride] per layer, then one dense layer.
  const { convs: layers, dense } = CNN_TORSOS[kind];
  let [h = 1, w = 1, c = 1] = shape;
  let params = 0;
  let activations = size;
  for (const [filters, k, s] of layers) {
    params += k * k * c * filters + filters;
    h = Math.max(1, Math.floor((h - k) / s) + 1);
    w = Math.max(1, Math.floor((w - k) / s) + 1);
    c = filters;
    activations += h * w * c;
  }
  params += h * w * c * dense + dense;
  return { params, features: dense, activations: activations + dense };
}

/** Parameters of an LSTM layer (Keras layout: 4 gates over input, recurrent state and bias). */
export function lstmParams(inputs: number, units: number): number {
  return 4 * (inputs + units + 1) * units;
}

/** Human-readable byte count (binary units), e.g. `38.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} bytes` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Longest typed array (elements) the runtime allocates; longer ones throw a RangeError. */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32 - 1;

/**
 * Problems of a list of needs against a byte budget: each part that alone exceeds it (naming its
 * key), else the total; and each array longer than the runtime allows.
 */
export function memoryProblems(needs: readonly MemoryNeed[], limitBytes: number, limitWhat: string): string[] {
  const problems: string[] = [];
  let total = 0;
  for (const n of needs) {
    total += n.bytes;
    if (n.bytes > limitBytes) problems.push(`${n.key} needs ~${formatBytes(n.bytes)} of ${n.what} (limit ${formatBytes(limitBytes)}, ${limitWhat})`);
    else if (n.largestArray !== undefined && n.largestArray > MAX_TYPED_ARRAY_LENGTH) problems.push(`${n.key} needs one array of ${n.largestArray} values (${n.what}; limit ${MAX_TYPED_ARRAY_LENGTH} per array)`);
  }
  if (problems.length === 0 && total > limitBytes) {
    const parts = needs.map((n) => `${n.key} ~${formatBytes(n.bytes)}`).join(', ');
    problems.push(`memory: the settings need ~${formatBytes(total)} together (${parts}; limit ${formatBytes(limitBytes)}, ${limitWhat})`);
  }
  return problems;
}
