/**
 * The `.npcep` episode format: names, record shapes and the small byte-level helpers shared by the
 * encoder (recording) and the reader (Node and browser). Browser-safe: no Node built-ins here.
 * The format is documented in docs/episode-format.md.
 */
import { Inflate } from 'fflate';
import type { SpaceJSON } from '../../envs/spaces.js';
import type { EnvSnapshot } from '../../envs/env.js';
import { MAX_FRAME_PIXELS, MAX_FRAME_SIDE } from '../../envs/frame-limits.js';
import type { EpisodeObservations } from './observations.js';

export { MAX_FRAME_PIXELS, MAX_FRAME_SIDE };

/** Value of the `format` field of every episode file. */
export const EPISODE_FORMAT = 'npcforge-episode';
/** The newest format version (this build reads 1 and 2): version 2 added MultiDiscrete and Box actions. */
export const EPISODE_VERSION = 2;
/**
 * The version of episodes with Discrete actions. Their bytes did not change in version 2, so they
 * keep version 1: existing files stay byte-identical and older readers still read them, while a
 * file with MultiDiscrete or Box actions tells an older reader to upgrade instead of failing on
 * its step data.
 */
export const DISCRETE_EPISODE_VERSION = 1;
/**
 * The version of multi-agent episodes (a game built with `makeMultiAgent`): every agent's action,
 * reward, end flags and annotations per step, and who controlled each agent. Single-agent episodes
 * keep versions 1 and 2, byte for byte.
 */
export const MULTI_AGENT_EPISODE_VERSION = 3;
/** Most agents in a multi-agent episode. */
export const MAX_AGENTS = 64;
/** Most agent-steps (steps x agents) of a multi-agent episode: each costs ~24 bytes of decoded arrays. */
export const MAX_AGENT_STEP_VALUES = 1 << 22;
/**
 * Most bytes the step data of one multi-agent chunk inflates to (32 MiB): many agents of many
 * actions could otherwise declare gigabytes for one chunk. 64 steps (the largest automatic
 * keyframe interval) of 64 agents of 1024 actions with Q-values and probabilities fit.
 */
export const MAX_AGENT_CHUNK_STEP_BYTES = 1 << 25;
/** Longest `controller` label of an agent (a run path and a step). */
export const MAX_CONTROLLER_LENGTH = 512;
/** File name extension of episode files. */
export const EPISODE_EXTENSION = '.npcep';
/** Largest automatic number of frames per chunk (one keyframe + K-1 XOR deltas). */
export const DEFAULT_KEYFRAME_INTERVAL = 64;
/** Smallest automatic number of frames per chunk. */
export const MIN_AUTO_KEYFRAME_INTERVAL = 8;
/** Stored frame bytes per chunk the automatic interval aims at: bounds the work of one seek. */
export const AUTO_CHUNK_BYTES = 1 << 19;
/** Largest accepted keyframe interval. */
export const MAX_KEYFRAME_INTERVAL = 4096;

// Format limits. A reader checks each of them before it allocates what the number asks for, so
// that a small hostile file cannot make it allocate gigabytes (docs/episode-format.md, "Limits").
/** Largest episode file, in bytes. */
export const MAX_EPISODE_BYTES = 256 * 1024 * 1024;
/** Most actions (action names, and values per step of the `q` and `probs` annotations). */
export const MAX_ACTIONS = 1024;
/** Most action values of one episode (steps x values per action), allocated by the reader: 64 MiB of int32 or float32. */
export const MAX_ACTION_VALUES = 1 << 24;
/** Longest action name or game id, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 128;
/** Most steps in one episode. */
export const MAX_EPISODE_STEPS = 1 << 22;
/** Most chunks in one episode (each is a decoded record held in memory: 2^22 steps at K = 64). */
export const MAX_CHUNKS = 1 << 16;
/** Most annotation values of one field in one episode (steps x actions for `q` and `probs`): 64 MiB of float32. */
export const MAX_ANNOTATION_VALUES = 1 << 24;
/** Most frame bytes in one chunk once inflated (keyframeInterval x width x height x 3 at most). */
export const MAX_CHUNK_FRAME_BYTES = 1 << 26;
/** Most step bytes inflated for a whole episode (all chunks' `stepData`; the frames inflate lazily, one chunk at a time). */
export const MAX_STEP_BYTES_TOTAL = 1 << 27;
/** Largest inflated frame data of a chunk: K frames stored as RGB at full size (the worst case of every mode and block). */
export function chunkFrameBytes(keyframeInterval: number, width: number, height: number): number {
  return keyframeInterval * width * height * 3;
}

