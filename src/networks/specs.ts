/** Typed network specs. The builders know nothing about RL: they map a spec to a tf.LayersModel. */
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { DictLayout } from '../envs/dict-obs.js';

/** Activation of MLP layers: PG uses tanh (CleanRL), DQN and SAC relu. */
export type MlpActivation = 'relu' | 'tanh';

/** Feature extractor in front of a head. `src/networks/encoders.ts` builds every kind. */
export type EncoderSpec =
  /** Fully connected layers over the flattened input. `hidden`: units per layer ([] = just flatten). */
  | { kind: 'mlp'; hidden: number[]; activation?: MlpActivation }
  /** MinAtar DQN torso: conv 16 filters 3x3 stride 1, dense 128 (Young & Tian 2019). */
  | { kind: 'minatar-cnn' }
  /** Small-frame torso: conv 16 4x4/2, 32 3x3/2, dense 256; keeps a spatial map where Nature's strides leave 1x1. */
  | { kind: 'small-cnn' }
  /** Nature DQN torso: conv 32 8x8/4, 64 4x4/2, 64 3x3/1, dense 512 (Mnih et al. 2015). */
  | { kind: 'nature-cnn' }
  /**
   * Dict observations (SB3 `MultiInputPolicy`): the flat input is sliced back per key
   * (`src/envs/dict-obs.ts`), each key gets its own encoder (`keys`, by key name; not 'dict'), the
   * features are concatenated in key order, then optional dense layers `hidden` (units).
   */
  | { kind: 'dict'; keys: Record<string, EncoderSpec>; hidden?: number[]; activation?: MlpActivation };

/** The fixed convolutional torsos. */
export type CnnKind = 'minatar-cnn' | 'small-cnn' | 'nature-cnn';

/** One convolution of a torso: filters, square kernel side, stride ('valid' padding, ReLU). */
export type ConvLayer = readonly [filters: number, kernel: number, stride: number];

/**
 * The layers of each CNN torso, read by the builder (encoders.ts) and the memory estimate
 * (agents/memory.ts): convolutions, then one dense ReLU layer of `dense` units. `minSide` is the
 * smallest frame side the convolutions fit.
 */
export const CNN_TORSOS: Readonly<Record<CnnKind, { convs: readonly ConvLayer[]; dense: number; minSide: number }>> = {
  'minatar-cnn': { convs: [[16, 3, 1]], dense: 128, minSide: 3 },
  // Measured on pong's 40x40 field (bench/JOURNAL.md, "Pong vs the bot"): Nature's torso leaves a
  // 1x1 map there and PPO learned nothing in 2M steps; this one leaves 9x9 and learned.
  'small-cnn': { convs: [[16, 4, 2], [32, 3, 2]], dense: 256, minSide: 8 },
  'nature-cnn': { convs: [[32, 8, 4], [64, 4, 2], [64, 3, 1]], dense: 512, minSide: 36 },
};

/** Encoder kinds that are one of the CNN torsos. */
export const CNN_KINDS = Object.keys(CNN_TORSOS) as CnnKind[];

/** True when `kind` names a CNN torso. */
export function isCnnKind(kind: unknown): kind is CnnKind {
  return typeof kind === 'string' && Object.hasOwn(CNN_TORSOS, kind);
}

/** What a spec of kind `dict` contains. */
export type DictEncoderSpec = Extract<EncoderSpec, { kind: 'dict' }>;

/** Output head over the encoder features. */
export type HeadSpec =
  /** One linear output per action. */
  | { kind: 'q' }
  /** Dueling: Q = V + A - mean(A) (Wang et al. 2016). */
  | { kind: 'dueling' };

export interface QNetworkSpec {
  /** Input shape without batch axis: [H, W, C] for grids/pixels, [D] for vectors. */
  inputShape: number[];
  /** Number of discrete actions (outputs). */
  numActions: number;
  encoder: EncoderSpec;
  head: HeadSpec;
  /** Seed of the weight initialisers: equal seeds give identical weights. */
  seed: number;
  /** Dict observations: how the flat input splits per key (`src/envs/dict-obs.ts`); absent otherwise. */
  layout?: DictLayout;
}

/** Largest layer width accepted in a spec (units); memory is checked separately against the machine. */
export const MAX_LAYER_UNITS = 65_536;
/** Largest LSTM accepted (units), for the same reason. */
export const MAX_LSTM_UNITS = 8192;

/** Most keys of a `dict` encoder spec. */
const MAX_DICT_ENCODER_KEYS = 64;

function hiddenProblem(hidden: unknown, path: string): string[] {
  if (!Array.isArray(hidden) || hidden.length > 64 || hidden.some((h) => !Number.isInteger(h) || h < 1 || h > MAX_LAYER_UNITS)) return [`${path} = ${describe(hidden)} (want at most 64 integers in [1, ${MAX_LAYER_UNITS}])`];
  return [];
}

