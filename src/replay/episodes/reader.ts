/**
 * Episode reader: parses and validates a `.npcep` file held in memory. Browser-safe (the viewer
 * bundles it). Anything that is not a valid episode fails with `EpisodeFormatError`; a file of an
 * unknown version with `UnsupportedVersionError`. Frames are decoded lazily, one chunk at a time, so
 * a seek costs at most one keyframe plus `keyframeInterval - 1` XOR deltas.
 */
import { Unpackr } from 'msgpackr';
import { EpisodeFormatError, InvalidConfigError, NpcforgeError, SpaceMismatchError, UnsupportedVersionError, formatError, describe } from '../../errors.js';
import type { RgbFrame } from '../../envs/env.js';
import { frameSizeProblem } from '../../envs/frame-limits.js';
import {
  DISCRETE_EPISODE_VERSION,
  EPISODE_FORMAT,
  EPISODE_VERSION,
  InflateLimitExceeded,
  MAX_ACTIONS,
  MAX_ACTION_VALUES,
  MAX_ANNOTATION_VALUES,
  MAX_CHUNK_FRAME_BYTES,
  MAX_EPISODE_BYTES,
  MAX_CHUNKS,
  MAX_EPISODE_STEPS,
  MAX_KEYFRAME_INTERVAL,
  MAX_NAME_LENGTH,
  MAX_RECORD_VALUES,
  MAX_STEP_BYTES_TOTAL,
  MAX_AGENT_STEP_VALUES,
  MAX_AGENT_CHUNK_STEP_BYTES,
  MULTI_AGENT_EPISODE_VERSION,
  ACTED_FLAG,
  PALETTE_CAPACITY,
  chunkFrameBytes,
  crc32,
  episodeActionLayout,
  inflateBounded,
  maxStepBlockBytes,
  maxAgentStepBlockBytes,
  agentsProblem,
  msgpackExtent,
  type AgentStepBlock,
  type EpisodeActionLayout,
  type EpisodeChunk,
  type EpisodeEnd,
  type EpisodeHeader,
  type QuantisedField,
  type StepAnnotation,
  type StepBlock,
} from './format.js';
import { decodeObservationPlanes, observationBytes, observationFromPlanes, observationSize, observationsProblem, type EpisodeObservations, type ObservationArray } from './observations.js';