/** Room for the msgpack keys and headers of one inflated step block, beyond its arrays. */
const STEP_BLOCK_OVERHEAD = 1024;

/**
 * Most bytes the `stepData` of a chunk of `steps` steps can inflate to with `actions` actions of
 * `actionWidth` values each (1 for Discrete): the widest actions, rewards and flags, every
 * annotation field with its presence mask, and the msgpack framing. Anything larger is not an
 * episode and is cut off while inflating.
 */
export function maxStepBlockBytes(steps: number, actions: number, actionWidth = 1): number {
  return steps * (4 * actionWidth + 8 + 1) + 2 * (steps * actions * 2 + steps) + (steps * 2 + steps) + STEP_BLOCK_OVERHEAD;
}

/**
 * Most bytes the `stepData` of a multi-agent chunk of `steps` steps can inflate to, the agents
 * having `actionCounts` actions each: actions (int32), rewards (float64) and flags per agent-step,
 * every annotation field of every agent with its presence mask, and the msgpack framing.
 */
export function maxAgentStepBlockBytes(steps: number, actionCounts: readonly number[]): number {
  let annotations = 0;
  for (const n of actionCounts) annotations += 2 * (steps * n * 2 + steps) + (steps * 2 + steps) + 64;
  return steps * actionCounts.length * (4 + 8 + 1) + annotations + STEP_BLOCK_OVERHEAD;
}

/**
 * How the actions of an episode are stored: `discrete` one integer per step (version 1),
 * `multi-discrete` one integer per part, `box` one float32 per element (version 2).
 */
export interface EpisodeActionLayout {
  kind: 'discrete' | 'multi-discrete' | 'box';
  /** Values per step. */
  width: number;
  /** Exclusive upper bound of each part (multi-discrete only). */
  nvec?: number[];
  /** Bounds of each element (box only; +-Infinity where unbounded). */
  low?: number[];
  high?: number[];
}

const boundOf = (v: unknown): number | null => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : typeof v === 'number' && !Number.isNaN(v) ? v : null);

/**
 * The action layout of an action space's `toJSON()`, or a one-line problem (for errors) when the
 * format cannot store it. Checks every count before anything is allocated: the JSON may come
 * from a file.
 */
export function episodeActionLayout(space: unknown): EpisodeActionLayout | string {
  const s = space as Record<string, unknown> | null;
  const type = typeof s === 'object' && s !== null && !Array.isArray(s) ? s.type : undefined;
  if (type === 'Discrete') return { kind: 'discrete', width: 1 };
  if (type === 'MultiDiscrete') {
    const nvec = s!.nvec;
    if (!Array.isArray(nvec) || nvec.length < 1 || nvec.length > MAX_ACTIONS || !nvec.every((n) => Number.isInteger(n) && n >= 1 && n <= 0x7fffffff)) {
      return `a MultiDiscrete action space with 1 to ${MAX_ACTIONS} parts of positive int32 sizes`;
    }
    return { kind: 'multi-discrete', width: nvec.length, nvec: [...(nvec as number[])] };
  }
  if (type === 'Box') {
    const { shape, dtype, low, high } = s as Record<string, unknown>;
    // Only known dtypes are named: the JSON may come from a file, whose contents errors do not quote.
    if (dtype !== 'float32') return `a Box action space of dtype float32 (dtype ${dtype === 'uint8' || dtype === 'int32' ? dtype : 'unknown'})`;
    let size = 1;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 8) return 'a Box action space with a shape of 1 to 8 dimensions';
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1 || d > MAX_ACTIONS) return `a Box action space of 1 to ${MAX_ACTIONS} elements`;
      size *= d;
      if (size > MAX_ACTIONS) return `a Box action space of 1 to ${MAX_ACTIONS} elements`;
    }
    if (!Array.isArray(low) || !Array.isArray(high) || low.length !== size || high.length !== size) return `a Box action space with ${size} low and ${size} high bounds`;
    const lo = low.map(boundOf);
    const hi = high.map(boundOf);
    for (let i = 0; i < size; i++) if (lo[i] === null || hi[i] === null || !(lo[i]! <= hi[i]!)) return `a Box action space with numeric bounds, low <= high (element ${i})`;
    return { kind: 'box', width: size, low: lo as number[], high: hi as number[] };
  }
  return "an action space of type 'Discrete', 'MultiDiscrete' or 'Box'";
}

