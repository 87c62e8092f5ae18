/**
 * The policy bundle's `policy.json`: what a game needs to feed a trained network and read its
 * answer. Written by `npcforge export` (src/export), read by `loadPolicy` (src/runtime).
 */
import { CheckpointError, SpaceMismatchError, UnsupportedVersionError, formatError, describe } from '../errors.js';

export const POLICY_FORMAT = 'npcforge-policy';
export const POLICY_VERSION = 1;

/** One preprocessing step, applied in order to each frame the game hands to `act` (flicker is a training-only perturbation and never listed). */
export type PreprocessStep =
  | { kind: 'grayscale' }
  | { kind: 'resize'; height: number; width: number }
  | { kind: 'frameStack'; k: number };

/** Dtype of observation arrays. */
export type ObsDtype = 'uint8' | 'int32' | 'float32';

export interface PolicyFile {
  format: typeof POLICY_FORMAT;
  version: number;
  /** Game id and the options it was trained with (`make(id, options)`). */
  game: { id: string; options: Record<string, unknown> };
  /** Algorithm that trained the network (`dqn`, `ppo`, ...). */
  agent: string;
  /** What the network's first output holds: Q-values (argmax acts) or action logits (softmax). */
  output: 'q' | 'logits';
  /** Raw frame the game produces, before `preprocess` (shape `[H, W, C]` or `[n]`). */
  frame: { shape: number[]; dtype: ObsDtype };
  /** Steps that turn a raw frame into a network observation, in order. */
  preprocess: PreprocessStep[];
  /** Observation the network reads after preprocessing; multiplied by `inputScale` before the forward pass. */
  observation: { shape: number[]; dtype: ObsDtype; low: number; high: number };
  /** Factor from observation values to network inputs (1/255 for byte pixels). */
  inputScale: number;
  /** Action names, index = action. */
  actions: string[];
  /**
   * Recurrent state carried between `act` calls: one entry per extra model input (and matching
   * extra model output, same order), e.g. LSTM `[h, c]` with shapes `[units]`. null = feed-forward.
   */
  recurrentState: { shapes: number[][] } | null;
  /** Where the weights are: stock tfjs layers files next to policy.json. */
  model: { topology: string };
  /** Training metadata (run folder name, checkpoint step, seed, preset, config). */
  training: Record<string, unknown>;
  /** Mean return of the latest evaluation at or before the checkpoint (null if none). */
  evalReturn: number | null;
  createdAt: string;
}

function fail(expected: string, received: string, fix: string): never {
  throw new CheckpointError(formatError('policy.json', expected, received, fix));
}

// Limits on what policy.json declares: the runtime allocates buffers of these shapes (frame
// stages, the frame stack, the network input) before it sees a single frame.
/** Most values in a frame or observation shape (a 4096x4096 RGB frame is 50M). */
export const MAX_SHAPE_VALUES = 1 << 26;
/** Most values of one recurrent state tensor. */
export const MAX_STATE_VALUES = 1 << 20;
/** Most actions, and longest action name. */
export const MAX_POLICY_ACTIONS = 1024;
export const MAX_ACTION_NAME_LENGTH = 128;
/** Largest frameStack k. */
export const MAX_FRAME_STACK = 64;

function isShape(v: unknown, maxValues = MAX_SHAPE_VALUES): v is number[] {
  return Array.isArray(v) && v.length >= 1 && v.length <= 8 && v.every((d) => Number.isInteger(d) && d > 0) && shapeSize(v as number[]) <= maxValues;
}

