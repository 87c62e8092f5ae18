/**
 * The policy bundle's `policy.json`: what a game needs to feed a trained network and read its
 * answer. Written by `npcforge export` (src/export), read by `loadPolicy` (src/runtime).
 */
import { CheckpointError, SpaceMismatchError, UnsupportedVersionError, formatError, describe } from '../errors.js';
import { MAX_DICT_KEYS, MAX_DICT_KEY_LENGTH, type DictLayoutEntry } from '../envs/dict-obs.js';

export const POLICY_FORMAT = 'npcforge-policy';
/** Version written for bundles that need the fields added in 2 (`action` other than Discrete, `inputNorm`, `observation.dict`, `decisionPeriod`); plain Discrete bundles stay 1 so older runtimes keep reading them. */
export const POLICY_VERSION = 2;
/** Versions this reader accepts: 1 (Discrete only, no `action`) and 2. */
export const POLICY_VERSIONS: readonly number[] = [1, 2];

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
  /**
   * What the network's first output holds: Q-values (argmax acts), action logits (softmax; per
   * part for MultiDiscrete), the Gaussian mean (Box; the action is the mean clipped to the bounds)
   * or `squashed-mean` (Box, SAC actors: [mean | raw log-std] per dimension; the action is
   * tanh(mean) scaled from [-1, 1] to the bounds).
   */
  output: 'q' | 'logits' | 'mean' | 'squashed-mean';
  /** Raw frame the game produces, before `preprocess` (shape `[H, W, C]` or `[n]`). */
  frame: { shape: number[]; dtype: ObsDtype };
  /** Steps that turn a raw frame into a network observation, in order. */
  preprocess: PreprocessStep[];
  /**
   * Observation the network reads after preprocessing; multiplied by `inputScale` before the
   * forward pass. `dict` (version 2): the game's observation is a Dict flattened into this flat
   * float32 array by the layout of `src/envs/dict-obs.ts` (keys sorted, each at its offset, byte
   * pixels times 1/255); `act` then also takes the Dict object itself.
   */
  observation: { shape: number[]; dtype: ObsDtype; low: number; high: number; dict?: DictLayoutEntry[] };
  /** Factor from observation values to network inputs (1/255 for byte pixels). */
  inputScale: number;
  /** Action names, index = action (MultiDiscrete: every part's names concatenated; Box: empty). */
  actions: string[];
  /** The action the network chooses; absent (version 1 bundles) = Discrete over `actions`. */
  action?: PolicyActionSpace;
  /**
   * Running observation normalisation of the training agent (PG `normObs`): each value becomes
   * clip((x - mean) / sqrt(var + epsilon), -clip, clip) before `inputScale`. Absent or null = none.
   */
  inputNorm?: { mean: number[]; var: number[]; epsilon: number; clip: number } | null;
  /**
   * Recurrent state carried between `act` calls: one entry per extra model input (and matching
   * extra model output, same order), e.g. LSTM `[h, c]` with shapes `[units]`. null = feed-forward.
   */
  recurrentState: { shapes: number[][] } | null;
  /**
   * (version 2) Game frames per decision: the NPC acts every k-th frame and repeats its last action
   * in between (`policy.controller()`). Absent = 1, a decision every frame.
   */
  decisionPeriod?: number;
  /** Where the weights are: stock tfjs layers files next to policy.json. */
  model: { topology: string };
  /**
   * Actor-critic bundles: the critic as its own stock layers model (observation -> [value]), for
   * tools that explain the policy (the viewer's value saliency); acting never reads it, so runtimes
   * that predate the field ignore it. Absent = none.
   */
  valueModel?: { topology: string };
  /** Training metadata (run folder name, checkpoint step, seed, preset, config). */
  training: Record<string, unknown>;
  /** Mean return of the latest evaluation at or before the checkpoint (null if none). */
  evalReturn: number | null;
  createdAt: string;
}

