/** Typed network specs. The builders know nothing about RL: they map a spec to a tf.LayersModel. */
import { InvalidConfigError, formatError, describe } from '../errors.js';

/** Feature extractor in front of a head. */
export type EncoderSpec =
  /** Fully connected layers over the flattened input. `hidden`: units per layer. */
  | { kind: 'mlp'; hidden: number[]; activation?: 'relu' | 'tanh' }
  /** MinAtar DQN torso: conv 16 filters 3x3 stride 1, dense 128 (Young & Tian 2019). */
  | { kind: 'minatar-cnn' }
  /** Nature DQN torso: conv 32 8x8/4, 64 4x4/2, 64 3x3/1, dense 512 (Mnih et al. 2015). */
  | { kind: 'nature-cnn' };

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
}

/** Largest layer width accepted in a spec (units); memory is checked separately against the machine. */
export const MAX_LAYER_UNITS = 65_536;
/** Largest LSTM accepted (units), for the same reason. */
export const MAX_LSTM_UNITS = 8192;

/** Validates an encoder spec; returns a list of problems (empty when fine). Unknown keys are named by dotted path. */
export function checkEncoderSpec(e: unknown, path = 'encoder'): string[] {
  const spec = e as EncoderSpec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [`${path} = ${describe(e)} (want {kind: 'mlp' | 'minatar-cnn' | 'nature-cnn'})`];
  const unknown = (known: string[]): string[] => Object.keys(spec).filter((k) => !known.includes(k)).map((k) => `unknown key ${describe(`${path}.${k}`)} (known: ${known.join(', ')})`);
  if (spec.kind === 'mlp') {
    const errs = unknown(['kind', 'hidden', 'activation']);
    if (!Array.isArray(spec.hidden) || spec.hidden.length > 64 || spec.hidden.some((h) => !Number.isInteger(h) || h < 1 || h > MAX_LAYER_UNITS)) errs.push(`${path}.hidden = ${describe(spec.hidden)} (want at most 64 integers in [1, ${MAX_LAYER_UNITS}])`);
    if (spec.activation !== undefined && spec.activation !== 'relu' && spec.activation !== 'tanh') errs.push(`${path}.activation = ${describe(spec.activation)}`);
    return errs;
  }
  if (spec.kind === 'minatar-cnn' || spec.kind === 'nature-cnn') return unknown(['kind']);
  // Without a valid kind, still name keys no kind accepts (`{"network": {"evil": 1}}` must say evil).
  return [`${path}.kind = ${describe((spec as { kind: unknown }).kind)} (want 'mlp', 'minatar-cnn' or 'nature-cnn')`, ...unknown(['kind', 'hidden', 'activation'])];
}

/** Throws InvalidConfigError listing every problem of a Q-network spec. */
export function checkQNetworkSpec(spec: QNetworkSpec): void {
  const errs = checkEncoderSpec(spec.encoder);
  if (!spec.head || (spec.head.kind !== 'q' && spec.head.kind !== 'dueling')) errs.push(`head = ${describe(spec.head)} (want {kind: 'q' | 'dueling'})`);
  if (!Number.isInteger(spec.numActions) || spec.numActions < 1) errs.push(`numActions = ${describe(spec.numActions)}`);
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length === 0 || spec.inputShape.some((d) => !Number.isInteger(d) || d < 1)) errs.push(`inputShape = ${describe(spec.inputShape)}`);
  if ((spec.encoder?.kind === 'minatar-cnn' || spec.encoder?.kind === 'nature-cnn') && spec.inputShape?.length !== 3) errs.push(`inputShape ${describe(spec.inputShape)} must be [H, W, C] for a CNN encoder`);
  if (spec.encoder?.kind === 'nature-cnn' && spec.inputShape?.length === 3 && (spec.inputShape[0]! < 36 || spec.inputShape[1]! < 36)) errs.push(`inputShape ${describe(spec.inputShape)} too small for nature-cnn (want >= 36x36, e.g. 84x84)`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0) errs.push(`seed = ${describe(spec.seed)}`);
  if (errs.length) throw new InvalidConfigError(formatError('QNetwork', 'a valid network spec', errs.join('; '), 'fix the listed fields'));
}