/** Most msgpack values (map keys, entries, array items, scalars) in one record: the header's free-form maps and states included. */
export const MAX_RECORD_VALUES = 1 << 20;

/**
 * Walks the msgpack value starting at `pos` without decoding it: returns where it ends and how
 * many values it holds, or stops early with `values > maxValues` (too many) or `end === -1`
 * (truncated or not msgpack). Lets a reader refuse a record of millions of one-byte values before
 * the decoder turns each into a JS value.
 */
export function msgpackExtent(bytes: Uint8Array, pos: number, maxValues: number): { end: number; values: number } {
  const n = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pending = 1;
  let values = 0;
  const uint = (at: number, size: number): number => (size === 1 ? bytes[at]! : size === 2 ? dv.getUint16(at) : dv.getUint32(at));
  while (pending > 0) {
    if (pos >= n) return { end: -1, values };
    pending--;
    if (++values > maxValues) return { end: pos, values };
    const b = bytes[pos]!;
    let skip = 0; // bytes of payload after the type (and length) bytes
    let head = 1;
    let items = 0;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) head = 1;
    else if (b <= 0x8f) items = 2 * (b & 0x0f);
    else if (b <= 0x9f) items = b & 0x0f;
    else if (b <= 0xbf) skip = b & 0x1f;
    else if (b >= 0xc4 && b <= 0xc6) {
      const size = 1 << (b - 0xc4);
      if (pos + 1 + size > n) return { end: -1, values };
      head = 1 + size;
      skip = uint(pos + 1, size);
    } else if (b >= 0xc7 && b <= 0xc9) {
      const size = 1 << (b - 0xc7);
      if (pos + 1 + size > n) return { end: -1, values };
      head = 2 + size;
      skip = uint(pos + 1, size);
    } else if (b === 0xca) skip = 4;
    else if (b === 0xcb) skip = 8;
    else if (b >= 0xcc && b <= 0xcf) skip = 1 << (b - 0xcc);
    else if (b >= 0xd0 && b <= 0xd3) skip = 1 << (b - 0xd0);
    else if (b >= 0xd4 && b <= 0xd8) skip = 1 + (1 << (b - 0xd4));
    else if (b >= 0xd9 && b <= 0xdb) {
      const size = 1 << (b - 0xd9);
      if (pos + 1 + size > n) return { end: -1, values };
      head = 1 + size;
      skip = uint(pos + 1, size);
    } else if (b === 0xdc || b === 0xdd || b === 0xde || b === 0xdf) {
      const size = b === 0xdc || b === 0xde ? 2 : 4;
      if (pos + 1 + size > n) return { end: -1, values };
      head = 1 + size;
      items = uint(pos + 1, size) * (b >= 0xde ? 2 : 1);
    } else return { end: -1, values }; // 0xc1: never used
    pos += head + skip;
    pending += items;
    // Every value takes at least one byte: more pending values than bytes left is a truncated file.
    if (pending > n - pos) return { end: -1, values };
  }
  return pos > n ? { end: -1, values } : { end: pos, values };
}

/** Input bytes handed to the inflater at a time: one push can produce at most ~1032x this. */
const INFLATE_SLICE = 4096;

/** Raised by `inflateBounded` when the data inflates to more than the limit. */
export class InflateLimitExceeded extends Error {}