/** The action space of a bundle: one index, one index per part, or a float vector clipped to bounds. */
export type PolicyActionSpace =
  | { type: 'Discrete'; n: number }
  | { type: 'MultiDiscrete'; nvec: number[]; names: string[][] }
  | { type: 'Box'; shape: number[]; low: number[]; high: number[] };

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
/** Most parts of a MultiDiscrete action, and most values of a Box action. */
export const MAX_ACTION_PARTS = 64;
/** Longest decision period, in frames (10 s at 60 fps). */
export const MAX_DECISION_PERIOD = 600;

/** Whether `k` is a valid decision period: an integer in [1, MAX_DECISION_PERIOD]. */
export function isDecisionPeriod(k: unknown): k is number {
  return Number.isInteger(k) && (k as number) >= 1 && (k as number) <= MAX_DECISION_PERIOD;
}

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
  if (!POLICY_VERSIONS.includes(p.version)) {
    throw new UnsupportedVersionError(formatError('policy.json', `version ${POLICY_VERSIONS.join(' or ')}`, describe(p.version), 'export the policy with the npcforge version of this runtime, or upgrade the runtime'));
  }
  const bad: string[] = [];
  if (!p.game || typeof p.game.id !== 'string') bad.push(`game.id ${describe(p.game?.id)}`);
  if (p.output !== 'q' && p.output !== 'logits' && p.output !== 'mean' && p.output !== 'squashed-mean') bad.push(`output ${describe(p.output)}`);
  if (!p.frame || !isShape(p.frame.shape)) bad.push(`frame.shape ${describe(p.frame?.shape)} (at most ${MAX_SHAPE_VALUES} values)`);
  if (!p.observation || !isShape(p.observation.shape)) bad.push(`observation.shape ${describe(p.observation?.shape)} (at most ${MAX_SHAPE_VALUES} values)`);
  if (typeof p.inputScale !== 'number' || !(p.inputScale > 0)) bad.push(`inputScale ${describe(p.inputScale)}`);
  const actionProblem = p.version === 1 && p.action !== undefined ? `action in a version 1 file` : checkActionSpace(p);
  if (actionProblem) bad.push(actionProblem);
  if (p.observation?.dict !== undefined) {
    const dictProblem = p.version === 1 ? 'observation.dict in a version 1 file' : checkDictLayout(p.observation.dict, p.observation.shape);
    if (dictProblem) bad.push(dictProblem);
  }
  if (p.decisionPeriod !== undefined) {
    if (p.version === 1) bad.push('decisionPeriod in a version 1 file');
    else if (!isDecisionPeriod(p.decisionPeriod)) bad.push(`decisionPeriod ${shown(p.decisionPeriod, [])} (an integer from 1 to ${MAX_DECISION_PERIOD} frames)`);
  }
  if (p.inputNorm !== undefined && p.inputNorm !== null && !isInputNorm(p.inputNorm, p.observation?.shape)) bad.push(`inputNorm (mean and var of one finite value per observation value, var >= 0, epsilon > 0, clip > 0)`);
  const discrete = p.action === undefined || p.action?.type === 'Discrete';
  if (!Array.isArray(p.actions) || p.actions.length < (discrete ? 1 : 0) || p.actions.length > MAX_POLICY_ACTIONS || !p.actions.every((a) => typeof a === 'string' && a.length <= MAX_ACTION_NAME_LENGTH)) bad.push(`actions ${describe(p.actions)} (1 to ${MAX_POLICY_ACTIONS} names)`);
  if (!Array.isArray(p.preprocess)) bad.push(`preprocess ${describe(p.preprocess)}`);
  if (p.recurrentState !== null && !(p.recurrentState && Array.isArray(p.recurrentState.shapes) && p.recurrentState.shapes.length <= 16 && p.recurrentState.shapes.every((sh) => isShape(sh, MAX_STATE_VALUES)))) bad.push(`recurrentState ${describe(p.recurrentState)}`);
  if (!p.model || typeof p.model.topology !== 'string') bad.push(`model.topology ${describe(p.model?.topology)}`);
  if (p.valueModel !== undefined && (!p.valueModel || typeof p.valueModel.topology !== 'string')) bad.push(`valueModel.topology ${describe(p.valueModel?.topology)}`);
  if (bad.length) fail('a complete policy description', bad.join('; '), 'export the policy again with npcforge export');
  return p;
}