export interface ReadEpisodeOptions {
  /**
   * Accept a file without its end record (a recording cut short by a crash): the complete chunks
   * are returned and `end` is null. Default false: such a file is rejected as truncated.
   */
  allowIncomplete?: boolean;
  /** Name used in error messages (e.g. the file name). */
  source?: string;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const COMPONENT = 'readEpisode';

function fail(source: string | undefined, expected: string, received: string, cause?: unknown): never {
  const where = source ? `${COMPONENT} ${source}` : COMPONENT;
  throw new EpisodeFormatError(formatError(where, expected, received, 'record the episode again; the file is not a complete npcforge episode'), cause === undefined ? undefined : { cause });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_NAME_LENGTH;

/** What the listed fields of a decoded record are (numbers, byte lengths, types): errors describe file contents, never quote them. */
function shapeOf(v: unknown, fields: string[]): string {
  if (!isObj(v)) return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
  const one = (x: unknown): string => (x === undefined ? 'missing' : typeof x === 'number' ? String(x) : isBytes(x) ? `${x.length} bytes` : Array.isArray(x) ? 'an array' : x === null ? 'null' : `a ${typeof x}`);
  return fields.map((f) => `${f} ${one(v[f])}`).join(', ');
}

/** Space types named in errors; any other type string from a file is not quoted. */
const SPACE_TYPES = ['Discrete', 'MultiDiscrete', 'Box', 'Dict'];

/** Most keys in `game.options` (they go to the game's factory, which validates the values). */
const MAX_GAME_OPTIONS = 64;

/** Flat, small options: nothing a game factory could be made to build something huge from but its own checked values. */
function gameOptionsOk(o: Record<string, unknown>): boolean {
  const entries = Object.entries(o);
  return entries.length <= MAX_GAME_OPTIONS && entries.every(([k, v]) => k.length <= MAX_NAME_LENGTH && (v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || isName(v)));
}

/** One agent of a multi-agent episode, decoded: per-step arrays indexed by step (returns by frame). */
export interface AgentTrack {
  name: string;
  /** Who chose its actions (`bot`, `random`, `<run>:<step>`, ...). */
  controller: string;
  actionNames: string[];
  /** The action index of each step (0 where the agent did not act). */
  actions: Int32Array;
  /** 1 where the agent acted (it was live), 0 after it was done. */
  acted: Uint8Array;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Sum of the agent's rewards of steps 0..k-1 (length frameCount). */
  returns: Float64Array;
  /** Per-step annotations (`stepCount * width`, NaN where a step had none), or null if no step had any. */
  q: Float32Array | null;
  probs: Float32Array | null;
  value: Float32Array | null;
}

/** A decoded, validated episode. Per-step arrays are indexed by step; frames by frame (steps + 1). */
export class RecordedEpisode {
  /** Number of steps; frame k is the picture after k steps (frame 0 after reset). */
  readonly stepCount: number;
  readonly frameCount: number;
  /** How the actions are stored (Discrete: one index per step; MultiDiscrete and Box: `width` values per step). */
  readonly actionLayout: EpisodeActionLayout;
  /**
   * Every step's action, flat (`stepCount * actionLayout.width` values, step t at `t * width`):
   * Int32Array for Discrete and MultiDiscrete, Float32Array for Box. `action(t)` gives one step's.
   */
  readonly actions: Int32Array | Float32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** Return accumulated when frame k is shown: sum of rewards of steps 0..k-1 (length frameCount). */
  readonly returns: Float64Array;
  /** Per-step annotations, `stepCount * width` values; NaN where a step had none; null if no step had any. */
  readonly q: Float32Array | null;
  readonly probs: Float32Array | null;
  readonly value: Float32Array | null;
  /**
   * Multi-agent episodes (version 3): one track per agent, in the game's order; the single-agent
   * fields above (`actions`, `rewards`, `q`, ...) are then the primary agent's (the learner, else the
   * first). Null for single-agent episodes.
   */
  readonly agents: AgentTrack[] | null = null;
  /** Multi-agent episodes: the learner's name, or null (also for single-agent episodes). */
  readonly learner: string | null = null;
  private readonly palette: Uint8Array;
  private readonly paletteSizeAt: number[];
  private cache: { index: number; planes: Uint8Array; upTo: number } | null = null;
  /** The decoded observation planes of one chunk (the last one asked for). */
  private obsCache: { index: number; planes: Uint8Array } | null = null;

  constructor(
    readonly header: EpisodeHeader,
    private readonly chunks: EpisodeChunk[],
    /** Null when the file was read with `allowIncomplete` and had no end record. */
    readonly end: EpisodeEnd | null,
    /** Where the bytes came from (a file name), for error messages. */
    readonly source?: string,
  ) {
    this.stepCount = chunks.reduce((n, c) => n + c.steps, 0);
    this.frameCount = chunks.reduce((n, c) => n + c.frames, 0);
    if (header.version === MULTI_AGENT_EPISODE_VERSION) {
      const tracks = this.decodeAgents(chunks, source);
      const primary = header.learner ? tracks.find((t) => t.name === header.learner)! : tracks[0]!;
      this.agents = tracks;
      this.learner = header.learner ?? null;
      this.actionLayout = { kind: 'discrete', width: 1 };
      this.actions = primary.actions;
      this.rewards = primary.rewards;
      this.terminated = primary.terminated;
      this.truncated = primary.truncated;
      this.returns = primary.returns;
      this.q = primary.q;
      this.probs = primary.probs;
      this.value = primary.value;
    } else {
    const nA = header.actionNames.length;
    // Version 1 stores Discrete actions whatever the header's action space says (as it always did).
    const layout = header.version === DISCRETE_EPISODE_VERSION ? { kind: 'discrete' as const, width: 1 } : (episodeActionLayout(header.actionSpace) as EpisodeActionLayout);
    this.actionLayout = layout;
    const aw = layout.width;
    if (this.stepCount * aw > MAX_ACTION_VALUES) fail(source, `at most ${MAX_ACTION_VALUES} action values (steps x values per action)`, `${this.stepCount} x ${aw}`);
    this.actions = layout.kind === 'box' ? new Float32Array(this.stepCount * aw) : new Int32Array(this.stepCount * aw);
    this.rewards = new Float64Array(this.stepCount);
    this.terminated = new Uint8Array(this.stepCount);
    this.truncated = new Uint8Array(this.stepCount);
    const fields: Record<'q' | 'probs' | 'value', Float32Array | null> = { q: null, probs: null, value: null };
    // One step block at a time, each cut off at the most its chunk can hold, and the annotation
    // arrays allocated once a chunk has the field and their size is checked: memory stays a small
    // multiple of the limits whatever the file declares.
    let inflated = 0;
    let t0 = 0;
    chunks.forEach((c) => {
      const { block: b, bytes } = this.decodeSteps(c);
      inflated += bytes;
      if (inflated > MAX_STEP_BYTES_TOTAL) fail(source, `at most ${MAX_STEP_BYTES_TOTAL} bytes of step data in all (inflated)`, `more by chunk ${c.index}`);
      const n = c.steps;
      const av = new DataView(b.actions.buffer, b.actions.byteOffset, b.actions.byteLength);
      const rv = new DataView(b.rewards.buffer, b.rewards.byteOffset, b.rewards.byteLength);
      const box = layout.kind === 'box';
      for (let j = 0; j < n * aw; j++) {
        const v = box ? av.getFloat32(j * 4, true) : b.actionBytes === 1 ? b.actions[j]! : b.actionBytes === 2 ? av.getUint16(j * 2, true) : av.getInt32(j * 4, true);
        // Bad values are refused here rather than handed to the viewer or to env.step().
        if (box ? !Number.isFinite(v) : layout.nvec && !(v >= 0 && v < layout.nvec[j % aw]!)) {
          fail(source, box ? 'finite Box action values' : `action part ${j % aw} in [0, ${layout.nvec![j % aw]})`, `${v} at step ${t0 + Math.floor(j / aw)} (chunk ${c.index})`);
        }
        this.actions[t0 * aw + j] = v;
      }
      for (let i = 0; i < n; i++) {
        this.rewards[t0 + i] = b.rewardBytes === 4 ? rv.getFloat32(i * 4, true) : rv.getFloat64(i * 8, true);
        this.terminated[t0 + i] = b.flags[i]! & 1;
        this.truncated[t0 + i] = (b.flags[i]! >> 1) & 1;
      }
      for (const f of ['q', 'probs', 'value'] as const) {
        const q = b[f];
        if (!q) continue;
        const width = f === 'value' ? 1 : nA;
        if (!fields[f]) {
          const values = this.stepCount * width;
          if (values > MAX_ANNOTATION_VALUES) fail(source, `at most ${MAX_ANNOTATION_VALUES} values of annotation ${f} (steps x width)`, `${this.stepCount} x ${width}`);
          fields[f] = new Float32Array(values).fill(NaN);
        }
        this.dequantise(q, width, n, t0, fields[f]!);
      }
      t0 += n;
    });
    this.q = fields.q;
    this.probs = fields.probs;
    this.value = fields.value;
    this.returns = new Float64Array(this.frameCount);
    for (let k = 1; k < this.frameCount; k++) this.returns[k] = this.returns[k - 1]! + (this.rewards[k - 1] ?? 0);
    }
    // The palette is append-only: chunk c may use the colours added by chunks 0..c.
    let size = 0;
    this.paletteSizeAt = chunks.map((c) => (size += c.palette.length / 3));
    this.palette = new Uint8Array(size * 3);
    let off = 0;
    for (const c of chunks) {
      this.palette.set(c.palette, off);
      off += c.palette.length;
    }
  }

  get width(): number {
    return this.header.frameWidth;
  }
  get height(): number {
    return this.header.frameHeight;
  }

  /** The action of step t: an index (Discrete), or a fresh row (MultiDiscrete Int32Array, Box Float32Array) the caller may keep. */
  action(t: number): number | Int32Array | Float32Array {
    this.checkIndex('action', t, this.stepCount);
    const w = this.actionLayout.width;
    return this.actionLayout.kind === 'discrete' ? this.actions[t]! : this.actions.slice(t * w, (t + 1) * w);
  }

  /** Multi-agent episodes: the actions of step t of the agents that acted, keyed by agent (what the game's `step` took). */
  agentActions(t: number): Record<string, number> {
    this.checkIndex('agentActions', t, this.stepCount);
    const out: Record<string, number> = {};
    for (const a of this.agents ?? []) if (a.acted[t]) out[a.name] = a.actions[t]!;
    return out;
  }

  /** Multi-agent episodes: what agent `i` (header order) thought at step t, if known. */
  agentAnnotation(i: number, t: number): StepAnnotation | undefined {
    this.checkIndex('agentAnnotation', t, this.stepCount);
    const a = this.agents?.[i];
    if (!a) throw new InvalidConfigError(formatError('RecordedEpisode.agentAnnotation', `an agent index in [0, ${this.agents?.length ?? 0})`, describe(i), 'use an index of episode.agents'));
    const nA = a.actionNames.length;
    const out: StepAnnotation = {};
    if (a.q && !Number.isNaN(a.q[t * nA]!)) out.q = Array.from(a.q.subarray(t * nA, (t + 1) * nA));
    if (a.probs && !Number.isNaN(a.probs[t * nA]!)) out.probs = Array.from(a.probs.subarray(t * nA, (t + 1) * nA));
    if (a.value && !Number.isNaN(a.value[t]!)) out.value = a.value[t]!;
    return out.q || out.probs || out.value !== undefined ? out : undefined;
  }

  /** The agent annotation of step t, if any. */
  annotation(t: number): StepAnnotation | undefined {
    this.checkIndex('annotation', t, this.stepCount);
    const nA = this.header.actionNames.length;
    const out: StepAnnotation = {};
    if (this.q && !Number.isNaN(this.q[t * nA]!)) out.q = Array.from(this.q.subarray(t * nA, (t + 1) * nA));
    if (this.probs && !Number.isNaN(this.probs[t * nA]!)) out.probs = Array.from(this.probs.subarray(t * nA, (t + 1) * nA));
    if (this.value && !Number.isNaN(this.value[t]!)) out.value = this.value[t]!;
    return out.q || out.probs || out.value !== undefined ? out : undefined;
  }

  /** Frame k as a fresh RGB frame. */
  frame(k: number): RgbFrame {
    const data = new Uint8Array(this.width * this.height * 3);
    this.drawFrame(k, data, 3);
    return { width: this.width, height: this.height, data };
  }

  /** Writes frame k as opaque RGBA into `out` (width * height * 4 bytes; allocated when omitted). */
  frameRgba(k: number, out?: Uint8Array): Uint8Array {
    const data = out ?? new Uint8Array(this.width * this.height * 4);
    if (data.length !== this.width * this.height * 4) {
      throw new SpaceMismatchError(formatError('RecordedEpisode.frameRgba', `an output buffer of ${this.width * this.height * 4} bytes (width * height * 4)`, describe(data), 'allocate new Uint8Array(episode.width * episode.height * 4)'));
    }
    this.drawFrame(k, data, 4);
    return data;
  }

  private checkIndex(what: string, k: number, n: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= n) {
      throw new InvalidConfigError(formatError(`RecordedEpisode.${what}`, `an index in [0, ${n})`, describe(k), 'clamp the index to the episode length'));
    }
  }

  private drawFrame(k: number, out: Uint8Array, channels: 3 | 4): void {
    this.checkIndex('frame', k, this.frameCount);
    const K = this.header.keyframeInterval;
    const ci = Math.floor(k / K);
    const chunk = this.chunks[ci]!;
    const planes = this.chunkPlanes(ci, k - chunk.firstFrame);
    const b = chunk.block;
    const w = this.width;
    const sw = w / b;
    const sh = this.height / b;
    const n = sw * sh;
    const f = k - chunk.firstFrame;
    const pal = this.palette;
    const indexed = chunk.mode === 'indexed';
    const src = indexed ? f * n : f * n * 3;
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        let r: number, g: number, bl: number;
        if (indexed) {
          const p = planes[src + y * sw + x]! * 3;
          r = pal[p]!;
          g = pal[p + 1]!;
          bl = pal[p + 2]!;
        } else {
          const p = src + (y * sw + x) * 3;
          r = planes[p]!;
          g = planes[p + 1]!;
          bl = planes[p + 2]!;
        }
        for (let dy = 0; dy < b; dy++) {
          let o = ((y * b + dy) * w + x * b) * channels;
          for (let dx = 0; dx < b; dx++, o += channels) {
            out[o] = r;
            out[o + 1] = g;
            out[o + 2] = bl;
            if (channels === 4) out[o + 3] = 255;
          }
        }
      }
    }
  }

  /**
   * Returns the planes of chunk ci with the XOR deltas undone at least up to frame f of the chunk.
   * The last chunk stays cached with how far it is decoded, so playing forward costs one XOR per
   * frame and a random seek one inflate plus at most K-1 XORs.
   */
  private chunkPlanes(ci: number, f: number): Uint8Array {
    const c = this.chunks[ci]!;
    const n = (this.width / c.block) * (this.height / c.block) * (c.mode === 'indexed' ? 1 : 3);
    if (!this.cache || this.cache.index !== ci) {
      // n * frames <= MAX_CHUNK_FRAME_BYTES: checked on the header (keyframeInterval x width x height x 3).
      const size = n * c.frames;
      let planes: Uint8Array;
      try {
        planes = inflateBounded(c.frameData, size);
      } catch (err) {
        if (err instanceof InflateLimitExceeded) fail(this.source, `chunk ${ci} frames to inflate to their declared ${size} bytes`, 'more (the frame data is larger than its chunk says)');
        fail(this.source, `chunk ${ci} frames to inflate`, err instanceof Error ? err.message : String(err), err);
      }
      if (planes.length !== size) fail(this.source, `chunk ${ci} to hold ${size} frame bytes`, `${planes.length}`);
      // The inflater's output may share a larger buffer: copy to an aligned one of the exact size for the XOR pass.
      if (planes.byteOffset !== 0 || planes.buffer.byteLength !== size) planes = planes.slice();
      this.cache = { index: ci, planes, upTo: -1 };
    }
    const cache = this.cache;
    const planes = cache.planes;
    const wide = n % 4 === 0 && planes.byteOffset % 4 === 0 ? new Uint32Array(planes.buffer, planes.byteOffset, planes.length >> 2) : null;
    const limit = c.mode === 'indexed' ? this.paletteSizeAt[ci]! : 256;
    for (let g = cache.upTo + 1; g <= f; g++) {
      const off = g * n;
      if (g > 0) {
        // XOR four bytes at a time where the layout allows: this loop is most of a seek.
        if (wide) {
          const o = off >> 2;
          const m = n >> 2;
          for (let i = 0; i < m; i++) wide[o + i] = wide[o + i]! ^ wide[o - m + i]!;
        } else for (let i = 0; i < n; i++) planes[off + i] = planes[off + i]! ^ planes[off - n + i]!;
      }
      if (limit < 256) for (let i = off; i < off + n; i++) if (planes[i]! >= limit) fail(this.source, `palette indices below ${limit} in chunk ${ci}`, `${planes[i]}`);
      cache.upTo = g;
    }
    return planes;
  }

  /** Layout of the stored observations, or null when the episode has none (recorded without them, or before they existed). */
  get observations(): EpisodeObservations | null {
    return this.header.observations ?? null;
  }

  /**
   * The observation of frame k (what the agent read before step k), as a new typed array of the
   * stored dtype; null when the episode stores none. Inflates one chunk (bounded by its declared
   * size) and keeps it for the next call.
   */
  observation(k: number): ObservationArray | null {
    const o = this.header.observations;
    if (!o) return null;
    if (!Number.isInteger(k) || k < 0 || k >= this.frameCount) throw new InvalidConfigError(formatError('RecordedEpisode.observation', `a frame index in [0, ${this.frameCount})`, describe(k), 'pass 0 .. frameCount - 1'));
    const ci = Math.floor(k / this.header.keyframeInterval);
    const c = this.chunks[ci]!;
    if (!this.obsCache || this.obsCache.index !== ci) {
      const row = observationSize(o) * observationBytes(o.dtype);
      // <= MAX_CHUNK_OBS_BYTES: checked on the header (keyframeInterval x values x bytes).
      const size = row * c.frames;
      let planes: Uint8Array;
      try {
        planes = inflateBounded(c.obsData!, size);
      } catch (err) {
        if (err instanceof InflateLimitExceeded) fail(this.source, `chunk ${ci} observations to inflate to their declared ${size} bytes`, 'more');
        fail(this.source, `chunk ${ci} observations to inflate`, err instanceof Error ? err.message : String(err), err);
      }
      if (planes.length !== size) fail(this.source, `chunk ${ci} to hold ${size} observation bytes`, `${planes.length}`);
      planes = planes.slice();
      decodeObservationPlanes(planes, row);
      this.obsCache = { index: ci, planes };
    }
    return observationFromPlanes(this.obsCache.planes, k - c.firstFrame, o);
  }

  /** Inflates chunk c's step data to at most `limit` bytes and unpacks it; `what` describes the chunk in errors. */
  private inflateSteps(c: EpisodeChunk, limit: number, what: string): { raw: unknown; bytes: number } {
    try {
      const inflated = inflateBounded(c.stepData, limit);
      return { raw: unpackr.unpack(inflated), bytes: inflated.length };
    } catch (err) {
      if (err instanceof InflateLimitExceeded) fail(this.source, `chunk ${c.index} step data to inflate to at most ${limit} bytes (${what})`, 'more');
      fail(this.source, `chunk ${c.index} step data to decode`, err instanceof Error ? err.message : String(err), err);
    }
  }

  /** Inflates (bounded) and checks the step block of chunk c; `bytes` is its inflated size. */
  private decodeSteps(c: EpisodeChunk): { block: StepBlock; bytes: number } {
    const n = c.steps;
    const nA = this.header.actionNames.length;
    const aw = this.actionLayout.width;
    const limit = maxStepBlockBytes(n, nA, aw);
    const { raw, bytes } = this.inflateSteps(c, limit, `${n} steps, ${nA} actions${aw > 1 ? ` of ${aw} values` : ''}`);
    if (
      !isObj(raw) ||
      !(this.actionLayout.kind === 'box' ? raw.actionBytes === 4 : raw.actionBytes === 1 || raw.actionBytes === 2 || raw.actionBytes === 4) ||
      !(raw.rewardBytes === 4 || raw.rewardBytes === 8) ||
      !isBytes(raw.actions) ||
      raw.actions.length !== n * aw * (raw.actionBytes as number) ||
      !isBytes(raw.rewards) ||
      raw.rewards.length !== n * raw.rewardBytes ||
      !isBytes(raw.flags) ||
      raw.flags.length !== n
    ) {
      fail(this.source, `chunk ${c.index} step data for ${n} steps${aw > 1 ? ` of ${aw} action values` : ''}${this.actionLayout.kind === 'box' ? ' (float32)' : ''}`, shapeOf(raw, ['actionBytes', 'actions', 'rewardBytes', 'rewards', 'flags']));
    }
    for (const f of ['q', 'probs', 'value'] as const) {
      const q = raw[f];
      if (q === undefined) continue;
      const width = f === 'value' ? 1 : nA;
      if (!isObj(q) || q.width !== width || !Number.isFinite(q.lo) || !Number.isFinite(q.scale) || !isBytes(q.data) || q.data.length !== n * width * 2 || (q.present !== undefined && (!isBytes(q.present) || q.present.length !== n))) {
        fail(this.source, `chunk ${c.index} annotation ${f} of width ${width}`, shapeOf(q, ['width', 'lo', 'scale', 'data', 'present']));
      }
    }
    return { block: raw as unknown as StepBlock, bytes };
  }

  /**
   * Decodes the step blocks of a multi-agent episode into one track per agent, checking every
   * action against its agent's actions and that agents act exactly while they are live (all at the
   * first step; none after a step that returned them terminated or truncated).
   */
  private decodeAgents(chunks: EpisodeChunk[], source: string | undefined): AgentTrack[] {
    const agents = this.header.agents!;
    const A = agents.length;
    const n = this.stepCount;
    if (n * A > MAX_AGENT_STEP_VALUES) fail(source, `at most ${MAX_AGENT_STEP_VALUES} agent-steps (steps x agents)`, `${n} x ${A}`);
    const totalActions = agents.reduce((sum, a) => sum + a.actionNames.length, 0);
    const tracks: AgentTrack[] = agents.map((a) => ({
      name: a.name,
      controller: a.controller,
      actionNames: a.actionNames,
      actions: new Int32Array(n),
      acted: new Uint8Array(n),
      rewards: new Float64Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      returns: new Float64Array(this.frameCount),
      q: null,
      probs: null,
      value: null,
    }));
    const live = agents.map(() => true);
    let inflated = 0;
    let t0 = 0;
    for (const c of chunks) {
      const { block: b, bytes } = this.decodeAgentSteps(c, A, MAX_STEP_BYTES_TOTAL - inflated);
      inflated += bytes;
      if (inflated > MAX_STEP_BYTES_TOTAL) fail(source, `at most ${MAX_STEP_BYTES_TOTAL} bytes of step data in all (inflated)`, `more by chunk ${c.index}`);
      const av = new DataView(b.actions.buffer, b.actions.byteOffset, b.actions.byteLength);
      const rv = new DataView(b.rewards.buffer, b.rewards.byteOffset, b.rewards.byteLength);
      for (let s = 0; s < c.steps; s++) {
        const t = t0 + s;
        if (!live.some(Boolean)) fail(source, `no step after every agent was done`, `step ${t} (chunk ${c.index})`);
        for (let i = 0; i < A; i++) {
          const j = s * A + i;
          const tr = tracks[i]!;
          const flags = b.flags[j]!;
          const acted = (flags & ACTED_FLAG) !== 0;
          const action = b.actionBytes === 1 ? b.actions[j]! : b.actionBytes === 2 ? av.getUint16(j * 2, true) : av.getInt32(j * 4, true);
          const reward = b.rewardBytes === 4 ? rv.getFloat32(j * 4, true) : rv.getFloat64(j * 8, true);
          if (acted !== live[i] || flags > 7) fail(source, `agent ${tr.name} to ${live[i] ? 'act' : 'not act (it was done)'} at step ${t}`, `flags ${flags} (chunk ${c.index})`);
          if (!acted && (action !== 0 || reward !== 0)) fail(source, `action and reward 0 for agent ${tr.name} after it was done`, `a value at step ${t} (chunk ${c.index})`);
          if (!(action >= 0 && action < tr.actionNames.length)) fail(source, `an action of agent ${tr.name} in [0, ${tr.actionNames.length})`, `${action} at step ${t} (chunk ${c.index})`);
          if (!Number.isFinite(reward)) fail(source, `a finite reward of agent ${tr.name}`, `${reward} at step ${t} (chunk ${c.index})`);
          tr.actions[t] = action;
          tr.acted[t] = acted ? 1 : 0;
          tr.rewards[t] = reward;
          tr.terminated[t] = flags & 1;
          tr.truncated[t] = (flags >> 1) & 1;
          if (flags & 3) live[i] = false;
        }
      }
      agents.forEach((a, i) => {
        const fields = b.agents[i]!;
        for (const f of ['q', 'probs', 'value'] as const) {
          const q = fields[f];
          if (!q) continue;
          const width = f === 'value' ? 1 : a.actionNames.length;
          const tr = tracks[i]!;
          if (!tr[f]) {
            // Summed over agents: 64 agents of 1024 actions must not reach 64 x the single-agent limit.
            if (n * (f === 'value' ? A : totalActions) > MAX_ANNOTATION_VALUES) fail(source, `at most ${MAX_ANNOTATION_VALUES} values of annotation ${f} over all agents (steps x widths)`, `${n} x ${f === 'value' ? A : totalActions}`);
            tr[f] = new Float32Array(n * width).fill(NaN);
          }
          this.dequantise(q, width, c.steps, t0, tr[f]!);
        }
      });
      t0 += c.steps;
    }
    for (const tr of tracks) for (let k = 1; k < this.frameCount; k++) tr.returns[k] = tr.returns[k - 1]! + (tr.rewards[k - 1] ?? 0);
    return tracks;
  }

  /** Inflates (bounded by its size limit and by `budget`) and checks the step block of a multi-agent chunk of A agents. */
  private decodeAgentSteps(c: EpisodeChunk, A: number, budget: number): { block: AgentStepBlock; bytes: number } {
    const n = c.steps;
    const counts = this.header.agents!.map((a) => a.actionNames.length);
    // Many agents of many actions could declare gigabytes for one chunk: a chunk's own limit and
    // what is left of the episode's step-data budget cap it too.
    const limit = Math.min(maxAgentStepBlockBytes(n, counts), MAX_AGENT_CHUNK_STEP_BYTES, budget);
    const { raw, bytes } = this.inflateSteps(c, limit, `${n} steps of ${A} agents`);
    if (
      !isObj(raw) ||
      !(raw.actionBytes === 1 || raw.actionBytes === 2 || raw.actionBytes === 4) ||
      !(raw.rewardBytes === 4 || raw.rewardBytes === 8) ||
      !isBytes(raw.actions) ||
      raw.actions.length !== n * A * (raw.actionBytes as number) ||
      !isBytes(raw.rewards) ||
      raw.rewards.length !== n * A * (raw.rewardBytes as number) ||
      !isBytes(raw.flags) ||
      raw.flags.length !== n * A ||
      !Array.isArray(raw.agents) ||
      raw.agents.length !== A
    ) {
      fail(this.source, `chunk ${c.index} step data for ${n} steps of ${A} agents`, shapeOf(raw, ['actionBytes', 'actions', 'rewardBytes', 'rewards', 'flags']) + (isObj(raw) ? `, agents ${Array.isArray(raw.agents) ? raw.agents.length : describe(raw.agents)}` : ''));
    }
    (raw.agents as unknown[]).forEach((fields, i) => {
      const name = this.header.agents![i]!.name;
      if (!isObj(fields)) fail(this.source, `chunk ${c.index} annotations of agent ${name} as a map`, describe(fields));
      for (const f of ['q', 'probs', 'value'] as const) {
        const q = fields[f];
        if (q === undefined) continue;
        const width = f === 'value' ? 1 : counts[i]!;
        if (!isObj(q) || q.width !== width || !Number.isFinite(q.lo) || !Number.isFinite(q.scale) || !isBytes(q.data) || q.data.length !== n * width * 2 || (q.present !== undefined && (!isBytes(q.present) || q.present.length !== n))) {
          fail(this.source, `chunk ${c.index} annotation ${f} of agent ${name} of width ${width}`, shapeOf(q, ['width', 'lo', 'scale', 'data', 'present']));
        }
      }
    });
    return { block: raw as unknown as AgentStepBlock, bytes };
  }

  private dequantise(q: QuantisedField, width: number, n: number, t0: number, out: Float32Array): void {
    const dv = new DataView(q.data.buffer, q.data.byteOffset, q.data.byteLength);
    const acc = new Uint16Array(width);
    for (let t = 0; t < n; t++) {
      const has = !q.present || q.present[t] === 1;
      for (let i = 0; i < width; i++) {
        acc[i] = (acc[i]! + dv.getUint16((t * width + i) * 2, true)) & 0xffff;
        if (has) out[(t0 + t) * width + i] = q.lo + acc[i]! * q.scale;
      }
    }
  }
}