/**
 * Inflates raw DEFLATE `data` while counting: stops as soon as the output passes `limit` bytes
 * (throws InflateLimitExceeded), so a zlib bomb costs at most `limit` plus a few MiB, never what it
 * declares. Other corruption throws fflate's own Error; output shorter than `limit` is returned as
 * is (callers that know the exact size compare).
 */
export function inflateBounded(data: Uint8Array, limit: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk: Uint8Array) => {
    total += chunk.length;
    if (total > limit) throw new InflateLimitExceeded(`more than ${limit} bytes`);
    if (chunk.length) parts.push(chunk);
  });
  if (data.length === 0) inflater.push(data, true);
  for (let i = 0; i < data.length; i += INFLATE_SLICE) inflater.push(data.subarray(i, i + INFLATE_SLICE), i + INFLATE_SLICE >= data.length);
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
/** Palette capacity of an indexed chunk (one byte per pixel). */
export const PALETTE_CAPACITY = 256;

/** The game a recording was made on, enough to `make()` it again. */
export interface EpisodeGame {
  /** Registry id, e.g. `catch`. */
  id: string;
  /** The options the game was made with (`env.spec.options`). */
  options: Record<string, unknown>;
  /** TimeLimit cap in steps, or null for none. */
  maxEpisodeSteps: number | null;
}

/** One agent of a multi-agent episode (header field `agents`, in the game's `possibleAgents` order). */
export interface EpisodeAgent {
  /** The agent's name in the game (`right`, `chaser_0`). */
  name: string;
  /** One name per action index (the agent's action space is Discrete). */
  actionNames: string[];
  actionSpace: SpaceJSON;
  observationSpace: SpaceJSON;
  /**
   * Who chose its actions: `bot`, `random`, a run (`<run>:<step>`, the learner's own run included),
   * or another short label (at most 512 characters).
   */
  controller: string;
}

/** First record of a file. */
export interface EpisodeHeader {
  format: typeof EPISODE_FORMAT;
  version: number;
  kind: 'header';
  game: EpisodeGame;
  /** Seed passed to `reset`, or null when the env continued its RNG stream. */
  seed: number | null;
  /** `options` passed to `reset`, or null. */
  resetOptions: Record<string, unknown> | null;
  /** `getState()` of the innermost env just before `reset` (replays resets without a seed), or null. */
  stateBeforeReset: EnvSnapshot | null;
  /** `getState()` of the innermost env just after `reset`, or null when the env has no `getState`. */
  stateAtReset: EnvSnapshot | null;
  /** One name per action index. */
  actionNames: string[];
  observationSpace: SpaceJSON;
  actionSpace: SpaceJSON;
  /** Size of every rendered frame, in pixels. */
  frameWidth: number;
  frameHeight: number;
  /** Frames per chunk. */
  keyframeInterval: number;
  /** Free-form JSON-safe metadata (run id, policy, agent step, ...). */
  meta: Record<string, unknown>;
  /** ISO-8601 time the recording started. */
  createdAt: string;
  /**
   * Version 3 (multi-agent) only: every possible agent, in order. `actionNames`, `actionSpace` and
   * `observationSpace` above are then those of the primary agent (the learner, else the first).
   */
  agents?: EpisodeAgent[];
  /** Version 3 only: the agent that was being trained or evaluated, or null when none was. */
  learner?: string | null;
  /**
   * Present when every chunk also stores the observation of each of its frames (`obsData`), for
   * saliency: their dtype and shape (see observations.ts). Older readers ignore it.
   */
  observations?: EpisodeObservations;
}

/** How the frames of a chunk are stored. */
export type ChunkMode = 'indexed' | 'rgb';

/** A chunk of K frames and K steps (the last chunk holds one frame more than steps). */
export interface EpisodeChunk {
  kind: 'chunk';
  index: number;
  firstFrame: number;
  frames: number;
  steps: number;
  mode: ChunkMode;
  /** Side of the uniform pixel blocks the frames are made of; frames are stored downscaled by it. */
  block: number;
  /** Colours added to the episode palette by this chunk, RGB triplets. */
  palette: Uint8Array;
  /** Deflated frame planes: frame 0 of the chunk as is, then each frame XOR the previous one. */
  frameData: Uint8Array;
  /** Deflated msgpack of the chunk's per-step fields (see StepBlock). */
  stepData: Uint8Array;
  /** CRC-32 of frameData followed by stepData. */
  crc: number;
  /** With header `observations`: the deflated observations of the chunk's frames (see observations.ts). */
  obsData?: Uint8Array;
  /** CRC-32 of obsData. */
  obsCrc?: number;
}