/** What is wrong with a Dict layout read from a file (never quoting its keys), or null. */
function checkDictLayout(d: unknown, obsShape: unknown): string | null {
  const what = `observation.dict (1 to ${MAX_DICT_KEYS} entries {key of 1 to ${MAX_DICT_KEY_LENGTH} characters, shape, dtype, offset, size, scale} packed from offset 0 to the observation size)`;
  if (!Array.isArray(d) || d.length < 1 || d.length > MAX_DICT_KEYS || !isShape(obsShape) || obsShape.length !== 1) return what;
  let offset = 0;
  const keys = new Set<string>();
  for (let i = 0; i < d.length; i++) {
    const e = d[i] as Partial<DictLayoutEntry> | null;
    const ok = !!e && typeof e === 'object' && typeof e.key === 'string' && e.key.length >= 1 && e.key.length <= MAX_DICT_KEY_LENGTH && !keys.has(e.key) && isShape(e.shape) && ['uint8', 'int32', 'float32'].includes(e.dtype as string) && e.offset === offset && e.size === shapeSize(e.shape as number[]) && typeof e.scale === 'number' && e.scale > 0 && Number.isFinite(e.scale);
    if (!ok) return `${what}: entry ${i + 1} of ${d.length}`;
    keys.add(e!.key!);
    offset += e!.size!;
  }
  return offset === obsShape[0] ? null : `${what}: entries total ${offset} values, observation.shape [${obsShape[0]}]`;
}

