/**
 * Episode reader: parses and validates a `.npcep` file held in memory. Browser-safe (the viewer
 * bundles it). Anything that is not a valid episode fails with `EpisodeFormatError`; a file of an
 * unknown version with `UnsupportedVersionError`. Frames are decoded lazily, one chunk at a time, so
 * a seek costs at most one keyframe plus `keyframeInterval - 1` XOR deltas.
 */
import { Unpackr } from 'msgpackr';
import { inflateSync } from 'fflate';
import { EpisodeFormatError, InvalidConfigError, NpcforgeError, SpaceMismatchError, UnsupportedVersionError, formatError, describe } from '../../errors.js';
import type { RgbFrame } from '../../envs/env.js';
import {
  EPISODE_FORMAT,
  EPISODE_VERSION,
  MAX_FRAME_PIXELS,
  MAX_KEYFRAME_INTERVAL,
  PALETTE_CAPACITY,
  crc32,
  type EpisodeChunk,
  type EpisodeEnd,
  type EpisodeHeader,
  type QuantisedField,
  type StepAnnotation,
  type StepBlock,
} from './format.js';

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

/** A decoded, validated episode. Per-step arrays are indexed by step; frames by frame (steps + 1). */
export class RecordedEpisode {
  /** Number of steps; frame k is the picture after k steps (frame 0 after reset). */
  readonly stepCount: number;
  readonly frameCount: number;
  readonly actions: Int32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** Return accumulated when frame k is shown: sum of rewards of steps 0..k-1 (length frameCount). */
  readonly returns: Float64Array;
  /** Per-step annotations, `stepCount * width` values; NaN where a step had none; null if no step had any. */
  readonly q: Float32Array | null;
  readonly probs: Float32Array | null;
  readonly value: Float32Array | null;
  private readonly palette: Uint8Array;
  private readonly paletteSizeAt: number[];
  private cache: { index: number; planes: Uint8Array; upTo: number } | null = null;