/** Validates an encoder spec; returns a list of problems (empty when fine). Unknown keys are named by dotted path. */
export function checkEncoderSpec(e: unknown, path = 'encoder', nested = false): string[] {
  const spec = e as EncoderSpec;
  const single = ['mlp', ...CNN_KINDS].map((k) => `'${k}'`).join(' | ');
  const kinds = nested ? single : `${single} | 'dict'`;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [`${path} = ${describe(e)} (want {kind: ${kinds}})`];
  const unknown = (known: string[]): string[] => Object.keys(spec).filter((k) => !known.includes(k)).map((k) => `unknown key ${describe(`${path}.${k}`)} (known: ${known.join(', ')})`);
  const activation = (a: unknown): string[] => (a !== undefined && a !== 'relu' && a !== 'tanh' ? [`${path}.activation = ${describe(a)} (want 'relu' or 'tanh')`] : []);
  if (spec.kind === 'mlp') return [...unknown(['kind', 'hidden', 'activation']), ...hiddenProblem(spec.hidden, `${path}.hidden`), ...activation(spec.activation)];
  if (isCnnKind(spec.kind)) return unknown(['kind']);
  if (spec.kind === 'dict' && !nested) {
    const errs = [...unknown(['kind', 'keys', 'hidden', 'activation']), ...activation(spec.activation)];
    if (spec.hidden !== undefined) errs.push(...hiddenProblem(spec.hidden, `${path}.hidden`));
    const keys = spec.keys;
    if (!keys || typeof keys !== 'object' || Array.isArray(keys) || Object.keys(keys).length === 0 || Object.keys(keys).length > MAX_DICT_ENCODER_KEYS) {
      errs.push(`${path}.keys = ${describe(keys)} (want an object of 1 to ${MAX_DICT_ENCODER_KEYS} encoder specs, one per observation key)`);
    } else {
      for (const [k, sub] of Object.entries(keys)) errs.push(...checkEncoderSpec(sub, `${path}.keys.${k}`, true));
    }
    return errs;
  }
  // Without a valid kind, still name keys no kind accepts (`{"network": {"evil": 1}}` must say evil).
  return [`${path}.kind = ${describe((spec as { kind: unknown }).kind)} (want ${kinds.replaceAll(' | ', ', ')})`, ...unknown(['kind', 'hidden', 'activation', ...(nested ? [] : ['keys'])])];
}

/**
 * Problems of an encoder over inputs of `inputShape` (without batch axis): CNNs need [H, W, C] at
 * least as large as their kernels; `dict` needs the flat [size] input of a Dict observation with a
 * spec per key (`keys` = the observation's key names, null when the observation is not a Dict).
 */
export function encoderInputProblems(spec: EncoderSpec, inputShape: readonly number[], keys: readonly string[] | null): string[] {
  const errs: string[] = [];
  const shape = `[${inputShape.join(', ')}]`;
  if (isCnnKind(spec.kind)) {
    const min = CNN_TORSOS[spec.kind].minSide;
    if (inputShape.length !== 3) errs.push(`inputShape ${shape} must be [H, W, C] for a CNN encoder`);
    else if (inputShape[0]! < min || inputShape[1]! < min) errs.push(`inputShape ${shape} too small for ${spec.kind} (want >= ${min}x${min}${spec.kind === 'nature-cnn' ? ', e.g. 84x84' : ''})`);
  }
  if (spec.kind === 'dict') {
    if (keys === null) errs.push(`encoder kind 'dict' needs a Dict observation space (received inputShape ${shape})`);
    else {
      const want = [...keys].sort().join(', ');
      const got = Object.keys(spec.keys ?? {}).sort().join(', ');
      if (want !== got) errs.push(`encoder keys [${got}] must be the observation keys [${want}]`);
    }
  } else if (keys !== null && spec.kind !== 'mlp') {
    errs.push(`a Dict observation needs encoder kind 'dict' or 'mlp' (received ${spec.kind}); use 'auto'`);
  }
  return errs;
}

/** Throws InvalidConfigError listing every problem of a Q-network spec. */
export function checkQNetworkSpec(spec: QNetworkSpec): void {
  const errs = checkEncoderSpec(spec.encoder);
  if (!spec.head || (spec.head.kind !== 'q' && spec.head.kind !== 'dueling')) errs.push(`head = ${describe(spec.head)} (want {kind: 'q' | 'dueling'})`);
  if (!Number.isInteger(spec.numActions) || spec.numActions < 1) errs.push(`numActions = ${describe(spec.numActions)}`);
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length === 0 || spec.inputShape.some((d) => !Number.isInteger(d) || d < 1)) errs.push(`inputShape = ${describe(spec.inputShape)}`);
  const shapeOk = Array.isArray(spec.inputShape) && spec.inputShape.length > 0;
  if (shapeOk && checkEncoderSpec(spec.encoder).length === 0) errs.push(...encoderInputProblems(spec.encoder, spec.inputShape, spec.layout ? spec.layout.entries.map((e) => e.key) : null));
  if (shapeOk && spec.layout && (spec.inputShape.length !== 1 || spec.inputShape[0] !== spec.layout.size)) errs.push(`inputShape ${describe(spec.inputShape)} must be [${spec.layout.size}] (the flat Dict observation)`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0) errs.push(`seed = ${describe(spec.seed)}`);
  if (errs.length) throw new InvalidConfigError(formatError('QNetwork', 'a valid network spec', errs.join('; '), 'fix the listed fields'));
}