/** Last record of a complete file. */
export interface EpisodeEnd {
  kind: 'end';
  steps: number;
  frames: number;
  chunks: number;
  /** Sum of the rewards. */
  return: number;
  terminated: boolean;
  truncated: boolean;
}

/** Quantisation levels of annotations (12 bits): error <= (max - min) / 8190 within a chunk. */
export const ANNOTATION_LEVELS = 4095;

/** A 12-bit quantised annotation field of one chunk: value = lo + q * scale, q in [0, 4095]. */
export interface QuantisedField {
  /** Values per step (number of actions for q/probs, 1 for value). */
  width: number;
  lo: number;
  scale: number;
  /** Uint16 LE, each component delta-coded against the previous step (mod 2^16). */
  data: Uint8Array;
  /** One byte per step (1 = present); absent when every step has the field. */
  present?: Uint8Array;
}

/** Decompressed content of `EpisodeChunk.stepData`. */
export interface StepBlock {
  /**
   * Bytes per action value: 1 (uint8), 2 (uint16 LE) or 4 (int32 LE) for Discrete and
   * MultiDiscrete actions; always 4 (float32 LE) for Box actions.
   */
  actionBytes: 1 | 2 | 4;
  /** The action of each step, in order: one value (Discrete), one per part (MultiDiscrete) or one per element (Box). */
  actions: Uint8Array;
  /** Bytes per reward: 4 (float32 LE, used when every reward of the chunk is exact in float32) or 8 (float64 LE). */
  rewardBytes: 4 | 8;
  /** One reward per step. */
  rewards: Uint8Array;
  /** One byte per step: bit 0 terminated, bit 1 truncated. */
  flags: Uint8Array;
  q?: QuantisedField;
  probs?: QuantisedField;
  value?: QuantisedField;
}

/** Agent names, as the multi-agent games name them (`MultiAgentGameEnv`). */
const AGENT_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * The problem with a header's `agents` / `learner` (for errors), or null. Shared by the encoder
 * and the reader, so that the encoder refuses to write what the reader would refuse to read.
 */
export function agentsProblem(agents: unknown, learner: unknown): string | null {
  if (!Array.isArray(agents) || agents.length < 1 || agents.length > MAX_AGENTS) return `1 to ${MAX_AGENTS} agents`;
  const names = new Set<string>();
  for (let i = 0; i < agents.length; i++) {
    const a = agents[i] as Partial<EpisodeAgent> | null;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return `agent ${i} as a map`;
    if (typeof a.name !== 'string' || a.name.length > MAX_NAME_LENGTH || !AGENT_NAME.test(a.name) || names.has(a.name)) return `agent ${i} with a unique name of lower-case letters, digits and _ (at most ${MAX_NAME_LENGTH} characters)`;
    names.add(a.name);
    const n = Array.isArray(a.actionNames) ? a.actionNames.length : -1;
    if (n < 1 || n > MAX_ACTIONS || !a.actionNames!.every((x) => typeof x === 'string' && x.length <= MAX_NAME_LENGTH)) return `agent ${a.name} with 1 to ${MAX_ACTIONS} action names of at most ${MAX_NAME_LENGTH} characters`;
    const space = a.actionSpace as { type?: unknown; n?: unknown } | undefined;
    if (typeof space !== 'object' || space === null || space.type !== 'Discrete' || space.n !== n) return `agent ${a.name} with a Discrete action space of ${n} actions (one per action name)`;
    const obs = a.observationSpace as { type?: unknown } | undefined;
    if (typeof obs !== 'object' || obs === null || typeof obs.type !== 'string') return `agent ${a.name} with an observation space`;
    if (typeof a.controller !== 'string' || a.controller.length > MAX_CONTROLLER_LENGTH) return `agent ${a.name} with a controller label of at most ${MAX_CONTROLLER_LENGTH} characters`;
  }
  if (!(learner === null || (typeof learner === 'string' && names.has(learner)))) return 'learner: null or the name of an agent';
  return null;
}