/** Validates a decoded header record (shared with the cheap header/footer summary in summary.ts). */
export function checkHeader(v: unknown, source: string | undefined): EpisodeHeader {
  if (!isObj(v) || v.format !== EPISODE_FORMAT) fail(source, `a first record with format '${EPISODE_FORMAT}'`, isObj(v) ? `format ${describe(v.format)}` : describe(v));
  if (!Number.isInteger(v.version)) fail(source, 'an integer version', describe(v.version));
  if (v.version !== DISCRETE_EPISODE_VERSION && v.version !== EPISODE_VERSION && v.version !== MULTI_AGENT_EPISODE_VERSION) {
    throw new UnsupportedVersionError(formatError(source ? `${COMPONENT} ${source}` : COMPONENT, `episode format version ${DISCRETE_EPISODE_VERSION}, ${EPISODE_VERSION} or ${MULTI_AGENT_EPISODE_VERSION}`, `version ${describe(v.version)}`, 'upgrade npcforge to read this file'));
  }
  const bad: string[] = [];
  if (v.kind !== 'header') bad.push(`kind=${describe(v.kind)}`);
  const g = v.game;
  if (!isObj(g) || !isName(g.id) || !isObj(g.options) || !(g.maxEpisodeSteps === null || isInt(g.maxEpisodeSteps, 1))) bad.push(`game=${describe(g)}`);
  else if (!gameOptionsOk(g.options)) bad.push(`game.options with ${Object.keys(g.options).length} keys (at most ${MAX_GAME_OPTIONS} keys, each a finite number, boolean, null or name of at most ${MAX_NAME_LENGTH} characters)`);
  if (!(v.seed === null || isInt(v.seed, 0))) bad.push(`seed=${describe(v.seed)}`);
  if (!(v.resetOptions === null || isObj(v.resetOptions))) bad.push(`resetOptions=${describe(v.resetOptions)}`);
  for (const k of ['stateBeforeReset', 'stateAtReset'] as const) if (!(v[k] === null || isObj(v[k]))) bad.push(`${k}=${describe(v[k])}`);
  if (!Array.isArray(v.actionNames) || v.actionNames.length < 1 || v.actionNames.length > MAX_ACTIONS || !v.actionNames.every(isName)) {
    bad.push(`actionNames=${describe(v.actionNames)} (1 to ${MAX_ACTIONS} names of at most ${MAX_NAME_LENGTH} characters)`);
  }
  if (!isObj(v.observationSpace) || typeof v.observationSpace.type !== 'string') bad.push(`observationSpace=${describe(v.observationSpace)}`);
  if (!isObj(v.actionSpace) || typeof v.actionSpace.type !== 'string') bad.push(`actionSpace=${describe(v.actionSpace)}`);
  else if (v.version === EPISODE_VERSION) {
    // Version 2 exists for MultiDiscrete and Box actions; Discrete episodes are written as version 1.
    const layout = episodeActionLayout(v.actionSpace);
    if (typeof layout === 'string' || layout.kind === 'discrete') bad.push(`actionSpace of type ${SPACE_TYPES.includes(v.actionSpace.type) ? v.actionSpace.type : 'unknown'} (version ${EPISODE_VERSION}: ${typeof layout === 'string' ? layout : 'a MultiDiscrete or Box action space'})`);
  }
  const frameOk = isInt(v.frameWidth, 1) && isInt(v.frameHeight, 1) && frameSizeProblem(v.frameWidth, v.frameHeight) === null;
  if (!frameOk) bad.push(`frame=${describe(v.frameWidth)}x${describe(v.frameHeight)}`);
  if (!isInt(v.keyframeInterval, 1, MAX_KEYFRAME_INTERVAL)) bad.push(`keyframeInterval=${describe(v.keyframeInterval)}`);
  else if (frameOk && chunkFrameBytes(v.keyframeInterval, v.frameWidth as number, v.frameHeight as number) > MAX_CHUNK_FRAME_BYTES) {
    bad.push(`keyframeInterval=${v.keyframeInterval} (at most ${MAX_CHUNK_FRAME_BYTES} frame bytes per chunk: ${v.keyframeInterval} x ${v.frameWidth}x${v.frameHeight} x 3)`);
  }
  if (v.version === MULTI_AGENT_EPISODE_VERSION) {
    const problem = agentsProblem(v.agents, v.learner);
    if (problem) bad.push(`agents (${problem})`);
    else {
      // The base fields are the primary agent's: a reader of them alone sees the learner.
      const agents = v.agents as Array<{ name: string; actionNames: string[] }>;
      const primary = v.learner ? agents.find((a) => a.name === v.learner)! : agents[0]!;
      const names = v.actionNames;
      if (!Array.isArray(names) || names.length !== primary.actionNames.length || names.some((x, i) => x !== primary.actionNames[i])) bad.push(`actionNames (the primary agent ${primary.name}'s)`);
      if (!isObj(v.actionSpace) || v.actionSpace.type !== 'Discrete') bad.push('actionSpace (Discrete, the primary agent\'s)');
    }
  } else if (v.agents !== undefined || v.learner !== undefined) bad.push(`agents or learner in a version ${v.version} header (multi-agent episodes are version ${MULTI_AGENT_EPISODE_VERSION})`);
  if (v.observations !== undefined) {
    const problem = isInt(v.keyframeInterval, 1, MAX_KEYFRAME_INTERVAL) ? observationsProblem(v.observations, v.keyframeInterval) : null;
    if (problem) bad.push(`observations (${problem})`);
    else if (v.version === MULTI_AGENT_EPISODE_VERSION) bad.push('observations in a multi-agent header');
  }
  if (!isObj(v.meta)) bad.push(`meta=${describe(v.meta)}`);
  if (typeof v.createdAt !== 'string') bad.push(`createdAt=${describe(v.createdAt)}`);
  if (bad.length) fail(source, 'a valid episode header', bad.join(', '));
  return v as unknown as EpisodeHeader;
}