function isFiniteList(v: unknown, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function isInputNorm(n: unknown, obsShape: unknown): boolean {
  const o = n as { mean?: unknown; var?: unknown; epsilon?: unknown; clip?: unknown };
  if (!o || typeof o !== 'object' || !isShape(obsShape)) return false;
  const size = shapeSize(obsShape);
  return isFiniteList(o.mean, size) && isFiniteList(o.var, size) && (o.var as number[]).every((v) => v >= 0) && typeof o.epsilon === 'number' && o.epsilon > 0 && Number.isFinite(o.epsilon) && typeof o.clip === 'number' && o.clip > 0 && Number.isFinite(o.clip);
}

/** A file value for an error message: numbers and the known words as they are, other strings by length only (never quoted). */
function shown(v: unknown, known: readonly string[]): string {
  if (typeof v === 'string') return known.includes(v) ? JSON.stringify(v) : `a string of ${v.length} characters`;
  return describe(v);
}
const OUTPUTS = ['q', 'logits', 'mean', 'squashed-mean'] as const;

/** A description of what is wrong with `action` (and how it fits `output`/`actions`), or null. Never quotes names. */
function checkActionSpace(p: PolicyFile): string | null {
  const a = p.action as unknown;
  const boxOutput = p.output === 'mean' || p.output === 'squashed-mean';
  if (a === undefined) return boxOutput ? `action absent with output ${shown(p.output, OUTPUTS)} (a Box action is needed)` : null;
  const o = a as { type?: unknown; n?: unknown; nvec?: unknown; names?: unknown; shape?: unknown; low?: unknown; high?: unknown };
  if (!o || typeof o !== 'object' || Array.isArray(o)) return `action ${Array.isArray(o) ? describe(o) : shown(o, [])} (an object)`;
  if (o.type === 'Discrete') {
    if (!Number.isInteger(o.n) || (o.n as number) < 1 || (o.n as number) > MAX_POLICY_ACTIONS) return `action.n ${describe(o.n)} (1 to ${MAX_POLICY_ACTIONS})`;
    if (Array.isArray(p.actions) && p.actions.length !== o.n) return `action.n ${o.n} with ${p.actions.length} action names`;
    return boxOutput ? `output ${shown(p.output, OUTPUTS)} with a Discrete action` : null;
  }
  if (o.type === 'MultiDiscrete') {
    const nvec = o.nvec;
    if (!Array.isArray(nvec) || nvec.length < 1 || nvec.length > MAX_ACTION_PARTS || !nvec.every((k) => Number.isInteger(k) && k >= 1 && k <= MAX_POLICY_ACTIONS)) return `action.nvec ${Array.isArray(nvec) ? `of ${nvec.length} entries` : describe(nvec)} (1 to ${MAX_ACTION_PARTS} entries, each 1 to ${MAX_POLICY_ACTIONS})`;
    const total = (nvec as number[]).reduce((x, y) => x + y, 0);
    if (total > MAX_POLICY_ACTIONS) return `action.nvec summing to ${total} (at most ${MAX_POLICY_ACTIONS})`;
    const names = o.names;
    if (!Array.isArray(names) || names.length !== nvec.length || !names.every((part, i) => Array.isArray(part) && part.length === nvec[i] && part.every((x) => typeof x === 'string' && x.length <= MAX_ACTION_NAME_LENGTH))) return `action.names (one list of nvec[i] names of at most ${MAX_ACTION_NAME_LENGTH} characters per part)`;
    if (Array.isArray(p.actions) && p.actions.length !== total) return `action.nvec summing to ${total} with ${p.actions.length} action names`;
    return p.output === 'logits' ? null : `output ${shown(p.output, OUTPUTS)} with a MultiDiscrete action (logits needed)`;
  }
  if (o.type === 'Box') {
    if (!isShape(o.shape, MAX_ACTION_PARTS)) return `action.shape ${describe(o.shape)} (at most ${MAX_ACTION_PARTS} values)`;
    const size = shapeSize(o.shape as number[]);
    if (!isFiniteList(o.low, size) || !isFiniteList(o.high, size)) return `action.low/high (${size} finite values each)`;
    if (!(o.low as number[]).every((l, i) => l <= (o.high as number[])[i]!)) return 'action.low above action.high';
    return boxOutput ? null : `output ${shown(p.output, OUTPUTS)} with a Box action (mean or squashed-mean needed)`;
  }
  return `action.type ${shown(o.type, ['Discrete', 'MultiDiscrete', 'Box'])} (Discrete, MultiDiscrete or Box)`;
}

/**
 * Writes the network input of one observation (after preprocessing) into `out` at `offset`: each
 * value normalised by `inputNorm` when present (the training agent's normalizeObs arithmetic:
 * float64, then clip), then times `inputScale`. Shared by acting and saliency, so both feed the
 * network the same numbers.
 */
export function writeNetworkInput(p: PolicyFile, obs: ArrayLike<number>, out: Float32Array, offset = 0): void {
  const size = shapeSize(p.observation.shape);
  const scale = p.inputScale;
  const norm = p.inputNorm;
  if (norm) {
    for (let i = 0; i < size; i++) out[offset + i] = Math.min(norm.clip, Math.max(-norm.clip, (obs[i]! - norm.mean[i]!) / Math.sqrt(norm.var[i]! + norm.epsilon))) * scale;
  } else {
    for (let i = 0; i < size; i++) out[offset + i] = obs[i]! * scale;
  }
}

/** Width of the network's first output for this bundle: actions, sum of nvec, or Box values (twice that for squashed-mean: mean and log-std). */
export function outputWidth(p: PolicyFile): number {
  const a = p.action;
  if (!a || a.type === 'Discrete') return p.actions.length;
  if (a.type === 'MultiDiscrete') return a.nvec.reduce((x, y) => x + y, 0);
  return shapeSize(a.shape) * (p.output === 'squashed-mean' ? 2 : 1);
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