/** Product of a shape's dims. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses and checks the text of a policy.json; every problem names the field. */
export function parsePolicyFile(text: string): PolicyFile {
  let p: PolicyFile;
  try {
    p = JSON.parse(text) as PolicyFile;
  } catch {
    // Not the parser's message: it quotes the text, and the file could be anything.
    fail('valid JSON', `unparsable text (${text.length} characters)`, 'export the policy again with npcforge export');
  }
  if (!p || typeof p !== 'object' || p.format !== POLICY_FORMAT) fail(`format "${POLICY_FORMAT}"`, describe((p as { format?: unknown } | null)?.format), 'pass the folder written by npcforge export');
  if (p.version !== POLICY_VERSION) {
    throw new UnsupportedVersionError(formatError('policy.json', `version ${POLICY_VERSION}`, describe(p.version), 'export the policy with the npcforge version of this runtime, or upgrade the runtime'));
  }
  const bad: string[] = [];
  if (!p.game || typeof p.game.id !== 'string') bad.push(`game.id ${describe(p.game?.id)}`);
  if (p.output !== 'q' && p.output !== 'logits') bad.push(`output ${describe(p.output)}`);
  if (!p.frame || !isShape(p.frame.shape)) bad.push(`frame.shape ${describe(p.frame?.shape)} (at most ${MAX_SHAPE_VALUES} values)`);
  if (!p.observation || !isShape(p.observation.shape)) bad.push(`observation.shape ${describe(p.observation?.shape)} (at most ${MAX_SHAPE_VALUES} values)`);
  if (typeof p.inputScale !== 'number' || !(p.inputScale > 0)) bad.push(`inputScale ${describe(p.inputScale)}`);
  if (!Array.isArray(p.actions) || p.actions.length < 1 || p.actions.length > MAX_POLICY_ACTIONS || !p.actions.every((a) => typeof a === 'string' && a.length <= MAX_ACTION_NAME_LENGTH)) bad.push(`actions ${describe(p.actions)} (1 to ${MAX_POLICY_ACTIONS} names)`);
  if (!Array.isArray(p.preprocess)) bad.push(`preprocess ${describe(p.preprocess)}`);
  if (p.recurrentState !== null && !(p.recurrentState && Array.isArray(p.recurrentState.shapes) && p.recurrentState.shapes.length <= 16 && p.recurrentState.shapes.every((sh) => isShape(sh, MAX_STATE_VALUES)))) bad.push(`recurrentState ${describe(p.recurrentState)}`);
  if (!p.model || typeof p.model.topology !== 'string') bad.push(`model.topology ${describe(p.model?.topology)}`);
  if (bad.length) fail('a complete policy description', bad.join('; '), 'export the policy again with npcforge export');
  return p;
}

/** Shape after each preprocessing step, checked against the declared observation shape. */
export function checkPreprocessChain(p: PolicyFile): void {
  let shape = p.frame.shape.slice();
  if (p.preprocess.length > 16) fail('at most 16 preprocess steps', `${p.preprocess.length}`, 'export the policy again');
  for (const s of p.preprocess) {
    if (s.kind === 'grayscale') {
      if (shape.length !== 3 || shape[2] !== 3) fail('grayscale on [H, W, 3] frames', `[${shape}]`, 'export the policy again');
      shape = [shape[0]!, shape[1]!, 1];
    } else if (s.kind === 'resize') {
      if (shape.length !== 3 || !isShape([s.height, s.width, shape[2]])) fail('resize of [H, W, C] frames to positive sizes', `[${shape}] -> ${describe(s)}`, 'export the policy again');
      shape = [s.height, s.width, shape[2]!];
    } else if (s.kind === 'frameStack') {
      if (!Number.isInteger(s.k) || s.k < 1 || s.k > MAX_FRAME_STACK) fail(`frameStack.k in [1, ${MAX_FRAME_STACK}]`, describe(s.k), 'export the policy again');
      shape = [...shape.slice(0, -1), shape[shape.length - 1]! * s.k];
      if (!isShape(shape)) fail(`frames stacked to at most ${MAX_SHAPE_VALUES} values`, `[${shape}]`, 'export the policy again');
    } else {
      fail('preprocess steps grayscale | resize | frameStack', describe(s), 'export the policy with a matching npcforge version');
    }
  }
  if (shape.join('x') !== p.observation.shape.join('x')) {
    throw new SpaceMismatchError(formatError('policy.json', `preprocessing to end at observation.shape [${p.observation.shape}]`, `[${shape}]`, 'export the policy again'));
  }
}