function checkChunk(v: Record<string, unknown>, h: EpisodeHeader, expectedIndex: number, source: string | undefined): EpisodeChunk {
  const K = h.keyframeInterval;
  const bad: string[] = [];
  if (v.index !== expectedIndex) bad.push(`index=${describe(v.index)} (expected ${expectedIndex})`);
  if (v.firstFrame !== expectedIndex * K) bad.push(`firstFrame=${describe(v.firstFrame)}`);
  if (!isInt(v.frames, 1, K)) bad.push(`frames=${describe(v.frames)}`);
  if (!isInt(v.steps, 0, K) || !(v.steps === v.frames || v.steps === (v.frames as number) - 1)) bad.push(`steps=${describe(v.steps)}`);
  if (v.mode !== 'indexed' && v.mode !== 'rgb') bad.push(`mode=${describe(v.mode)}`);
  if (!isInt(v.block, 1, 32) || h.frameWidth % (v.block as number) !== 0 || h.frameHeight % (v.block as number) !== 0) bad.push(`block=${describe(v.block)}`);
  if (!isBytes(v.palette) || v.palette.length % 3 !== 0) bad.push(`palette=${describe(v.palette)}`);
  if (!isBytes(v.frameData)) bad.push(`frameData=${describe(v.frameData)}`);
  if (!isBytes(v.stepData)) bad.push(`stepData=${describe(v.stepData)}`);
  if (!isInt(v.crc, 0, 0xffffffff)) bad.push(`crc=${describe(v.crc)}`);
  // Observations are checked only where the header declares them; other readers ignore the fields.
  if (h.observations && !isBytes(v.obsData)) bad.push(`obsData=${describe(v.obsData)}`);
  if (h.observations && !isInt(v.obsCrc, 0, 0xffffffff)) bad.push(`obsCrc=${describe(v.obsCrc)}`);
  if (bad.length) fail(source, `a valid chunk record #${expectedIndex}`, bad.join(', '));
  if (crc32(v.frameData as Uint8Array, v.stepData as Uint8Array) !== v.crc) fail(source, `chunk ${expectedIndex} with a matching CRC-32`, 'a different checksum (the bytes were altered)');
  if (h.observations && crc32(v.obsData as Uint8Array) !== v.obsCrc) fail(source, `chunk ${expectedIndex} observations with a matching CRC-32`, 'a different checksum (the bytes were altered)');
  return v as unknown as EpisodeChunk;
}