  constructor(
    readonly header: EpisodeHeader,
    private readonly chunks: EpisodeChunk[],
    /** Null when the file was read with `allowIncomplete` and had no end record. */
    readonly end: EpisodeEnd | null,
    private readonly source?: string,
  ) {
    this.stepCount = chunks.reduce((n, c) => n + c.steps, 0);
    this.frameCount = chunks.reduce((n, c) => n + c.frames, 0);
    const nA = header.actionNames.length;
    this.actions = new Int32Array(this.stepCount);
    this.rewards = new Float64Array(this.stepCount);
    this.terminated = new Uint8Array(this.stepCount);
    this.truncated = new Uint8Array(this.stepCount);
    const blocks = chunks.map((c) => this.decodeSteps(c));
    const anyField = (f: 'q' | 'probs' | 'value'): boolean => blocks.some((b) => b[f] !== undefined);
    this.q = anyField('q') ? new Float32Array(this.stepCount * nA).fill(NaN) : null;
    this.probs = anyField('probs') ? new Float32Array(this.stepCount * nA).fill(NaN) : null;
    this.value = anyField('value') ? new Float32Array(this.stepCount).fill(NaN) : null;
    let t0 = 0;
    blocks.forEach((b, ci) => {
      const n = chunks[ci]!.steps;
      const av = new DataView(b.actions.buffer, b.actions.byteOffset, b.actions.byteLength);
      const rv = new DataView(b.rewards.buffer, b.rewards.byteOffset, b.rewards.byteLength);
      for (let i = 0; i < n; i++) {
        this.actions[t0 + i] = b.actionBytes === 1 ? b.actions[i]! : b.actionBytes === 2 ? av.getUint16(i * 2, true) : av.getInt32(i * 4, true);
        this.rewards[t0 + i] = b.rewardBytes === 4 ? rv.getFloat32(i * 4, true) : rv.getFloat64(i * 8, true);
        this.terminated[t0 + i] = b.flags[i]! & 1;
        this.truncated[t0 + i] = (b.flags[i]! >> 1) & 1;
      }
      if (b.q && this.q) this.dequantise(b.q, nA, n, t0, this.q);
      if (b.probs && this.probs) this.dequantise(b.probs, nA, n, t0, this.probs);
      if (b.value && this.value) this.dequantise(b.value, 1, n, t0, this.value);
      t0 += n;
    });
    this.returns = new Float64Array(this.frameCount);
    for (let k = 1; k < this.frameCount; k++) this.returns[k] = this.returns[k - 1]! + (this.rewards[k - 1] ?? 0);
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
      const size = n * c.frames;
      let planes: Uint8Array;
      try {
        planes = inflateSync(c.frameData, { out: new Uint8Array(size) });
      } catch (err) {
        fail(this.source, `chunk ${ci} frames to inflate`, err instanceof Error ? err.message : String(err), err);
      }
      if (planes.length !== size) fail(this.source, `chunk ${ci} to hold ${size} frame bytes`, `${planes.length}`);
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

  private decodeSteps(c: EpisodeChunk): StepBlock {
    let raw: unknown;
    try {
      raw = unpackr.unpack(inflateSync(c.stepData));
    } catch (err) {
      fail(this.source, `chunk ${c.index} step data to decode`, err instanceof Error ? err.message : String(err), err);
    }
    const n = c.steps;
    const nA = this.header.actionNames.length;
    if (
      !isObj(raw) ||
      !(raw.actionBytes === 1 || raw.actionBytes === 2 || raw.actionBytes === 4) ||
      !(raw.rewardBytes === 4 || raw.rewardBytes === 8) ||
      !isBytes(raw.actions) ||
      raw.actions.length !== n * raw.actionBytes ||
      !isBytes(raw.rewards) ||
      raw.rewards.length !== n * raw.rewardBytes ||
      !isBytes(raw.flags) ||
      raw.flags.length !== n
    ) {
      fail(this.source, `chunk ${c.index} step data for ${n} steps`, describe(raw));
    }
    for (const f of ['q', 'probs', 'value'] as const) {
      const q = raw[f];
      if (q === undefined) continue;
      const width = f === 'value' ? 1 : nA;
      if (!isObj(q) || q.width !== width || typeof q.lo !== 'number' || typeof q.scale !== 'number' || !isBytes(q.data) || q.data.length !== n * width * 2 || (q.present !== undefined && (!isBytes(q.present) || q.present.length !== n))) {
        fail(this.source, `chunk ${c.index} annotation ${f} of width ${width}`, describe(q));
      }
    }
    return raw as unknown as StepBlock;
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

function checkHeader(v: unknown, source: string | undefined): EpisodeHeader {
  if (!isObj(v) || v.format !== EPISODE_FORMAT) fail(source, `a first record with format '${EPISODE_FORMAT}'`, isObj(v) ? `format ${describe(v.format)}` : describe(v));
  if (!Number.isInteger(v.version)) fail(source, 'an integer version', describe(v.version));
  if (v.version !== EPISODE_VERSION) {
    throw new UnsupportedVersionError(formatError(source ? `${COMPONENT} ${source}` : COMPONENT, `episode format version ${EPISODE_VERSION}`, `version ${describe(v.version)}`, 'upgrade npcforge to read this file'));
  }
  const bad: string[] = [];
  if (v.kind !== 'header') bad.push(`kind=${describe(v.kind)}`);
  const g = v.game;
  if (!isObj(g) || typeof g.id !== 'string' || !isObj(g.options) || !(g.maxEpisodeSteps === null || isInt(g.maxEpisodeSteps, 1))) bad.push(`game=${describe(g)}`);
  if (!(v.seed === null || isInt(v.seed, 0))) bad.push(`seed=${describe(v.seed)}`);
  if (!(v.resetOptions === null || isObj(v.resetOptions))) bad.push(`resetOptions=${describe(v.resetOptions)}`);
  for (const k of ['stateBeforeReset', 'stateAtReset'] as const) if (!(v[k] === null || isObj(v[k]))) bad.push(`${k}=${describe(v[k])}`);
  if (!Array.isArray(v.actionNames) || v.actionNames.length < 1 || v.actionNames.length > 65536 || !v.actionNames.every((a) => typeof a === 'string')) bad.push(`actionNames=${describe(v.actionNames)}`);
  if (!isObj(v.observationSpace) || typeof v.observationSpace.type !== 'string') bad.push(`observationSpace=${describe(v.observationSpace)}`);
  if (!isObj(v.actionSpace) || typeof v.actionSpace.type !== 'string') bad.push(`actionSpace=${describe(v.actionSpace)}`);
  if (!isInt(v.frameWidth, 1) || !isInt(v.frameHeight, 1) || (v.frameWidth as number) * (v.frameHeight as number) > MAX_FRAME_PIXELS) bad.push(`frame=${describe(v.frameWidth)}x${describe(v.frameHeight)}`);
  if (!isInt(v.keyframeInterval, 1, MAX_KEYFRAME_INTERVAL)) bad.push(`keyframeInterval=${describe(v.keyframeInterval)}`);
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
  if (bad.length) fail(source, `a valid chunk record #${expectedIndex}`, bad.join(', '));
  if (crc32(v.frameData as Uint8Array, v.stepData as Uint8Array) !== v.crc) fail(source, `chunk ${expectedIndex} with a matching CRC-32`, 'a different checksum (the bytes were altered)');
  return v as unknown as EpisodeChunk;
}

/** Parses and validates episode bytes. Throws EpisodeFormatError or UnsupportedVersionError only. */
export function readEpisode(bytes: Uint8Array, options: ReadEpisodeOptions = {}): RecordedEpisode {
  const { allowIncomplete = false, source } = options;
  if (!(bytes instanceof Uint8Array)) fail(source, 'episode bytes (Uint8Array)', describe(bytes));
  if (bytes.length === 0) fail(source, 'episode bytes', 'an empty file');
  let header: EpisodeHeader | null = null;
  const chunks: EpisodeChunk[] = [];
  let end: EpisodeEnd | null = null;
  let paletteSize = 0;
  let lastChunkShort = false;
  const accept = (v: unknown): void => {
    if (!header) {
      header = checkHeader(v, source);
      return;
    }
    if (end) fail(source, 'nothing after the end record', describe(v));
    if (!isObj(v)) fail(source, 'a chunk or end record', describe(v));
    if (v.kind === 'chunk') {
      if (lastChunkShort) fail(source, 'only the last chunk to be shorter than keyframeInterval', `chunk ${chunks.length}`);
      const c = checkChunk(v, header, chunks.length, source);
      paletteSize += c.palette.length / 3;
      if (paletteSize > PALETTE_CAPACITY) fail(source, `at most ${PALETTE_CAPACITY} palette colours`, `${paletteSize}`);
      if (c.frames < header.keyframeInterval || c.steps < c.frames) lastChunkShort = true;
      chunks.push(c);
      return;
    }
    if (v.kind === 'end') {
      const steps = chunks.reduce((n, c) => n + c.steps, 0);
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