/** Annotation fields of one agent in a multi-agent step block (each present when some step has it). */
export interface AgentAnnotationBlock {
  q?: QuantisedField;
  probs?: QuantisedField;
  value?: QuantisedField;
}

/**
 * Decompressed `stepData` of a multi-agent chunk (version 3): A agents, n steps, agent-steps in
 * step-major order (step t, agent i at `t * A + i`). An agent that did not act at a step (it was
 * done) has action 0, reward 0 and flags 0.
 */
export interface AgentStepBlock {
  /** Bytes per action index: 1, 2 or 4 (uint8, uint16 LE, int32 LE). */
  actionBytes: 1 | 2 | 4;
  actions: Uint8Array;
  /** 4 (float32 LE, when every reward of the chunk is exact in float32) or 8 (float64 LE). */
  rewardBytes: 4 | 8;
  rewards: Uint8Array;
  /** One byte per agent-step: bit 0 terminated, bit 1 truncated, bit 2 acted (the agent was live). */
  flags: Uint8Array;
  /** One entry per agent: its annotation fields (width = its action count for q/probs, 1 for value). */
  agents: AgentAnnotationBlock[];
}

/** Bit of `AgentStepBlock.flags`: the agent acted at this step. */
export const ACTED_FLAG = 4;

/** What an agent thought at one step (all optional). */
export interface StepAnnotation {
  /** Q-value per action. */
  q?: ArrayLike<number>;
  /** Action probability per action. */
  probs?: ArrayLike<number>;
  /** State-value estimate. */
  value?: number;
}

export const ANNOTATION_FIELDS = ['q', 'probs', 'value'] as const;
export type AnnotationField = (typeof ANNOTATION_FIELDS)[number];

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE) over several byte arrays in sequence. */
export function crc32(...parts: Uint8Array[]): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = t[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Frames per chunk for frames like `first`: as many as fit in AUTO_CHUNK_BYTES at the stored size
 * (a power of two in [8, 64]), so that a seek inflates at most ~512 KB whatever the frame size.
 */
export function autoKeyframeInterval(first: Uint8Array, width: number, height: number): number {
  let uniform = true;
  for (let i = 3; i < first.length && uniform; i += 3) uniform = first[i] === first[0] && first[i + 1] === first[1] && first[i + 2] === first[2];
  // A blank first frame says nothing about the blocks of the frames to come.
  const block = uniform ? 1 : detectBlockSize([first], width, height, 3);
  const stored = (width / block) * (height / block);
  let k = DEFAULT_KEYFRAME_INTERVAL;
  while (k > MIN_AUTO_KEYFRAME_INTERVAL && k * stored > AUTO_CHUNK_BYTES) k /= 2;
  // Very large frames: fewer than the minimum per chunk rather than a chunk readers refuse.
  while (k > 1 && chunkFrameBytes(k, width, height) > MAX_CHUNK_FRAME_BYTES) k /= 2;
  return k;
}

/** Side of the largest uniform square blocks (<= 32) that every frame is made of; 1 when none. */
export function detectBlockSize(frames: Uint8Array[], width: number, height: number, channels: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(width, height);
  for (let s = Math.min(32, g); s > 1; s--) {
    if (g % s !== 0) continue;
    if (frames.every((f) => isBlocky(f, width, height, channels, s))) return s;
  }
  return 1;
}

function isBlocky(f: Uint8Array, width: number, height: number, channels: number, s: number): boolean {
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const top = (y - (y % s)) * row;
    const base = y * row;
    for (let x = 0; x < width; x += s) {
      const a = top + x * channels;
      for (let dx = 0; dx < s; dx++) {
        const b = base + (x + dx) * channels;
        for (let c = 0; c < channels; c++) if (f[b + c] !== f[a + c]) return false;
      }
    }
  }
  return true;
}