/** Parses and validates episode bytes. Throws EpisodeFormatError or UnsupportedVersionError only. */
export function readEpisode(bytes: Uint8Array, options: ReadEpisodeOptions = {}): RecordedEpisode {
  const { allowIncomplete = false, source } = options;
  if (!(bytes instanceof Uint8Array)) fail(source, 'episode bytes (Uint8Array)', describe(bytes));
  if (bytes.length === 0) fail(source, 'episode bytes', 'an empty file');
  if (bytes.length > MAX_EPISODE_BYTES) fail(source, `an episode of at most ${MAX_EPISODE_BYTES} bytes`, `${bytes.length} bytes`);
  // Count the values of each record before decoding: the decoder makes a JS value of each, so a
  // record of millions of one-byte values would cost gigabytes of heap.
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const { end, values } = msgpackExtent(bytes, pos, MAX_RECORD_VALUES);
    if (values > MAX_RECORD_VALUES) fail(source, `records of at most ${MAX_RECORD_VALUES} msgpack values`, `more in record #${i}`);
    if (end < 0) break; // truncated or not msgpack: the decoder below says which
    pos = end;
  }
  let header: EpisodeHeader | null = null;
  const chunks: EpisodeChunk[] = [];
  let end: EpisodeEnd | null = null;
  let paletteSize = 0;
  let lastChunkShort = false;
  let steps = 0;
  const accept = (v: unknown): void => {
    if (!header) {
      header = checkHeader(v, source);
      return;
    }
    if (end) fail(source, 'nothing after the end record', describe(v));
    if (!isObj(v)) fail(source, 'a chunk or end record', describe(v));
    if (v.kind === 'chunk') {
      if (lastChunkShort) fail(source, 'only the last chunk to be shorter than keyframeInterval', `chunk ${chunks.length}`);
      if (chunks.length >= MAX_CHUNKS) fail(source, `at most ${MAX_CHUNKS} chunks`, 'more');
      const c = checkChunk(v, header, chunks.length, source);
      paletteSize += c.palette.length / 3;
      if (paletteSize > PALETTE_CAPACITY) fail(source, `at most ${PALETTE_CAPACITY} palette colours`, `${paletteSize}`);
      if (c.frames < header.keyframeInterval || c.steps < c.frames) lastChunkShort = true;
      steps += c.steps;
      if (steps > MAX_EPISODE_STEPS) fail(source, `at most ${MAX_EPISODE_STEPS} steps`, `more by chunk ${c.index}`);
      chunks.push(c);
      return;
    }
    if (v.kind === 'end') {
      const frames = chunks.reduce((n, c) => n + c.frames, 0);
      if (v.steps !== steps || v.frames !== frames || frames !== steps + 1 || v.chunks !== chunks.length || typeof v.return !== 'number' || typeof v.terminated !== 'boolean' || typeof v.truncated !== 'boolean') {
        fail(source, `an end record matching ${chunks.length} chunks, ${steps} steps, ${frames} frames`, describe(v));
      }
      end = v as unknown as EpisodeEnd;
      return;
    }
    fail(source, "a record of kind 'chunk' or 'end'", `kind ${describe(v.kind)}`);
  };
  try {
    unpackr.unpackMultiple(bytes, (v: unknown) => {
      accept(v);
    });
  } catch (err) {
    if (err instanceof NpcforgeError) throw err;
    if (!(allowIncomplete && header && !end)) fail(source, 'well-formed msgpack records', `undecodable bytes (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (!header) fail(source, 'an episode header', 'no record');
  if (!end && !allowIncomplete) fail(source, 'an end record', 'a truncated file (the recording did not finish)');
  if (chunks.length === 0) fail(source, 'at least one chunk', 'none');
  return new RecordedEpisode(header, chunks, end, source);
}
